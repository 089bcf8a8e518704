// `kv chaos`: the command around client/chaos.ts. It wires the load (kv bench with a history) and
// the check (kv check) into the run, prints the table, and returns a non-zero exit code on any
// violation. With --cluster DIR it attaches to the cluster a `kv cluster --data-dir DIR` runs,
// instead of starting one. With link faults (--faults netem, or net-*) it makes a network of
// namespaces and runs itself again inside it (tools/chaos/netns-cluster.ts): that inner run has
// --netns-run, and does the work.
import * as fs from "node:fs";
import type { Argv } from "yargs";
import { InvalidArgument } from "../common/errors";
import { runBench, workloads } from "../tools/bench/bench";
import { chaosPage, checkReportFile, writeReportFile } from "../tools/report/pages";
import { Timeline } from "../tools/report/timeline";
import { parseDuration } from "./bench-command";
import {
  faultKinds,
  formatChaosReport,
  isNetFaultKind,
  netemFaultsGroup,
  netFaultKinds,
  runChaos,
  type ChaosChecker,
  type ChaosLoad,
  type ChaosTarget,
  type FaultKind,
} from "../tools/chaos/chaos";
import { netFaultCapabilities, parseNetnsRun, runNetnsChaos, type NetnsRun } from "../tools/chaos/netns-cluster";
import { netnsMembersMax, netnsUnavailable } from "../tools/netns/network";
import { checkHistory, formatViolation } from "../tools/check/check";
import { subcommand } from "./subcommand";

/** Defaults of the flags that describe a cluster chaos starts; with --cluster they must be absent. */
const localDefaults = { port: 52051, replicas: 3, coordinators: 2, logLevel: "warn" } as const;

export function chaosCommandOptions<T>(y: Argv<T>) {
  return y
    .option("cluster", {
      type: "string",
      describe: "attach to the cluster a `kv cluster --data-dir DIR` runs (DIR/cluster.json) instead of starting one; it kills and restarts that cluster's processes",
    })
    .option("seed", { type: "number", default: 1, describe: "decides the fault schedule and the load" })
    .option("duration", { type: "string", default: "60s", describe: "how long to run the load and the faults (500ms, 60s, 10m)" })
    .option("faults", {
      type: "string",
      default: "kill,pause",
      describe:
        `faults to inject, comma-separated: ${faultKinds.join(", ")} (partition: not with --cluster); ` +
        `${netemFaultsGroup} (every link fault this machine can make: ${netFaultKinds.join(", ")}) or some of those, on a cluster across network namespaces (root and iproute2)`,
    })
    .option("interval", { type: "string", default: "3s", describe: "mean time between faults" })
    .option("concurrency", { type: "number", default: 8, describe: "clients of the load" })
    .option("keys", { type: "number", default: 20, describe: "keys of the load (few, so operations conflict), under the prefix chaos/SEED/RUN/" })
    .option("replicas", { type: "number", describe: `replicas of the cluster it starts (default ${localDefaults.replicas})` })
    .option("coordinators", {
      type: "number",
      describe: `coordinators of the cluster it starts (default ${localDefaults.coordinators}: kills and pauses strike them too, and a standby takes over)`,
    })
    .option("port", { type: "number", describe: `the first coordinator's port of the cluster it starts (default ${localDefaults.port}); the other coordinators, then the replicas, take the next ones` })
    .option("data-dir", { type: "string", describe: "keep the cluster's data and the history here (default: a temp directory, removed)" })
    .option("history", { type: "string", describe: "write the history here (default: history.jsonl in --data-dir, or chaos-history.jsonl in the --cluster DIR)" })
    .option("json", { type: "string", describe: "write the report here as JSON" })
    .option("report", { type: "string", describe: "write a self-contained HTML report here: the load's throughput and latency per second with the faults marked, a latency histogram, the table" })
    .option("log-level", { type: "string", describe: `log level of the processes of the cluster it starts (default ${localDefaults.logLevel})` })
    .option("netns-run", { type: "string", hidden: true, describe: "internal: the run inside the network a kv chaos with link faults made (JSON)" });
}

type ChaosArgv = {
  cluster?: string | undefined;
  seed: number;
  duration: string;
  faults: string;
  interval: string;
  concurrency: number;
  keys: number;
  replicas?: number | undefined;
  coordinators?: number | undefined;
  port?: number | undefined;
  "data-dir"?: string | undefined;
  history?: string | undefined;
  json?: string | undefined;
  report?: string | undefined;
  "log-level"?: string | undefined;
  "netns-run"?: string | undefined;
};

/**
 * The load: kv bench's mixed workload with a history; with a timeline, also recorded over time for
 * --report. ranForMs: how long the bench ran, once it has (the timeline's last interval ends there).
 */
function chaosLoad(timeline: Timeline | undefined): { load: ChaosLoad; ranForMs: () => number } {
  let ranForMs = 0;
  const load: ChaosLoad = {
    async run(options) {
      const report = await runBench(
        {
          coordinator: options.coordinator,
          concurrency: options.concurrency,
          connections: Math.min(4, options.concurrency),
          durationMs: options.durationMs,
          workload: "mixed",
          keys: options.keys,
          keyPrefix: options.keyPrefix,
          distribution: "uniform",
          valueBytes: 32,
          seed: options.seed,
          timeoutMs: 3_000,
          backoffMsOnError: 100,
          historyFile: options.historyFile,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          ...(timeline === undefined ? {} : { timeline }),
        },
        { progress: false, log: () => {} },
      );
      ranForMs = report.durationMs;
      return report.outcomes;
    },
  };
  return { load, ranForMs: () => ranForMs };
}

const check: ChaosChecker = (events) => {
  const result = checkHistory(events, { timeoutMs: 120_000, nowMs: () => Date.now() });
  return { verdict: result.verdict, details: result.verdict === "not-linearizable" ? formatViolation(result) : "" };
};

/** --replicas and --coordinators of a cluster chaos starts, checked. */
function memberCounts(argv: ChaosArgv): { replicas: number; coordinators: number } {
  const replicas = argv.replicas ?? localDefaults.replicas;
  if (!Number.isInteger(replicas) || replicas < 3) throw new InvalidArgument("--replicas", "--replicas must be at least 3");
  const coordinators = argv.coordinators ?? localDefaults.coordinators;
  if (!Number.isInteger(coordinators) || coordinators < 1 || coordinators > 9) throw new InvalidArgument("--coordinators", "--coordinators must be a whole number from 1 to 9");
  if (replicas + coordinators > netnsMembersMax) {
    throw new InvalidArgument("--replicas", `--replicas ${replicas} and --coordinators ${coordinators} make ${replicas + coordinators} members; a network of namespaces holds ${netnsMembersMax} (netnsMembersMax)`);
  }
  return { replicas, coordinators };
}

/** The cluster to hammer: the one --cluster names, or a local one from --port, --replicas, --data-dir, --log-level. */
function chaosTarget(argv: ChaosArgv, faults: readonly string[]): ChaosTarget {
  if (argv.cluster === undefined) {
    const { replicas, coordinators } = memberCounts(argv);
    return {
      kind: "local",
      port: argv.port ?? localDefaults.port,
      replicas,
      coordinators,
      dataDir: argv["data-dir"] ?? null,
      logLevel: argv["log-level"] ?? localDefaults.logLevel,
    };
  }
  if (argv.cluster === "") throw new InvalidArgument("--cluster", "--cluster needs the data dir of a running kv cluster");
  if (faults.includes("partition")) {
    throw new InvalidArgument(
      "--faults",
      "--faults partition cannot be used with --cluster: partitions need a TCP proxy between the coordinator and each replica, " +
        "which only a cluster kv chaos starts itself has (drop --cluster, or drop partition from --faults)",
    );
  }
  // These describe a cluster chaos would start; the manifest describes the attached one.
  for (const [flag, value] of [["--port", argv.port], ["--replicas", argv.replicas], ["--coordinators", argv.coordinators], ["--data-dir", argv["data-dir"]], ["--log-level", argv["log-level"]]] as const) {
    if (value !== undefined) throw new InvalidArgument(flag, `${flag} cannot be used with --cluster: the cluster's manifest (DIR/cluster.json) describes it`);
  }
  return { kind: "attached", dir: argv.cluster };
}

/**
 * Link faults need each member in its own namespace: refuses what cannot go with them (--cluster,
 * proxy partitions, --port) or a machine where namespaces cannot be made (exit 2), and says what
 * this kernel cannot make. Returns what the inner run needs to know.
 */
function netnsCapabilities(argv: ChaosArgv, tokens: readonly string[]): Omit<NetnsRun, "runId"> {
  const named = tokens.join(",");
  if (argv.cluster !== undefined) {
    throw new InvalidArgument("--faults", `--faults ${named} cannot be used with --cluster: link faults need each member in its own network namespace, in a cluster kv chaos starts itself`);
  }
  if (tokens.includes("partition")) {
    throw new InvalidArgument("--faults", "--faults partition (behind a TCP proxy, on 127.0.0.1) cannot be used with link faults; net-partition partitions a member across namespaces");
  }
  if (argv.port !== undefined) throw new InvalidArgument("--port", "--port cannot be used with link faults: every member listens on port 50051 at its own address of 10.77.0.0/24");
  const unavailable = netnsUnavailable();
  if (unavailable !== null) throw new InvalidArgument("--faults", `--faults ${named} needs a cluster across network namespaces, which cannot be made here: ${unavailable}`);
  const capabilities = netFaultCapabilities();
  for (const token of tokens) {
    if (isNetFaultKind(token) && !capabilities.available.includes(token)) {
      throw new InvalidArgument("--faults", `--faults ${token} cannot be made here: ${capabilities.notes.join("; ")}`);
    }
  }
  return capabilities;
}

export async function runChaosCommand(argv: ChaosArgv): Promise<number> {
  const tokens = argv.faults.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  const known = [...faultKinds, netemFaultsGroup, ...netFaultKinds];
  for (const token of tokens) {
    if (!known.includes(token)) throw new InvalidArgument("--faults", `--faults: unknown fault ${JSON.stringify(token)}; known: ${known.join(", ")}`);
  }
  if (tokens.length === 0) throw new InvalidArgument("--faults", "--faults names no fault");
  const linkFaults = tokens.some((token) => token === netemFaultsGroup || isNetFaultKind(token));
  const netnsRun = argv["netns-run"] === undefined ? null : parseNetnsRun(argv["netns-run"]);
  if (linkFaults && netnsRun === null) {
    // The outer run: make the network, and run again inside it.
    const capabilities = netnsCapabilities(argv, tokens);
    for (const note of capabilities.notes) console.log(`chaos: ${note}`);
    return runNetnsChaos(process.argv.slice(2), memberCounts(argv), capabilities, (line) => console.log(line));
  }
  // `netem` stands for every link fault the outer run found this machine can make.
  const faults = [...new Set(tokens.flatMap((token): string[] => (token === netemFaultsGroup ? [...(netnsRun?.available ?? [])] : [token])))];
  if (faults.length === 0) throw new InvalidArgument("--faults", `--faults ${tokens.join(",")} leaves no fault this machine can make`);
  const target: ChaosTarget = netnsRun === null ? chaosTarget(argv, faults) : { kind: "netns", run: netnsRun, ...memberCounts(argv), dataDir: argv["data-dir"] ?? null, logLevel: argv["log-level"] ?? localDefaults.logLevel };
  if (argv.report !== undefined) {
    if (argv.report.trim() === "") throw new InvalidArgument("--report", "--report needs a file name");
    checkReportFile(argv.report);
  }
  const timeline = argv.report === undefined ? undefined : new Timeline(workloads.mixed.map((entry) => entry.f));
  const { load, ranForMs } = chaosLoad(timeline);
  const options = {
    seed: argv.seed,
    durationMs: parseDuration("--duration", argv.duration),
    faults: faults as FaultKind[],
    intervalMs: parseDuration("--interval", argv.interval),
    concurrency: argv.concurrency,
    keys: argv.keys,
    historyFile: argv.history ?? null,
  };

  // Attached to someone's cluster, a Ctrl-C must not leave a member paused or down: the first one
  // stops the faults and the load, heals, and still checks; a second one exits at once.
  const interrupt = new AbortController();
  const onSigint = (): void => {
    if (interrupt.signal.aborted) process.exit(130);
    console.error("kv chaos: interrupted; healing the cluster, then checking (Ctrl-C again to exit at once)");
    interrupt.abort();
  };
  // Across namespaces too: the outer run forwards Ctrl-C here, and deletes the namespaces once this exits.
  if (target.kind === "attached" || target.kind === "netns") process.on("SIGINT", onSigint);
  let report;
  try {
    report = await runChaos({ ...options, signal: interrupt.signal }, target, load, check, (line) => console.log(line));
  } finally {
    process.off("SIGINT", onSigint);
  }
  console.log(formatChaosReport(report));
  if (target.kind === "attached" || argv.history !== undefined || argv["data-dir"] !== undefined) console.log(`history: ${report.historyFile}`);
  if (target.kind === "attached") console.log(`the cluster is left running, healed; the load's keys are under ${report.keyPrefix}`);
  if (argv.json !== undefined) fs.writeFileSync(argv.json, `${JSON.stringify(report, null, 2)}\n`);
  if (argv.report !== undefined && timeline !== undefined && ranForMs() > 0) {
    // The faults' moments count from the start of the run, the timeline's from the load's first
    // operation, a few milliseconds later: well under a pixel of the chart.
    const page = chaosPage({ ...options, keyPrefix: report.keyPrefix }, timeline.finish(ranForMs() * 1e6), report.faultLog, formatChaosReport(report));
    writeReportFile(argv.report, page);
    console.log(`html report: ${argv.report}`);
  }
  return report.passed ? 0 : 1;
}

export const chaosCommand = subcommand({
  builder: (y) => chaosCommandOptions(y),
  run: (argv) => runChaosCommand(argv),
});
