// The seed sweep `npm test` runs, split over two test files so that vitest runs the halves in its
// two worker processes at once.
import { expect } from "vitest";
import { runSeedsHere } from "./campaign";

/** Seeds per half: 2 x 1,000 = 2,000 seeds per `npm test` (about 30 s on 2 idle cores). */
export const sweepSeedsPerHalf = 1_000;

export function sweepHalf(half: 0 | 1): void {
  const from = 1 + half * sweepSeedsPerHalf;
  const startMs = performance.now();
  const tally = runSeedsHere(from, sweepSeedsPerHalf, "none");
  const reports = tally.failures.map((summary) => summary.failure!.report);
  console.log(`sim sweep seeds ${from}..${from + sweepSeedsPerHalf - 1}:\n${tally.format(performance.now() - startMs)}`);
  // On a failure, the message is the report of each failing seed: its step, check and last events.
  expect(reports.join("\n\n"), `${reports.length} seed(s) failed`).toBe("");
  expect(tally.seeds).toBe(sweepSeedsPerHalf);
}
