// `kv bench`: the command line around client/bench.ts. Checks the flags (a bad one is a usage
// error naming the flag), makes sure the coordinator answers, runs the bench with a progress bar
// on a terminal, and prints the table. Ctrl-C stops sending new operations; the outstanding ones
// complete, so the history and the report stay whole. A second Ctrl-C exits at once.
import type { Argv } from "yargs";
import { InvalidArgument } from "../common/errors";
import { limits } from "../common/limits";
import { formatPhases } from "../tools/bench/phases";
import { benchKeysMax, distributionNames, formatBenchReport, runBench, workloadNames, workloads, type DistributionName, type WorkloadName } from "../tools/bench/bench";
import { benchPage, checkReportFile, writeReportFile } from "../tools/report/pages";
import { Timeline } from "../tools/report/timeline";
import { KvClient, parseCoordinators } from "../client/client";
import { clientOptions, clientTls } from "./client-options";
import { subcommand } from "./subcommand";

/** The flags of `kv bench` besides --coordinator and --timeout (which cli/client-options.ts's clientOptions adds). */
export function benchCommandOptions<T>(y: Argv<T>) {
  return y
    .option("trace", {
      type: "boolean",
      default: false,
      describe: "after the run, print where its requests spent their time inside the active coordinator (per-phase latency: admit, prepare round, decision force, commit round, ...)",
    })
    .option("concurrency", { type: "number", default: 16, describe: "clients, each sending its next operation when the previous one completed" })
    .option("duration", { type: "string", default: "10s", describe: "how long to run: 500ms, 30s, 2m, 1h, or milliseconds" })
    .option("ops", { type: "number", describe: "how many operations in all; bounds the run instead of --duration" })
    .option("connections", { type: "number", default: 4, describe: "independent gRPC connections, shared round-robin by the clients" })
    .option("workload", {
      choices: workloadNames,
      default: "A" as WorkloadName,
      describe: "A: 50% get, 50% put; B: 95% get, 5% put; C: get only; write: put only; mixed: 50% get, 40% put, 10% del",
    })
    .option("keys", { type: "number", default: 1000, describe: "how many keys (k0 .. kN-1)" })
    .option("distribution", {
      choices: distributionNames,
      default: "uniform" as DistributionName,
      describe: "which keys: uniform, zipfian (YCSB's, constant 0.99; k0 hottest) or hot (k0 only)",
    })
    .option("value-bytes", { type: "number", default: 100, describe: "size of each value written" })
    .option("seed", { type: "number", default: 1, describe: "seeds the clients' choices of operation and key" })
    .option("json", { type: "string", describe: "write the report as JSON to this file" })
    .option("history", { type: "string", describe: "record every operation to this file, as JSON lines (for kv check)" })
    .option("report", { type: "string", describe: "write a self-contained HTML report here: throughput and latency percentiles per second, a latency histogram, the table" });
}

export interface BenchArgv {
  readonly coordinator: string;
  /** TLS (cli/client-options.ts clientTls): the CA file, and a client certificate's files. */
  readonly "tls-ca"?: string | undefined;
  readonly "tls-cert"?: string | undefined;
  readonly "tls-key"?: string | undefined;
  /** Deadline of each operation, in milliseconds. */
  readonly timeout: number;
  readonly concurrency: number;
  readonly duration: string;
  readonly ops?: number | undefined;
  readonly connections: number;
  readonly workload: string;
  readonly keys: number;
  readonly distribution: string;
  readonly "value-bytes": number;
  readonly seed: number;
  readonly json?: string | undefined;
  readonly history?: string | undefined;
  /** Write the HTML report (tools/report/) here. */
  readonly report?: string | undefined;
  /** Print the coordinator's phase latencies for the run. */
  readonly trace: boolean;
}

const durationUnitsMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** "500ms", "30s", "2m", "1h", or a bare number of milliseconds; throws naming the flag. */
export function parseDuration(flag: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const unit = (match?.[2] ?? "ms") as keyof typeof durationUnitsMs;
  const ms = match === null ? NaN : Number(match[1]) * durationUnitsMs[unit];
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new InvalidArgument(flag, `${flag} must be a positive duration such as 500ms, 30s, 2m or 1h (a bare number is milliseconds); it is ${JSON.stringify(text)}`);
  }
  return ms;
}

function wholeNumber(flag: string, value: number | undefined, min: number, max: number): number {
  if (value === undefined || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgument(flag, `${flag} must be a whole number from ${min} to ${max}; it is ${String(value)}`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((name) => name === value);
  if (found === undefined) throw new InvalidArgument(flag, `${flag} must be one of ${allowed.join(", ")}; it is ${JSON.stringify(value)}`);
  return found;
}

function fileFlag(flag: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === "") throw new InvalidArgument(flag, `${flag} needs a file name`);
  return value;
}

/** Runs `kv bench`; returns the exit code (0: the run completed, whatever its operations' outcomes). */
export async function runBenchCommand(argv: BenchArgv): Promise<number> {
  parseCoordinators(argv.coordinator, "--coordinator");
  const timeoutMs = wholeNumber("--timeout", argv.timeout, 1, 24 * 3_600_000);
  const concurrency = wholeNumber("--concurrency", argv.concurrency, 1, 100_000);
  const connections = wholeNumber("--connections", argv.connections, 1, 10_000);
  const keys = wholeNumber("--keys", argv.keys, 1, benchKeysMax);
  const valueBytes = wholeNumber("--value-bytes", argv["value-bytes"], 0, limits.valueBytesMax);
  const seed = wholeNumber("--seed", argv.seed, 0, 0xffffffff);
  const ops = argv.ops === undefined ? undefined : wholeNumber("--ops", argv.ops, 1, Number.MAX_SAFE_INTEGER);
  const durationMs = parseDuration("--duration", argv.duration);
  const workload = oneOf("--workload", argv.workload, workloadNames);
  const distribution = oneOf("--distribution", argv.distribution, distributionNames);
  const jsonFile = fileFlag("--json", argv.json);
  const historyFile = fileFlag("--history", argv.history);
  const reportFile = fileFlag("--report", argv.report);
  if (reportFile !== undefined) checkReportFile(reportFile);
  const timeline = reportFile === undefined ? undefined : new Timeline(workloads[workload].map((entry) => entry.f));

  // Fail fast with the coordinator's own error rather than record a run of UNAVAILABLE.
  const tls = clientTls(argv);
  const probe = new KvClient(argv.coordinator, { timeoutMs: Math.min(timeoutMs, 5_000), tls });
  try {
    // With --trace, this also starts the coordinator's phase latencies afresh.
    await probe.status({ resetTrace: argv.trace });
  } catch (error) {
    probe.close();
    throw error;
  }

  const stop = new AbortController();
  const onInterrupt = (): void => {
    console.error("kv bench: stopping; waiting for the outstanding operations (Ctrl-C again to exit now)");
    stop.abort();
  };
  process.once("SIGINT", onInterrupt);
  try {
    const report = await runBench(
      {
        coordinator: argv.coordinator,
        tls,
        concurrency,
        connections,
        ...(ops === undefined ? { durationMs } : { ops }),
        workload,
        keys,
        distribution,
        valueBytes,
        seed,
        timeoutMs,
        ...(historyFile === undefined ? {} : { historyFile }),
        ...(jsonFile === undefined ? {} : { jsonFile }),
        ...(timeline === undefined ? {} : { timeline }),
        signal: stop.signal,
      },
      { progress: process.stderr.isTTY === true, log: (line) => console.error(line) },
    );
    console.log(formatBenchReport(report));
    if (argv.trace) console.log(`\n${formatPhases((await probe.status({ resetTrace: true })).phases)}`);
    if (historyFile !== undefined) console.log(`history: ${historyFile}`);
    if (jsonFile !== undefined) console.log(`report: ${jsonFile}`);
    if (reportFile !== undefined && timeline !== undefined) {
      writeReportFile(reportFile, benchPage(report, timeline.finish(report.durationMs * 1e6)));
      console.log(`html report: ${reportFile}`);
    }
    return 0;
  } finally {
    process.removeListener("SIGINT", onInterrupt);
    probe.close();
  }
}

export const benchCommand = subcommand({
  builder: (y) => benchCommandOptions(clientOptions(y)),
  run: (argv) => runBenchCommand(argv),
});
