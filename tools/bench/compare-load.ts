// The load generator of the comparison benchmark (tools/bench/compare.ts): the same closed loop
// drives etcd, twopc-kv and the echo server through a Driver, which is all that differs between
// them. Each of C clients sends its next call as soon as its previous one completed, on one of the
// driver's channels (client i on channel i mod channels). After the warm-up, the server processes'
// CPU times and the machine's are read, calls are counted for the measured window, and read again
// at its end: a call counts in the window when it completes inside it. Calls still under way at the
// end complete (within their deadline) but count nowhere.
import * as fs from "node:fs";
import * as hdr from "hdr-histogram-js";
import { assert, assertNever } from "../../common/assert";
import { codeName } from "../../common/errors";
import { Prng } from "../../common/prng";
import {
  cpuUsPerOp,
  machineBusyPct,
  parseMachineTicks,
  parseProcessCpuTicks,
  type LoadName,
  type MachineTicks,
  type RunFigures,
  type TargetName,
} from "./compare-figures";

export type Op = "get" | "put" | "echo";

/** A gRPC failure as grpc-js reports it: a status code and its details. */
export interface CallError {
  readonly code: number;
  readonly details: string;
}

export function isCallError(error: unknown): error is CallError {
  return error instanceof Error && typeof (error as Partial<CallError>).code === "number";
}

/** What the generator needs of a system: calls on numbered channels. */
export interface Driver {
  readonly target: TargetName;
  /** How many channels (one TCP connection each) the driver holds. */
  readonly channels: number;
  /**
   * One call on channel `channel`, with the driver's deadline. Resolves true when it succeeded (for
   * a get: and found a value), false for a get that succeeded and found none; rejects with the
   * call's gRPC error (isCallError).
   */
  call(channel: number, op: Op, key: string, value: Buffer): Promise<boolean>;
  close(): void;
}

/** Each call's deadline: far beyond any latency here, so that a stuck server shows as DEADLINE_EXCEEDED errors, not a hang. */
export const callTimeoutMs = 10_000;
/** After a failed call a client waits this long, so that a server that is down is not hammered in a tight loop. */
export const errorBackoffMs = 10;
/** Preloading: concurrent writers. */
export const preloadConcurrency = 64;
/**
 * How long preloading retries the put of one key before the turn fails: long enough to ride out a
 * leader election or a coordinator failover (about a second each), which a loaded machine can set off
 * right after a system said it was ready. Retries back off from preloadBackoffMsMin, doubling, to
 * preloadBackoffMsMax.
 */
export const preloadRetryForMs = 15_000;
export const preloadBackoffMsMin = 20;
export const preloadBackoffMsMax = 1_000;

export function keyName(index: number): string {
  return `k${index}`;
}

/** The operation of a workload for a uniform number u in [0, 1). */
function chooseOp(load: LoadName, u: number): Op {
  switch (load) {
    case "put":
      return "put";
    case "get":
      return "get";
    case "mix":
      return u < 0.5 ? "get" : "put";
    case "echo":
      return "echo";
    default:
      return assertNever(load);
  }
}

/** CPU ticks (utime + stime) of a process; null when it is gone. */
export function processTicks(pid: number): number | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  return parseProcessCpuTicks(text);
}

/** The CPU ticks of each server process; null when one of them is gone. */
export function serverTicks(pids: readonly number[]): number[] | null {
  const each: number[] = [];
  for (const pid of pids) {
    const ticks = processTicks(pid);
    if (ticks === null) return null;
    each.push(ticks);
  }
  return each;
}

export function machineTicks(): MachineTicks {
  return parseMachineTicks(fs.readFileSync("/proc/stat", "utf8"));
}

export interface LoadOptions {
  readonly driver: Driver;
  readonly load: LoadName;
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly seed: number;
  /** Every process of the server whose CPU counts. */
  readonly serverPids: readonly number[];
  /** Their names, in the same order (for the CPU per process). */
  readonly serverNames: readonly string[];
  readonly clockTicksPerSec: number;
  readonly round: number;
}

/** A client's PRNG seed: the run's seed and the client's number, mixed by multiplying with large odd constants. */
function clientSeed(seed: number, client: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(client + 1, 0x85ebca6b)) >>> 0;
}

interface Reading {
  readonly atMs: number;
  /** Each server process's CPU ticks (null: one is gone). */
  readonly server: number[] | null;
  readonly machine: MachineTicks;
  /** This process's CPU time (user + system), in microseconds. */
  readonly clientUs: number;
}

function reading(pids: readonly number[]): Reading {
  // The CPU readings first and the clock last, back to back, so that the window is what they cover.
  const server = serverTicks(pids);
  const machine = machineTicks();
  const client = process.cpuUsage();
  return { atMs: performance.now(), server, machine, clientUs: client.user + client.system };
}

/** Runs one workload at one client count: warm-up, then the measured window. */
export async function runLoad(options: LoadOptions): Promise<RunFigures> {
  const { driver } = options;
  assert(options.clients >= 1, "at least one client");
  assert(options.durationMs > 0, "a measured window");
  const histogram = hdr.build({
    lowestDiscernibleValue: 1, // microseconds
    highestTrackableValue: callTimeoutMs * 1_000 * 2,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    useWebAssembly: false,
  });
  let maxUs = 0;
  let okOps = 0;
  let misses = 0;
  let warmupErrors = 0;
  const errors = new Map<string, number>();
  const errorSamples = new Map<string, string>();
  let phase: "warmup" | "measure" | "done" = "warmup";
  let start: Reading | null = null;
  let end: Reading | null = null;

  const runClient = async (client: number): Promise<void> => {
    const prng = new Prng(clientSeed(options.seed, client));
    const value = Buffer.alloc(options.valueBytes);
    for (let i = 0; i < value.length; i++) value[i] = 97 + Math.floor(prng.next() * 26); // a-z
    const channel = client % driver.channels;
    while (phase !== "done") {
      const op = chooseOp(options.load, prng.next());
      const key = keyName(Math.floor(prng.next() * options.keys));
      const t0 = performance.now();
      try {
        const found = await driver.call(channel, op, key, value);
        if (phase !== "measure") continue;
        const latencyUs = Math.max(1, Math.round((performance.now() - t0) * 1_000));
        histogram.recordValue(latencyUs);
        maxUs = Math.max(maxUs, latencyUs);
        okOps += 1;
        if (!found) misses += 1;
      } catch (error) {
        // Anything but a gRPC status is a bug here, not a measurement.
        if (!isCallError(error)) throw error;
        const name = codeName(error.code);
        if (!errorSamples.has(name)) errorSamples.set(name, error.details);
        if (phase === "measure") {
          errors.set(name, (errors.get(name) ?? 0) + 1);
        } else if (phase === "warmup") {
          warmupErrors += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, errorBackoffMs));
      }
    }
  };

  const windowDone = new Promise<void>((resolve) => {
    const begin = (): void => {
      start = reading(options.serverPids);
      phase = "measure";
      setTimeout(() => {
        end = reading(options.serverPids);
        phase = "done";
        resolve();
      }, options.durationMs);
    };
    if (options.warmupMs === 0) begin();
    else setTimeout(begin, options.warmupMs);
  });
  const clients = Array.from({ length: options.clients }, (_, client) => runClient(client));
  // A client that throws (a bug) rejects this at once; otherwise it settles when every client has stopped.
  await Promise.all([windowDone, ...clients]);
  const first = start as Reading | null;
  const last = end as Reading | null;
  assert(first !== null && last !== null, "the window was read at both ends");

  const windowMs = last.atMs - first.atMs;
  const startTicks = first.server;
  const each = startTicks === null || last.server === null ? null : last.server.map((ticks, i) => ticks - startTicks[i]!);
  const ticks = each === null ? null : each.reduce((sum, n) => sum + n, 0);
  const byProcess =
    each === null || okOps === 0 ? null : Object.fromEntries(each.map((n, i) => [options.serverNames[i] ?? `pid ${options.serverPids[i]}`, cpuUsPerOp(n, options.clockTicksPerSec, okOps) ?? 0]));
  const percentileMs = (p: number): number | null => (okOps === 0 ? null : Math.min(histogram.getValueAtPercentile(p), maxUs) / 1_000);
  return {
    target: driver.target,
    load: options.load,
    clients: options.clients,
    round: options.round,
    windowMs,
    okOps,
    errors: Object.fromEntries([...errors].sort(([a], [b]) => a.localeCompare(b))),
    errorSamples: Object.fromEntries(errorSamples),
    misses,
    warmupErrors,
    opsPerSec: windowMs > 0 ? (okOps * 1_000) / windowMs : 0,
    p50Ms: percentileMs(50),
    p99Ms: percentileMs(99),
    serverCpuUsPerOp: cpuUsPerOp(ticks, options.clockTicksPerSec, okOps),
    serverCpuTicks: ticks,
    serverCpuUsPerOpByProcess: byProcess,
    machineBusyPct: machineBusyPct(first.machine, last.machine),
    clientCpuUsPerOp: okOps === 0 ? null : (last.clientUs - first.clientUs) / okOps,
  };
}

/** What preloading did: how many puts failed and were retried (a failover at start shows here). */
export interface PreloadReport {
  readonly retries: number;
  /** The first failure's code and message, when there was one. */
  readonly firstFailure: string | null;
}

/**
 * Writes every key once (values of valueBytes), so that gets find values: preloadConcurrency writers
 * over the driver's channels. A failed put is retried (writing the same value again is harmless
 * here) for preloadRetryForMs; a key still failing then fails the turn.
 */
export async function preload(driver: Driver, keys: number, valueBytes: number): Promise<PreloadReport> {
  const value = Buffer.alloc(valueBytes, "v");
  let next = 0;
  let retries = 0;
  let firstFailure: string | null = null;
  await Promise.all(
    Array.from({ length: Math.min(preloadConcurrency, keys) }, async (_, writer) => {
      for (let index = next++; index < keys; index = next++) {
        const giveUpAtMs = performance.now() + preloadRetryForMs;
        for (let attempt = 1, backoffMs = preloadBackoffMsMin; ; attempt++, backoffMs = Math.min(2 * backoffMs, preloadBackoffMsMax)) {
          try {
            await driver.call(writer % driver.channels, "put", keyName(index), value);
            break;
          } catch (error) {
            if (!isCallError(error)) throw error;
            firstFailure ??= `${codeName(error.code)} ${error.details}`;
            if (performance.now() + backoffMs > giveUpAtMs) {
              throw new Error(
                `preloading ${driver.target}: the put of ${keyName(index)} still failed after ${attempt} attempts in ${preloadRetryForMs} ms (preloadRetryForMs); ` +
                  `last: ${codeName(error.code)} ${error.details}`,
              );
            }
            retries += 1;
            await new Promise((resolve) => setTimeout(resolve, backoffMs));
          }
        }
      }
    }),
  );
  return { retries, firstFailure };
}
