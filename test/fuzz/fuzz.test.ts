// The standing fuzzer in `npm test`: one seeded run of requests to every method of the Kv,
// Participant and Coordination services of a real cluster (fuzz.ts, run.ts), proving that no
// process exits, every reply's code is documented for its method (codes.ts), every replica stays
// up, and at the end the replicas hold the same data and the lin keys' history is linearizable. The
// participant calls carry epochs (failover): most of them reach the replica's core, some are refused
// or fenced for their epoch, and a few carry a newer one, which makes the coordinator take over
// again mid-run; the checks must hold across that. Their transaction ids are of the call's epoch,
// as a coordinator's are, so they reach the core too; the misfits among them (an id of an epoch the
// call may not carry) are refused for it, which run.ts checks on each answer. On
// a failure it shrinks for a bounded time and the message holds the shortest failing sequence
// found and the command that replays it. Longer runs: `npm run fuzz -- --requests N --seed S`.
import { afterAll, expect, it } from "vitest";
import { killAllStarted } from "../integration/harness";
import { documentedCodes } from "./codes";
import { formatReport, fuzz } from "./fuzz";
import type { Reach } from "./run";

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
  // The calls of a coordinator reach the replicas' cores: their epochs are right (else every one
  // would stop at the epoch check). Some are stopped there on purpose, missing or fenced. No Append
  // ever gets through (its epochs are never current: arbitraries.ts rule f).
  const reached = (method: string, reach: Reach): number => report.reach.get(method)?.get(reach) ?? 0;
  for (const method of ["Participant.Prepare", "Participant.Commit", "Participant.Abort", "Participant.Read", "Participant.Promise", "Participant.ReadCopy"]) {
    expect(reached(method, "core"), `${method} calls that reached a replica's core`).toBeGreaterThan(0);
  }
  expect(reached("Participant.Append", "core"), "Append calls taken by a replica").toBe(0);
  const total = (reach: Reach): number => [...report.reach.keys()].reduce((sum, method) => sum + reached(method, reach), 0);
  expect(total("fenced"), "calls refused as fenced").toBeGreaterThan(0);
  expect(total("epoch-refused"), "calls refused for their epoch").toBeGreaterThan(0);
  // Misfits were sent to each method that checks them, and refused for them (run.ts fails a run on
  // a misfit taken, and on a call refused for an id's epoch without one).
  for (const method of ["Participant.Prepare", "Participant.Commit", "Participant.Abort"]) {
    expect(reached(method, "txn-epoch-refused"), `${method} calls refused for a transaction id's epoch`).toBeGreaterThan(0);
  }
  expect(report.epochs.misfitsRefused).toBeGreaterThan(0);
  // And the coordinator was fenced by a newer epoch, and took over again, at least once.
  expect(report.epochs.newerSent).toBeGreaterThan(0);
  expect(report.epochs.last).toBeGreaterThan(report.epochs.first);
}, 150_000);
