// Proves that the coordinator's pure core (coordinator/core.ts) keeps the in-sync set as its header
// comment says:
// - a replica with no good health check for more than replicaDownAfterMs, or one that refused a
//   call ("unreachable" with down: true, at once), leaves the set with a forced membership record
//   naming the first commit sequence number it may have missed, and writes go on without it;
// - a transaction still reading that loses a participant this way runs again without it (a new
//   transaction id, the same locks and waiting calls; no replica heard of it, so no ABORT), so its
//   client sees a slower success; after txnAttemptsMax attempts it fails with UNAVAILABLE;
// - a transaction past its PREPARE (its COMMIT record logged: intent commits, issue 13) is never
//   aborted: it commits without the replica that left, which owes the acknowledgement (and gets
//   COMMIT with the writes if it did not vote YES); a write is decided (COMMIT to every participant,
//   with the client's answer) once a majority of all three replicas voted YES or every participant
//   it still needs voted, so a NO voter gets its writes at the decision and, if it leaves before
//   acknowledging them, owes the ack;
// - a replica that was merely slow (down: false) stays in sync and gets the writes with its COMMIT
//   for the transactions it could not prepare; like any participant that had not voted YES at the
//   decision, it is unsure of their keys (readAccepted refuses its reads of them) until it acks;
// - a COMMIT it had not acknowledged is owed to it: the client was answered at the decision, the keys
//   are freed once the in-sync replicas acknowledged, but the transaction is kept (outcome "commit",
//   COMMIT re-sent) until the owed replica acknowledges, and only then ENDed;
// - it never leaves if fewer than minInSync would stay: then writes fail fast with UNAVAILABLE
//   until it answers health checks again;
// - a replica that is back catches up: it joins new transactions at once, its catch-up copy starts
//   once every older transaction finished, a stale or failed "caught-up" is handled, retries wait
//   catchUpRetryMs, and it is readable only once in sync again (stillReadable never revives an old
//   incarnation);
// - recovery (coordinator/recovery.ts) rebuilds the membership and the owed commits, including a
//   log in which an owed commit's key was taken by a newer commit; membership records round-trip
//   through coordinator/records.ts and garbage shapes are DATA_LOSS.
//
// How: each test builds a core with participants r1, r2, r3 (minInSync 2, --on-conflict abort) and
// steps it one input at a time with an explicit nowMs, a fresh Ready per step, asserting on that
// Ready (persist, send, replies, outcomes) and on the accessors (memberList, the read routing of
// core.ts over the core's view: readTargets, readAccepted; inFlight, lockedKeyCount). Healthy replicas get a good health check right before
// every tick, since a tick removes a member whose last good check is older than replicaDownAfterMs.
// Every persisted record is kept, in order, as the decision log a recovery would read.
import { describe, expect, it } from "vitest";
import { Code, DataLoss } from "../../common/errors";
import { limits } from "../../common/limits";
import {
  CoordinatorCore,
  newReady,
  readAccepted,
  readTargets,
  type CoordinatorConfig,
  type Input,
  type Member,
  type Message,
  type Ready,
  type RecoveredCoordinator,
  type Txn,
} from "../../coordinator/core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord } from "../../coordinator/records";
import { recoverCoordinator } from "../../coordinator/recovery";

/** The replicas a read may go to, in the core's order (readTargets with a random() that never swaps). */
function readable(core: CoordinatorCore): { id: string; incarnation: number }[] {
  return readTargets(core.view(), () => 0.999999);
}

/** Whether an answer from replica id, sent at incarnation, is kept (readAccepted over the core's view). */
function stillReadable(core: CoordinatorCore, id: string, incarnation: number): boolean {
  return readAccepted(core.view(), id, incarnation, []);
}

/**
 * Whether replica id's answer to a read of `key`, sent at its current incarnation, is kept: false
 * while it is unsure of the key (it had neither voted YES for nor acknowledged a write of it that
 * was answered).
 */
function readsKey(core: CoordinatorCore, id: string, key: string): boolean {
  const member = core.memberList().find((m) => m.id === id);
  expect(member).toBeDefined();
  return readAccepted(core.view(), id, member!.incarnation, [key]);
}

const CONFIG: CoordinatorConfig = { participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 2 };
/** YES votes that decide a write early: a majority of the three configured replicas (quorumOf). */
const MAJORITY = 2;
const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };
/** The first tick at which a replica last heard at 0 is removed. */
const DOWN_AT = limits.replicaDownAfterMs + 1;

/** A core, stepped one input at a time, and the records it asked to persist (its decision log). */
class Driver {
  readonly core: CoordinatorCore;
  readonly log: CoordinatorRecord[] = [];

  /** A core; a fresh one's replicas have all answered a first health check (unless `contacted` is false). */
  constructor(recovered: RecoveredCoordinator = FRESH, nowMs = 0, contacted = recovered === FRESH) {
    this.core = new CoordinatorCore(CONFIG, recovered, nowMs);
    this.log.push(this.core.startRecord());
    if (contacted) for (const replicaId of CONFIG.participants) this.health(replicaId, nowMs);
  }

  step(input: Input): Ready {
    const out = newReady();
    this.core.step(input, out);
    this.log.push(...out.persist.map((entry) => entry.record));
    return out;
  }

  health(replicaId: string, nowMs: number, ok = true): Ready {
    return this.step({ kind: "health", replicaId, ok, nowMs });
  }

  /** Good health checks from `healthy` at nowMs, then a tick; returns the tick's Ready. */
  tick(nowMs: number, healthy: readonly string[]): Ready {
    for (const replicaId of healthy) expect(this.health(replicaId, nowMs).send).toEqual([]);
    return this.step({ kind: "tick", nowMs });
  }

  write(reqId: number, key: string, nowMs: number): Ready {
    return this.step({ kind: "write", reqId, writes: [{ key, value: Buffer.from(`v${reqId}`, "utf8") }], nowMs });
  }

  /**
   * Starts a write that must go ahead; returns its transaction id, where it prepares, and the commit
   * sequence number of its COMMIT record, forced in the Ready of its (early) PREPAREs.
   */
  start(reqId: number, key: string, nowMs: number): { txnId: string; preparedAt: string[]; commitSeq: number } {
    const ready = this.write(reqId, key, nowMs);
    expect(ready.replies).toEqual([]);
    const prepares = preparesOf(ready);
    expect(prepares.length).toBeGreaterThan(0);
    const txnId = prepares[0]!.txnId;
    for (const message of prepares) {
      expect(message.txnId).toBe(txnId);
      expect(message.participants).toEqual(prepares.map((m) => m.to));
    }
    const commits = ready.persist.filter(({ record }) => record.kind === "commit");
    expect(commits).toEqual([{ record: expect.objectContaining({ kind: "commit", txnId, participants: prepares.map((m) => m.to), keys: [key] }), force: true }]);
    const record = commits[0]!.record;
    return { txnId, preparedAt: prepares.map((message) => message.to), commitSeq: record.kind === "commit" ? record.commitSeq : -1 };
  }

  yes(replicaId: string, txnId: string, nowMs: number): Ready {
    return this.step({ kind: "votes", replicaId, votes: [{ txnId, vote: "yes" }], nowMs });
  }

  ack(replicaId: string, txnId: string, nowMs: number): Ready {
    return this.step({ kind: "acks", replicaId, txnIds: [txnId], nowMs });
  }

  /**
   * A write that every listed replica votes for and acknowledges; returns its commit sequence number.
   * It is decided (COMMIT to every participant, the client's answer) at the vote that makes a
   * majority of all replicas, or at the last vote if fewer are listed. A replica that votes after
   * that hears nothing more, and until its vote its reads of the key are refused. The last ack ENDs
   * it and answers nothing.
   */
  commitWith(reqId: number, key: string, replicas: readonly string[], nowMs: number): number {
    const { txnId, preparedAt, commitSeq } = this.start(reqId, key, nowMs);
    expect(preparedAt).toEqual(replicas);
    const deciding = Math.min(MAJORITY, replicas.length) - 1;
    const writes = [{ key, value: Buffer.from(`v${reqId}`, "utf8") }];
    for (const [i, id] of replicas.entries()) {
      if (i > deciding) expect(readsKey(this.core, id, key)).toBe(false);
      const vote = this.yes(id, txnId, nowMs);
      if (i !== deciding) {
        expect(vote).toEqual(newReady());
        expect(readsKey(this.core, id, key)).toBe(true);
        continue;
      }
      expect(vote.persist).toEqual([]);
      expect(vote.decided).toEqual([txnId]);
      // Those that have not voted yet get the writes with their COMMIT.
      expect(commitsOf(vote, txnId)).toEqual(replicas.map((to, j) => ({ kind: "commit", to, txnId, commitSeq, urgent: false, writes: j > deciding ? writes : null })));
      expect(vote.replies).toEqual([{ reqId, result: { ok: true, commitSeq, txnId, outcome: { branch: "then", results: [{ kind: "put", key }] } } }]);
    }
    let last = newReady();
    for (const id of replicas) {
      last = this.ack(id, txnId, nowMs);
      expect(last.replies).toEqual([]);
    }
    expect(last.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    return commitSeq;
  }

  member(id: string): Member {
    const member = this.core.memberList().find((m) => m.id === id);
    expect(member).toBeDefined();
    return member!;
  }

  states(): Record<string, string> {
    return Object.fromEntries(this.core.memberList().map((m) => [m.id, m.state]));
  }

  txn(txnId: string): Txn | undefined {
    return this.core.inFlight().find((txn) => txn.txnId === txnId);
  }
}

function membership(inSync: string[], outSince: Record<string, number>): { record: CoordinatorRecord; force: boolean } {
  return { record: { kind: "membership", inSync, outSince }, force: true };
}

/** The PREPAREs of a Ready: they leave early, without waiting for the Ready's force (none is in send). */
function preparesOf(ready: Ready): Extract<Message, { kind: "prepare" }>[] {
  expect(ready.send.filter((message) => message.kind === "prepare")).toEqual([]);
  return ready.early.flatMap((message) => (message.kind === "prepare" ? [message] : []));
}

/** Replicas a Ready sends a message of this kind about this transaction to (PREPAREs: early). */
function sentTo(ready: Ready, kind: Message["kind"], txnId: string): string[] {
  const messages = kind === "prepare" ? preparesOf(ready) : ready.send;
  return messages.filter((message) => message.kind === kind && "txnId" in message && message.txnId === txnId).map((message) => message.to);
}

/** The COMMIT messages a Ready sends about this transaction. */
function commitsOf(ready: Ready, txnId: string): Extract<Message, { kind: "commit" }>[] {
  return ready.send.flatMap((message) => (message.kind === "commit" && message.txnId === txnId ? [message] : []));
}

function catchUps(ready: Ready): Message[] {
  return ready.send.filter((message) => message.kind === "catch-up");
}

function failure(ready: Ready, reqId: number): { code: number; message: string } {
  // A refusal up front leaves at once (Ready.immediate); a failure of a started write with its turn.
  const reply = [...ready.replies, ...ready.immediate].find((r) => r.reqId === reqId);
  expect(reply).toBeDefined();
  const result = reply!.result;
  if (result.ok) throw new Error(`write ${reqId} succeeded, expected a failure`);
  return result;
}

/** Takes r3 out of the set by health checks: r1 and r2 answer, r3 stays silent since 0. */
function takeR3Out(d: Driver, expectedOutSince: number): Ready {
  const ready = d.tick(DOWN_AT, ["r1", "r2"]);
  expect(ready.persist).toEqual([membership(["r1", "r2"], { r3: expectedOutSince })]);
  return ready;
}

describe("leaving the in-sync set by failed health checks", () => {
  it("removes a silent replica after replicaDownAfterMs, and writes then commit with the other two alone", () => {
    const d = new Driver();
    expect(d.commitWith(1, "k0", ["r1", "r2", "r3"], 0)).toBe(1);

    // Exactly replicaDownAfterMs without a good check is not yet too long.
    const atLimit = d.tick(limits.replicaDownAfterMs, ["r1", "r2"]);
    expect(atLimit.persist).toEqual([]);
    expect(d.states()).toEqual({ r1: "in-sync", r2: "in-sync", r3: "in-sync" });

    // One ms more: r3 leaves, durably, out since the first commit it has not seen (lastCommitSeq + 1).
    const gone = d.tick(DOWN_AT, ["r1", "r2"]);
    expect(gone.persist).toEqual([membership(["r1", "r2"], { r3: 2 })]);
    expect(gone.send).toEqual([]);
    expect(d.states()).toEqual({ r1: "in-sync", r2: "in-sync", r3: "out" });
    expect(d.member("r3")).toMatchObject({ state: "out", healthy: false, incarnation: 1, outSinceSeq: 2 });
    expect(readable(d.core).map((r) => r.id)).toEqual(["r1", "r2"]);

    // A new write prepares at r1 and r2 only, and their votes and acks alone commit it.
    const { txnId, preparedAt, commitSeq } = d.start(2, "a", DOWN_AT + 1);
    expect(preparedAt).toEqual(["r1", "r2"]);
    expect(commitSeq).toBe(2);
    expect(d.yes("r1", txnId, DOWN_AT + 1)).toEqual(newReady());
    const decided = d.yes("r2", txnId, DOWN_AT + 1);
    expect(decided.persist).toEqual([]);
    expect(sentTo(decided, "commit", txnId)).toEqual(["r1", "r2"]);
    expect(decided.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(d.ack("r1", txnId, DOWN_AT + 2)).toEqual(newReady());
    expect(d.core.lockedKeyCount()).toBe(1);
    const done = d.ack("r2", txnId, DOWN_AT + 2);
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    expect(d.core.inFlight()).toEqual([]);
    expect(d.core.lockedKeyCount()).toBe(0);

    // Staying out does not log the membership again.
    expect(d.tick(DOWN_AT + 2_000, ["r1", "r2"]).persist).toEqual([]);
  });
});

describe("unreachable replicas", () => {
  it("a refused connection from a replica not reached since the start (still starting up) does not remove it; the timeout does", () => {
    const d = new Driver(FRESH, 0, false);
    expect(d.step({ kind: "unreachable", replicaId: "r3", txnIds: [], reason: "refused", down: true, nowMs: 1 }).persist).toEqual([]);
    expect(d.step({ kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 2 }).persist).toEqual([]);
    expect(d.member("r3").state).toBe("in-sync");
    expect(d.tick(DOWN_AT, ["r1", "r2"]).persist).toEqual([membership(["r1", "r2"], { r3: 1 })]);
  });

  it("a refused health check removes a replica that was reached before, at once", () => {
    const d = new Driver();
    expect(d.step({ kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 5 }).persist).toEqual([membership(["r1", "r2"], { r3: 1 })]);
  });

  it("down: true removes the replica at once; what it was preparing commits without it, which owes the acknowledgement", () => {
    const d = new Driver();
    const t1 = d.start(1, "a", 0);
    const t2 = d.start(2, "b", 0);
    expect(t1.preparedAt).toEqual(["r1", "r2", "r3"]);
    expect([t1.commitSeq, t2.commitSeq]).toEqual([1, 2]);
    d.yes("r1", t1.txnId, 0);

    // 10 ms in: far less than replicaDownAfterMs, yet the refused connection is enough. r3 is out
    // since 1: both COMMIT records are logged, and it applied neither.
    const ready = d.step({ kind: "unreachable", replicaId: "r3", txnIds: [t1.txnId], reason: "connect ECONNREFUSED", down: true, nowMs: 10 });
    expect(ready.persist).toEqual([membership(["r1", "r2"], { r3: 1 })]);
    expect(d.member("r3")).toMatchObject({ state: "out", healthy: false, incarnation: 1 });
    // Nothing is aborted and nothing runs again: both keep their ids, locks and COMMIT records, and
    // wait for the votes of r1 and r2 alone.
    expect(ready.replies).toEqual([]);
    expect(ready.send).toEqual([]);
    expect(ready.early).toEqual([]);
    expect(ready.retried).toEqual([]);
    expect(d.core.inFlight().map((txn) => [txn.txnId, txn.phase, [...txn.required], [...txn.owed]])).toEqual([
      [t1.txnId, "preparing", ["r1", "r2"], ["r3"]],
      [t2.txnId, "preparing", ["r1", "r2"], ["r3"]],
    ]);
    expect(d.core.lockedKeyCount()).toBe(2);
    expect(failure(d.write(9, "a", 11), 9).code).toBe(Code.ABORTED);

    // The clients get their commits when r1 and r2 voted: COMMIT goes to all three at once (r3 did
    // not vote YES, so its COMMIT carries the writes). It was reported unreachable for t1 (it will
    // get the writes): that COMMIT is urgent; for t2 it merely left, and nothing waits for "b".
    for (const [i, t] of [t1, t2].entries()) {
      if (i === 1) expect(d.yes("r1", t.txnId, 12)).toEqual(newReady());
      const decided = d.yes("r2", t.txnId, 12);
      expect(decided.replies).toEqual([{ reqId: i + 1, result: { ok: true, commitSeq: t.commitSeq, txnId: t.txnId, outcome: { branch: "then", results: [{ kind: "put", key: ["a", "b"][i] }] } } }]);
      expect(commitsOf(decided, t.txnId)).toEqual([
        { kind: "commit", to: "r1", txnId: t.txnId, commitSeq: t.commitSeq, urgent: false, writes: null },
        { kind: "commit", to: "r2", txnId: t.txnId, commitSeq: t.commitSeq, urgent: false, writes: null },
        { kind: "commit", to: "r3", txnId: t.txnId, commitSeq: t.commitSeq, urgent: i === 0, writes: [{ key: ["a", "b"][i], value: Buffer.from(`v${i + 1}`, "utf8") }] },
      ]);
      expect(d.ack("r1", t.txnId, 13)).toEqual(newReady());
      // The in-sync acks free the key; r3 still owes its ack, so no END yet.
      const acked = d.ack("r2", t.txnId, 13);
      expect(acked.replies).toEqual([]);
      expect(acked.persist).toEqual([]);
      expect(d.txn(t.txnId)?.phase).toBe("owed");
    }
    expect(d.core.lockedKeyCount()).toBe(0);
    expect(d.start(3, "a", 14).preparedAt).toEqual(["r1", "r2"]);
    expect(d.ack("r3", t1.txnId, 15).persist).toEqual([{ record: { kind: "end", txnId: t1.txnId }, force: false }]);
  });

  it("a NO voter gets COMMIT with the writes at the decision, with the answer; leaving before it acknowledged them, it owes the ack and the in-sync acks free the key", () => {
    const d = new Driver();
    const t = d.start(1, "a", 0);
    const writes = [{ key: "a", value: Buffer.from("v1", "utf8") }];
    // r3 votes NO first: with one YES and r2 still to vote, nothing is decided.
    expect(d.step({ kind: "votes", replicaId: "r3", votes: [{ txnId: t.txnId, vote: "no", reason: "locked" }], nowMs: 0 })).toEqual(newReady());
    expect(d.yes("r1", t.txnId, 0)).toEqual(newReady());
    // r2's YES makes a majority: COMMIT to all three at once (the NO voter's with the writes, urgent)
    // and the answer, though r3 holds nothing of the write yet.
    const decided = d.yes("r2", t.txnId, 1);
    expect(decided.persist).toEqual([]);
    expect(decided.decided).toEqual([t.txnId]);
    expect(commitsOf(decided, t.txnId)).toEqual([
      { kind: "commit", to: "r1", txnId: t.txnId, commitSeq: 1, urgent: false, writes: null },
      { kind: "commit", to: "r2", txnId: t.txnId, commitSeq: 1, urgent: false, writes: null },
      { kind: "commit", to: "r3", txnId: t.txnId, commitSeq: 1, urgent: true, writes },
    ]);
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: t.txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    // Still in sync, r3 may not have applied it: its reads of "a" are refused, not those of r1 and r2.
    expect(readsKey(d.core, "r3", "a")).toBe(false);
    expect(readsKey(d.core, "r1", "a")).toBe(true);
    expect(readsKey(d.core, "r2", "a")).toBe(true);
    // r3 goes down before it acknowledged: it leaves, durably; nothing goes out again and the client
    // gets no second answer.
    const gone = d.step({ kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 2 });
    expect(gone.persist).toEqual([membership(["r1", "r2"], { r3: 1 })]);
    expect(gone.send).toEqual([]);
    expect(gone.replies).toEqual([]);
    expect(gone.decided).toEqual([]);
    // The key stays locked until the in-sync replicas acknowledge.
    expect(d.core.lockedKeyCount()).toBe(1);
    expect(d.ack("r1", t.txnId, 3)).toEqual(newReady());
    expect(d.core.lockedKeyCount()).toBe(1);
    expect(d.ack("r2", t.txnId, 3).persist).toEqual([]);
    expect(d.txn(t.txnId)).toMatchObject({ phase: "owed" });
    expect([...d.txn(t.txnId)!.owed]).toEqual(["r3"]);
    expect(d.core.lockedKeyCount()).toBe(0);
    expect(d.ack("r3", t.txnId, 4).persist).toEqual([{ record: { kind: "end", txnId: t.txnId }, force: false }]);
  });

  it("after txnAttemptsMax attempts of a transaction still reading that each lost a replica, it fails with UNAVAILABLE naming the last", () => {
    // One replica per attempt to lose, and one to stay (minInSync 1 lets the others go).
    const participants = Array.from({ length: limits.txnAttemptsMax + 1 }, (_, i) => `r${i + 1}`);
    const core = new CoordinatorCore({ participants, onConflict: "abort", minInSync: 1 }, FRESH, 0);
    const step = (input: Input): Ready => {
      const out = newReady();
      core.step(input, out);
      return out;
    };
    for (const replicaId of participants) step({ kind: "health", replicaId, ok: true, nowMs: 0 });
    const program = { conditions: [], then: [{ kind: "incr" as const, key: "a", delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
    expect(step({ kind: "txn", reqId: 1, requestId: null, method: "txn", program, nowMs: 0 }).reads).toHaveLength(1);
    for (let attempt = 1; attempt <= limits.txnAttemptsMax; attempt += 1) {
      const [txn] = core.inFlight();
      expect(txn?.phase, `attempt ${attempt}`).toBe("reading");
      expect(txn?.participants, `attempt ${attempt}`).toEqual(participants.slice(0, participants.length - attempt + 1));
      const leaving = participants[participants.length - attempt]!;
      const ready = step({ kind: "health", replicaId: leaving, ok: false, refused: true, nowMs: attempt });
      // No replica heard of a reading transaction: nothing to abort anywhere.
      expect(ready.send, `attempt ${attempt}`).toEqual([]);
      expect(ready.persist.map(({ record }) => record.kind), `attempt ${attempt}`).toEqual(["membership"]);
      if (attempt < limits.txnAttemptsMax) {
        expect(ready.replies, `attempt ${attempt}`).toEqual([]);
        const [again] = core.inFlight();
        expect(ready.reads, `attempt ${attempt}`).toEqual([{ txnId: again!.txnId, keys: ["a"] }]);
        expect(ready.retried, `attempt ${attempt}`).toEqual([{ from: txn!.txnId, to: again!.txnId, reason: expect.stringContaining(`replica ${leaving} left the in-sync set`) }]);
        continue;
      }
      const f = failure(ready, 1);
      expect(f.code).toBe(Code.UNAVAILABLE);
      expect(f.message).toContain(`replica ${leaving} left the in-sync set`);
      expect(core.inFlight()).toEqual([]);
      expect(core.lockedKeyCount()).toBe(0);
    }
  });

  it("down: false: the listed transactions commit with the writes to that replica, which stays in sync (unsure of their keys until it acks); the others still count its vote", () => {
    const d = new Driver();
    const t1 = d.start(1, "a", 0);
    const t2 = d.start(2, "b", 0);
    const ready = d.step({ kind: "unreachable", replicaId: "r3", txnIds: [t1.txnId], reason: "deadline exceeded", down: false, nowMs: 10 });
    expect(ready).toEqual(newReady());
    expect(d.member("r3")).toMatchObject({ state: "in-sync", healthy: true, incarnation: 0 });
    expect(readable(d.core).map((r) => r.id)).toEqual(["r1", "r2", "r3"]);

    // t1 waits for the votes of r1 and r2; then COMMIT goes to all three with the answer, r3's (still
    // in sync) with the writes, urgent.
    expect(d.yes("r1", t1.txnId, 11)).toEqual(newReady());
    const decided = d.yes("r2", t1.txnId, 11);
    expect(commitsOf(decided, t1.txnId)).toEqual([
      { kind: "commit", to: "r1", txnId: t1.txnId, commitSeq: 1, urgent: false, writes: null },
      { kind: "commit", to: "r2", txnId: t1.txnId, commitSeq: 1, urgent: false, writes: null },
      { kind: "commit", to: "r3", txnId: t1.txnId, commitSeq: 1, urgent: true, writes: [{ key: "a", value: Buffer.from("v1", "utf8") }] },
    ]);
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: t1.txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    // r3 may not have applied it yet: its reads of "a" are refused until it acknowledges; of "b" not.
    expect(readsKey(d.core, "r3", "a")).toBe(false);
    expect(readsKey(d.core, "r3", "b")).toBe(true);
    expect(d.ack("r3", t1.txnId, 12)).toEqual(newReady());
    expect(readsKey(d.core, "r3", "a")).toBe(true);

    // t2 is untouched: r3 gets no writes for it, and its vote still counts. With r1's YES and r2's
    // NO, t2 waits for r3's vote (were r3 marked for the writes, r2's NO would decide it).
    expect(d.txn(t2.txnId)?.phase).toBe("preparing");
    expect(d.yes("r1", t2.txnId, 20)).toEqual(newReady());
    expect(d.step({ kind: "votes", replicaId: "r2", votes: [{ txnId: t2.txnId, vote: "no", reason: "locked" }], nowMs: 20 })).toEqual(newReady());
    const t2Decided = d.yes("r3", t2.txnId, 20);
    expect(t2Decided.decided).toEqual([t2.txnId]);
    expect(t2Decided.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId: t2.txnId, outcome: { branch: "then", results: [{ kind: "put", key: "b" }] } } }]);
    expect(commitsOf(t2Decided, t2.txnId)).toEqual([
      { kind: "commit", to: "r1", txnId: t2.txnId, commitSeq: 2, urgent: false, writes: null },
      { kind: "commit", to: "r2", txnId: t2.txnId, commitSeq: 2, urgent: true, writes: [{ key: "b", value: Buffer.from("v2", "utf8") }] },
      { kind: "commit", to: "r3", txnId: t2.txnId, commitSeq: 2, urgent: false, writes: null },
    ]);
    expect(d.start(3, "c", 21).preparedAt).toEqual(["r1", "r2", "r3"]);
  });
});

describe("COMMITs owed to a replica that left", () => {
  it("answers at the decision, unlocks once the in-sync replicas ack, keeps the decision until the owed ack, then ENDs", () => {
    const d = new Driver();
    // T1 on "a": every vote YES, commit sequence number 1, answered at r2's (a majority); r3's
    // comes after the decision and sends nothing. r1 acks, r2 and r3 not yet.
    const t1 = d.start(1, "a", 0).txnId;
    expect(d.yes("r1", t1, 0)).toEqual(newReady());
    const decided = d.yes("r2", t1, 0);
    expect(decided.decided).toEqual([t1]);
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: t1, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(readsKey(d.core, "r3", "a")).toBe(false);
    expect(d.yes("r3", t1, 0)).toEqual(newReady());
    // Holding T1 prepared, r3's reads of "a" wait for it: they are kept again.
    expect(readsKey(d.core, "r3", "a")).toBe(true);
    expect(d.ack("r1", t1, 10)).toEqual(newReady());
    // T2 on "b" commits fully (sequence number 2), so lastCommitSeq + 1 = 3 differs from T1's.
    expect(d.commitWith(2, "b", ["r1", "r2", "r3"], 20)).toBe(2);
    expect(d.core.lockedKeyCount()).toBe(1);

    // r3 leaves: out since 1, T1's sequence number, the first commit it may have missed.
    const gone = takeR3Out(d, 1);
    expect(gone.replies).toEqual([]); // answered at the decision already
    expect(d.core.lockedKeyCount()).toBe(1); // r2 has not acked T1 yet
    expect(d.txn(t1)?.phase).toBe("committing");

    // r2's ack is the last one T1 needs from the in-sync set: "a" is free, and no second answer.
    const inSyncAcked = d.ack("r2", t1, DOWN_AT + 1);
    expect(inSyncAcked.replies).toEqual([]);
    expect(inSyncAcked.send).toEqual([]);
    expect(inSyncAcked.persist).toEqual([]); // no END: r3 still owes its ack
    expect(d.core.lockedKeyCount()).toBe(0);
    const owed = d.txn(t1);
    expect(owed?.phase).toBe("owed");
    expect([...owed!.owed]).toEqual(["r3"]);

    // A new write to "a" is not refused (it prepares at r1 and r2).
    expect(d.start(3, "a", DOWN_AT + 2).preparedAt).toEqual(["r1", "r2"]);

    // A replica asking about T1 hears commit, never abort, and T1 is not touched by asking.
    const asked = d.step({ kind: "outcome-query", queryId: 7, txnIds: [t1], nowMs: DOWN_AT + 3 });
    expect(asked.outcomes).toEqual([{ queryId: 7, outcomes: [{ txnId: t1, outcome: "commit", commitSeq: 1 }] }]);
    expect(asked.send).toEqual([]);
    expect(d.txn(t1)?.phase).toBe("owed");

    // Ticks re-send COMMIT to r3 alone (the others acked), with backoff.
    const resend1 = d.tick(2_000, ["r1", "r2"]);
    expect(sentTo(resend1, "commit", t1)).toEqual(["r3"]);
    expect(resend1.send.filter((m) => m.kind === "commit" && m.to === "r3")).toEqual([{ kind: "commit", to: "r3", txnId: t1, commitSeq: 1, urgent: true, writes: null }]);
    expect(sentTo(d.tick(2_001, ["r1", "r2"]), "commit", t1)).toEqual([]);
    expect(sentTo(d.tick(2_000 + limits.decisionResendMsMax, ["r1", "r2"]), "commit", t1)).toEqual(["r3"]);
    expect(d.txn(t1)?.phase).toBe("owed");

    // Only r3's ack ENDs T1 (unforced) and forgets it.
    const last = d.ack("r3", t1, 4_500);
    expect(last.persist).toEqual([{ record: { kind: "end", txnId: t1 }, force: false }]);
    expect(last.replies).toEqual([]);
    expect(d.txn(t1)).toBeUndefined();
    const afterEnd = d.step({ kind: "outcome-query", queryId: 8, txnIds: [t1], nowMs: 4_501 });
    // No longer tracked, but its commit is remembered (for exactly-once): a late question hears COMMIT.
    expect(afterEnd.outcomes).toEqual([{ queryId: 8, outcomes: [{ txnId: t1, outcome: "commit", commitSeq: 1 }] }]);
  });

  it("frees the keys at once when the replica leaves after the in-sync ones acked (the client was answered at the decision)", () => {
    const d = new Driver();
    // r1 and r2 vote YES and decide it; r3 never votes (slow, then gone).
    const t1 = d.start(1, "a", 0).txnId;
    expect(d.yes("r1", t1, 0)).toEqual(newReady());
    const decided = d.yes("r2", t1, 0);
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: t1, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(sentTo(decided, "commit", t1)).toEqual(["r1", "r2", "r3"]);
    expect(d.ack("r1", t1, 10)).toEqual(newReady());
    expect(d.ack("r2", t1, 10)).toEqual(newReady());
    // r3 is still in sync and required: "a" stays locked, and r3's reads of it are refused.
    expect(d.core.lockedKeyCount()).toBe(1);
    expect(readsKey(d.core, "r3", "a")).toBe(false);
    expect(d.txn(t1)?.phase).toBe("committing");
    const gone = takeR3Out(d, 1);
    expect(gone.replies).toEqual([]); // no second answer
    expect(d.core.lockedKeyCount()).toBe(0);
    expect(d.txn(t1)?.phase).toBe("owed");
    expect(d.start(2, "a", DOWN_AT + 1).preparedAt).toEqual(["r1", "r2"]);
  });
});

describe("minInSync", () => {
  it("keeps a failing replica in the set when leaving would drop below minInSync, and writes fail fast until it is back", () => {
    const d = new Driver();
    takeR3Out(d, 1);
    // r2's last good check was at DOWN_AT; STUCK is past replicaDownAfterMs after it.
    const STUCK = DOWN_AT + limits.replicaDownAfterMs + 100;

    // r2 stops answering too. Leaving would leave one replica in sync, fewer than minInSync 2.
    d.health("r1", STUCK - 100);
    const stuck = d.tick(STUCK, ["r1"]);
    expect(STUCK - DOWN_AT).toBeGreaterThan(limits.replicaDownAfterMs);
    expect(stuck.persist).toEqual([]);
    expect(d.member("r2")).toMatchObject({ state: "in-sync", healthy: false, incarnation: 0 });
    expect(readable(d.core).map((r) => r.id)).toEqual(["r1"]);
    expect(stillReadable(d.core, "r2", 0)).toBe(true); // it did not leave: it misses no writes

    const refused = d.write(1, "a", STUCK + 1);
    expect(refused.send).toEqual([]);
    expect(refused.persist).toEqual([]);
    expect(refused.replies).toEqual([]);
    expect(refused.immediate).toHaveLength(1);
    const f = failure(refused, 1);
    expect(f.code).toBe(Code.UNAVAILABLE);
    expect(f.message).toContain("2 of 3 replicas are in sync");
    expect(f.message).toContain("writes need at least 2 (--min-in-sync)");
    expect(f.message).toContain("r2");
    expect(d.core.inFlight()).toEqual([]);
    expect(d.core.lockedKeyCount()).toBe(0);

    // Later ticks do not take it out either, and a refused connection does not either.
    expect(d.tick(STUCK + 500, ["r1"]).persist).toEqual([]);
    expect(d.step({ kind: "unreachable", replicaId: "r2", txnIds: [], reason: "refused", down: true, nowMs: STUCK + 501 }).persist).toEqual([]);
    expect(d.member("r2").state).toBe("in-sync");
    expect(failure(d.write(2, "a", STUCK + 502), 2).code).toBe(Code.UNAVAILABLE);

    // r2's next good health check lets writes go ahead again.
    expect(d.health("r2", STUCK + 600).send).toEqual([]);
    expect(d.member("r2")).toMatchObject({ state: "in-sync", healthy: true });
    expect(d.start(3, "a", STUCK + 600).preparedAt).toEqual(["r1", "r2"]);
  });
});

describe("catching up", () => {
  it("a replica that is back joins new writes at once, copies from an in-sync replica, and is readable only once caught up", () => {
    const d = new Driver();
    expect(d.commitWith(1, "k0", ["r1", "r2", "r3"], 0)).toBe(1);
    takeR3Out(d, 2);
    expect(d.member("r3").incarnation).toBe(1);

    const back = d.health("r3", 600);
    expect(back.persist).toEqual([]);
    expect(d.member("r3")).toMatchObject({ state: "catching-up", incarnation: 2, healthy: true });
    const [catchUp] = catchUps(back);
    expect(catchUps(back)).toHaveLength(1);
    expect(catchUp).toMatchObject({ kind: "catch-up", to: "r3", sinceSeq: 2, incarnation: 2 });
    expect(["r1", "r2"]).toContain((catchUp as Extract<Message, { kind: "catch-up" }>).sourceId);

    // Catching up: a participant of new writes (votes and acks needed), not a reader. With r2
    // voting NO, r3's YES is the one that makes a majority and decides the write.
    expect(readable(d.core).map((r) => r.id)).toEqual(["r1", "r2"]);
    expect(stillReadable(d.core, "r3", 2)).toBe(false);
    const { txnId, preparedAt, commitSeq } = d.start(2, "a", 610);
    expect(preparedAt).toEqual(["r1", "r2", "r3"]);
    expect(commitSeq).toBe(2);
    expect(d.yes("r1", txnId, 610)).toEqual(newReady());
    expect(d.step({ kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "no", reason: "locked" }], nowMs: 610 })).toEqual(newReady());
    const decided = d.yes("r3", txnId, 610);
    expect(decided.persist).toEqual([]);
    expect(commitsOf(decided, txnId)).toEqual([
      { kind: "commit", to: "r1", txnId, commitSeq: 2, urgent: false, writes: null },
      { kind: "commit", to: "r2", txnId, commitSeq: 2, urgent: true, writes: [{ key: "a", value: Buffer.from("v2", "utf8") }] },
      { kind: "commit", to: "r3", txnId, commitSeq: 2, urgent: false, writes: null },
    ]);
    expect(decided.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    // r2, in sync, may not have applied it: its reads of "a" are refused until it acknowledges.
    expect(readsKey(d.core, "r2", "a")).toBe(false);
    d.ack("r1", txnId, 620);
    expect(d.ack("r2", txnId, 620)).toEqual(newReady());
    expect(readsKey(d.core, "r2", "a")).toBe(true);
    expect(d.core.lockedKeyCount()).toBe(1); // r3, a participant while catching up, has not acked
    const done = d.ack("r3", txnId, 620);
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);

    // Caught up with this incarnation: in sync again, durably, and readable.
    const caught = d.step({ kind: "caught-up", replicaId: "r3", incarnation: 2, ok: true, reason: "", nowMs: 700 });
    expect(caught.persist).toEqual([membership(["r1", "r2", "r3"], {})]);
    expect(d.member("r3")).toMatchObject({ state: "in-sync", incarnation: 2 });
    expect(readable(d.core)).toEqual([
      { id: "r1", incarnation: 0 },
      { id: "r2", incarnation: 0 },
      { id: "r3", incarnation: 2 },
    ]);
    expect(d.tick(800, ["r1", "r2", "r3"]).persist).toEqual([]);
  });

  it("starts the copy only once every transaction older than the catch-up finished, in the Ready that finishes the last", () => {
    const d = new Driver();
    takeR3Out(d, 1);
    const old = d.start(1, "a", 510);
    expect(old.preparedAt).toEqual(["r1", "r2"]);

    const back = d.health("r3", 520);
    expect(catchUps(back)).toEqual([]);
    expect(d.member("r3")).toMatchObject({ state: "catching-up", incarnation: 2 });

    // A write started after it came back includes r3, and the copy does not wait for it.
    const young = d.start(2, "b", 530);
    expect(young.preparedAt).toEqual(["r1", "r2", "r3"]);

    d.yes("r1", old.txnId, 540);
    const decided = d.yes("r2", old.txnId, 540);
    expect(decided.decided).toEqual([old.txnId]);
    // Answered at its decision, the old transaction is not finished: the copy still waits for it.
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: old.txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(catchUps(decided)).toEqual([]);
    expect(catchUps(d.ack("r1", old.txnId, 550))).toEqual([]);
    const finished = d.ack("r2", old.txnId, 550);
    expect(finished.replies).toEqual([]);
    expect(finished.persist).toEqual([{ record: { kind: "end", txnId: old.txnId }, force: false }]);
    expect(catchUps(finished)).toHaveLength(1);
    expect(catchUps(finished)[0]).toMatchObject({ kind: "catch-up", to: "r3", sinceSeq: 1, incarnation: 2 });
    expect(d.txn(young.txnId)?.phase).toBe("preparing");
  });

  it("starts the copy in the Ready that ends the last older transaction without a write (its read failed)", () => {
    const d = new Driver();
    takeR3Out(d, 1);
    const program = { conditions: [], then: [{ kind: "incr" as const, key: "a", delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
    const [read] = d.step({ kind: "txn", reqId: 1, requestId: null, method: "txn", program, nowMs: 510 }).reads;
    expect(catchUps(d.health("r3", 520))).toEqual([]);
    const ended = d.step({ kind: "read-result", txnId: read!.txnId, states: null, reason: "no in-sync replica answered", nowMs: 530 });
    expect(failure(ended, 1).code).toBe(Code.UNAVAILABLE);
    expect(catchUps(ended)).toEqual([{ kind: "catch-up", to: "r3", sourceId: expect.any(String), sinceSeq: 1, incarnation: 2 }]);
  });

  it("a NO vote does not end the older transaction: the copy starts once it committed and its in-sync participants acknowledged", () => {
    const d = new Driver();
    takeR3Out(d, 1);
    const old = d.start(1, "a", 510);
    expect(catchUps(d.health("r3", 520))).toEqual([]);
    expect(d.yes("r2", old.txnId, 530)).toEqual(newReady());
    // r1's NO is the last vote: decided (COMMIT to both, r1's with the writes, and the answer), not
    // ended, so the copy does not start.
    const decided = d.step({ kind: "votes", replicaId: "r1", votes: [{ txnId: old.txnId, vote: "no", reason: "locked" }], nowMs: 530 });
    expect(decided.decided).toEqual([old.txnId]);
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: old.txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(commitsOf(decided, old.txnId)).toEqual([
      { kind: "commit", to: "r1", txnId: old.txnId, commitSeq: 1, urgent: true, writes: [{ key: "a", value: Buffer.from("v1", "utf8") }] },
      { kind: "commit", to: "r2", txnId: old.txnId, commitSeq: 1, urgent: false, writes: null },
    ]);
    expect(catchUps(decided)).toEqual([]);
    expect(readsKey(d.core, "r1", "a")).toBe(false);
    const r1Acked = d.ack("r1", old.txnId, 540);
    expect(r1Acked).toEqual(newReady());
    expect(readsKey(d.core, "r1", "a")).toBe(true);
    const finished = d.ack("r2", old.txnId, 550);
    expect(catchUps(finished)).toEqual([{ kind: "catch-up", to: "r3", sourceId: expect.any(String), sinceSeq: 1, incarnation: 2 }]);
  });

  it("ignores a stale caught-up; a failed one takes the replica out again, and the retry waits catchUpRetryMs", () => {
    const d = new Driver();
    takeR3Out(d, 1);
    expect(catchUps(d.health("r3", 600))).toMatchObject([{ to: "r3", incarnation: 2 }]);

    // A caught-up of an older incarnation changes nothing.
    const stale = d.step({ kind: "caught-up", replicaId: "r3", incarnation: 1, ok: true, reason: "", nowMs: 650 });
    expect(stale).toEqual(newReady());
    expect(d.member("r3")).toMatchObject({ state: "catching-up", incarnation: 2 });

    // A write r3 is preparing as a catching-up participant.
    const pending = d.start(1, "a", 660);
    expect(pending.preparedAt).toEqual(["r1", "r2", "r3"]);

    // The copy failed: out again, durably, same outSince; what it was preparing commits without it
    // (no ABORT, no new attempt), and it owes the acknowledgement.
    const failed = d.step({ kind: "caught-up", replicaId: "r3", incarnation: 2, ok: false, reason: "fetch timed out", nowMs: 700 });
    expect(failed.persist).toEqual([membership(["r1", "r2"], { r3: 1 })]);
    expect(d.member("r3")).toMatchObject({ state: "out", incarnation: 3 });
    expect(failed.replies).toEqual([]);
    expect(failed.send).toEqual([]);
    expect(failed.early).toEqual([]);
    expect(d.core.inFlight().map((txn) => [txn.txnId, txn.phase, [...txn.required], [...txn.owed]])).toEqual([[pending.txnId, "preparing", ["r1", "r2"], ["r3"]]]);

    // Good health checks before catchUpRetryMs do not start another catch-up.
    const early = d.health("r3", 700 + limits.catchUpRetryMs - 1);
    expect(early.send).toEqual([]);
    expect(d.member("r3").state).toBe("out");
    expect(d.start(2, "b", 700 + limits.catchUpRetryMs - 1).preparedAt).toEqual(["r1", "r2"]);

    const retry = d.health("r3", 700 + limits.catchUpRetryMs);
    expect(catchUps(retry)).toEqual([]); // the writes on "a" and "b" are older and still in flight
    expect(d.member("r3")).toMatchObject({ state: "catching-up", incarnation: 4 });
    const [first, second] = d.core.inFlight().map((txn) => txn.txnId);
    expect([first, second]).toEqual([pending.txnId, expect.any(String)]);
    // Both commit with r1 and r2; the copy starts once the second is acknowledged by both.
    for (const txnId of [first!, second!]) {
      for (const id of ["r1", "r2"]) expect(catchUps(d.yes(id, txnId, 1_710))).toEqual([]);
      expect(catchUps(d.ack("r1", txnId, 1_710))).toEqual([]);
    }
    expect(catchUps(d.ack("r2", first!, 1_710))).toEqual([]);
    expect(d.txn(first!)?.phase).toBe("owed"); // r3 owes its ack of the first
    expect(catchUps(d.ack("r2", second!, 1_710))).toMatchObject([{ kind: "catch-up", to: "r3", sinceSeq: 1, incarnation: 4 }]);

    // The failed attempt's incarnation is stale now, too.
    expect(d.step({ kind: "caught-up", replicaId: "r3", incarnation: 2, ok: true, reason: "", nowMs: 1_720 }).persist).toEqual([]);
    expect(d.member("r3").state).toBe("catching-up");
    const caught = d.step({ kind: "caught-up", replicaId: "r3", incarnation: 4, ok: true, reason: "", nowMs: 1_730 });
    expect(caught.persist).toEqual([membership(["r1", "r2", "r3"], {})]);
    expect(d.member("r3").state).toBe("in-sync");
  });
});

describe("stillReadable", () => {
  it("turns false once the replica leaves and never comes back for that incarnation", () => {
    const d = new Driver();
    const r3 = readable(d.core).find((r) => r.id === "r3")!;
    expect(r3.incarnation).toBe(0);
    expect(stillReadable(d.core, "r3", 0)).toBe(true);

    takeR3Out(d, 1);
    expect(stillReadable(d.core, "r3", 0)).toBe(false);
    expect(stillReadable(d.core, "r1", 0)).toBe(true);

    d.health("r3", 600);
    expect(stillReadable(d.core, "r3", 0)).toBe(false);
    expect(stillReadable(d.core, "r3", 2)).toBe(false); // catching up: not readable yet
    d.step({ kind: "caught-up", replicaId: "r3", incarnation: 2, ok: true, reason: "", nowMs: 700 });
    expect(stillReadable(d.core, "r3", 2)).toBe(true);
    expect(stillReadable(d.core, "r3", 0)).toBe(false); // a read sent before it left stays dropped
    expect(stillReadable(d.core, "r9", 0)).toBe(false);
  });
});

describe("recovery of the in-sync set", () => {
  const START: CoordinatorRecord = { kind: "start", epoch: 1, lastCommitSeq: 4 };
  const OUT_R3: CoordinatorRecord = { kind: "membership", inSync: ["r1", "r2"], outSince: { r3: 5 } };

  it("rebuilds the membership from the last membership record", () => {
    const recovered = recoverCoordinator([START, OUT_R3]);
    expect(recovered).toMatchObject({ epoch: 2, lastCommitSeq: 4, unfinished: [], membership: { inSync: ["r1", "r2"], outSince: { r3: 5 } } });
    const d = new Driver(recovered);
    expect(d.core.memberList().map((m) => ({ id: m.id, state: m.state, outSinceSeq: m.outSinceSeq }))).toEqual([
      { id: "r1", state: "in-sync", outSinceSeq: 0 },
      { id: "r2", state: "in-sync", outSinceSeq: 0 },
      { id: "r3", state: "out", outSinceSeq: 5 },
    ]);
    expect(readable(d.core).map((r) => r.id)).toEqual(["r1", "r2"]);
    expect(d.start(1, "a", 0)).toEqual({ txnId: "2.1", preparedAt: ["r1", "r2"], commitSeq: 5 });
    // The write above is in flight, so r3's copy waits for it; the start point is still 5.
    expect(d.health("r3", 10).send).toEqual([]);
    expect(d.member("r3")).toMatchObject({ state: "catching-up", outSinceSeq: 5 });

    // A later membership record wins; a log without one has everyone in sync.
    expect(recoverCoordinator([START, OUT_R3, { kind: "membership", inSync: ["r1", "r2", "r3"], outSince: {} }]).membership).toEqual({
      inSync: ["r1", "r2", "r3"],
      outSince: {},
    });
    expect(recoverCoordinator([START]).membership).toBeNull();
  });

  it("owes a commit whose key a newer commit took to every participant, without its locks; the newer one locks", () => {
    const owedToR3: CoordinatorRecord = { kind: "commit", txnId: "1.5", commitSeq: 5, participants: ["r1", "r2", "r3"], keys: ["a"] };
    const inSyncOnly: CoordinatorRecord = { kind: "commit", txnId: "1.6", commitSeq: 6, participants: ["r1", "r2"], keys: ["a", "b"] };
    const d = new Driver(recoverCoordinator([START, owedToR3, OUT_R3, inSyncOnly]), 0);

    const owed = d.txn("1.5")!;
    expect(owed.phase).toBe("owed");
    expect(owed.owed.has("r3")).toBe(true);
    // Which participants acked it is not in the log: each still owes its ack.
    expect([...owed.owed].sort()).toEqual(["r1", "r2", "r3"]);
    const locking = d.txn("1.6")!;
    expect(locking.phase).toBe("committing");
    expect([...locking.required]).toEqual(["r1", "r2"]);
    expect(d.core.lockedKeyCount()).toBe(2);
    // A write to "a" waits for 1.6 (decided: it waits only for acks), even with onConflict abort.
    const queued = d.write(1, "a", 1);
    expect(queued.replies).toEqual([]);
    expect(queued.send).toEqual([]);
    expect(d.start(2, "c", 1).preparedAt).toEqual(["r1", "r2"]);

    // COMMIT is re-sent at once to everyone that has not acked; outcome queries answer commit.
    const resend = d.tick(1, ["r1", "r2"]);
    expect(sentTo(resend, "commit", "1.5")).toEqual(["r1", "r2", "r3"]);
    expect(sentTo(resend, "commit", "1.6")).toEqual(["r1", "r2"]);
    expect(d.step({ kind: "outcome-query", queryId: 1, txnIds: ["1.5"], nowMs: 2 }).outcomes).toEqual([
      { queryId: 1, outcomes: [{ txnId: "1.5", outcome: "commit", commitSeq: 5 }] },
    ]);

    d.ack("r1", "1.6", 3);
    const released = d.ack("r2", "1.6", 3);
    // The write that waited for "a" starts now, as 2.2 (its COMMIT record logged), prepared at the in-sync replicas.
    expect(released.persist).toEqual([
      { record: expect.objectContaining({ kind: "commit", txnId: "2.2", commitSeq: 8, participants: ["r1", "r2"] }), force: true },
      { record: { kind: "end", txnId: "1.6" }, force: false },
    ]);
    expect(preparesOf(released).map((m) => `${m.txnId}->${m.to}`)).toEqual(["2.2->r1", "2.2->r2"]);
    expect(d.core.lockedKeyCount()).toBe(2); // "c" of 2.1 and "a" of 2.2, both preparing
    expect(d.ack("r3", "1.5", 4).persist).toEqual([]);
    d.ack("r1", "1.5", 4);
    expect(d.ack("r2", "1.5", 4).persist).toEqual([{ record: { kind: "end", txnId: "1.5" }, force: false }]);
    expect(d.core.inFlight().map((txn) => txn.txnId)).toEqual(["2.1", "2.2"]);
  });

  it("keeps the locks of an unfinished commit involving r3 that no newer commit superseded, until r1 and r2 ack (as in a live run)", () => {
    const lone: CoordinatorRecord = { kind: "commit", txnId: "1.5", commitSeq: 5, participants: ["r1", "r2", "r3"], keys: ["a"] };
    const d = new Driver(recoverCoordinator([START, lone, OUT_R3]), 0);
    const txn = d.txn("1.5")!;
    expect(txn.phase).toBe("committing");
    expect([...txn.required]).toEqual(["r1", "r2"]);
    expect([...txn.owed]).toEqual(["r3"]);
    expect(d.core.lockedKeyCount()).toBe(1);
    d.ack("r1", "1.5", 1);
    d.ack("r2", "1.5", 1);
    expect(d.txn("1.5")?.phase).toBe("owed");
    expect(d.core.lockedKeyCount()).toBe(0);
    expect(d.ack("r3", "1.5", 2).persist).toEqual([{ record: { kind: "end", txnId: "1.5" }, force: false }]);
  });

  it("recovers the log of a live run in which a commit owed to r3 released its key and a newer commit took it", () => {
    const live = new Driver();
    const t1 = live.start(1, "a", 0).txnId;
    for (const id of ["r1", "r2", "r3"]) live.yes(id, t1, 0);
    live.ack("r1", t1, 1);
    live.ack("r2", t1, 1);
    live.step({ kind: "unreachable", replicaId: "r3", txnIds: [], reason: "refused", down: true, nowMs: 2 });
    expect(live.txn(t1)?.phase).toBe("owed");
    const t2 = live.start(2, "a", 3).txnId;
    live.yes("r1", t2, 3);
    live.yes("r2", t2, 3);
    // The coordinator stops here: t2's acks never arrived.
    expect(live.log.map((record) => record.kind)).toEqual(["start", "commit", "membership", "commit"]);

    const recovered = recoverCoordinator(live.log);
    expect(recovered.unfinished.map((u) => u.txnId)).toEqual([t1, t2]);
    const d = new Driver(recovered, 100);
    expect(d.txn(t1)?.phase).toBe("owed");
    expect(d.txn(t2)?.phase).toBe("committing");
    expect(d.core.lockedKeyCount()).toBe(1);
    expect(d.member("r3")).toMatchObject({ state: "out", outSinceSeq: 1 });
  });

  it("round-trips membership records and refuses garbage shapes as DATA_LOSS", () => {
    const records: CoordinatorRecord[] = [OUT_R3, { kind: "membership", inSync: ["r1", "r2", "r3"], outSince: {} }];
    for (const record of records) expect(decodeCoordinatorRecord(encodeCoordinatorRecord(record), 3)).toEqual(record);

    const garbage = [
      { k: "m" },
      { k: "m", i: ["r1"] },
      { k: "m", o: { r3: 5 } },
      { k: "m", i: "r1", o: {} },
      { k: "m", i: [1], o: {} },
      { k: "m", i: ["r1"], o: null },
      { k: "m", i: ["r1"], o: 5 },
      { k: "m", i: ["r1"], o: { r3: "5" } },
      { k: "m", i: ["r1"], o: { r3: null } },
      { k: "m", i: ["r1"], o: [5] },
    ];
    for (const shape of garbage) {
      const payload = Buffer.from(JSON.stringify(shape), "utf8");
      expect(() => decodeCoordinatorRecord(payload, 3), JSON.stringify(shape)).toThrow(DataLoss);
    }
  });
});
