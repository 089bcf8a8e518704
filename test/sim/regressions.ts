// Seeds that once found a real bug, kept as regression cases (sim.test.ts runs each one).
//
// A seed only reaches the same path while the simulator draws its random numbers the same way, so
// where the bug can be put back by a test-only switch at its shipped line (common/mutations.ts),
// the case names it as a mutation: the test checks that the seed still fails with the bug and passes without it. When a change
// to the simulator makes a seed stop failing with its bug, find a new one with
// `npm run sim -- --mutation NAME --seeds 1000`. A bug fixed inside a core has no switch (the cores
// stay production code): its seed must pass, and a unit test reproduces the bug by hand.
import type { CheckName } from "./checks";
import type { Mutation } from "./nodes";

export interface Regression {
  readonly seed: number;
  /** The bug, put back by a test-only switch; null for a bug fixed inside a core. */
  readonly bug: Mutation | null;
  /** The check the bug fails at this seed. */
  readonly check: CheckName;
  readonly what: string;
}

export const regressions: readonly Regression[] = [
  // Seed 204 (peer-query-about-all, found at seed 194: a replica in doubt asked a peer about a
  // transaction that peer took no part in, and the peer refused it durably and answered "aborted"
  // though the coordinator had committed it) is gone since intent commits (issue 13): a peer never
  // refuses any more, so that bug breaks nothing a seed can see. The fix stays in
  // replica/peer-queries.ts, and test/unit/peer-queries.test.ts catches the bug put back.
  {
    // Found with npm run sim -- --mutation gc-ignores-floor --seeds 1500 (3 of 1,500 seeds) as seed
    // 1451; once merged with the hot path of issue 13 (answers at the decision, batched reads), whose
    // draws differ, found again with --seeds 2500 --jobs 2: 11 of 2,500 seeds fail, 6 of them on
    // liveness, the first 107 (described below as first found); then 74 once a successor read the
    // copy of the decision log in pages (--seeds 2500 --jobs 2: 19 of 2,500 fail, 14 on liveness;
    // at 74 the replicas differ: r2 keeps a key the others deleted); then 182 once
    // coordinatorDownAfterMs went from 500 ms to 1.5 s (17 of 2,500 fail, 11 on liveness); then 17
    // with intent commits, lingering COMMITs and health checks skipped for replicas that answer
    // (issue 13), where a replica that did not vote applies a COMMIT with the writes late, the very
    // case the floor guards (9 of the first 200 seeds fail, the first, 17, on liveness); then 172 with
    // early answers (3 of the first 300 seeds fail: 19 on liveness, 93 and 172 on stale-read).
    seed: 172,
    bug: "gc-ignores-floor",
    check: "stale-read",
    what:
      "the planted bug of tombstone collection that ignores the coordinator's floor: early answers decided 1.7 (commit 5) " +
      "before 1.5 (commit 3, the first write of acct0), and r3 applied both in one turn, 5 first; taking its highest " +
      "applied commit as its collection horizon, it took commit 3 for a late write to a deleted key and dropped it, and " +
      "a read of acct0 there found it absent after the client was told it was written. The " +
      "floor (coordinator/core.ts collectionFloor) keeps the horizon below every commit an in-sync replica has not " +
      "applied; test/unit/tombstones.test.ts reproduces it by hand.",
  },
  {
    seed: 120628,
    bug: null,
    check: "assertion",
    what:
      "r1 the last in-sync replica and not healthy, r2 and r3 catching up; r3's catch-up failed, so r3 left and aborted 8.1, " +
      "which let r2's copy start; with no healthy source r2 left too and aborted 8.2; r3's removal then aborted 8.2 a second " +
      "time: the coordinator failed \"lock on k2 not held by 8.2\". Fixed in coordinator/core.ts (leave and onTick skip " +
      "transactions gone meanwhile); test/unit/coordinator-reentrant-leave.test.ts reproduces it by hand.",
  },
];
