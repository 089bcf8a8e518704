// `kv bench`: concurrent clients hammering the coordinator, closed loop, the way YCSB's core
// workloads do. Each of `concurrency` clients sends its next operation only once the previous one
// has completed, over `connections` independent gRPC channels shared round-robin. At the end: ops/s,
// latency percentiles (HdrHistogram, microsecond resolution) and gRPC error codes per operation kind.
//
// With `historyFile`, every operation is recorded in the Jepsen convention of client/history.ts, so
// that `kv check` can decide whether what the clients saw is linearizable. That is why a client
// whose write ended in `info` (outcome unknown) is retired and carries on under a new process
// number: a Jepsen process has at most one outstanding operation, and an `info` operation stays
// outstanding forever.
//
// Reproducible: the operations each client sends (kind, key, value) come from its own PRNG seeded
// from `seed` and the client's number, so the same seed gives each client the same sequence; only
// the interleaving, the timing and the outcomes vary from run to run.
import { once } from "node:events";
import * as fs from "node:fs";
import { finished } from "node:stream/promises";
import type { Tls } from "../../proto/tls";
import { Presets, SingleBar } from "cli-progress";
import * as hdr from "hdr-histogram-js";
import { assert, assertNever } from "../../common/assert";
import { classifyCode, codeName, KvError } from "../../common/errors";
import { limits } from "../../common/limits";
import { KvClient } from "../../client/client";
import { formatEvent, type HistoryFunction, type HistoryType } from "../check/history";
import { Prng } from "../../common/prng";
import { formatTable } from "../../common/table";
import type { Timeline } from "../report/timeline";

export const workloadNames = ["A", "B", "C", "write", "mixed", "incr", "orders"] as const;
export type WorkloadName = (typeof workloadNames)[number];
export const distributionNames = ["uniform", "zipfian", "hot"] as const;
export type DistributionName = (typeof distributionNames)[number];
/** incr: an atomic increment by 1; order: a bookstore order (one multi-key transaction). */
export type OpKind = HistoryFunction | "incr" | "order";

/** Workloads whose operations the register model of kv check covers (get, put, del). */
export function recordsHistory(workload: WorkloadName): boolean {
  return workloads[workload].every((entry) => entry.f === "get" || entry.f === "put" || entry.f === "del");
}

/** Stock of every book before an orders run: large enough that the run rarely empties one. */
export const ordersInitialStock = 1_000_000;

/** Each workload's mix, in percent (YCSB core workloads A, B, C; plus write-only and get/put/del). */
export const workloads: Readonly<Record<WorkloadName, readonly { readonly f: OpKind; readonly percent: number }[]>> = {
  A: [{ f: "get", percent: 50 }, { f: "put", percent: 50 }],
  B: [{ f: "get", percent: 95 }, { f: "put", percent: 5 }],
  C: [{ f: "get", percent: 100 }],
  write: [{ f: "put", percent: 100 }],
  mixed: [{ f: "get", percent: 50 }, { f: "put", percent: 40 }, { f: "del", percent: 10 }],
  incr: [{ f: "incr", percent: 100 }],
  // The bookstore's orders: decrement 1 to 3 books' stock (keys) by 1 to 3 with floor 0, and record
  // the order under its own key, in one transaction.
  orders: [{ f: "order", percent: 100 }],
};
for (const [name, mix] of Object.entries(workloads)) {
  assert(mix.reduce((sum, entry) => sum + entry.percent, 0) === 100, `workload ${name} adds up to 100%`);
}

/** The most keys a run may spread over: the zipfian generator sums a series over every key at start. */
export const benchKeysMax = 10_000_000;
/** YCSB's zipfian constant. */
export const zipfianTheta = 0.99;
const defaultTimeoutMs = 10_000;

export interface BenchOptions {
  /** HOST:PORT of the coordinator. */
  readonly coordinator: string;
  /** Clients, each with at most one operation outstanding. */
  readonly concurrency: number;
  /** Independent gRPC channels (one TCP connection each), shared round-robin by the clients. */
  readonly connections: number;
  /** How long to run. Ignored when `ops` is given; one of the two is required. */
  readonly durationMs?: number;
  /** How many operations to send in all; bounds the run instead of `durationMs`. */
  readonly ops?: number;
  readonly workload: WorkloadName;
  /** Key names are "k0" .. "k<keys-1>". */
  readonly keys: number;
  /** Put before every key name ("chaos/7/k0"), to keep the load's keys apart from other data (default none). */
  readonly keyPrefix?: string;
  readonly distribution: DistributionName;
  /** Size of each value written; a value is never shorter than its unique prefix "p<process>-<n>-". */
  readonly valueBytes: number;
  /** Seeds every client's PRNG (operation kinds, keys). */
  readonly seed: number;
  /** Deadline of each operation, in milliseconds (default 10 s). */
  readonly timeoutMs?: number;
  /** TLS of the clients (proto/tls.ts); absent: as KvClient decides (KV_TLS_CA, else plaintext). */
  readonly tls?: Tls | null;
  /** Write the history of every operation here, as JSON lines (client/history.ts). */
  readonly historyFile?: string;
  /** Write the report here, as JSON. */
  readonly jsonFile?: string;
  /** Once aborted, clients send no new operation; the run ends when the outstanding ones complete. */
  readonly signal?: AbortSignal;
  /** After a failed operation, a client waits this long before its next one (default: no wait). */
  readonly backoffMsOnError?: number;
  /**
   * Records every completion over time for an HTML report (--report); its kinds must be the
   * workload's. The caller finishes it with the report's durationMs.
   */
  readonly timeline?: Timeline;
}

export interface BenchOutput {
  /** Draw a live progress bar on stderr (for a terminal). */
  readonly progress: boolean;
  /** Where occasional progress lines go when there is no bar. */
  readonly log: (line: string) => void;
}

/** Latency of the successful operations of one kind, in milliseconds. */
export interface LatencyMs {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  /** The 99.9th percentile. */
  readonly p999: number;
  readonly max: number;
}

export interface OpReport {
  /** Operations of this kind that completed (ok + fail + info). */
  readonly count: number;
  readonly ok: number;
  /** Recorded as `fail` in the history: certainly had no effect. */
  readonly fail: number;
  /** Recorded as `info` in the history: a write whose outcome is unknown. */
  readonly info: number;
  /** Every unsuccessful operation, by gRPC code name (e.g. ABORTED); adds up to fail + info. */
  readonly errors: Readonly<Record<string, number>>;
  /** Completed operations of this kind per second, over the whole run. */
  readonly opsPerSec: number;
  /** Null when no operation of this kind succeeded. */
  readonly latencyMs: LatencyMs | null;
}

export interface BenchReport {
  readonly workload: WorkloadName;
  readonly distribution: DistributionName;
  readonly keys: number;
  readonly valueBytes: number;
  readonly concurrency: number;
  readonly connections: number;
  readonly seed: number;
  /** The run's bound as asked for: an operation count, or else a duration. */
  readonly requested: { readonly ops: number } | { readonly durationMs: number };
  /** True when `signal` was aborted during the run (kv bench: Ctrl-C), which then ended before its bound. */
  readonly interrupted: boolean;
  /** How long the run actually took, from the first send to the last completion. */
  readonly durationMs: number;
  readonly totalOps: number;
  readonly okOps: number;
  /** Every unsuccessful operation by gRPC code name; okOps + the sum of these = totalOps. */
  readonly failedOps: Readonly<Record<string, number>>;
  /** Operations by their completion in the history. */
  readonly outcomes: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly opsPerSec: number;
  /** Process numbers used in the history: one per client, plus one per retirement after `info`. */
  readonly processes: number;
  /** The kinds of operation the workload sends. */
  readonly perOp: Partial<Record<OpKind, OpReport>>;
}

// ---------------------------------------------------------------------------------------------
// Pure parts: PRNG, key distributions, operation mix, outcome classification.

/** The seeded PRNG of client/prng.ts as a function: values in [0, 1). */
export function mulberry32(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

/** A seed for client `client` of a run seeded `seed`: mixed, so neighbouring clients do not get correlated streams. */
export function clientSeed(seed: number, client: number): number {
  // The finaliser of MurmurHash3 over the pair: every input bit affects every output bit.
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ (client >>> 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/**
 * The zipfian generator of Gray et al., "Quickly Generating Billion-Record Synthetic Databases"
 * (SIGMOD 1994), as YCSB's ZipfianGenerator implements it: item 0 is the most popular, item i has
 * probability proportional to 1 / (i+1)^theta. (YCSB's workloads wrap it in ScrambledZipfian to
 * scatter the popular items over the key space; here keys are not ordered in storage, so the
 * plain form is used and k0 is the hottest key.)
 */
export class ZipfianGenerator {
  private readonly alpha: number;
  private readonly zetan: number;
  private readonly eta: number;
  private readonly halfPowTheta: number;

  constructor(readonly items: number, readonly theta: number = zipfianTheta) {
    assert(Number.isInteger(items) && items >= 1, "zipfian items is a positive integer");
    assert(theta > 0 && theta < 1, "zipfian theta is in (0, 1)");
    const zeta2theta = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.zetan = zeta(items, theta);
    this.eta = (1 - Math.pow(2 / items, 1 - theta)) / (1 - zeta2theta / this.zetan);
    this.halfPowTheta = Math.pow(0.5, theta);
  }

  /** The item for a uniform random number u in [0, 1). */
  next(u: number): number {
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < 1 + this.halfPowTheta) return Math.min(1, this.items - 1);
    const item = Math.floor(this.items * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // Floating point can land exactly on `items` for u close to 1.
    return Math.min(item, this.items - 1);
  }
}

/** Picks a key index in [0, keys) from a uniform random number in [0, 1). */
export function keyChooser(distribution: DistributionName, keys: number): (u: number) => number {
  switch (distribution) {
    case "uniform":
      return (u) => Math.min(keys - 1, Math.floor(u * keys));
    case "zipfian": {
      const zipfian = new ZipfianGenerator(keys);
      return (u) => zipfian.next(u);
    }
    case "hot":
      return () => 0;
    default:
      return assertNever(distribution);
  }
}

export function keyName(index: number): string {
  return `k${index}`;
}

/** The operation kind for a uniform random number u in [0, 1), by the workload's mix. */
export function chooseOp(workload: WorkloadName, u: number): OpKind {
  const mix = workloads[workload];
  let cumulative = 0;
  for (const entry of mix) {
    cumulative += entry.percent / 100;
    if (u < cumulative) return entry.f;
  }
  return mix[mix.length - 1]!.f;
}

/**
 * How a failed operation goes into the history. `fail` only when it certainly had no effect: the
 * codes the store gives for a refused request (gRPC itself never produces them, so they cannot
 * come from a broken transport), any failed read, since a read changes nothing, and a write whose
 * call certainly started nothing (notStarted: KvError.notStarted, every attempt refused before it
 * started or never connected; false where the caller cannot know). A write that failed otherwise
 * (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN, CANCELLED, ...) may or may not have
 * committed: `info`.
 */
export function classifyFailure(f: OpKind, code: number, notStarted = false): "fail" | "info" {
  switch (f) {
    case "get":
      return "fail";
    case "put":
    case "del":
    case "incr":
    case "order":
      return classifyCode(code) === "refused" || (notStarted && classifyCode(code) === "unavailable") ? "fail" : "info";
    default:
      return assertNever(f);
  }
}

/** A put's value: unique per operation, so that a checker can tell every write apart. */
export function uniqueValue(process: number, n: number, valueBytes: number): string {
  const prefix = `p${process}-${n}-`;
  return prefix.length >= valueBytes ? prefix : prefix + "x".repeat(valueBytes - prefix.length);
}

/** Checks the options; the message names the option. */
export function validateBenchOptions(options: BenchOptions): void {
  const whole = (name: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${name} must be a whole number from ${min} to ${max}; it is ${value}`);
    }
  };
  whole("concurrency", options.concurrency, 1, 100_000);
  whole("connections", options.connections, 1, 10_000);
  whole("keys", options.keys, 1, benchKeysMax);
  whole("valueBytes", options.valueBytes, 0, limits.valueBytesMax);
  const longestKeyBytes = Buffer.byteLength((options.keyPrefix ?? "") + keyName(options.keys - 1));
  if (longestKeyBytes > limits.keyBytesMax) {
    throw new RangeError(`keyPrefix makes keys of ${longestKeyBytes} bytes; the limit is ${limits.keyBytesMax} (keyBytesMax)`);
  }
  whole("seed", options.seed, 0, 0xffffffff);
  if (options.ops !== undefined) whole("ops", options.ops, 1, Number.MAX_SAFE_INTEGER);
  else if (options.durationMs === undefined) throw new RangeError("give ops or durationMs to bound the run");
  else if (!Number.isFinite(options.durationMs) || options.durationMs <= 0) throw new RangeError(`durationMs must be positive; it is ${options.durationMs}`);
  if (options.timeoutMs !== undefined && (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)) {
    throw new RangeError(`timeoutMs must be positive; it is ${options.timeoutMs}`);
  }
  if (!(workloadNames as readonly string[]).includes(options.workload)) throw new RangeError(`workload must be one of ${workloadNames.join(", ")}`);
  const untracked = workloads[options.workload].filter((entry) => options.timeline !== undefined && !options.timeline.kinds.includes(entry.f));
  if (untracked.length > 0) throw new RangeError(`timeline must know every kind of workload ${options.workload}; it lacks ${untracked.map((entry) => entry.f).join(", ")}`);
  if (options.historyFile !== undefined && !recordsHistory(options.workload)) {
    throw new RangeError(`workload ${options.workload} cannot record a history: kv check's model covers get, put and del only`);
  }
  if (!(distributionNames as readonly string[]).includes(options.distribution)) {
    throw new RangeError(`distribution must be one of ${distributionNames.join(", ")}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The shell: clients, channels, the history file, the progress bar.

/** Appends history lines in order through a buffered stream; clients wait for it to drain. */
class HistoryWriter {
  private index = 0;
  private draining: Promise<void> | null = null;
  /** The first write error; the run stops sending and runBench rethrows it. */
  failure: Error | null = null;

  private constructor(private readonly stream: fs.WriteStream) {
    stream.on("error", (error) => (this.failure ??= error));
  }

  static async open(file: string): Promise<HistoryWriter> {
    const stream = fs.createWriteStream(file, { flags: "w" });
    // Opening is asynchronous: wait for it, so that a bad path fails the run before any operation.
    try {
      await once(stream, "open");
    } catch (error) {
      throw new Error(`cannot write the history file: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return new HistoryWriter(stream);
  }

  append(type: HistoryType, process: number, f: HistoryFunction, key: string, value: string | null, time: number): void {
    const line = formatEvent({ index: this.index++, type, process, f, key, value, time });
    if (!this.stream.write(line + "\n") && this.draining === null) {
      this.draining = once(this.stream, "drain").then(
        () => void (this.draining = null),
        () => void (this.draining = null), // the "error" listener has the error
      );
    }
  }

  /** Resolves once the stream's buffer has room again (null when it already has). */
  ready(): Promise<void> | null {
    return this.draining;
  }

  async close(): Promise<void> {
    this.stream.end();
    try {
      await finished(this.stream);
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
    }
    if (this.failure !== null) throw this.failure;
  }
}

/** Counts and latencies of one operation kind. */
class OpStats {
  count = 0;
  ok = 0;
  fail = 0;
  info = 0;
  readonly errors = new Map<string, number>();
  // Exact maximum, in microseconds: HdrHistogram's percentiles are rounded up to their bucket's
  // highest value, which can exceed the largest value recorded; the report clamps them to it.
  maxUs = 0;
  readonly histogram = hdr.build({
    lowestDiscernibleValue: 1, // microseconds
    highestTrackableValue: 60 * 60 * 1_000_000, // an hour; autoResize covers anything longer
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });

  recordOk(latencyUs: number): void {
    this.count += 1;
    this.ok += 1;
    this.histogram.recordValue(latencyUs);
    this.maxUs = Math.max(this.maxUs, latencyUs);
  }

  recordFailure(outcome: "fail" | "info", code: number): void {
    this.count += 1;
    if (outcome === "fail") this.fail += 1;
    else this.info += 1;
    const name = codeName(code);
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
  }

  report(seconds: number): OpReport {
    const percentileMs = (p: number): number => Math.min(this.histogram.getValueAtPercentile(p), this.maxUs) / 1000;
    return {
      count: this.count,
      ok: this.ok,
      fail: this.fail,
      info: this.info,
      errors: Object.fromEntries([...this.errors].sort(([a], [b]) => a.localeCompare(b))),
      opsPerSec: seconds > 0 ? this.count / seconds : 0,
      latencyMs:
        this.ok === 0
          ? null
          : { p50: percentileMs(50), p90: percentileMs(90), p99: percentileMs(99), p999: percentileMs(99.9), max: this.maxUs / 1000 },
    };
  }
}

async function openReportFile(file: string): Promise<fs.promises.FileHandle> {
  try {
    return await fs.promises.open(file, "w");
  } catch (error) {
    throw new Error(`cannot write the JSON report: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function nowNs(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

export async function runBench(options: BenchOptions, output: BenchOutput): Promise<BenchReport> {
  validateBenchOptions(options);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  // Both files are opened before the first operation, so that a bad path fails at once rather than
  // after the whole run.
  const json = options.jsonFile === undefined ? null : await openReportFile(options.jsonFile);
  const history =
    options.historyFile === undefined
      ? null
      : await HistoryWriter.open(options.historyFile).catch(async (error: unknown) => {
          await json?.close();
          throw error;
        });
  // One KvClient is one channel. grpc-js would otherwise pool one connection for every channel
  // with the same target and options; a local subchannel pool gives each its own connection.
  const channels = Array.from(
    { length: options.connections },
    () => new KvClient(options.coordinator, { timeoutMs, retryForMs: 0, channelOptions: { "grpc.use_local_subchannel_pool": 1 }, ...(options.tls === undefined ? {} : { tls: options.tls }) }),
  );
  if (options.workload === "orders") await seedStock(channels, options.keyPrefix ?? "", options.keys);
  const mix = workloads[options.workload];
  const stats = new Map<OpKind, OpStats>(mix.map((entry) => [entry.f, new OpStats()]));
  const chooseKey = keyChooser(options.distribution, options.keys);
  const keyPrefix = options.keyPrefix ?? "";
  const byCode = new Map<string, number>();
  let completed = 0;
  let errorsSoFar = 0;
  let claimed = 0;
  let nextProcess = options.concurrency; // clients start as processes 0 .. concurrency-1
  const start = process.hrtime.bigint();
  const endNs = options.ops === undefined ? (options.durationMs ?? 0) * 1e6 : Infinity;

  /** Whether a client may send another operation; claims it when bounded by an operation count. */
  const mayContinue = (): boolean => {
    if (options.signal?.aborted === true || history?.failure != null) return false;
    if (options.ops !== undefined) {
      if (claimed >= options.ops) return false;
      claimed += 1;
      return true;
    }
    return nowNs(start) < endNs;
  };

  const runClient = async (client: number): Promise<void> => {
    const kv = channels[client % channels.length]!;
    const random = mulberry32(clientSeed(options.seed, client));
    let processId = client;
    let n = 0; // operations of this process so far: makes its put values unique
    for (;;) {
      const drained = history?.ready();
      if (drained) await drained;
      if (!mayContinue()) return;
      const f = chooseOp(options.workload, random());
      const key = keyPrefix + keyName(chooseKey(random()));
      const value = f === "put" || f === "order" ? uniqueValue(processId, n, options.valueBytes) : null;
      n += 1;
      const opStats = stats.get(f);
      assert(opStats !== undefined, `workload ${options.workload} has stats for ${f}`);
      const t0 = nowNs(start);
      const recorded = f === "get" || f === "put" || f === "del" ? f : null;
      if (recorded !== null) history?.append("invoke", processId, recorded, key, value, t0);
      try {
        let read: string | null = null;
        switch (f) {
          case "get": {
            const entry = await kv.get(key);
            read = entry === null ? null : entry.value.toString("utf8");
            break;
          }
          case "put":
            assert(value !== null, "a put has a value");
            await kv.put(key, value);
            break;
          case "del":
            await kv.del(key);
            break;
          case "incr":
            await kv.increment(key, 1);
            break;
          case "order": {
            assert(value !== null, "an order has a record");
            const books = new Set([key]);
            const lines = 1 + Math.floor(random() * 3);
            while (books.size < Math.min(lines, options.keys)) books.add(keyPrefix + keyName(chooseKey(random())));
            await kv.txn({
              then: [
                ...[...books].map((book) => ({ type: "incr" as const, key: book, delta: -(1 + Math.floor(random() * 3)), min: 0 })),
                { type: "put" as const, key: `${keyPrefix}order/${processId}/${n}`, value },
              ],
            });
            break;
          }
          default:
            assertNever(f);
        }
        const t1 = nowNs(start);
        if (recorded !== null) history?.append("ok", processId, recorded, key, f === "get" ? read : value, t1);
        const latencyUs = Math.max(1, Math.round((t1 - t0) / 1000));
        opStats.recordOk(latencyUs);
        options.timeline?.recordOk(f, t1, latencyUs);
      } catch (error) {
        // KvClient turns every failed call into a KvError; anything else is a bug here.
        if (!(error instanceof KvError)) throw error;
        const t1 = nowNs(start);
        const outcome = classifyFailure(f, error.code, error.notStarted);
        if (recorded !== null) history?.append(outcome, processId, recorded, key, value, t1);
        opStats.recordFailure(outcome, error.code);
        options.timeline?.recordFailure(t1);
        const name = codeName(error.code);
        byCode.set(name, (byCode.get(name) ?? 0) + 1);
        errorsSoFar += 1;
        if (outcome === "info") {
          // The write may still take effect at any later time: this process stays "outstanding"
          // forever, so the client carries on as a new one (Jepsen's rule).
          processId = nextProcess;
          nextProcess += 1;
          n = 0;
        }
        // A client that backs off after a failure, as real ones do, instead of spinning against a
        // store that is down.
        if (options.backoffMsOnError !== undefined && options.backoffMsOnError > 0) {
          await new Promise((resolve) => setTimeout(resolve, options.backoffMsOnError));
        }
      }
      completed += 1;
    }
  };

  const bar = output.progress
    ? new SingleBar(
        {
          format: " {bar} {percentage}% | {elapsed} s | {ops} ops | {rate} ops/s | {errors} errors",
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
        },
        Presets.shades_classic,
      )
    : null;
  const total = options.ops ?? options.durationMs ?? 1;
  const progressValue = (): number => (options.ops !== undefined ? completed : Math.min(total, nowNs(start) / 1e6));
  let lastTick = { ns: 0, completed: 0 };
  const payload = () => {
    const ns = nowNs(start);
    // Live rate: over the last tick, not the whole run, so a stall shows at once.
    const rate = ns > lastTick.ns ? ((completed - lastTick.completed) * 1e9) / (ns - lastTick.ns) : 0;
    lastTick = { ns, completed };
    return { elapsed: (ns / 1e9).toFixed(1), ops: completed, rate: rate.toFixed(0), errors: errorsSoFar };
  };
  const limit = options.ops !== undefined ? `${options.ops} operations` : `${((options.durationMs ?? 0) / 1000).toFixed(1)} s`;
  // Before the bar starts: a line written while it is drawn would break its redrawing.
  output.log(
    `kv bench: workload ${options.workload}, ${options.concurrency} clients on ${options.connections} connections, ` +
      `${options.distribution} over ${options.keys} keys, values of ${options.valueBytes} bytes, ${limit}, seed ${options.seed}`,
  );
  bar?.start(total, 0, { elapsed: "0.0", ops: 0, rate: "0", errors: 0 });
  const barTimer = bar === null ? null : setInterval(() => bar.update(progressValue(), payload()), 250);
  const logTimer =
    bar !== null
      ? null
      : setInterval(() => {
          const p = payload();
          output.log(`kv bench: ${p.elapsed} s, ${p.ops} ops, ${p.rate} ops/s, ${p.errors} errors`);
        }, 5_000);
  logTimer?.unref();

  let endNsActual: number;
  try {
    await Promise.all(Array.from({ length: options.concurrency }, (_, client) => runClient(client)));
    endNsActual = nowNs(start);
  } finally {
    if (barTimer !== null) clearInterval(barTimer);
    if (logTimer !== null) clearInterval(logTimer);
    if (bar !== null) {
      bar.update(progressValue(), payload());
      bar.stop();
    }
    for (const channel of channels) channel.close();
    // Flush what was recorded even when a client failed, so the history shows how far it got.
    await history?.close().catch(() => undefined);
  }
  // close() above swallowed its error to keep a client's error first; without one, report it.
  if (history?.failure != null) throw history.failure;

  const seconds = endNsActual / 1e9;
  const perOp: Partial<Record<OpKind, OpReport>> = {};
  for (const [f, opStats] of stats) perOp[f] = opStats.report(seconds);
  const reports = [...stats.values()];
  const totalOps = reports.reduce((sum, s) => sum + s.count, 0);
  assert(totalOps === completed, "every completed operation is counted once");
  const report: BenchReport = {
    workload: options.workload,
    distribution: options.distribution,
    keys: options.keys,
    valueBytes: options.valueBytes,
    concurrency: options.concurrency,
    connections: options.connections,
    seed: options.seed,
    requested: options.ops !== undefined ? { ops: options.ops } : { durationMs: options.durationMs ?? 0 },
    interrupted: options.signal?.aborted === true,
    durationMs: endNsActual / 1e6,
    totalOps,
    okOps: reports.reduce((sum, s) => sum + s.ok, 0),
    failedOps: Object.fromEntries([...byCode].sort(([a], [b]) => a.localeCompare(b))),
    outcomes: {
      ok: reports.reduce((sum, s) => sum + s.ok, 0),
      fail: reports.reduce((sum, s) => sum + s.fail, 0),
      info: reports.reduce((sum, s) => sum + s.info, 0),
    },
    opsPerSec: seconds > 0 ? totalOps / seconds : 0,
    processes: nextProcess,
    perOp,
  };
  if (json !== null) {
    try {
      await json.writeFile(JSON.stringify(report, null, 2) + "\n");
    } finally {
      await json.close();
    }
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// The table for a person.

function describeMix(workload: WorkloadName): string {
  return workloads[workload].map((entry) => `${entry.percent}% ${entry.f}`).join(", ");
}


export function formatBenchReport(report: BenchReport): string {
  const ms = (value: number | undefined): string => (value === undefined ? "-" : value.toFixed(2));
  const errors = (byCode: Readonly<Record<string, number>>): string =>
    Object.entries(byCode)
      .map(([name, count]) => `${name} ${count}`)
      .join(", ");
  const rows: string[][] = [["op", "count", "ok", "ops/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "errors"]];
  for (const f of ["get", "put", "del", "incr", "order"] as const) {
    const op = report.perOp[f];
    if (op === undefined) continue;
    const latency = op.latencyMs ?? undefined;
    rows.push([
      f,
      String(op.count),
      String(op.ok),
      op.opsPerSec.toFixed(1),
      ms(latency?.p50),
      ms(latency?.p90),
      ms(latency?.p99),
      ms(latency?.p999),
      ms(latency?.max),
      errors(op.errors),
    ]);
  }
  rows.push(["all", String(report.totalOps), String(report.okOps), report.opsPerSec.toFixed(1), "", "", "", "", "", errors(report.failedOps)]);
  const bound = "ops" in report.requested ? `${report.requested.ops} operations` : `${(report.requested.durationMs / 1000).toFixed(1)} s`;
  return [
    `workload ${report.workload} (${describeMix(report.workload)}), ${report.concurrency} clients on ${report.connections} connections, ` +
      `${report.distribution} over ${report.keys} keys, values of ${report.valueBytes} bytes, seed ${report.seed}, ${bound}`,
    "",
    formatTable(rows, { rightAligned: new Set([1, 2, 3, 4, 5, 6, 7, 8]) }),
    "",
    `${report.totalOps} operations in ${(report.durationMs / 1000).toFixed(2)} s${report.interrupted ? " (interrupted)" : ""}: ${report.outcomes.ok} ok, ` +
      `${report.outcomes.fail} failed (no effect), ${report.outcomes.info} unknown outcome (info); ${report.processes} processes`,
    "latency: successful operations only, from send to reply",
  ].join("\n");
}

/** Puts ordersInitialStock in every key an orders run may touch, in transactions of txnKeysMax keys. */
async function seedStock(channels: readonly KvClient[], keyPrefix: string, keys: number): Promise<void> {
  const batches: number[][] = [];
  for (let first = 0; first < keys; first += limits.txnKeysMax) {
    batches.push(Array.from({ length: Math.min(limits.txnKeysMax, keys - first) }, (_, i) => first + i));
  }
  let next = 0;
  await Promise.all(
    channels.map(async (kv) => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await kv.txn({ then: batch.map((index) => ({ type: "put" as const, key: keyPrefix + keyName(index), value: String(ordersInitialStock) })) });
      }
    }),
  );
}
