// The cluster of `kv chaos --faults netem`: every coordinator and replica in its own network
// namespace (tools/netns/), so that faults are the kernel's, on a member's link: its bridge port
// disabled (a partition), a token bucket (a throttle), netem delay with jitter and netem loss, or,
// on a kernel without netem, loss by nftables rules. Two processes share the work:
//
// - runNetnsChaos(), in the root namespace (where `kv chaos` was started): makes the network, runs
//   `kv chaos` again inside the network's client namespace with --netns-run (the run id and the
//   faults), forwards Ctrl-C to it, and once it has exited kills whatever still runs in the run's
//   namespaces and deletes them all: the veths, the bridge, the qdiscs and the nftables tables go
//   with them, whatever happened to the inner run; so does the inner run's temp data directory.
// - NetnsChaosCluster, in the client namespace (the inner `kv chaos`): starts the members in their
//   namespaces and implements ChaosCluster for chaos.ts, whose load and checks, being in the client
//   namespace, reach every member at its own address. The root namespace has no route to them: the
//   network never touches the root namespace's interfaces.
//
// Namespaces are made only by the outer process: the inner one runs in the mount namespace `ip
// netns exec` gives it, where a namespace it made would not be seen outside.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assertNever } from "../../common/assert";
import { InvalidArgument } from "../../common/errors";
import { kvScript } from "../cluster/process-args";
import { NetnsCluster, netnsMemberNames, type NetnsClusterOptions } from "../netns/cluster";
import { killProcessesOfRun, NetnsNetwork, netemUnavailable, nftUnavailable, type NetworkFault } from "../netns/network";
import { isNetFaultKind, netFaultKinds, type NetFaultKind } from "./fault-kinds";
import type { ChaosCluster, LinkFaults } from "./cluster-api";
import { ClusterAdmin } from "./cluster-admin";

/** How a loss fault is made: netem where the kernel has it, else nftables drop rules. */
export type LossBy = "netem" | "nftables";

/** What the outer `kv chaos` tells the inner one (--netns-run, as JSON). */
export interface NetnsRun extends NetFaultCapabilities {
  readonly runId: string;
}

/** The link faults this machine can make, found by the outer run (the inner one cannot make throwaway namespaces). */
export interface NetFaultCapabilities {
  /** What `--faults netem` stands for here. */
  readonly available: readonly NetFaultKind[];
  readonly lossBy: LossBy | null;
  /** What was left out or made another way, and why ("net-delay is left out: ..."), said once at the start and in the report. */
  readonly notes: readonly string[];
}

/**
 * Tries netem and nftables on throwaway namespaces: a partition (a bridge port disabled) and a
 * throttle (tbf) need neither; loss needs netem or nft; delay needs netem.
 */
export function netFaultCapabilities(): NetFaultCapabilities {
  const netemMissing = netemUnavailable();
  if (netemMissing === null) return { available: netFaultKinds, lossBy: "netem", notes: [] };
  const notes = [`net-delay is unavailable on this kernel and left out of the schedule: ${netemMissing}`];
  const nftMissing = nftUnavailable();
  if (nftMissing === null) {
    notes.push("net-loss is made by nftables rules (numgen random drop) in the member's namespace, since the kernel has no netem");
    return { available: ["net-partition", "net-loss", "net-throttle"], lossBy: "nftables", notes };
  }
  notes.push(`net-loss is unavailable here and left out of the schedule: no netem, and ${nftMissing}`);
  return { available: ["net-partition", "net-throttle"], lossBy: null, notes };
}

/**
 * The name the inner run's temp data directory starts with (under os.tmpdir(), when no --data-dir):
 * the outer run removes it if the inner one could not (it exited at once on a second Ctrl-C).
 */
export function netnsRunTempPrefix(runId: string): string {
  return `twopc-kv-chaos-netns-${runId}-`;
}

/** The longest the members and the inner run may take to die once killed, before the namespaces go. */
const killWaitMs = 10_000;

/** Decodes --netns-run; a bad value names what is wrong. */
export function parseNetnsRun(text: string): NetnsRun {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgument("--netns-run", `--netns-run is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null) throw new InvalidArgument("--netns-run", "--netns-run is not a JSON object");
  const { runId, available, lossBy, notes } = value as Record<string, unknown>;
  if (typeof runId !== "string" || !/^[0-9a-f]{8}$/.test(runId)) throw new InvalidArgument("--netns-run", "--netns-run: runId is not 8 hex digits");
  if (lossBy !== null && lossBy !== "netem" && lossBy !== "nftables") throw new InvalidArgument("--netns-run", "--netns-run: lossBy is none of null, netem, nftables");
  if (!Array.isArray(notes) || !notes.every((note): note is string => typeof note === "string")) throw new InvalidArgument("--netns-run", "--netns-run: notes is not a list of strings");
  if (!Array.isArray(available) || !available.every((kind): kind is NetFaultKind => typeof kind === "string" && isNetFaultKind(kind))) {
    throw new InvalidArgument("--netns-run", `--netns-run: available is not a list of ${netFaultKinds.join(", ")}`);
  }
  return { runId, available, lossBy, notes };
}

/**
 * The outer `kv chaos`: makes the network for these members, runs `kv chaos ARGS --netns-run ...`
 * in its client namespace, and returns its exit code once everything of the run is gone. Ctrl-C
 * (SIGINT) and SIGTERM go to the inner run, which heals and checks on the first and exits at once
 * on the second; it runs in a process group of its own, so that a terminal's Ctrl-C reaches it once,
 * through here.
 */
export async function runNetnsChaos(args: readonly string[], members: NetnsClusterOptions, run: Omit<NetnsRun, "runId">, log: (line: string) => void): Promise<number> {
  const network = NetnsNetwork.create(netnsMemberNames(members));
  const runId = network.runId;
  for (const swept of network.sweptBefore) log(`chaos: deleted the network of run ${swept}, abandoned by a run that was killed before its cleanup`);
  let code: number;
  const forwarded: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  let forward: ((signal: NodeJS.Signals) => void) | null = null;
  try {
    log(`chaos: network ${runId}: ${network.namespaceNames.length} namespaces (kv-${runId}-*); the load runs in ${network.client.namespace}`);
    const child = spawn("ip", ["netns", "exec", network.client.namespace, process.execPath, kvScript, ...args, "--netns-run", JSON.stringify({ runId, ...run })], {
      stdio: "inherit",
      detached: true,
    });
    forward = (signal) => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, signal);
    };
    for (const signal of forwarded) process.on(signal, forward);
    code = await new Promise<number>((resolve) => {
      child.once("error", (error) => {
        log(`chaos: cannot run kv chaos in ${network.client.namespace}: ${error.message}`);
        resolve(5);
      });
      child.once("exit", (exitCode, signal) => resolve(exitCode ?? (signal === "SIGINT" ? 130 : 5)));
    });
  } finally {
    for (const signal of forwarded) if (forward !== null) process.off(signal, forward);
    try {
      const killed = await killProcessesOfRun(runId, killWaitMs);
      if (killed.length > 0) log(`chaos: killed ${killed.length} process(es) the run left in its namespaces (pids ${killed.join(", ")})`);
    } finally {
      try {
        network.destroy();
      } finally {
        for (const entry of fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(netnsRunTempPrefix(runId)))) {
          fs.rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
        }
      }
    }
  }
  return code;
}

/** The inner `kv chaos`'s cluster: its members in their namespaces, its faults on their links. */
export class NetnsChaosCluster implements ChaosCluster {
  readonly partitionUnsupported =
    "a cluster in network namespaces has no TCP proxies; its partitions are net-partition (a member's bridge port disabled)";
  readonly links: LinkFaults;
  readonly admin: ClusterAdmin;

  private constructor(private readonly cluster: NetnsCluster, private readonly lossBy: LossBy | null) {
    this.admin = new ClusterAdmin(cluster.coordinatorAddress, new Map(cluster.replicaIds.map((id) => [id, cluster.addressOf(id)])));
    this.links = {
      inject: (name, fault) => this.cluster.inject(name, this.asMade(fault)),
      heal: (name) => this.cluster.heal(name),
    };
  }

  /** Starts every member in its namespace (the replicas first), on the network of `runId`. */
  static start(runId: string, options: NetnsClusterOptions & { readonly dataDir: string; readonly lossBy: LossBy | null }): NetnsChaosCluster {
    const cluster = new NetnsChaosCluster(NetnsCluster.attach(runId, options, options.dataDir), options.lossBy);
    for (const id of cluster.replicaIds) cluster.cluster.start(id);
    for (const name of cluster.coordinatorNames) cluster.cluster.start(name);
    return cluster;
  }

  get coordinatorAddress(): string {
    return this.cluster.coordinatorAddress;
  }

  get coordinatorNames(): readonly string[] {
    return this.cluster.coordinatorNames;
  }

  get replicaIds(): readonly string[] {
    return this.cluster.replicaIds;
  }

  /** A loss fault as this machine makes it: netem loss, or an nftables drop of the same probability. */
  private asMade(fault: NetworkFault): NetworkFault {
    if (fault.kind !== "loss") return fault;
    switch (this.lossBy) {
      case "netem":
        return fault;
      case "nftables":
        return { kind: "drop", percent: Math.round(fault.percent) };
      case null:
        throw new Error("loss faults are unavailable on this machine (no netem, no nft): kv chaos leaves them out of the schedule");
      default:
        return assertNever(this.lossBy);
    }
  }

  async kill(name: string): Promise<void> {
    await this.cluster.kill(name, "SIGKILL");
  }

  async start(name: string, failpoints?: string): Promise<void> {
    this.cluster.start(name, failpoints);
  }

  async pause(name: string): Promise<void> {
    this.cluster.pause(name);
  }

  async resume(name: string): Promise<void> {
    this.cluster.resume(name);
  }

  waitExit(name: string, timeoutMs: number): Promise<boolean> {
    return this.cluster.waitExit(name, timeoutMs);
  }

  isolate(replicaId: string): void {
    throw new Error(`cannot partition ${replicaId} behind a proxy: ${this.partitionUnsupported}`);
  }

  reconnect(replicaId: string): void {
    throw new Error(`cannot partition ${replicaId} behind a proxy: ${this.partitionUnsupported}`);
  }

  /** Every link without its fault, every member continued and running. */
  async heal(): Promise<void> {
    this.cluster.network.healAll();
    for (const name of [...this.coordinatorNames, ...this.replicaIds]) {
      this.cluster.resume(name);
      if (!this.cluster.isRunning(name)) this.cluster.start(name);
    }
  }



  /** Stops the members and removes every link fault; the outer run deletes the namespaces. */
  async release(): Promise<void> {
    this.admin.close();
    try {
      this.cluster.network.healAll();
    } finally {
      await this.cluster.stopProcesses();
    }
  }
}
