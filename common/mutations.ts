// Planted bugs, for the simulator's mutation checks (test/sim/sim.test.ts) only: each is checked
// at the exact shipped line it breaks, so that the simulator is shown to catch a regression in the
// code that ships, not in a copy of it. The switch is off ("none") unless a test sets it, and off
// it changes nothing. Production never sets it: only test/sim imports setMutation.

export const mutations = [
  "none",
  /** replica/core.ts mustForce: a prepare record is not forced, so the YES vote leaves before it is durable. */
  "vote-before-prepare-forced",
  /** coordinator/core.ts: the COMMIT decision record is not forced before COMMIT leaves. */
  "commit-before-decision-forced",
  /** replica/recovery.ts: recovery treats a prepared transaction as aborted. */
  "recovery-prepared-as-aborted",
  /** replica/node.ts catch-up: a catching-up replica skips the deletions (tombstones) it copies. */
  "catch-up-skips-deletions",
  /**
   * replica/peer-queries.ts: the real bug the simulator found (regression seed 194), put back: a
   * replica in doubt asks each peer about all its in-doubt transactions, including ones that peer
   * took no part in.
   */
  "peer-query-about-all",
  /** coordinator/recovery.ts: recovery forgets the committed requests (as if the log kept no request ids). */
  "recovery-forgets-requests",
  /**
   * The simulated client (test/sim/workload.ts) retries a write with a new request id each time, so
   * the coordinator cannot tell a retry: a client-side bug, planted in the simulator's client.
   */
  "retry-with-new-request-id",
  /**
   * coordinator/core.ts readTargets/readAccepted: a read goes to any replica, in sync or not, and an
   * answer from one that left the in-sync set meanwhile is kept.
   */
  "read-from-any-replica",
  /**
   * coordinator/core.ts cacheCommitted: a commit leaves the coordinator's cache of key states as it
   * was, so a later transaction evaluates over the state before it.
   */
  "value-cache-keeps-old-state",
  /**
   * coordinator/core.ts readAccepted: a read takes the value of a replica that is unsure of the key
   * (it had not voted YES for a write answered early, on the votes of a majority, nor acknowledged it).
   */
  "read-from-unsure-replica",
  /**
   * coordinator/core.ts onResolve: the bug of issue 11, put back. The shell decided "still in
   * flight?" before the step (and then asked no replica), and the core did not consult its
   * remembered commits: an operator's abort of a transaction that committed meanwhile is "done".
   */
  "resolve-decided-outside-the-step",
  /**
   * coordinator/core.ts requestEnded: a definite failure (ABORTED, FAILED_PRECONDITION,
   * INVALID_ARGUMENT) is not remembered, so a later attempt of the same request id may still commit.
   */
  "forget-definite-failures",
  /** replica/core.ts fence: a call of a superseded epoch is served (a paused old coordinator still decides and reads). */
  "skip-fence",
  /**
   * coordinator/replicated-log.ts: a force is done once the coordinator's own copy is durable, without
   * a majority of the replicas: a COMMIT is sent and acknowledged before a successor could find it.
   */
  "ack-before-quorum",
  /**
   * coordinator/takeover.ts: the successor recovers from the first copy of the decision log it gets,
   * not the newest: it may presume abort for a transaction that was acknowledged.
   */
  "takeover-from-any-copy",
  /**
   * replica/tombstones.ts: a replica collects tombstones up to the highest commit it applied,
   * ignoring the coordinator's floor (commits of other keys below it may still be on their way).
   */
  "gc-ignores-floor",
  /** replica/tombstones.ts: a full copy leaves the keys it does not contain (deleted at the source) as they were. */
  "full-copy-keeps-stale-keys",
  /**
   * replica/node.ts snapshotMoment: the first version's rule put back: a backup's snapshot taken when
   * nothing was prepared here is declared complete without a collection floor that covers it.
   */
  "backup-trusts-quiet",
  /**
   * replica/node.ts copyRows: a full copy from a snapshot starts without waiting for the
   * transactions this replica held prepared to be decided (afterPriorDecisions).
   */
  "snapshot-skips-prior-decisions",
] as const;
export type Mutation = (typeof mutations)[number];

let current: Mutation = "none";

/** The planted bug in force ("none" unless a test set one). */
export function mutation(): Mutation {
  return current;
}

/** Test-only: plants a bug (or "none"). */
export function setMutation(next: Mutation): void {
  current = next;
}
