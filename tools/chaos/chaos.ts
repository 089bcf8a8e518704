// `kv chaos`: faults while hammering. Starts a local cluster (or attaches to the one a `kv cluster`
// runs, by its manifest), runs `kv bench` against it with history recording, and meanwhile injects
// faults on a schedule decided by one seed: kill -9 and restart of the coordinator or a replica,
// SIGSTOP/SIGCONT pauses, crashes at a protocol step (a restart with a crash failpoint armed), and
// partitions of one replica (a TcpProxy black-holes it; only in a cluster chaos started, which has
// the proxies). At the end it heals everything and checks, printing one table: operations by
// outcome, faults injected, the successful reads and writes per second of the load (a run that did
// little work proves little, so each must reach a named minimum rate), the linearizability verdict of
// the history, acknowledged writes missing at the end, replicas whose content differs, transactions
// still in doubt, and the time from the last heal until the cluster was fully in sync. Any violation
// makes the exit code non-zero.
//
// The faults go through the ChaosCluster interface, which LocalCluster (processes chaos started)
// and AttachedCluster (a kv cluster's processes, by pid and recorded argv) both implement.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { assert, assertNever } from "../../common/assert";
import { coordinatorFailpoints, replicaFailpoints } from "../../common/failpoints";
import { AttachedCluster } from "./attached";
import type { ChaosCluster } from "./cluster-api";
import { formatEvent, parseHistory, type HistoryEvent } from "../check/history";
import { LocalCluster } from "./local-cluster";
import { Prng } from "../../common/prng";

export const faultKinds = ["kill", "pause", "failpoint", "partition"] as const;
export type FaultKind = (typeof faultKinds)[number];
export type { ChaosCluster };

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
  readonly faults: Record<FaultKind, number>;
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
    default:
      return assertNever(target);
  }
}

export async function runChaos(options: ChaosOptions, target: ChaosTarget, load: ChaosLoad, check: ChaosChecker, log: (line: string) => void): Promise<ChaosReport> {
  const prng = new Prng(options.seed);
  const dataDir = target.kind === "attached" ? target.dir : (target.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-chaos-")));
  const removeDataDir = target.kind === "local" && target.dataDir === null;
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
    return await hammer(options, cluster, { dataDir, historyFile, keyPrefix }, prng, load, check, log);
  } finally {
    await cluster?.release();
    if (removeDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function hammer(
  options: ChaosOptions,
  cluster: ChaosCluster,
  where: { dataDir: string; historyFile: string; keyPrefix: string },
  prng: Prng,
  load: ChaosLoad,
  check: ChaosChecker,
  log: (line: string) => void,
): Promise<ChaosReport> {
  const { historyFile, keyPrefix } = where;
  const signal = options.signal;
  const faults: Record<FaultKind, number> = { kill: 0, pause: 0, failpoint: 0, partition: 0 };
  const faultLog: { atMs: number; label: string }[] = [];
  const names = [...cluster.coordinatorNames, ...cluster.replicaIds];
  let lastHealMs = Date.now();
  await waitUntil("every replica up", clusterUpTimeoutMs, async () => (await cluster.status()).replicas.every((replica) => replica.up));
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
      await sleep(prng.int(options.intervalMs / 2, (options.intervalMs * 3) / 2), signal);
      if (over()) break;
      const kind = prng.pick(options.faults);
      const holdMs = prng.int(300, 2_000);
      const target = kind === "partition" ? prng.pick(cluster.replicaIds) : prng.pick(names);
      faults[kind] += 1;
      faultLog.push({ atMs: Date.now() - startedMs, label: `${kind} ${target}` });
      switch (kind) {
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
          const point = prng.pick(Object.keys(cluster.coordinatorNames.includes(target) ? coordinatorFailpoints : replicaFailpoints));
          const hit = prng.int(1, 20);
          log(`chaos: restart ${target} with ${point}=crash@${hit}`);
          await cluster.kill(target);
          await cluster.start(target, `${point}=crash@${hit}`);
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
        default:
          assertNever(kind);
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

  const dumps = await Promise.all(cluster.replicaIds.map((id) => cluster.dump(id).catch(() => null)));
  const checksums = dumps.map((dump) => dump?.checksum ?? "unreachable");
  const reference = checksums[0];
  const replicasDiffering = checksums.filter((checksum) => checksum !== reference).length;
  const statuses = await Promise.all(cluster.replicaIds.map((id) => cluster.replicaStatus(id).catch(() => null)));
  const status = await cluster.status().catch(() => null);
  const inDoubt = statuses.reduce((sum, replica) => sum + (replica?.prepared.length ?? 1), 0) + (status?.inFlight.length ?? 1);

  const passed =
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
    faults,
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

/** Every replica up, healthy and in sync, nothing in flight or locked, nothing prepared anywhere. */
export async function fullySynced(cluster: ChaosCluster): Promise<boolean> {
  const status = await cluster.status();
  if (!status.replicas.every((replica) => replica.up && replica.state === "in-sync" && replica.healthy)) return false;
  if (status.inFlight.length > 0 || status.lockedKeys > 0) return false;
  const statuses = await Promise.all(cluster.replicaIds.map((id) => cluster.replicaStatus(id)));
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
    const entry = await cluster.kv().get(key);
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
  const rows: [string, string, string][] = [
    ["operations", `${report.operations.ok} ok, ${report.operations.fail} fail, ${report.operations.info} info`, ""],
    ["faults injected", faultKinds.map((kind) => `${kind} ${report.faults[kind]}`).join(", "), ""],
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
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = rows.map(([name, value, verdict]) => `${name.padEnd(width)}  ${value}${verdict ? `  ${verdict}` : ""}`);
  lines.push(`seed ${report.seed}: ${report.passed ? "PASSED" : "FAILED"}`);
  for (const problem of report.progress.problems) lines.push(`too little work: ${problem}`);
  if (report.linearizability !== "linearizable" && report.linearizabilityDetails) lines.push(report.linearizabilityDetails);
  for (const detail of report.missingDetails.slice(0, 10)) lines.push(`missing: ${detail}`);
  return lines.join("\n");
}
