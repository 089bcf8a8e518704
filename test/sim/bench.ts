// `npm run bench:sim [-- --seeds N] [--jobs J]`: how fast the simulator runs (seeds per second and
// steps per second, over J processes), and how often each planted bug fails a seed (over the first
// 200 seeds), so that the mutation bounds in sim.test.ts can be chosen with a margin. A benchmark,
// not a test: it asserts nothing.
import * as os from "node:os";
import { runSeedsHere, runSeedsParallel } from "./campaign";
import { mutations } from "./nodes";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes("--worker")) {
    (await import("./campaign")).serveAsWorker();
    return;
  }
  const flag = (name: string, fallback: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : fallback;
  };
  const seeds = flag("--seeds", 2000);
  const jobs = flag("--jobs", os.availableParallelism());
  console.log(`node ${process.version}, ${os.cpus().length} CPU(s) (${os.cpus()[0]?.model ?? "unknown"}), ${jobs} job(s)`);

  const singleStart = performance.now();
  const single = runSeedsHere(1, Math.min(200, seeds), "none");
  const singleMs = performance.now() - singleStart;
  console.log(`one process: ${single.seeds} seeds in ${(singleMs / 1000).toFixed(1)} s: ${((single.seeds * 1000) / singleMs).toFixed(1)} seeds/s, ${Math.round((single.steps * 1000) / singleMs)} steps/s`);

  const startMs = performance.now();
  const tally = await runSeedsParallel(__filename, 1, seeds, "none", jobs, () => {});
  const elapsedMs = performance.now() - startMs;
  console.log(`${jobs} processes: ${tally.seeds} seeds in ${(elapsedMs / 1000).toFixed(1)} s: ${((tally.seeds * 1000) / elapsedMs).toFixed(1)} seeds/s, ${Math.round((tally.steps * 1000) / elapsedMs)} steps/s`);
  console.log(tally.format(elapsedMs));

  const sample = 200;
  console.log(`\nplanted bugs over seeds 1..${sample}:`);
  for (const mutation of mutations) {
    if (mutation === "none") continue;
    const found = await runSeedsParallel(__filename, 1, sample, mutation, jobs, () => {});
    const first = Math.min(...found.failures.map((f) => f.seed));
    const checks = [...found.failuresByCheck].map(([check, n]) => `${check} ${n}`).join(", ");
    console.log(`  ${mutation}: ${found.failures.length}/${sample} seeds fail (first: seed ${Number.isFinite(first) ? first : "none"}; ${checks || "no failures"})`);
  }
}

void main();
