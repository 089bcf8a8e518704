// twopc-kv beside etcd on the same machine, under the same load (issue 13's deliverable):
//
//   npm run bench:compare -- [--rounds 3] [--warmup 2s] [--duration 8s] [--clients 1,64]
//                            [--workloads put,get,mix] [--channels 4] [--etcd-endpoints leader|all]
//                            [--json FILE] [--tmp-dir DIR] [--no-echo] [--seed 1]
//
// In turns, never two at once, it starts a three-member etcd cluster (Debian's etcd-server, default
// settings: fsync on every commit) and a twopc-kv cluster (`kv cluster --no-restart` with its
// defaults: 2 coordinators, 3 replicas), each fresh in a temp directory on random free loopback
// ports, and drives each with the one load generator of this process (compare-load.ts), over the
// same gRPC library (@grpc/grpc-js), the same number of channels and the same closed loop:
// - put: 100% puts; get: 100% linearizable gets (etcd: Range with serializable false; twopc-kv:
//   Kv.Get, which is linearizable); mix: 50% each. Values of 100 bytes, 10,000 keys chosen
//   uniformly, every key written once (preloaded) before the first workload, so that gets find
//   values. twopc-kv's puts go to the raw Kv service with a fresh request id each, as the client
//   library sends them; etcd's clients call the leader (--etcd-endpoints all: every member).
// - each workload at each client count (1 and 64 by default): a warm-up (2 s), then the measured
//   window (8 s), for which it records successful calls/s, p50 and p99 latency of the successful
//   calls, failed calls by gRPC code (each failure counted, none retried), the server processes' CPU
//   time (utime + stime from /proc/PID/stat of the 3 etcd members; of every coordinator and replica
//   of twopc-kv, pids from its manifest) per successful call (so that failing fast never looks
//   cheap), this process's own CPU per call (the generator shares the machine), and
//   the whole machine's busy share (/proc/stat). If the coordinator the twopc-kv driver calls stands
//   down (a standby took over), the driver follows the active one it names, as the client library
//   would; the refused calls still count as errors.
// Each system is started fresh for its turn in every round, preloaded once, and runs every workload
// of the round in a row (put, get, mix; 1 client then 64). Rounds alternate which system goes first
// (round 1 etcd, round 2 twopc-kv, ...), so that neither always runs on a machine warmed (or tired)
// by the other. At the end of each round, the grpc-js echo ceiling: a unary echo server in its own
// process, driven the same way.
//
// Output (stdout, Markdown, to paste into the README): each round's table, then the medians over
// the rounds with their range, twopc-kv's median over etcd's, the echo ceiling, and issue 13's goals
// checked on the medians. A run in which a system completed no call in its window is reported as
// FAILED (never as a rate of 0 or a ratio of 0/0), and the benchmark then exits 1. Figures, never
// assertions on the goals: the exit code says whether every run measured something, not whether
// the goals were met. Progress goes to stderr.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import yargs from "yargs";
import { assertNever } from "../../common/assert";
import {
  checkGoals,
  clientsTitle,
  echoLine,
  errorCount,
  finalTable,
  goalClientsHigh,
  goalClientsLow,
  goalInputs,
  loadTitle,
  parseClientList,
  parseDurationMs,
  parseWorkloadList,
  roundsMax,
  roundTable,
  runFailed,
  systemOrder,
  verdict,
  type LoadName,
  type RunFigures,
  type SystemName,
  type TargetName,
  type WorkloadName,
} from "./compare-figures";
import { preload, runLoad, type Driver } from "./compare-load";
import { defaultTmpRoot, SetupError, ensureEtcd, etcdPids, etcdVersion, fileSystemOf, startEcho, startEtcd, startStore, type EtcdEndpoints, type Running } from "./compare-systems";

/** Issue 13's load: keys chosen uniformly among this many, values of this many bytes. */
const keys = 10_000;
const valueBytes = 100;
/** The most channels a driver may hold. */
const channelsMax = 64;
const etcdEndpointChoices = ["leader", "all"] as const;

interface Options {
  readonly rounds: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly clients: readonly number[];
  readonly workloads: readonly WorkloadName[];
  readonly channels: number;
  readonly etcdEndpoints: EtcdEndpoints;
  readonly json: string | null;
  readonly tmpDir: string;
  readonly echo: boolean;
  readonly seed: number;
}

/** A flag that is not what it must be: the benchmark exits 2 with the message. */
class UsageError extends Error {
  override readonly name = "UsageError";
}

function wholeNumber(flag: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}; it is ${String(value)}`);
  return value;
}

function parseOptions(args: readonly string[]): Options {
  const argv = yargs(args)
    .scriptName("npm run bench:compare --")
    .usage("twopc-kv beside a three-member etcd cluster, in turns, under the same closed-loop load.")
    .option("rounds", { type: "number", default: 3, describe: "rounds; each starts both systems fresh, etcd first in odd rounds, twopc-kv first in even ones" })
    .option("warmup", { type: "string", default: "2s", describe: "warm-up before each measured window: 2s, 500ms, ... (a bare number is milliseconds)" })
    .option("duration", { type: "string", default: "8s", describe: "each measured window" })
    .option("clients", { type: "string", default: "1,64", describe: "client counts (closed loop: each client sends its next call when its previous one completed)" })
    .option("workloads", { type: "string", default: "put,get,mix", describe: "put: 100% puts; get: 100% linearizable gets; mix: 50/50" })
    .option("channels", { type: "number", default: 4, describe: "gRPC channels (one connection each) shared round-robin by the clients, for every system" })
    .option("etcd-endpoints", { type: "string", default: "leader", describe: "leader: every etcd channel to the leader; all: channels spread over the three members" })
    .option("json", { type: "string", describe: "write every raw figure to this file, as JSON" })
    .option("tmp-dir", { type: "string", default: defaultTmpRoot, describe: "where the systems' temp data directories go (a real disk: fsync must cost what it costs)" })
    .option("echo", { type: "boolean", default: true, describe: "measure the grpc-js echo ceiling each round (--no-echo: skip it)" })
    .option("seed", { type: "number", default: 1, describe: "seeds the clients' choices of operation and key" })
    .strict()
    .help()
    // A usage error exits 2 with its message, as every bad flag here does (yargs would exit 1).
    .fail((message, error) => {
      throw new UsageError(message ?? error.message);
    })
    .parseSync();
  const parse = <T>(f: () => T): T => {
    try {
      return f();
    } catch (error) {
      throw error instanceof RangeError ? new UsageError(error.message) : error;
    }
  };
  const etcdEndpoints = etcdEndpointChoices.find((choice) => choice === argv["etcd-endpoints"]);
  if (etcdEndpoints === undefined) throw new UsageError(`--etcd-endpoints must be one of ${etcdEndpointChoices.join(", ")}; it is ${JSON.stringify(argv["etcd-endpoints"])}`);
  const json = argv.json ?? null;
  if (json !== null) {
    if (json.trim() === "") throw new UsageError("--json needs a file name");
    if (!fs.existsSync(path.dirname(path.resolve(json)))) throw new UsageError(`--json ${json}: the directory ${path.dirname(path.resolve(json))} does not exist`);
  }
  const tmpDir = argv["tmp-dir"];
  if (!fs.existsSync(tmpDir) || !fs.statSync(tmpDir).isDirectory()) throw new UsageError(`--tmp-dir ${tmpDir} is not a directory`);
  return {
    rounds: wholeNumber("rounds", argv.rounds, 1, roundsMax),
    warmupMs: parse(() => parseDurationMs(argv.warmup, "warmup", true)),
    durationMs: parse(() => parseDurationMs(argv.duration, "duration", false)),
    clients: parse(() => parseClientList(argv.clients)),
    workloads: parse(() => parseWorkloadList(argv.workloads)),
    channels: wholeNumber("channels", argv.channels, 1, channelsMax),
    etcdEndpoints,
    json,
    tmpDir,
    echo: argv.echo,
    seed: wholeNumber("seed", argv.seed, 0, 0xffffffff),
  };
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, normally 100). */
function clockTicksPerSec(): number {
  let text: string;
  try {
    text = execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim();
  } catch (error) {
    throw new SetupError(`cannot run getconf CLK_TCK (the unit of /proc's CPU times): ${error instanceof Error ? error.message : String(error)}`);
  }
  const ticks = Number(text);
  if (!Number.isInteger(ticks) || ticks <= 0) throw new Error(`getconf CLK_TCK said ${JSON.stringify(text)}, not a tick rate`);
  return ticks;
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
}

/** Set on SIGINT or SIGTERM: the system under test is being stopped, and what its load says no longer matters. */
let interrupted = false;

function progress(line: string): void {
  if (!interrupted) console.error(`bench:compare: ${line}`);
}

/** A run that never happened because its system did not start or preload: a failure, with its reason as its one error. */
function failedRun(target: TargetName, load: LoadName, clients: number, round: number, reason: "START_FAILED" | "PRELOAD_FAILED"): RunFigures {
  return {
    target,
    load,
    clients,
    round,
    windowMs: 0,
    okOps: 0,
    errors: { [reason]: 1 },
    errorSamples: {},
    misses: 0,
    warmupErrors: 0,
    opsPerSec: 0,
    p50Ms: null,
    p99Ms: null,
    serverCpuUsPerOp: null,
    serverCpuTicks: null,
    serverCpuUsPerOpByProcess: null,
    machineBusyPct: null,
    clientCpuUsPerOp: null,
  };
}

/** The server CPU per operation of each process, as " (name N, name N, ...)"; "" when unknown or one process. */
function byProcess(run: RunFigures): string {
  const split = run.serverCpuUsPerOpByProcess;
  if (split === null || Object.keys(split).length < 2) return "";
  return ` (${Object.entries(split).map(([name, us]) => `${name} ${us.toFixed(0)}`).join(", ")})`;
}

function describeRun(run: RunFigures): string {
  const errors = errorCount(run);
  return (
    `${run.target} ${loadTitle(run.load)}, ${clientsTitle(run.clients)}: ` +
    (runFailed(run) ? "FAILED (no successful call)" : `${run.opsPerSec.toFixed(0)} ops/s, p50 ${run.p50Ms?.toFixed(2)} ms, p99 ${run.p99Ms?.toFixed(2)} ms`) +
    `, ${errors} errors, ${run.misses} misses, server CPU ${run.serverCpuUsPerOp === null ? "-" : run.serverCpuUsPerOp.toFixed(0)} us/op${byProcess(run)}, client CPU ${run.clientCpuUsPerOp === null ? "-" : run.clientCpuUsPerOp.toFixed(0)} us/op, machine ${run.machineBusyPct === null ? "-" : run.machineBusyPct.toFixed(0)}% busy`
  );
}

/** The system running now, if any: what an interrupt stops. */
let current: Running | null = null;

/** Starts `start`'s system, runs every load of `plan` on it, stops it. A start or preload failure fails every run of the turn. */
async function turn(
  target: TargetName,
  start: () => Promise<Running>,
  plan: readonly { readonly load: LoadName; readonly clients: number }[],
  options: Options,
  round: number,
  ticksPerSec: number,
): Promise<RunFigures[]> {
  let running: Running;
  try {
    running = await start();
  } catch (error) {
    progress(`round ${round}: ${target} did not start: ${error instanceof Error ? error.message : String(error)}`);
    return plan.map((step) => failedRun(target, step.load, step.clients, round, "START_FAILED"));
  }
  current = running;
  progress(`round ${round}: started ${running.description}`);
  const driver: Driver = running.driver(options.channels);
  const runs: RunFigures[] = [];
  try {
    if (target !== "echo") {
      const t0 = performance.now();
      try {
        const report = await preload(driver, keys, valueBytes);
        const retried = report.retries === 0 ? "" : `; ${report.retries} puts failed and were retried (first: ${report.firstFailure ?? "?"})`;
        progress(`round ${round}: ${target}: preloaded ${keys} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s${retried}`);
      } catch (error) {
        progress(`round ${round}: ${error instanceof Error ? error.message : String(error)}`);
        progress(`round ${round}: ${target}: its last output lines:\n${running.recentOutput()}`);
        return plan.map((step) => failedRun(target, step.load, step.clients, round, "PRELOAD_FAILED"));
      }
    }
    for (const step of plan) {
      const run = await runLoad({
        driver,
        load: step.load,
        clients: step.clients,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        keys,
        valueBytes,
        seed: options.seed,
        serverPids: running.serverPids,
        serverNames: running.serverNames,
        clockTicksPerSec: ticksPerSec,
        round,
      });
      progress(`round ${round}: ${describeRun(run)}`);
      if (errorCount(run) > 0 || run.warmupErrors > 0) {
        for (const [code, message] of Object.entries(run.errorSamples)) progress(`round ${round}: ${target}: first ${code}: ${message}`);
        progress(`round ${round}: ${target}: its last output lines:\n${running.recentOutput()}`);
      }
      if (run.serverCpuTicks === null && !runFailed(run)) progress(`round ${round}: ${target}: a server process was gone at the end of the window: no CPU figure`);
      runs.push(run);
    }
    return runs;
  } finally {
    driver.close();
    await running.stop();
    current = null;
    progress(`round ${round}: stopped ${target}`);
  }
}

function startOf(system: SystemName, etcdBinary: string, options: Options): () => Promise<Running> {
  switch (system) {
    case "etcd":
      return () => startEtcd(etcdBinary, options.tmpDir, options.etcdEndpoints);
    case "twopc-kv":
      return () => startStore(options.tmpDir);
    default:
      return assertNever(system);
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`bench:compare: ${error.message}`);
      return 2;
    }
    throw error;
  }
  if (!fs.existsSync("/proc/stat")) throw new SetupError("bench:compare reads CPU times from /proc: it runs on Linux only");
  const ticksPerSec = clockTicksPerSec();
  const etcdBinary = await ensureEtcd();
  const strays = etcdPids();
  if (strays.length > 0) {
    progress(`warning: etcd processes this benchmark did not start are running (pids ${strays.join(", ")}); they share the machine with the measurement`);
  }
  // Open the JSON file before hours of measurement, so that a bad path fails now.
  const jsonFd = options.json === null ? null : fs.openSync(options.json, "w");

  const onSignal = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping the system under test (by the pids this benchmark started), then exiting`);
    interrupted = true;
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  const fsType = fileSystemOf(options.tmpDir);
  const header = [
    `# twopc-kv beside etcd`,
    "",
    `${new Date().toISOString()}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}); Node ${process.version}; ${etcdVersion(etcdBinary)}; temp data in ${options.tmpDir} (${fsType})`,
    `${options.rounds} round(s); warm-up ${options.warmupMs} ms, measured ${options.durationMs} ms; clients ${options.clients.join(", ")}; workloads ${options.workloads.join(", ")}; ` +
      `${keys} keys (uniform), ${valueBytes}-byte values; ${options.channels} channels per system; etcd clients call ${options.etcdEndpoints === "leader" ? "the leader" : "every member"}; seed ${options.seed}`,
    `load average at start: ${loadAverage()}`,
  ];
  console.log(header.join("\n"));
  if (fsType === "tmpfs" || fsType === "ramfs") progress(`warning: ${options.tmpDir} is on ${fsType}: fsync costs nothing there, for either system`);

  const plan = options.workloads.flatMap((load) => options.clients.map((clients) => ({ load: load as LoadName, clients })));
  const echoPlan = options.clients.map((clients) => ({ load: "echo" as LoadName, clients }));
  const runs: RunFigures[] = [];
  const rounds: { round: number; order: readonly TargetName[]; loadAverageStart: string; loadAverageEnd: string; runs: RunFigures[] }[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const loadAverageStart = loadAverage();
    const order: TargetName[] = [...systemOrder(round), ...(options.echo ? (["echo"] as const) : [])];
    progress(`round ${round} of ${options.rounds}: ${order.join(", then ")}; load average ${loadAverageStart}`);
    const roundRuns: RunFigures[] = [];
    for (const target of order) {
      if (target === "echo") roundRuns.push(...(await turn("echo", startEcho, echoPlan, options, round, ticksPerSec)));
      else roundRuns.push(...(await turn(target, startOf(target, etcdBinary, options), plan, options, round, ticksPerSec)));
    }
    const loadAverageEnd = loadAverage();
    rounds.push({ round, order, loadAverageStart, loadAverageEnd, runs: roundRuns });
    runs.push(...roundRuns);
    console.log(`\n## Round ${round} (${order.join(", then ")}; load average ${loadAverageStart} at start, ${loadAverageEnd} at end)\n`);
    console.log(roundTable(roundRuns));
  }

  const low = options.clients[0]!;
  const high = options.clients[options.clients.length - 1]!;
  console.log(`\n## Medians over ${options.rounds} round(s) (range of the rounds in parentheses)\n`);
  console.log(finalTable(runs, low, high));
  console.log("\nratio: twopc-kv's median over etcd's (above 1 is better for rates; below 1 is better for latencies and CPU)");
  if (options.echo) console.log(echoLine(runs, [low, high].filter((c, i, all) => all.indexOf(c) === i), valueBytes));

  const goalsCheckable = low === goalClientsLow && high === goalClientsHigh;
  const goals = checkGoals(goalInputs(runs, goalClientsLow, goalClientsHigh));
  console.log(`\n## Issue 13's goals, on the medians\n`);
  if (!goalsCheckable) console.log(`(stated at ${goalClientsLow} and ${goalClientsHigh} clients; this run measured ${options.clients.join(", ")}: a goal without its figures is "not checked")\n`);
  for (const goal of goals) console.log(`- ${goal.goal}: **${verdict(goal)}** (${goal.detail})`);

  const failed = runs.filter(runFailed);
  const withErrors = runs.filter((run) => errorCount(run) > 0 || run.warmupErrors > 0);
  const withMisses = runs.filter((run) => run.misses > 0);
  console.log(`\nload average at end: ${loadAverage()}`);
  if (withErrors.length > 0) console.log(`calls failed in ${withErrors.length} run(s): see the errors column (warm-up failures: ${withErrors.reduce((sum, run) => sum + run.warmupErrors, 0)})`);
  if (withMisses.length > 0) console.log(`gets found no value in ${withMisses.length} run(s) although every key was preloaded: see the misses column`);
  if (failed.length > 0) console.log(`FAILED: ${failed.length} run(s) completed no call: ${failed.map((run) => `round ${run.round} ${run.target} ${loadTitle(run.load)} ${clientsTitle(run.clients)}`).join("; ")}`);

  if (jsonFd !== null) {
    const report = {
      machine: header[2],
      options,
      keys,
      valueBytes,
      clockTicksPerSec: ticksPerSec,
      cpus: os.cpus().length,
      etcdVersion: etcdVersion(etcdBinary),
      node: process.version,
      tmpFileSystem: fsType,
      rounds,
      goals,
    };
    fs.writeSync(jsonFd, JSON.stringify(report, null, 2) + "\n");
    fs.closeSync(jsonFd);
    progress(`raw figures written to ${options.json}`);
  }
  return failed.length > 0 ? 1 : 0;
}

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A setup failure says what to do; anything else is unexpected and keeps its stack.
    console.error(`bench:compare: ${error instanceof SetupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
  },
);
