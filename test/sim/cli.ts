// `npm run sim -- [--seeds N] [--from S] [--jobs J] [--mutation NAME]`: a campaign of seeds
// from..from+N-1, spread over J processes, with a progress bar and a summary (seeds run, steps
// simulated, faults injected by kind, protocol paths taken, failures by check); the report of each
// failing seed (its step, the check, the last events) is printed as it fails. Exit code 1 if any
// seed failed.
// `npm run sim -- --seed N [--trace] [--history FILE] [--mutation NAME]`: one run, replayed exactly;
// --trace prints every event, --history writes the client history (as `kv bench --history`).
import * as fs from "node:fs";
import * as os from "node:os";
import { parseArgs as parseFlags } from "node:util";
import { Presets, SingleBar } from "cli-progress";
import { formatEvent } from "../../tools/check/history";
import { runSeedsParallel, serveAsWorker, type SeedSummary } from "./campaign";
import { mutations, type Mutation } from "./nodes";
import { formatFailure, runSeed } from "./run";

const usage =
  "usage: npm run sim -- [--seeds N] [--from S] [--jobs J] [--mutation NAME] [--quiet]\n" +
  "       npm run sim -- --seed N [--trace] [--history FILE] [--mutation NAME]\n" +
  `mutations (planted bugs, for testing the simulator): ${mutations.filter((m) => m !== "none").join(", ")}`;

interface Args {
  readonly seed: number | null;
  readonly seeds: number;
  readonly from: number;
  readonly jobs: number;
  readonly mutation: Mutation;
  readonly trace: boolean;
  readonly history: string | null;
  readonly quiet: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const { values } = parseFlags({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      seed: { type: "string" },
      seeds: { type: "string" },
      from: { type: "string" },
      jobs: { type: "string" },
      mutation: { type: "string" },
      trace: { type: "boolean", default: false },
      history: { type: "string" },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const whole = (flag: string, text: string | undefined, min: number, otherwise: number): number => {
    if (text === undefined) return otherwise;
    const value = Number(text);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${flag} needs a whole number of at least ${min}, not ${text}`);
    return value;
  };
  const mutation = values.mutation ?? "none";
  if (!(mutations as readonly string[]).includes(mutation)) throw new Error(`--mutation must be one of ${mutations.join(", ")}, not ${mutation}`);
  return {
    seed: values.seed === undefined ? null : whole("seed", values.seed, 0, 0),
    seeds: whole("seeds", values.seeds, 1, 1000),
    from: whole("from", values.from, 0, 1),
    jobs: whole("jobs", values.jobs, 1, Math.max(1, os.availableParallelism())),
    mutation: mutation as Mutation,
    trace: values.trace,
    history: values.history ?? null,
    quiet: values.quiet,
  };
}

function one(args: Args & { seed: number }): number {
  const result = runSeed({
    seed: args.seed,
    mutation: args.mutation,
    traced: true,
    onTrace: args.trace ? (line) => console.log(`[${line.step} ${line.atMs.toFixed(1)}ms] ${line.text}`) : undefined,
  });
  if (args.history !== null) fs.writeFileSync(args.history, result.history.map((event) => `${formatEvent(event)}\n`).join(""));
  console.log(`settings: ${result.settings}`);
  console.log(
    `${result.steps} steps, ${(result.virtualMs / 1000).toFixed(1)} s virtual, ${result.ops} client operations (${result.okOps} ok), ${result.commits} commits; ` +
      `faults: ${[...result.faults].map(([kind, n]) => `${kind} ${n}`).join(", ") || "none"}`,
  );
  console.log(formatFailure(result));
  return result.failure === null ? 0 : 1;
}

async function campaign(args: Args): Promise<number> {
  const startMs = performance.now();
  const bar = args.quiet ? null : new SingleBar({ format: "sim [{bar}] {value}/{total} seeds | {failed} failed | {rate} seeds/s | ETA {eta_formatted}" }, Presets.shades_classic);
  let failed = 0;
  let done = 0;
  bar?.start(args.seeds, 0, { failed, rate: "0" });
  const onSeed = (summary: SeedSummary): void => {
    if (summary.failure !== null) {
      failed += 1;
      if (failed <= 5) {
        bar?.stop();
        console.log(`\n${summary.failure.report}\n`);
        if (failed === 5) console.log("(further failures are only counted; replay them with --seed N --trace)\n");
        bar?.start(args.seeds, done, { failed, rate: "0" });
      }
    }
    done += 1;
    bar?.update(done, { failed, rate: ((done * 1000) / (performance.now() - startMs)).toFixed(1) });
  };
  const tally = await runSeedsParallel(__filename, args.from, args.seeds, args.mutation, args.jobs, onSeed);
  bar?.update(args.seeds, { failed, rate: ((args.seeds * 1000) / (performance.now() - startMs)).toFixed(1) });
  bar?.stop();
  console.log(`${args.mutation === "none" ? "" : `mutation ${args.mutation}\n`}${tally.format(performance.now() - startMs)}`);
  return tally.failures.length === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  if (process.argv.includes("--worker")) {
    serveAsWorker();
    return;
  }
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`sim: ${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  process.exitCode = args.seed !== null ? one({ ...args, seed: args.seed }) : await campaign(args);
}

void main();
