// `npm run fuzz -- [--requests N] [--seed S] [--path P] [--batch B] [--shrink-seconds T] [--shrink-runs R]`:
// one fuzz run of N requests against a fresh local cluster (test/fuzz/fuzz.ts), with a progress line
// as it goes and, at the end, a table of replies per method and code. On a failure it shrinks for
// at most T seconds or R runs and prints the shortest failing sequence it found, and the command
// that replays it (the seed and fast-check's path). Exit code 1 on a failure.
import { parseArgs } from "node:util";
import { formatReport, fuzz } from "./fuzz";

const usage = "usage: npm run fuzz -- [--requests N] [--seed S] [--path P] [--batch B] [--shrink-seconds T] [--shrink-runs R]";

function whole(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${flag} needs a whole number of at least ${min}, not ${text}`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      requests: { type: "string" },
      seed: { type: "string" },
      path: { type: "string" },
      batch: { type: "string" },
      "shrink-seconds": { type: "string" },
      "shrink-runs": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(usage);
    return 0;
  }
  const requests = whole("requests", values.requests, 5_000, 1);
  const seed = whole("seed", values.seed, Math.floor(Math.random() * 0x7fffffff), 0);
  const batchSize = whole("batch", values.batch, 16, 1);
  const shrinkBudgetMs = whole("shrink-seconds", values["shrink-seconds"], 300, 0) * 1000;
  const shrinkRunsMax = whole("shrink-runs", values["shrink-runs"], 500, 0);
  const replay = `npm run fuzz -- --requests ${requests} --seed ${seed}${batchSize === 16 ? "" : ` --batch ${batchSize}`}`;
  console.error(`fuzz: seed ${seed}, ${requests} requests (replay: ${replay})`);
  const startMs = Date.now();
  let lastPrintMs = 0;
  const report = await fuzz({
    requests,
    seed,
    path: values.path,
    run: { batchSize },
    shrinkBudgetMs,
    shrinkRunsMax,
    log: (line) => console.error(`fuzz: ${line}`),
    onProgress: (executed, total) => {
      if (Date.now() - lastPrintMs < 2_000 && executed < total) return;
      lastPrintMs = Date.now();
      console.error(`fuzz: ${executed}/${total} requests, ${((Date.now() - startMs) / 1000).toFixed(1)} s`);
    },
  });
  console.log(formatReport(report, replay));
  return report.failure === null ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    console.error(usage);
    process.exit(2);
  },
);
