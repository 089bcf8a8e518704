// How long `kv` takes to start: runs `node bin/kv.js get k` against a coordinator address where
// nothing listens (127.0.0.1:1, --retry-for 0: the call is refused at once, so the time is the
// process's own: loading the client bundle through its V8 code cache (cli/start.ts), one refused connection, exiting)
// --runs times, one after the other, and prints the median, the fastest and the slowest wall-clock
// time from spawn to exit. `--kv OTHER/bin/kv.js` times another build (e.g. the main checkout) in
// the same run, alternating with this one, so that both see the same load on the machine.
//
//   npm run bench:startup -- [--runs 21] [--kv OTHER/bin/kv.js] [--command "get k"]
//
// Figures, never assertions: this machine is shared and noisy (issue 14 asks for at most 150 ms).
import { spawnSync } from "node:child_process";
import yargs from "yargs";
import { formatTable } from "../../common/table";
import { kvScript } from "../cluster/process-args";

/** At most this many runs per build: each is a whole node process. */
const startupRunsMax = 1_000;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One `kv` process from spawn to exit, in milliseconds. */
function timeOnce(script: string, args: readonly string[]): number {
  const startNs = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [script, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const ms = Number(process.hrtime.bigint() - startNs) / 1e6;
  if (result.error !== undefined) throw result.error;
  // `get` against no coordinator exits 4 (UNAVAILABLE); anything else means the command did not run as meant.
  if (result.status !== 4 && result.status !== 0 && result.status !== 1) {
    throw new Error(`${script} ${args.join(" ")} exited ${String(result.status)}: ${result.stderr.toString("utf8").trim()}`);
  }
  return ms;
}

async function main(): Promise<void> {
  const argv = await yargs(process.argv.slice(2))
    .scriptName("bench:startup")
    .strict()
    .option("runs", { type: "number", default: 21, describe: `runs per build (1 to ${startupRunsMax})` })
    .option("kv", { type: "string", describe: "another build's bin/kv.js, timed alternately with this one" })
    .option("command", { type: "string", default: "get k", describe: "the kv command line to time (its coordinator is 127.0.0.1:1)" })
    .check((a) => {
      if (!Number.isInteger(a.runs) || a.runs < 1 || a.runs > startupRunsMax) throw new Error(`--runs is ${a.runs}; give 1 to ${startupRunsMax} (startupRunsMax)`);
      return true;
    })
    .parse();
  const args = [...argv.command.split(" ").filter((word) => word.length > 0), "--coordinator", "127.0.0.1:1", "--retry-for", "0"];
  const builds = [{ name: "this build", script: kvScript }, ...(argv.kv === undefined ? [] : [{ name: argv.kv, script: argv.kv }])];
  const times = builds.map(() => [] as number[]);
  // One warm-up each (the file system cache), not counted.
  for (const build of builds) timeOnce(build.script, args);
  for (let run = 0; run < argv.runs; run++) builds.forEach((build, i) => times[i]!.push(timeOnce(build.script, args)));
  console.log(`node bin/kv.js ${args.join(" ")}: ${argv.runs} runs per build, wall clock from spawn to exit (Node ${process.version})`);
  const rows = builds.map((build, i) => {
    const own = times[i]!;
    return [build.name, median(own).toFixed(1), Math.min(...own).toFixed(1), Math.max(...own).toFixed(1)];
  });
  console.log(formatTable([["build", "median ms", "min ms", "max ms"], ...rows]));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
