// `kv chaos`: faults while hammering. Starts a local cluster (or attaches to the one a `kv cluster`
// runs, by its manifest), runs `kv bench` against it with history recording, and meanwhile injects
// faults on a schedule decided by one seed: kill -9 and restart of the coordinator or a replica,
// SIGSTOP/SIGCONT pauses, crashes at a protocol step (a restart with a crash failpoint armed), and
// partitions of one replica (a TcpProxy black-holes it; only in a cluster chaos started, which has
// the proxies); with --faults netem, on a cluster whose every member runs in its own network
// namespace (netns-cluster.ts), faults on a member's link: partition, loss, delay, throttle. At the
// end it heals everything and checks, printing one table: operations by
// outcome, faults injected, the successful reads and writes per second of the load (a run that did
// little work proves little, so each must reach a named minimum rate), the linearizability verdict of
// the history, acknowledged writes missing at the end, replicas whose content differs, transactions
// still in doubt, and the time from the last heal until the cluster was fully in sync. Any violation
// makes the exit code non-zero.
//
// The faults go through the ChaosCluster interface, which LocalCluster (processes chaos started),
// AttachedCluster (a kv cluster's processes, by pid and recorded argv) and NetnsChaosCluster (each
// process in its own network namespace) implement. Which fault comes next, where and for how long
// is drawn by drawFault(), from the seed alone.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assert, assertNever } from "../../common/assert";
import { coordinatorFailpoints, replicaFailpoints } from "../../common/failpoints";
import { AttachedCluster } from "./attached";
import type { ChaosCluster } from "./cluster-api";
import { formatEvent, parseHistory, type HistoryEvent } from "../check/history";
import { LocalCluster } from "./local-cluster";
import { faultKinds, isNetFaultKind, type FaultKind, type NetFaultKind } from "./fault-kinds";
import { NetnsChaosCluster, netnsRunTempPrefix, type LossBy, type NetnsRun } from "./netns-cluster";
import type { NetworkFault } from "../netns/network";
import { Prng } from "../../common/prng";

export { faultKinds, isNetFaultKind, netemFaultsGroup, netFaultKinds, type FaultKind, type NetFaultKind } from "./fault-kinds";
export type { ChaosCluster };

/**
 * Bounds of the link faults a run draws: strong enough to be felt by a load of small messages, mild
 * enough that it still completes work (a throttle of 64 kbit/s carries a few dozen of them a second).
 */
export const netLossPercentMin = 5;
export const netLossPercentMax = 25;
export const netDelayMsMin = 20;
export const netDelayMsMax = 200;
export const netThrottleKbitMin = 64;
export const netThrottleKbitMax = 512;
/** How long one fault holds, from its injection to its heal. */
const faultHoldMsMin = 300;
const faultHoldMsMax = 2_000;

/** Which cluster a run hammers. */
export type ChaosTarget =
  | {
      readonly kind: "local";
      readonly port: number;
      readonly replicas: number;
      /** One is active, the others stand by; kills and pauses strike them too. */
      readonly coordinators: number;
      /** Where the cluster keeps its data and the history; a temp directory (removed) when null. */
      readonly dataDir: string | null;
      readonly logLevel: string;
    }
  | {
      /** The cluster a `kv cluster` runs, as its manifest DIR/cluster.json describes it. */
      readonly kind: "attached";
      readonly dir: string;
    }
  | {
      /** Every member in its own namespace of the network the outer `kv chaos` made (this process runs in its client namespace). */
      readonly kind: "netns";
      readonly run: NetnsRun;
      readonly replicas: number;
      readonly coordinators: number;
      /** Where the cluster keeps its data and the history; a temp directory (removed) when null. */
      readonly dataDir: string | null;
      readonly logLevel: string;
    };

export interface ChaosOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly faults: readonly FaultKind[];
  /** Mean time between the end of one fault and the start of the next. */
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly keys: number;
  /** Where the history goes; by default history.jsonl in the data dir, or chaos-history.jsonl in an attached cluster's dir. */
  readonly historyFile: string | null;
  /** Once aborted, no new fault starts, the load stops, and the run heals and checks as at its end. */
  readonly signal?: AbortSignal;
}

/** The load the chaos run puts on the cluster: `kv bench` with a history (wired in chaos-command.ts). */
export interface ChaosLoad {
  run(options: {
    coordinator: string;
    durationMs: number;
    concurrency: number;
    keys: number;
    /** Put before every key name, so that the load's keys are its own. */
    keyPrefix: string;
    seed: number;
    historyFile: string;
    signal: AbortSignal | undefined;
  }): Promise<{
    ok: number;
    fail: number;
    info: number;
  }>;
}

/** The history check (kv check), as chaos uses it. */
export type ChaosChecker = (events: HistoryEvent[]) => { verdict: string; details: string };

export interface ChaosReport {
  readonly seed: number;
  /** Every key of the load starts with it. */
  readonly keyPrefix: string;
  readonly historyFile: string;
  readonly operations: { ok: number; fail: number; info: number };
  /** The kinds the schedule drew from (--faults, with netem expanded). */
  readonly kinds: readonly FaultKind[];
  /** How many of each kind were injected; a run that injected none fails. */
  readonly faults: Record<FaultKind, number>;
  /** The network of a run across namespaces (its names are kv-RUNID-*), or null. */
  readonly network: { readonly runId: string; readonly lossBy: LossBy | null; readonly notes: readonly string[] } | null;
  /** Each fault as it was injected, in ms since the load started (for the HTML report's markers). */
  readonly faultLog: readonly { readonly atMs: number; readonly label: string }[];
  /** Successful reads and writes of the load, and their rates over its run. */
  readonly progress: Progress;
  readonly linearizability: string;
  readonly linearizabilityDetails: string;
  readonly missingAcknowledgedWrites: number;
  readonly missingDetails: string[];
  readonly replicasDiffering: number;
  readonly inDoubt: number;
  readonly syncAfterHealMs: number | null;
  readonly passed: boolean;
}

/**
 * The least work a run must complete to pass, in successful operations per second of the load's run
 * (the final reads of the check do not count). A run whose load did nothing, or was refused all
 * along, would otherwise pass every other check: an empty history is linearizable. The floors are
 * well below what a 2-core machine does under every kind of fault with the default 8 clients (40 to
 * 65 successful reads, and as many writes, per second; 8 writes per second with the machine's load
 * average at 18), and far above nothing (a load cut short did 0.1 per second).
 */
export const readsOkPerSecondMin = 2;
export const writesOkPerSecondMin = 2;

/** Successful reads (get) and writes (put, del) of a load, over the seconds the run lasted. */
export interface Progress {
  /** From the start of the load until it was done, faults and heals included. */
  readonly seconds: number;
  readonly readsOk: number;
  readonly writesOk: number;
  readonly readsOkPerSecond: number;
  readonly writesOkPerSecond: number;
  /** Each rate below its minimum, as a sentence naming the minimum and what was seen; empty when both pass. */
  readonly problems: readonly string[];
}

/** Counts the successful reads and writes of a history and checks their rates against the minimums. */
export function checkProgress(events: readonly HistoryEvent[], seconds: number): Progress {
  assert(seconds > 0, "a load runs for some time");
  let readsOk = 0;
  let writesOk = 0;
  for (const event of events) {
    if (event.type !== "ok") continue;
    if (event.f === "get") readsOk += 1;
    else writesOk += 1;
  }
  const readsOkPerSecond = readsOk / seconds;
  const writesOkPerSecond = writesOk / seconds;
  const problems: string[] = [];
  const rate = (perSecond: number) => `${perSecond.toFixed(1)}/s`;
  if (readsOkPerSecond < readsOkPerSecondMin) {
    problems.push(`${readsOk} successful reads in ${seconds.toFixed(1)} s is ${rate(readsOkPerSecond)}; the minimum is ${readsOkPerSecondMin}/s (readsOkPerSecondMin)`);
  }
  if (writesOkPerSecond < writesOkPerSecondMin) {
    problems.push(`${writesOk} successful writes in ${seconds.toFixed(1)} s is ${rate(writesOkPerSecond)}; the minimum is ${writesOkPerSecondMin}/s (writesOkPerSecondMin)`);
  }
  return { seconds, readsOk, writesOk, readsOkPerSecond, writesOkPerSecond, problems };
}

/** How long the cluster has to answer with every replica up before the run starts. */
const clusterUpTimeoutMs = 30_000;
/** How long the healed cluster has to be fully in sync after the load. */
const syncTimeoutMs = 120_000;

/** Sleeps, or less when the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
  });
}

async function openCluster(target: ChaosTarget, dataDir: string, proxied: boolean): Promise<ChaosCluster> {
  switch (target.kind) {
    case "local":
      return LocalCluster.start({ dataDir, port: target.port, replicas: target.replicas, coordinators: target.coordinators, proxied, logLevel: target.logLevel });
    case "attached":
      return AttachedCluster.open(target.dir);
    case "netns":
      return NetnsChaosCluster.start(target.run.runId, { coordinators: target.coordinators, replicas: target.replicas, logLevel: target.logLevel, dataDir, lossBy: target.run.lossBy });
    default:
      return assertNever(target);
  }
}

export async function runChaos(options: ChaosOptions, target: ChaosTarget, load: ChaosLoad, check: ChaosChecker, log: (line: string) => void): Promise<ChaosReport> {
  const prng = new Prng(options.seed);
  // A run across namespaces names its temp directory after its network, so that whatever it left can be found.
  const tempPrefix = target.kind === "netns" ? netnsRunTempPrefix(target.run.runId) : "twopc-kv-chaos-";
  const dataDir = target.kind === "attached" ? target.dir : (target.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), tempPrefix)));
  const removeDataDir = target.kind !== "attached" && target.dataDir === null;
  fs.mkdirSync(dataDir, { recursive: true });
  const historyFile = options.historyFile ?? path.join(dataDir, target.kind === "attached" ? "chaos-history.jsonl" : "history.jsonl");
  // Keys of their own, even in a cluster that holds other data or an earlier run's keys: the check
  // assumes every key starts absent.
  const keyPrefix = `chaos/${options.seed}/${Date.now().toString(36)}/`;
  let cluster: ChaosCluster | null = null;
  try {
    cluster = await openCluster(target, dataDir, options.faults.includes("partition"));
    if (options.faults.includes("partition") && cluster.partitionUnsupported !== null) {
      throw new Error(`cannot inject partitions: ${cluster.partitionUnsupported}`);
    }
    const netFaults = options.faults.filter(isNetFaultKind);
    if (netFaults.length > 0 && cluster.links === null) {
      throw new Error(`cannot inject ${netFaults.join(", ")}: the cluster's members share one network; these need each member in its own namespace (--faults netem)`);
    }
    const network = target.kind === "netns" ? { runId: target.run.runId, lossBy: target.run.lossBy, notes: target.run.notes } : null;
    return await hammer(options, cluster, { dataDir, historyFile, keyPrefix, network }, prng, load, check, log);
  } finally {
    await cluster?.release();
    if (removeDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function hammer(
  options: ChaosOptions,
  cluster: ChaosCluster,
  where: { dataDir: string; historyFile: string; keyPrefix: string; network: ChaosReport["network"] },
  prng: Prng,
  load: ChaosLoad,
  check: ChaosChecker,
  log: (line: string) => void,
): Promise<ChaosReport> {
  const { historyFile, keyPrefix } = where;
  const signal = options.signal;
  const faults: Record<FaultKind, number> = { kill: 0, pause: 0, failpoint: 0, partition: 0, "net-partition": 0, "net-loss": 0, "net-delay": 0, "net-throttle": 0 };
  const faultLog: { atMs: number; label: string }[] = [];
  let lastHealMs = Date.now();
  await waitUntil("every replica up", clusterUpTimeoutMs, async () => (await cluster.admin.status()).replicas.every((replica) => replica.up));
  log(`chaos: seed ${options.seed}, ${options.durationMs / 1000} s, faults ${options.faults.join(",")}, keys ${keyPrefix}*, data in ${where.dataDir}`);
  const startedMs = Date.now();
  const loadDone = load.run({
    coordinator: cluster.coordinatorAddress,
    durationMs: options.durationMs,
    concurrency: options.concurrency,
    keys: options.keys,
    keyPrefix,
    seed: options.seed,
    historyFile,
    signal,
  });
  const over = () => signal?.aborted === true || Date.now() - startedMs >= options.durationMs - 1_000;

  // One fault at a time: inject, hold it, heal, wait.
  try {
    while (!over()) {
      const fault = drawFault(prng, options.faults, cluster, options.intervalMs);
      await sleep(fault.waitMs, signal);
      if (over()) break;
      const { holdMs, target } = fault;
      faults[fault.kind] += 1;
      faultLog.push({ atMs: Date.now() - startedMs, label: `${fault.kind} ${target}` });
      switch (fault.kind) {
        case "kill":
          log(`chaos: kill -9 ${target}, restart in ${holdMs} ms`);
          await cluster.kill(target);
          await sleep(holdMs, signal);
          await cluster.start(target);
          break;
        case "pause":
          log(`chaos: SIGSTOP ${target} for ${holdMs} ms`);
          await cluster.pause(target);
          await sleep(holdMs, signal);
          await cluster.resume(target);
          break;
        case "failpoint": {
          log(`chaos: restart ${target} with ${fault.failpoint}`);
          await cluster.kill(target);
          await cluster.start(target, fault.failpoint);
          if (!(await cluster.waitExit(target, holdMs * 3))) await cluster.kill(target);
          await cluster.start(target);
          break;
        }
        case "partition":
          log(`chaos: partition ${target} from the coordinator for ${holdMs} ms`);
          cluster.isolate(target);
          await sleep(holdMs, signal);
          cluster.reconnect(target);
          break;
        case "net-partition":
        case "net-loss":
        case "net-delay":
        case "net-throttle": {
          const links = cluster.links;
          assert(links !== null, "runChaos refuses link faults on a cluster without links");
          log(`chaos: ${fault.kind} ${target} (${describeLinkFault(fault.link)}) for ${holdMs} ms`);
          links.inject(target, fault.link);
          try {
            await sleep(holdMs, signal);
          } finally {
            links.heal(target);
          }
          break;
        }
        default:
          assertNever(fault);
      }
      lastHealMs = Date.now();
    }
  } finally {
    // Whatever happened above, leave no member paused or down.
    await cluster.heal();
  }
  if (signal?.aborted) log("chaos: interrupted; the load stops, then the checks run");
  const operations = await loadDone;
  // The run's length, not the load's own account of it: a load that stops early still counts the
  // whole run.
  const loadSeconds = (Date.now() - startedMs) / 1_000;

  // Healed (faults are healed one by one); wait until the cluster is fully in sync.
  log("chaos: load done; waiting for the cluster to be fully in sync");
  let syncAfterHealMs: number | null = null;
  try {
    await waitUntil("the cluster fully in sync", syncTimeoutMs, () => fullySynced(cluster));
    syncAfterHealMs = Date.now() - lastHealMs;
  } catch (error) {
    log(`chaos: ${(error as Error).message}`);
  }

  // Read every key once more, after everything, and add the reads to the history.
  const events = parseHistory(fs.readFileSync(historyFile, "utf8"));
  const finalReads = await readAllKeys(cluster, events);
  fs.appendFileSync(historyFile, finalReads.map((event) => `${formatEvent(event)}\n`).join(""));
  const all = [...events, ...finalReads];
  const progress = checkProgress(events, loadSeconds);
  const verdict = check(all);
  const missing = missingAcknowledgedWrites(all);

  const dumps = await Promise.all(cluster.replicaIds.map((id) => cluster.admin.dump(id).catch(() => null)));
  const checksums = dumps.map((dump) => dump?.checksum ?? "unreachable");
  const reference = checksums[0];
  const replicasDiffering = checksums.filter((checksum) => checksum !== reference).length;
  const statuses = await Promise.all(cluster.replicaIds.map((id) => cluster.admin.replicaStatus(id).catch(() => null)));
  const status = await cluster.admin.status().catch(() => null);
  const inDoubt = statuses.reduce((sum, replica) => sum + (replica?.prepared.length ?? 1), 0) + (status?.inFlight.length ?? 1);

  const passed =
    Object.values(faults).some((count) => count > 0) &&
    progress.problems.length === 0 &&
    verdict.verdict === "linearizable" &&
    missing.length === 0 &&
    replicasDiffering === 0 &&
    inDoubt === 0 &&
    syncAfterHealMs !== null;
  return {
    seed: options.seed,
    keyPrefix,
    historyFile,
    operations,
    kinds: options.faults,
    faults,
    network: where.network,
    faultLog,
    progress,
    linearizability: verdict.verdict,
    linearizabilityDetails: verdict.details,
    missingAcknowledgedWrites: missing.length,
    missingDetails: missing,
    replicasDiffering,
    inDoubt,
    syncAfterHealMs,
    passed,
  };
}

/** One fault of a run's schedule: the wait before it, its kind, its target, how long it holds, and what exactly. */
export type FaultPlan = { readonly waitMs: number; readonly holdMs: number; readonly target: string } & (
  | { readonly kind: "kill" | "pause" | "partition" }
  | { readonly kind: "failpoint"; /** [NAME=ACTION@N], armed in the restarted process. */ readonly failpoint: string }
  | { readonly kind: NetFaultKind; readonly link: NetworkFault }
);

/**
 * The next fault of the schedule, drawn from the run's PRNG alone, so that a seed decides the whole
 * schedule (the cluster's timing decides only how much of it fits in the run). Partitions behind a
 * proxy strike a replica; every other kind strikes any member, coordinators first in the list.
 */
export function drawFault(
  prng: Prng,
  kinds: readonly FaultKind[],
  members: { readonly coordinatorNames: readonly string[]; readonly replicaIds: readonly string[] },
  intervalMs: number,
): FaultPlan {
  const waitMs = prng.int(intervalMs / 2, (intervalMs * 3) / 2);
  const kind = prng.pick(kinds);
  const holdMs = prng.int(faultHoldMsMin, faultHoldMsMax);
  const target = kind === "partition" ? prng.pick(members.replicaIds) : prng.pick([...members.coordinatorNames, ...members.replicaIds]);
  const at = { waitMs, holdMs, target };
  switch (kind) {
    case "kill":
    case "pause":
    case "partition":
      return { ...at, kind };
    case "failpoint": {
      const point = prng.pick(Object.keys(members.coordinatorNames.includes(target) ? coordinatorFailpoints : replicaFailpoints));
      const hit = prng.int(1, 20);
      return { ...at, kind, failpoint: `${point}=crash@${hit}` };
    }
    case "net-partition":
      return { ...at, kind, link: { kind: "partition" } };
    case "net-loss":
      return { ...at, kind, link: { kind: "loss", percent: prng.int(netLossPercentMin, netLossPercentMax) } };
    case "net-delay": {
      const delayMs = prng.int(netDelayMsMin, netDelayMsMax);
      return { ...at, kind, link: { kind: "delay", delayMs, jitterMs: prng.int(0, Math.floor(delayMs / 4)) } };
    }
    case "net-throttle":
      return { ...at, kind, link: { kind: "throttle", rateKbit: prng.int(netThrottleKbitMin, netThrottleKbitMax) } };
    default:
      return assertNever(kind);
  }
}

/** A link fault in words, for the run's log. */
function describeLinkFault(fault: NetworkFault): string {
  switch (fault.kind) {
    case "partition":
      return "its bridge port disabled: nothing crosses, both ways";
    case "loss":
      return `${fault.percent}% of packets lost, both ways`;
    case "drop":
      return `${fault.percent}% of packets dropped by nftables, both ways`;
    case "delay":
      return `${fault.delayMs} ms delay, jitter ${fault.jitterMs} ms, both ways`;
    case "throttle":
      return `a token bucket of ${fault.rateKbit} kbit/s, both ways`;
    default:
      return assertNever(fault);
  }
}

/** Every replica up, healthy and in sync, nothing in flight or locked, nothing prepared anywhere. */
export async function fullySynced(cluster: ChaosCluster): Promise<boolean> {
  const status = await cluster.admin.status();
  if (!status.replicas.every((replica) => replica.up && replica.state === "in-sync" && replica.healthy)) return false;
  if (status.inFlight.length > 0 || status.lockedKeys > 0) return false;
  const statuses = await Promise.all(cluster.replicaIds.map((id) => cluster.admin.replicaStatus(id)));
  return statuses.every((replica) => replica.prepared.length === 0);
}

export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadlineMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** A get of every key the history touched, by a new process, after every other operation. */
async function readAllKeys(cluster: ChaosCluster, events: readonly HistoryEvent[]): Promise<HistoryEvent[]> {
  const keys = [...new Set(events.map((event) => event.key))].sort();
  const process = events.reduce((max, event) => Math.max(max, event.process), -1) + 1;
  let time = events.reduce((max, event) => Math.max(max, event.time), 0) + 1;
  let index = events.length;
  const out: HistoryEvent[] = [];
  for (const key of keys) {
    const entry = await cluster.admin.kv().get(key);
    const value = entry === null ? null : entry.value.toString("utf8");
    out.push({ index: index++, type: "invoke", process, f: "get", key, value: null, time: time++ });
    out.push({ index: index++, type: "ok", process, f: "get", key, value, time: time++ });
  }
  return out;
}

/**
 * Keys whose final value (the last read of the history) is not that of their last acknowledged
 * write, nor of any write that may have come after it: a write not yet complete when the last
 * acknowledged one was invoked (ok, or info: its outcome unknown).
 */
export function missingAcknowledgedWrites(events: readonly HistoryEvent[]): string[] {
  interface Op {
    readonly f: HistoryEvent["f"];
    readonly key: string;
    readonly value: string | null;
    readonly invoke: number;
    complete: number;
    type: HistoryEvent["type"];
  }
  const open = new Map<number, Op>();
  const ops: Op[] = [];
  for (const event of events) {
    if (event.type === "invoke") {
      const op: Op = { f: event.f, key: event.key, value: event.value, invoke: event.time, complete: Number.POSITIVE_INFINITY, type: "info" };
      open.set(event.process, op);
      ops.push(op);
      continue;
    }
    const op = open.get(event.process);
    if (op === undefined) continue;
    open.delete(event.process);
    op.type = event.type;
    if (event.type !== "info") op.complete = event.time;
    if (op.f === "get" && event.type === "ok") (op as { value: string | null }).value = event.value;
  }
  const problems: string[] = [];
  const byKey = new Map<string, Op[]>();
  for (const op of ops) byKey.set(op.key, [...(byKey.get(op.key) ?? []), op]);
  for (const [key, keyOps] of byKey) {
    const writes = keyOps.filter((op) => op.f !== "get" && op.type !== "fail");
    const acked = writes.filter((op) => op.type === "ok");
    if (acked.length === 0) continue;
    const last = acked.reduce((a, b) => (b.complete > a.complete ? b : a));
    const finalRead = keyOps.filter((op) => op.f === "get" && op.type === "ok").reduce<Op | null>((a, b) => (a === null || b.invoke > a.invoke ? b : a), null);
    if (finalRead === null || finalRead.invoke < last.complete) continue; // no read after it
    const allowed = writes.filter((op) => op.complete >= last.invoke).map((op) => (op.f === "del" ? null : op.value));
    if (!allowed.includes(finalRead.value)) {
      problems.push(`${key}: last acknowledged ${last.f} ${JSON.stringify(last.value)}, final value ${JSON.stringify(finalRead.value)}`);
    }
  }
  return problems;
}

export function formatChaosReport(report: ChaosReport): string {
  const mark = (ok: boolean) => (ok ? "ok" : "VIOLATION");
  const faultsInjected = Object.values(report.faults).reduce((sum, count) => sum + count, 0);
  const rows: [string, string, string][] = [
    ["operations", `${report.operations.ok} ok, ${report.operations.fail} fail, ${report.operations.info} info`, ""],
    // A run on 127.0.0.1 lists the four kinds it can make, drawn or not, as it always did; one across namespaces, the kinds it drew from.
    ["faults injected", (report.network === null ? faultKinds : report.kinds).map((kind) => `${kind} ${report.faults[kind]}`).join(", "), mark(faultsInjected > 0)],
    [
      "successful reads",
      `${report.progress.readsOk} in ${report.progress.seconds.toFixed(1)} s, ${report.progress.readsOkPerSecond.toFixed(1)}/s (at least ${readsOkPerSecondMin}/s)`,
      mark(report.progress.readsOkPerSecond >= readsOkPerSecondMin),
    ],
    [
      "successful writes",
      `${report.progress.writesOk} in ${report.progress.seconds.toFixed(1)} s, ${report.progress.writesOkPerSecond.toFixed(1)}/s (at least ${writesOkPerSecondMin}/s)`,
      mark(report.progress.writesOkPerSecond >= writesOkPerSecondMin),
    ],
    ["linearizable", report.linearizability, mark(report.linearizability === "linearizable")],
    ["acknowledged writes missing", String(report.missingAcknowledgedWrites), mark(report.missingAcknowledgedWrites === 0)],
    ["replicas whose content differs", String(report.replicasDiffering), mark(report.replicasDiffering === 0)],
    ["transactions in doubt", String(report.inDoubt), mark(report.inDoubt === 0)],
    ["last heal to fully in sync", report.syncAfterHealMs === null ? "never (timed out)" : `${report.syncAfterHealMs} ms`, mark(report.syncAfterHealMs !== null)],
  ];
  if (report.network !== null) {
    const lossBy = report.network.lossBy === null ? "" : `; loss by ${report.network.lossBy}`;
    rows.push(["network namespaces", `kv-${report.network.runId}-* (deleted once the run is over)${lossBy}`, ""]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value, verdict]) => `${name.padEnd(width)}  ${value}${verdict ? `  ${verdict}` : ""}`);
  lines.push(`seed ${report.seed}: ${report.passed ? "PASSED" : "FAILED"}`);
  if (faultsInjected === 0) lines.push("no fault was injected: a run proves nothing about faults without one (a longer --duration, or a shorter --interval)");
  if (report.network !== null) for (const note of report.network.notes) lines.push(`note: ${note}`);
  for (const problem of report.progress.problems) lines.push(`too little work: ${problem}`);
  if (report.linearizability !== "linearizable" && report.linearizabilityDetails) lines.push(report.linearizabilityDetails);
  for (const detail of report.missingDetails.slice(0, 10)) lines.push(`missing: ${detail}`);
  return lines.join("\n");
}
