// The figures of the etcd comparison (issue 13; tools/bench/compare.ts), as pure functions: parsing
// the flags, reading /proc text, summing rounds into medians and ranges, the ratios, issue 13's goals,
// and the Markdown tables. No I/O here, so that the arithmetic the verdicts rest on can be tested.
import { assert, assertNever } from "../../common/assert";

export const systemNames = ["etcd", "twopc-kv"] as const;
export type SystemName = (typeof systemNames)[number];
/** What the load generator drives: one of the two systems, or the grpc-js echo server. */
export type TargetName = SystemName | "echo";

/** put: 100% puts; get: 100% linearizable gets of preloaded keys; mix: 50% each. */
export const workloadNames = ["put", "get", "mix"] as const;
export type WorkloadName = (typeof workloadNames)[number];
/** The echo server's one "workload": a unary call that returns its payload. */
export type LoadName = WorkloadName | "echo";

/** The most clients of one run (each one outstanding call): beyond this the generator itself is the bottleneck. */
export const clientsMax = 1_024;
/** The most rounds a run may ask for. */
export const roundsMax = 100;
/** The longest warm-up or measured window, in milliseconds (an hour). */
export const windowMsMax = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Flags.

const durationUnitsMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * A duration flag as `kv bench --duration` takes it: "8s", "500ms", "2m", "1h", or a bare number of
 * milliseconds. The message names the flag. `allowZero`: a warm-up may be 0; a measured window may not.
 */
export function parseDurationMs(text: string, flag: string, allowZero: boolean): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (match === null) throw new RangeError(`--${flag} is ${JSON.stringify(text)}: give a duration such as 8s, 500ms or 2m (a bare number is milliseconds)`);
  const unit = (match[2] ?? "ms") as keyof typeof durationUnitsMs;
  const ms = Math.round(Number(match[1]) * durationUnitsMs[unit]);
  if (!allowZero && ms === 0) throw new RangeError(`--${flag} is ${JSON.stringify(text)}: it must be longer than 0`);
  if (ms > windowMsMax) throw new RangeError(`--${flag} is ${ms} ms; the limit is ${windowMsMax} ms (windowMsMax)`);
  return ms;
}

/** "1,64" -> [1, 64]: whole numbers from 1 to clientsMax, sorted, each once. */
export function parseClientList(text: string): number[] {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.length === 0 || parts.some((part) => part === "")) throw new RangeError(`--clients is "${text}": give client counts separated by commas, such as 1,64`);
  const counts = parts.map((part) => {
    const n = Number(part);
    if (!/^\d+$/.test(part) || !Number.isSafeInteger(n) || n < 1) throw new RangeError(`--clients: "${part}" is not a whole number of at least 1`);
    if (n > clientsMax) throw new RangeError(`--clients: ${n} clients; the limit is ${clientsMax} (clientsMax)`);
    return n;
  });
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** "put,get,mix" -> the workloads, in the canonical order, each once. */
export function parseWorkloadList(text: string): WorkloadName[] {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.some((part) => part === "")) throw new RangeError(`--workloads is "${text}": give workloads separated by commas, such as put,get,mix`);
  for (const part of parts) {
    if (!(workloadNames as readonly string[]).includes(part)) throw new RangeError(`--workloads: "${part}" is none of ${workloadNames.join(", ")}`);
  }
  return workloadNames.filter((name) => parts.includes(name));
}

/** Which system goes first in a round (rounds count from 1): etcd in odd rounds, twopc-kv in even ones. */
export function systemOrder(round: number): readonly SystemName[] {
  assert(Number.isInteger(round) && round >= 1, "rounds count from 1");
  return round % 2 === 1 ? ["etcd", "twopc-kv"] : ["twopc-kv", "etcd"];
}

// ---------------------------------------------------------------------------------------------
// /proc.

/**
 * utime + stime (fields 14 and 15 of /proc/PID/stat, in clock ticks) of a process: every thread's
 * CPU time. The command name (field 2) is in parentheses and may hold spaces or parentheses, so the
 * fields are counted after its last ")".
 */
export function parseProcessCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(")");
  assert(close > 0, "/proc/PID/stat has its command name in parentheses");
  // After ") ": field 3 (state) is at index 0, so field n is at index n - 3.
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  assert(Number.isSafeInteger(utime) && utime >= 0, "utime is a tick count");
  assert(Number.isSafeInteger(stime) && stime >= 0, "stime is a tick count");
  return utime + stime;
}

/** The whole machine's CPU time from the first line of /proc/stat, in clock ticks: busy and in all. */
export interface MachineTicks {
  readonly busy: number;
  readonly total: number;
}

/**
 * user nice system idle iowait irq softirq steal (guest and guest_nice are already inside user and
 * nice, so they are left out of the total); busy is everything but idle and iowait.
 */
export function parseMachineTicks(procStat: string): MachineTicks {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  assert(line !== undefined, "/proc/stat has a cpu line");
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  assert(values.length >= 4 && values.every((v) => Number.isSafeInteger(v) && v >= 0), "the cpu line of /proc/stat holds tick counts");
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = values[3]! + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** The busy share of the machine between two readings, in percent; null when no tick passed. */
export function machineBusyPct(before: MachineTicks, after: MachineTicks): number | null {
  const total = after.total - before.total;
  return total > 0 ? (100 * (after.busy - before.busy)) / total : null;
}

// ---------------------------------------------------------------------------------------------
// One measured run.

/** What one workload at one client count gave on one system in one round (its measured window only). */
export interface RunFigures {
  readonly target: TargetName;
  readonly load: LoadName;
  readonly clients: number;
  readonly round: number;
  /** The measured window as it was, from the first CPU reading to the second. */
  readonly windowMs: number;
  /** Calls that succeeded and completed inside the window. */
  readonly okOps: number;
  /** Calls that failed and completed inside the window, by gRPC code name. */
  readonly errors: Readonly<Record<string, number>>;
  /** The first failure's message for each code seen (warm-up included), to say why. */
  readonly errorSamples: Readonly<Record<string, string>>;
  /** Gets that succeeded but found no value (the keys were preloaded: this should stay 0). */
  readonly misses: number;
  /** Calls that failed during the warm-up (not in `errors`, reported so that they are not lost either). */
  readonly warmupErrors: number;
  /** Successful calls per second over the window. */
  readonly opsPerSec: number;
  /** Latency of the successful calls completed in the window; null when there was none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** CPU time of every server process over the window, per successful call; null when unknown (no call, or a process gone). */
  readonly serverCpuUsPerOp: number | null;
  /** Server CPU over the window in clock ticks (null when a process could not be read at both ends). */
  readonly serverCpuTicks: number | null;
  /** serverCpuUsPerOp split by server process (by name); null when unknown. */
  readonly serverCpuUsPerOpByProcess: Readonly<Record<string, number>> | null;
  /** The whole machine's busy share over the window; null when unknown. */
  readonly machineBusyPct: number | null;
  /**
   * CPU time of this benchmark's own process (the load generator, every client) over the window,
   * per successful call; null without a call. On a small machine the generator competes with the
   * server for the same cores: this shows how much.
   */
  readonly clientCpuUsPerOp: number | null;
}

export function errorCount(run: RunFigures): number {
  return Object.values(run.errors).reduce((sum, n) => sum + n, 0);
}

/** A run failed when not one call succeeded in its window: its figures are no figures (no 0/0 ratio). */
export function runFailed(run: RunFigures): boolean {
  return run.okOps === 0;
}

/** Server CPU per successful call, in microseconds; null when there is no call or no CPU reading. */
export function cpuUsPerOp(ticks: number | null, clockTicksPerSec: number, okOps: number): number | null {
  assert(clockTicksPerSec > 0, "clock ticks per second is positive");
  if (ticks === null || okOps === 0) return null;
  return (ticks * 1e6) / clockTicksPerSec / okOps;
}

// ---------------------------------------------------------------------------------------------
// Summaries over rounds.

/** The median: the middle value, or the mean of the two middle ones for an even count. */
export function medianOf(values: readonly number[]): number {
  assert(values.length > 0, "the median of no values is undefined");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One figure over the rounds: null values are the rounds where it could not be measured. */
export type Summary =
  | { readonly kind: "measured"; readonly median: number; readonly min: number; readonly max: number; readonly rounds: number; readonly missingRounds: number }
  | { readonly kind: "failed"; readonly rounds: number }
  | { readonly kind: "not-run" };

export function summarize(values: readonly (number | null)[]): Summary {
  if (values.length === 0) return { kind: "not-run" };
  const measured = values.filter((v): v is number => v !== null);
  if (measured.length === 0) return { kind: "failed", rounds: values.length };
  return {
    kind: "measured",
    median: medianOf(measured),
    min: Math.min(...measured),
    max: Math.max(...measured),
    rounds: values.length,
    missingRounds: values.length - measured.length,
  };
}

/** twopc-kv's median over etcd's; null when either is missing or etcd's is 0. */
export function ratioOf(store: Summary, etcd: Summary): number | null {
  if (store.kind !== "measured" || etcd.kind !== "measured" || etcd.median === 0) return null;
  return store.median / etcd.median;
}

/** The figures of the final table. */
export const metricNames = ["opsPerSec", "p50Ms", "p99Ms", "serverCpuUsPerOp"] as const;
export type MetricName = (typeof metricNames)[number];

/** A metric of a run; null for a failed run (no successful call), so that it never counts as a 0. */
export function metricOf(run: RunFigures, metric: MetricName): number | null {
  if (runFailed(run)) return null;
  switch (metric) {
    case "opsPerSec":
      return run.opsPerSec;
    case "p50Ms":
      return run.p50Ms;
    case "p99Ms":
      return run.p99Ms;
    case "serverCpuUsPerOp":
      return run.serverCpuUsPerOp;
    default:
      return assertNever(metric);
  }
}

/** A metric of one target, workload and client count over every round it ran in. */
export function summaryOf(runs: readonly RunFigures[], target: TargetName, load: LoadName, clients: number, metric: MetricName): Summary {
  const matching = runs.filter((run) => run.target === target && run.load === load && run.clients === clients);
  return summarize(matching.map((run) => metricOf(run, metric)));
}

// ---------------------------------------------------------------------------------------------
// Issue 13's goals, checked on the medians.

/** 1-client put p50 at most this (ms). */
export const goalPutP50MsMax = 1.4;
/** twopc-kv's puts/s, gets/s and mixed ops/s at 64 clients at least this many times etcd's. */
export const goalThroughputRatioMin = 1.25;
/** twopc-kv's server CPU per put at 64 clients at most this many times etcd's. */
export const goalCpuRatioMax = 0.75;
/** The client counts the goals are stated for. */
export const goalClientsLow = 1;
export const goalClientsHigh = 64;

export interface GoalCheck {
  readonly goal: string;
  /** null: not checked (a figure was not measured, or a system failed). */
  readonly met: boolean | null;
  /** The figures the verdict rests on, or why there is none. */
  readonly detail: string;
}

/** The medians the goals read (each a Summary, so that a failure reads as one). */
export interface GoalInputs {
  readonly putLowP50Ms: Record<SystemName, Summary>;
  readonly putHighOpsPerSec: Record<SystemName, Summary>;
  readonly putHighP99Ms: Record<SystemName, Summary>;
  readonly getHighOpsPerSec: Record<SystemName, Summary>;
  readonly mixHighOpsPerSec: Record<SystemName, Summary>;
  readonly putHighCpuUsPerOp: Record<SystemName, Summary>;
}

export function goalInputs(runs: readonly RunFigures[], low: number, high: number): GoalInputs {
  const both = (load: WorkloadName, clients: number, metric: MetricName): Record<SystemName, Summary> => ({
    etcd: summaryOf(runs, "etcd", load, clients, metric),
    "twopc-kv": summaryOf(runs, "twopc-kv", load, clients, metric),
  });
  return {
    putLowP50Ms: both("put", low, "p50Ms"),
    putHighOpsPerSec: both("put", high, "opsPerSec"),
    putHighP99Ms: both("put", high, "p99Ms"),
    getHighOpsPerSec: both("get", high, "opsPerSec"),
    mixHighOpsPerSec: both("mix", high, "opsPerSec"),
    putHighCpuUsPerOp: both("put", high, "serverCpuUsPerOp"),
  };
}

/** Why a summary gives no figure, for a goal's detail; null when it does. */
function missing(summary: Summary, who: string): string | null {
  switch (summary.kind) {
    case "measured":
      return null;
    case "failed":
      return `${who} failed (no successful call in any of ${summary.rounds} rounds)`;
    case "not-run":
      return `${who} not measured`;
    default:
      return assertNever(summary);
  }
}

function medianOrNull(summary: Summary): number | null {
  return summary.kind === "measured" ? summary.median : null;
}

/** Checks issue 13's goals on the medians; a goal whose figures are missing is "not checked", never met. */
export function checkGoals(inputs: GoalInputs): GoalCheck[] {
  const ratioGoal = (goal: string, pair: Record<SystemName, Summary>, unit: string, digits: number, test: (ratio: number) => boolean): GoalCheck => {
    const why = missing(pair["twopc-kv"], "twopc-kv") ?? missing(pair.etcd, "etcd");
    const store = medianOrNull(pair["twopc-kv"]);
    const etcd = medianOrNull(pair.etcd);
    if (why !== null || store === null || etcd === null) return { goal, met: null, detail: why ?? "no figure" };
    if (etcd === 0) return { goal, met: null, detail: `etcd's median is 0 ${unit}: no ratio` };
    const ratio = store / etcd;
    return { goal, met: test(ratio), detail: `twopc-kv ${formatNumber(store, digits)} ${unit}, etcd ${formatNumber(etcd, digits)} ${unit}: ${ratio.toFixed(2)}x` };
  };
  const checks: GoalCheck[] = [];

  const p50 = inputs.putLowP50Ms["twopc-kv"];
  const p50Why = missing(p50, "twopc-kv");
  const p50Median = medianOrNull(p50);
  const etcdP50 = medianOrNull(inputs.putLowP50Ms.etcd);
  checks.push(
    p50Why !== null || p50Median === null
      ? { goal: `put, ${goalClientsLow} client: p50 <= ${goalPutP50MsMax} ms`, met: null, detail: p50Why ?? "no figure" }
      : {
          goal: `put, ${goalClientsLow} client: p50 <= ${goalPutP50MsMax} ms`,
          met: p50Median <= goalPutP50MsMax,
          detail: `twopc-kv ${formatNumber(p50Median, 2)} ms` + (etcdP50 === null ? "" : `; etcd ${formatNumber(etcdP50, 2)} ms`),
        },
  );

  // Two conditions, one goal: both must hold; each is shown.
  const puts = ratioGoal("", inputs.putHighOpsPerSec, "puts/s", 0, (r) => r >= goalThroughputRatioMin);
  const p99 = ratioGoal("", inputs.putHighP99Ms, "ms", 2, (r) => r <= 1);
  checks.push({
    goal: `put, ${goalClientsHigh} clients: puts/s >= ${goalThroughputRatioMin}x etcd's and p99 <= etcd's`,
    met: puts.met === null || p99.met === null ? null : puts.met && p99.met,
    detail: `puts/s: ${puts.detail}; p99: ${p99.detail}`,
  });
  checks.push(
    ratioGoal(`linearizable get, ${goalClientsHigh} clients: gets/s >= ${goalThroughputRatioMin}x etcd's`, inputs.getHighOpsPerSec, "gets/s", 0, (r) => r >= goalThroughputRatioMin),
  );
  checks.push(
    ratioGoal(`50/50 get/put, ${goalClientsHigh} clients: ops/s >= ${goalThroughputRatioMin}x etcd's`, inputs.mixHighOpsPerSec, "ops/s", 0, (r) => r >= goalThroughputRatioMin),
  );
  checks.push(ratioGoal(`server CPU per put, ${goalClientsHigh} clients: <= ${goalCpuRatioMax}x etcd's`, inputs.putHighCpuUsPerOp, "us", 0, (r) => r <= goalCpuRatioMax));
  return checks;
}

export function verdict(check: GoalCheck): string {
  return check.met === null ? "not checked" : check.met ? "met" : "not met";
}

// ---------------------------------------------------------------------------------------------
// Formatting.

/** 1234.5 -> "1,235" (digits 0), 1.234 -> "1.23" (digits 2). */
export function formatNumber(value: number, digits: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A summary for a cell: "1,234 (1,200-1,260)" over several rounds, "1,234" over one, or why there is none. */
export function formatSummary(summary: Summary, digits: number): string {
  switch (summary.kind) {
    case "not-run":
      return "not measured";
    case "failed":
      return summary.rounds === 1 ? "FAILED (no successful call)" : `FAILED (no successful call in ${summary.rounds} rounds)`;
    case "measured": {
      const range = summary.rounds - summary.missingRounds > 1 ? ` (${formatNumber(summary.min, digits)}-${formatNumber(summary.max, digits)})` : "";
      const failed = summary.missingRounds > 0 ? `; FAILED in ${summary.missingRounds} of ${summary.rounds} rounds` : "";
      return `${formatNumber(summary.median, digits)}${range}${failed}`;
    }
    default:
      return assertNever(summary);
  }
}

/** A Markdown table: a header row, the separator, the rows; `|` in a cell is escaped. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number> = new Set()): string {
  const escape = (cell: string): string => cell.replace(/\|/g, "\\|");
  const all = [header, ...rows].map((row) => row.map(escape));
  const widths = header.map((_, column) => Math.max(3, ...all.map((row) => (row[column] ?? "").length)));
  const line = (row: readonly string[]): string =>
    `| ${row.map((cell, column) => (rightAligned.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(" | ")} |`;
  const separator = `| ${widths.map((width, column) => (rightAligned.has(column) ? "-".repeat(width - 1) + ":" : "-".repeat(width))).join(" | ")} |`;
  return [line(all[0]!), separator, ...all.slice(1).map(line)].join("\n");
}

const loadTitles: Record<LoadName, string> = { put: "put", get: "linearizable get", mix: "50/50 get/put", echo: "echo" };

export function loadTitle(load: LoadName): string {
  return loadTitles[load];
}

export function clientsTitle(clients: number): string {
  return clients === 1 ? "1 client" : `${clients} clients`;
}

/** One round's (or any set of runs') raw figures, a row per run. */
export function roundTable(runs: readonly RunFigures[]): string {
  const ms = (v: number | null): string => (v === null ? "-" : v.toFixed(2));
  const rows = runs.map((run) => {
    const errors = Object.entries(run.errors)
      .map(([code, n]) => `${code} ${n}`)
      .join(", ");
    return [
      loadTitle(run.load),
      String(run.clients),
      run.target,
      runFailed(run) ? "FAILED: 0" : formatNumber(run.opsPerSec, 0),
      ms(run.p50Ms),
      ms(run.p99Ms),
      errors === "" ? "0" : errors,
      String(run.misses),
      run.serverCpuUsPerOp === null ? "-" : formatNumber(run.serverCpuUsPerOp, 0),
      run.clientCpuUsPerOp === null ? "-" : formatNumber(run.clientCpuUsPerOp, 0),
      run.machineBusyPct === null ? "-" : run.machineBusyPct.toFixed(0),
    ];
  });
  return markdownTable(
    ["workload", "clients", "system", "ops/s", "p50 ms", "p99 ms", "errors", "misses", "server CPU us/op", "client CPU us/op", "machine busy %"],
    rows,
    new Set([1, 3, 4, 5, 7, 8, 9, 10]),
  );
}

/** The final table's rows: a label, the metric, where it is read, how many digits. */
interface FinalRow {
  readonly label: string;
  readonly load: WorkloadName;
  readonly clients: number;
  readonly metric: MetricName;
  readonly digits: number;
}

export function finalRows(low: number, high: number): FinalRow[] {
  const rows: FinalRow[] = [
    { label: `put, ${clientsTitle(low)}: puts/s`, load: "put", clients: low, metric: "opsPerSec", digits: 0 },
    { label: `put, ${clientsTitle(low)}: p50 ms`, load: "put", clients: low, metric: "p50Ms", digits: 2 },
    { label: `put, ${clientsTitle(high)}: puts/s`, load: "put", clients: high, metric: "opsPerSec", digits: 0 },
    { label: `put, ${clientsTitle(high)}: p99 ms`, load: "put", clients: high, metric: "p99Ms", digits: 2 },
    { label: `linearizable get, ${clientsTitle(high)}: gets/s`, load: "get", clients: high, metric: "opsPerSec", digits: 0 },
    { label: `50/50 get/put, ${clientsTitle(high)}: ops/s`, load: "mix", clients: high, metric: "opsPerSec", digits: 0 },
    { label: `server CPU per put, ${clientsTitle(high)}: us`, load: "put", clients: high, metric: "serverCpuUsPerOp", digits: 0 },
    { label: `linearizable get, ${clientsTitle(low)}: p50 ms`, load: "get", clients: low, metric: "p50Ms", digits: 2 },
  ];
  // With one client count (low = high), a figure asked for at both appears once.
  return rows.filter((row, i) => rows.findIndex((other) => other.label === row.label) === i);
}

/** The final table: medians over the rounds with their range, and twopc-kv's median over etcd's. */
export function finalTable(runs: readonly RunFigures[], low: number, high: number): string {
  const rows = finalRows(low, high).map((row) => {
    const etcd = summaryOf(runs, "etcd", row.load, row.clients, row.metric);
    const store = summaryOf(runs, "twopc-kv", row.load, row.clients, row.metric);
    const ratio = ratioOf(store, etcd);
    return [row.label, formatSummary(etcd, row.digits), formatSummary(store, row.digits), ratio === null ? "n/a" : `${ratio.toFixed(2)}x`];
  });
  return markdownTable(["workload", "etcd", "twopc-kv", "ratio"], rows, new Set([1, 2, 3]));
}

/** The echo ceiling in one line: ops/s (and p50 at the lowest count, p99 at the highest) per client count. */
export function echoLine(runs: readonly RunFigures[], clientCounts: readonly number[], payloadBytes: number): string {
  const parts = clientCounts.map((clients, i) => {
    const ops = summaryOf(runs, "echo", "echo", clients, "opsPerSec");
    const latencyMetric: MetricName = i === 0 ? "p50Ms" : "p99Ms";
    const latency = summaryOf(runs, "echo", "echo", clients, latencyMetric);
    return `${clientsTitle(clients)} ${formatSummary(ops, 0)} calls/s (${latencyMetric === "p50Ms" ? "p50" : "p99"} ${formatSummary(latency, 2)} ms)`;
  });
  return `grpc-js echo ceiling (unary call, ${payloadBytes}-byte payload, server in its own process): ${parts.join("; ")}`;
}
