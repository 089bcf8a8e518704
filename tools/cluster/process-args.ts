// The command lines of a local cluster's processes, in one place. `kv cluster` (client/cluster.ts),
// the cluster `kv chaos` starts (client/local-cluster.ts) and the test harness
// (test/integration/harness.ts) all start the coordinator and the replicas with these, so they run
// the same flags; a flag a caller leaves out is not passed at all, so the process runs the product's
// default (the one `kv coordinator --help` documents), as a user's would.
import * as path from "node:path";

/** bin/kv.js, from dist/client/ (where this module runs from). */
export const kvScript = path.resolve(__dirname, "..", "..", "..", "bin", "kv.js");

/** Where each process of a cluster listens, and where it keeps its data. */
export interface ClusterLayout {
  /** Every process listens on this address. */
  readonly host: string;
  /** The coordinator's port: clients and replicas reach it there. */
  readonly coordinatorPort: number;
  readonly replicas: readonly ReplicaPlace[];
  /** Each process keeps its data in dataDir/<name> ("coordinator", or the replica id). */
  readonly dataDir: string;
}

export interface ReplicaPlace {
  readonly id: string;
  readonly port: number;
  /** The port the coordinator reaches this replica at, when not its own (a TcpProxy's, for partitions). */
  readonly coordinatorReachesAt?: number;
}

/** Flags of one start of a process; each one absent is left to the process's default. */
export interface ProcessFlags {
  readonly logLevel?: string;
  /** Failpoints to arm: [ID:]NAME=ACTION[@N],... */
  readonly failpoints?: string;
  readonly compactLogBytes?: number;
  /** The coordinator's only. */
  readonly onConflict?: "abort" | "wait";
  /** The coordinator's only. */
  readonly minInSync?: number;
}

function commonFlags(flags: ProcessFlags): string[] {
  return [
    ...(flags.logLevel === undefined ? [] : ["--log-level", flags.logLevel]),
    ...(flags.compactLogBytes === undefined ? [] : ["--compact-log-bytes", String(flags.compactLogBytes)]),
    ...(flags.failpoints === undefined ? [] : ["--failpoint", flags.failpoints]),
  ];
}

/** `kv coordinator ...`: the arguments after bin/kv.js. */
export function coordinatorArgs(layout: ClusterLayout, flags: ProcessFlags = {}): string[] {
  const replicas = layout.replicas.map((replica) => `${replica.id}=${layout.host}:${replica.coordinatorReachesAt ?? replica.port}`);
  return [
    "coordinator",
    "--id", "coordinator",
    "--listen", `${layout.host}:${layout.coordinatorPort}`,
    "--data-dir", path.join(layout.dataDir, "coordinator"),
    "--replicas", replicas.join(","),
    ...(flags.onConflict === undefined ? [] : ["--on-conflict", flags.onConflict]),
    ...(flags.minInSync === undefined ? [] : ["--min-in-sync", String(flags.minInSync)]),
    ...commonFlags(flags),
  ];
}

/** `kv replica ...` of the replica `id`: the arguments after bin/kv.js. */
export function replicaArgs(layout: ClusterLayout, id: string, flags: ProcessFlags = {}): string[] {
  const replica = layout.replicas.find((candidate) => candidate.id === id);
  if (replica === undefined) throw new Error(`no replica ${id} in this cluster (replicas: ${layout.replicas.map((r) => r.id).join(", ")})`);
  if (flags.onConflict !== undefined || flags.minInSync !== undefined) throw new Error("--on-conflict and --min-in-sync are the coordinator's flags");
  return [
    "replica",
    "--id", id,
    "--listen", `${layout.host}:${replica.port}`,
    "--data-dir", path.join(layout.dataDir, id),
    "--coordinator", `${layout.host}:${layout.coordinatorPort}`,
    // Peers talk to each other directly, never through the coordinator's proxies.
    "--peers", layout.replicas.map((peer) => `${peer.id}=${layout.host}:${peer.port}`).join(","),
    ...commonFlags(flags),
  ];
}

/** The arguments of the process `name`: "coordinator", or a replica id. */
export function processArgs(layout: ClusterLayout, name: string, flags: ProcessFlags = {}): string[] {
  return name === "coordinator" ? coordinatorArgs(layout, flags) : replicaArgs(layout, name, flags);
}

/** The layout of a cluster on consecutive ports: the coordinator on `port`, replica i (r1, r2, ...) on port + i. */
export function consecutiveLayout(host: string, port: number, replicas: number, dataDir: string): ClusterLayout {
  return {
    host,
    coordinatorPort: port,
    replicas: Array.from({ length: replicas }, (_, i) => ({ id: `r${i + 1}`, port: port + 1 + i })),
    dataDir,
  };
}
