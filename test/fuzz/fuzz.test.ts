// The standing fuzzer in `npm test`: one seeded run of requests to every method of the Kv,
// Participant and Coordination services of a real cluster (fuzz.ts, run.ts), proving that no
// process exits, every reply's code is documented for its method (codes.ts), every replica stays
// up, and at the end the replicas hold the same data and the lin keys' history is linearizable. On
// a failure it shrinks for a bounded time and the message holds the shortest failing sequence
// found and the command that replays it. Longer runs: `npm run fuzz -- --requests N --seed S`.
import { afterAll, expect, it } from "vitest";
import { killAllStarted } from "../integration/harness";
import { documentedCodes } from "./codes";
import { formatReport, fuzz } from "./fuzz";

afterAll(async () => {
  await killAllStarted();
});

const seed = 1;
const requests = 5_000;

it(`${requests} requests of seed ${seed}: no crash, documented codes only, replicas up and equal, linearizable`, async () => {
  const report = await fuzz({ requests, seed, shrinkBudgetMs: 30_000, shrinkRunsMax: 60 });
  const text = formatReport(report, `npm run fuzz -- --requests ${requests} --seed ${seed}`);
  console.log(text);
  expect(report.failure === null, text).toBe(true);
  // Every method of every service was called.
  expect([...report.counts.keys()].filter((method) => method in documentedCodes).sort()).toEqual(Object.keys(documentedCodes).sort());
}, 150_000);
