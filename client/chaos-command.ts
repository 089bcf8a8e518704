// `kv chaos`: the command around client/chaos.ts. It wires the load (kv bench with a history) and
// the check (kv check) into the run, prints the table, and returns a non-zero exit code on any
// violation.
import * as fs from "node:fs";
import type { Argv } from "yargs";
import { InvalidArgument } from "../common/errors";
import { runBench } from "./bench";
import { parseDuration } from "./bench-command";
import { faultKinds, formatChaosReport, runChaos, type ChaosChecker, type ChaosLoad, type FaultKind } from "./chaos";
import { checkHistory, formatViolation } from "./check";

export function chaosCommandOptions<T>(y: Argv<T>) {
  return y
    .option("seed", { type: "number", default: 1, describe: "decides the fault schedule and the load" })
    .option("duration", { type: "string", default: "60s", describe: "how long to run the load and the faults (500ms, 60s, 10m)" })
    .option("faults", { type: "string", default: "kill,pause", describe: `faults to inject, comma-separated: ${faultKinds.join(", ")}` })
    .option("interval", { type: "string", default: "3s", describe: "mean time between faults" })
    .option("concurrency", { type: "number", default: 8, describe: "clients of the load" })
    .option("keys", { type: "number", default: 20, describe: "keys of the load (few, so operations conflict)" })
    .option("replicas", { type: "number", default: 3 })
    .option("port", { type: "number", default: 52051, describe: "the coordinator's port; replicas take the next ones" })
    .option("data-dir", { type: "string", describe: "keep the cluster's data and the history here (default: a temp directory, removed)" })
    .option("json", { type: "string", describe: "write the report here as JSON" })
    .option("log-level", { type: "string", default: "warn", describe: "log level of the cluster's processes" });
}

type ChaosArgv = {
  seed: number;
  duration: string;
  faults: string;
  interval: string;
  concurrency: number;
  keys: number;
  replicas: number;
  port: number;
  "data-dir"?: string | undefined;
  json?: string | undefined;
  "log-level": string;
};

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
        distribution: "uniform",
        valueBytes: 32,
        seed: options.seed,
        timeoutMs: 3_000,
        backoffMsOnError: 100,
        historyFile: options.historyFile,
      },
      { progress: false, log: () => {} },
    );
    return report.outcomes;
  },
};

const check: ChaosChecker = (events) => {
  const result = checkHistory(events, { timeoutMs: 120_000, nowMs: () => Date.now() });
  return { verdict: result.verdict, details: result.verdict === "not-linearizable" ? formatViolation(result) : "" };
};

export async function runChaosCommand(argv: ChaosArgv): Promise<number> {
  const faults = argv.faults.split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  for (const fault of faults) {
    if (!(faultKinds as readonly string[]).includes(fault)) {
      throw new InvalidArgument("--faults", `--faults: unknown fault ${JSON.stringify(fault)}; known: ${faultKinds.join(", ")}`);
    }
  }
  if (faults.length === 0) throw new InvalidArgument("--faults", "--faults names no fault");
  if (!Number.isInteger(argv.replicas) || argv.replicas < 3) throw new InvalidArgument("--replicas", "--replicas must be at least 3");
  const report = await runChaos(
    {
      seed: argv.seed,
      durationMs: parseDuration("--duration", argv.duration),
      faults: faults as FaultKind[],
      intervalMs: parseDuration("--interval", argv.interval),
      concurrency: argv.concurrency,
      keys: argv.keys,
      port: argv.port,
      replicas: argv.replicas,
      dataDir: argv["data-dir"] ?? null,
      keepData: argv["data-dir"] !== undefined,
      logLevel: argv["log-level"],
    },
    load,
    check,
    (line) => console.log(line),
  );
  console.log(formatChaosReport(report));
  if (argv.json !== undefined) fs.writeFileSync(argv.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.passed ? 0 : 1;
}
