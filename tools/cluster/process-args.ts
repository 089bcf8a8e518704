// The command lines of a local cluster's processes, in one place. `kv cluster` (tools/cluster/cluster.ts),
// the cluster `kv chaos` starts (tools/chaos/local-cluster.ts) and the test harness
// (test/integration/harness.ts) all start the coordinators and the replicas with these, so they run
// the same flags; a flag a caller leaves out is not passed at all, so the process runs the product's
// default (the one `kv coordinator --help` documents), as a user's would.
//
// A cluster has one or more coordinators (one active, the others standing by to take over; issue
// 12). The first is named "coordinator", as a cluster of one coordinator always named it, so that
// tools and tests that know only that name keep working; the next are "coordinator-2",
// "coordinator-3", ... Every coordinator is told all of them (--coordinators), and every replica is
// told every coordinator's address (--coordinator A,B,...). A cluster of one coordinator passes no
// --coordinators at all: the coordinator's default (itself alone) says the same.
import * as path from "node:path";
import type { ClusterTlsFiles } from "./tls-files";

/** bin/kv.js, from dist/tools/cluster/ (where this module runs from). */
export const kvScript = path.resolve(__dirname, "..", "..", "..", "bin", "kv.js");

/** Where each process of a cluster listens, and where it keeps its data. */
export interface ClusterLayout {
  /** Every process listens on this address, unless its place names its own host. */
  readonly host: string;
  /** Every coordinator, the first named "coordinator" (coordinatorName). Clients and replicas reach them there. */
  readonly coordinators: readonly CoordinatorPlace[];
  readonly replicas: readonly ReplicaPlace[];
  /** Each process keeps its data in dataDir/<name> (a coordinator's id, or a replica's). */
  readonly dataDir: string;
}

export interface CoordinatorPlace {
  /** Its --id and its name in a cluster: "coordinator", "coordinator-2", ... */
  readonly id: string;
  readonly port: number;
  /** Where it serves its metrics (--metrics-listen HOST:metricsPort); none when absent. */
  readonly metricsPort?: number;
  /** Its own address, when the processes do not share one (each in its own network namespace: tools/netns/). */
  readonly host?: string;
}

export interface ReplicaPlace {
  readonly id: string;
  readonly port: number;
  /** Its own address, when the processes do not share one (each in its own network namespace: tools/netns/). */
  readonly host?: string;
  /** The port the coordinators reach this replica at, when not its own (a TcpProxy's, for partitions). */
  readonly coordinatorReachesAt?: number;
  /** Where it serves its metrics (--metrics-listen HOST:metricsPort); none when absent. */
  readonly metricsPort?: number;
}

/** Flags of one start of a process; each one absent is left to the process's default. */
export interface ProcessFlags {
  readonly logLevel?: string;
  /** Failpoints to arm: [ID:]NAME=ACTION[@N],... */
  readonly failpoints?: string;
  readonly compactLogBytes?: number;
  /** The coordinators' only. */
  readonly onConflict?: "abort" | "wait";
  /** The coordinators' only. */
  readonly minInSync?: number;
  /** The coordinators' only: --value-cache-mib. */
  readonly valueCacheMib?: number | undefined;
  /** The replicas' only (a coordinator's arguments leave it out, so that one set of flags serves both). */
  readonly tombstoneRetentionMs?: number;
  /** TLS: where each process's certificate lies (tools/cluster/tls-files.ts); absent: plaintext. */
  readonly tls?: ClusterTlsFiles;
}

/** The name (and --id) of the coordinator at `index` (from 0): "coordinator", "coordinator-2", ... */
export function coordinatorName(index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new Error(`a coordinator's index is a whole number from 0, not ${index}`);
  return index === 0 ? "coordinator" : `coordinator-${index + 1}`;
}

/** True for the name of a coordinator of a cluster: every such name starts with "coordinator". */
export function isCoordinatorName(name: string): boolean {
  return name.startsWith("coordinator");
}

/** HOST:PORT of a process: its own host, or the layout's. */
function addressOf(layout: ClusterLayout, place: CoordinatorPlace | ReplicaPlace): string {
  return `${place.host ?? layout.host}:${place.port}`;
}

/** HOST:PORT of every coordinator, comma-separated, in order: what KV_COORDINATOR and a replica's --coordinator take. */
export function coordinatorAddresses(layout: ClusterLayout): string {
  return layout.coordinators.map((coordinator) => addressOf(layout, coordinator)).join(",");
}

/** Every process's id: the coordinators', then the replicas'. */
export function memberIds(layout: ClusterLayout): string[] {
  return [...layout.coordinators.map((coordinator) => coordinator.id), ...layout.replicas.map((replica) => replica.id)];
}

/** The TLS flags of the process `id`: its own certificate, the CA, and every member as a peer. */
function tlsFlags(layout: ClusterLayout, flags: ProcessFlags, id: string): string[] {
  if (flags.tls === undefined) return [];
  const own = flags.tls.members.get(id);
  if (own === undefined) throw new Error(`no certificate for ${id} under ${flags.tls.dir}`);
  return ["--tls-cert", own.cert, "--tls-key", own.key, "--tls-ca", flags.tls.ca, "--tls-peer-names", memberIds(layout).join(",")];
}

function metricsFlag(host: string, place: { readonly metricsPort?: number }): string[] {
  return place.metricsPort === undefined ? [] : ["--metrics-listen", `${host}:${place.metricsPort}`];
}

function commonFlags(flags: ProcessFlags): string[] {
  return [
    ...(flags.logLevel === undefined ? [] : ["--log-level", flags.logLevel]),
    ...(flags.compactLogBytes === undefined ? [] : ["--compact-log-bytes", String(flags.compactLogBytes)]),
    ...(flags.failpoints === undefined ? [] : ["--failpoint", flags.failpoints]),
  ];
}

/** `kv coordinator ...` of the coordinator `id` (the first one when absent): the arguments after bin/kv.js. */
export function coordinatorArgs(layout: ClusterLayout, flags: ProcessFlags = {}, id?: string): string[] {
  const first = layout.coordinators[0];
  if (first === undefined) throw new Error("a cluster has at least one coordinator");
  const coordinator = id === undefined ? first : layout.coordinators.find((candidate) => candidate.id === id);
  if (coordinator === undefined) {
    throw new Error(`no coordinator ${id} in this cluster (coordinators: ${layout.coordinators.map((c) => c.id).join(", ")})`);
  }
  const replicas = layout.replicas.map((replica) => `${replica.id}=${replica.host ?? layout.host}:${replica.coordinatorReachesAt ?? replica.port}`);
  const coordinators = layout.coordinators.map((member) => `${member.id}=${addressOf(layout, member)}`);
  return [
    "coordinator",
    "--id", coordinator.id,
    "--listen", addressOf(layout, coordinator),
    "--data-dir", path.join(layout.dataDir, coordinator.id),
    "--replicas", replicas.join(","),
    ...(layout.coordinators.length === 1 ? [] : ["--coordinators", coordinators.join(",")]),
    ...(flags.onConflict === undefined ? [] : ["--on-conflict", flags.onConflict]),
    ...(flags.minInSync === undefined ? [] : ["--min-in-sync", String(flags.minInSync)]),
    ...(flags.valueCacheMib === undefined ? [] : ["--value-cache-mib", String(flags.valueCacheMib)]),
    ...tlsFlags(layout, flags, coordinator.id),
    ...metricsFlag(layout.host, coordinator),
    ...commonFlags(flags),
  ];
}

/** `kv replica ...` of the replica `id`: the arguments after bin/kv.js. */
export function replicaArgs(layout: ClusterLayout, id: string, flags: ProcessFlags = {}): string[] {
  const replica = layout.replicas.find((candidate) => candidate.id === id);
  if (replica === undefined) throw new Error(`no replica ${id} in this cluster (replicas: ${layout.replicas.map((r) => r.id).join(", ")})`);
  if (flags.onConflict !== undefined || flags.minInSync !== undefined || flags.valueCacheMib !== undefined) {
    throw new Error("--on-conflict, --min-in-sync and --value-cache-mib are the coordinator's flags");
  }
  return [
    "replica",
    "--id", id,
    "--listen", addressOf(layout, replica),
    "--data-dir", path.join(layout.dataDir, id),
    "--coordinator", coordinatorAddresses(layout),
    // Peers talk to each other directly, never through the coordinators' proxies.
    "--peers", layout.replicas.map((peer) => `${peer.id}=${addressOf(layout, peer)}`).join(","),
    ...(flags.tombstoneRetentionMs === undefined ? [] : ["--tombstone-retention-ms", String(flags.tombstoneRetentionMs)]),
    ...tlsFlags(layout, flags, id),
    ...metricsFlag(layout.host, replica),
    ...commonFlags(flags),
  ];
}

/** The arguments of the process `name`: a coordinator's id ("coordinator", "coordinator-2", ...), or a replica's. */
export function processArgs(layout: ClusterLayout, name: string, flags: ProcessFlags = {}): string[] {
  return layout.coordinators.some((coordinator) => coordinator.id === name) || isCoordinatorName(name)
    ? coordinatorArgs(layout, flags, name)
    : replicaArgs(layout, name, flags);
}

/**
 * The layout of a cluster on consecutive ports: the coordinators on `port`, `port + 1`, ... (the
 * first is "coordinator"), then replica i (r1, r2, ...) on the ports after them. One coordinator
 * unless asked: the test harness and kv chaos's local cluster keep their layout. With metricsPort,
 * every process serves its metrics too, in the same order on the ports from metricsPort on.
 */
export function consecutiveLayout(host: string, port: number, replicas: number, dataDir: string, coordinators = 1, metricsPort?: number): ClusterLayout {
  if (!Number.isInteger(coordinators) || coordinators < 1) throw new Error(`a cluster has a whole number of coordinators, at least 1, not ${coordinators}`);
  const metrics = (index: number): { metricsPort?: number } => (metricsPort === undefined ? {} : { metricsPort: metricsPort + index });
  return {
    host,
    coordinators: Array.from({ length: coordinators }, (_, i) => ({ id: coordinatorName(i), port: port + i, ...metrics(i) })),
    replicas: Array.from({ length: replicas }, (_, i) => ({ id: `r${i + 1}`, port: port + coordinators + i, ...metrics(coordinators + i) })),
    dataDir,
  };
}
