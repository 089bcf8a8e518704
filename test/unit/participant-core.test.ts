// Proves that the replica's pure 2PC core (replica/core.ts, ParticipantCore) follows its rules:
// a prepare locks keys and logs a prepare record in the same Ready as its YES vote (so the
// StepLoop forces it before the vote leaves); conflicting or already-aborted prepares vote NO and
// log nothing; commit logs, applies and releases; abort logs and releases and is remembered; reads
// wait for locks and time out after readWaitTimeoutMs; in-doubt transactions are queried after
// inDoubtQueryAfterMs with backoff; recovered transactions keep their locks; and a commit of a
// transaction this replica aborted is refused, changing nothing (more in participant-refusals).
// Intent commits (issue 13): a COMMIT with writes of a transaction never prepared here logs a
// prepare and a commit record, both forced at once, applies the writes with the commit sequence
// number and leaves the lock table alone (a stale lock on the key is still released by its ABORT);
// a second delivery applies nothing; recovery of that log redoes the writes; a COMMIT of a
// transaction prepared here commits its prepared writes, whatever writes it carries.
//
// How: each test builds a core, feeds it inputs one at a time with an explicit nowMs, and inspects
// the Ready (persist, apply, replies, queries) each step produced, plus the public accessors; the
// log of an intent commit goes through the record encoding and recoverReplica, and the result
// builds a new core.
import { describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import type { Write } from "../../common/types";
import { mayWait, mustForce, newReady, ParticipantCore, type Input, type PrepareItem, type Ready, type Reply, type VoteResult } from "../../replica/core";
import { decodeReplicaRecord, encodeReplicaRecord } from "../../replica/records";
import { recoverReplica } from "../../replica/recovery";

/**
 * The epoch of every coordinator call here. The cores start promised to it (as after the coordinator's
 * first call), so no call in these tests adds a promise record to what they check.
 */
const EPOCH = 1;
const PROMISED = { epoch: EPOCH, coordinatorId: "c1", address: "127.0.0.1:50051" } as const;

const PARTICIPANTS = ["r1", "r2", "r3"] as const;

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

function item(txnId: string, writes: Write[]): PrepareItem {
  return { txnId, writes, participants: [...PARTICIPANTS] };
}

function fresh(nowMs = 0): ParticipantCore {
  return new ParticipantCore({ promised: PROMISED, prepared: [], decided: [], nowMs });
}

function step(core: ParticipantCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

let callCounter = 0;
function nextCall(): number {
  callCounter += 1;
  return callCounter;
}

function prepare(core: ParticipantCore, txns: PrepareItem[], nowMs = 0): Ready {
  return step(core, { kind: "prepare", callId: nextCall(), epoch: EPOCH, txns, nowMs });
}

function commit(core: ParticipantCore, txnId: string, commitSeq: number, nowMs = 0): Ready {
  return step(core, { kind: "commit", callId: nextCall(), epoch: EPOCH, txns: [{ txnId, commitSeq, writes: [] }], urgent: true, nowMs });
}

/** A COMMIT carrying the transaction's writes (intent commits); urgent false unless asked, so a lazy force would show. */
function commitWithWrites(core: ParticipantCore, txnId: string, commitSeq: number, writes: Write[], urgent = false): Ready {
  return step(core, { kind: "commit", callId: nextCall(), epoch: EPOCH, txns: [{ txnId, commitSeq, writes }], urgent, nowMs: 0 });
}

function abort(core: ParticipantCore, txnIds: string[], nowMs = 0): Ready {
  return step(core, { kind: "abort", callId: nextCall(), epoch: EPOCH, txnIds, nowMs });
}

function tick(core: ParticipantCore, nowMs: number): Ready {
  return step(core, { kind: "tick", nowMs });
}

/** The single vote a one-transaction prepare produced. */
function onlyVote(ready: Ready): VoteResult {
  expect(ready.replies).toHaveLength(1);
  const reply = ready.replies[0]!;
  if (reply.kind !== "votes") throw new Error(`expected a votes reply, got ${reply.kind}`);
  expect(reply.votes).toHaveLength(1);
  return reply.votes[0]!;
}

function readReplies(ready: Ready): Reply[] {
  return ready.replies.filter((reply) => reply.kind === "read" || reply.kind === "read-timeout");
}

describe("ParticipantCore prepare", () => {
  it("logs a prepare record with the writes in the same Ready as the YES vote, and locks the keys", () => {
    const core = fresh();
    const writes = [put("a", "1"), { key: "b", value: null }];
    const ready = prepare(core, [item("1.1", writes)]);
    expect(ready.persist).toEqual([{ kind: "prepare", txnId: "1.1", writes, participants: [...PARTICIPANTS] }]);
    expect(onlyVote(ready)).toEqual({ txnId: "1.1", vote: "yes" });
    // The record and the vote share one Ready: the StepLoop forces persist before any reply leaves.
    expect(ready.apply).toEqual([]);
    expect(ready.queries).toEqual([]);
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.lockHolder("b")).toBe("1.1");
    expect(core.outcomeOf("1.1")).toBe("prepared");
    expect(core.hasTimers()).toBe(true);
  });

  it("votes NO naming the key and the holder when a key is locked by another prepared transaction, and logs nothing", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    const ready = prepare(core, [item("1.2", [put("z", "9"), put("a", "2")])]);
    const vote = onlyVote(ready);
    expect(vote.vote).toBe("no");
    if (vote.vote !== "no") return;
    expect(vote.txnId).toBe("1.2");
    expect(vote.reason).toContain('"a"');
    expect(vote.reason).toContain("1.1");
    expect(ready.persist).toEqual([]);
    // The refused transaction took no lock, not even on the key that was free.
    expect(core.lockHolder("z")).toBeUndefined();
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.outcomeOf("1.2")).toBe("unknown");
  });

  it("votes YES again without a second record for a duplicate prepare of a prepared transaction", () => {
    const core = fresh();
    const first = prepare(core, [item("1.1", [put("a", "1")])]);
    expect(first.persist).toHaveLength(1);
    const again = prepare(core, [item("1.1", [put("a", "1")])]);
    expect(onlyVote(again)).toEqual({ txnId: "1.1", vote: "yes" });
    expect(again.persist).toEqual([]);
    expect(core.preparedTxns()).toHaveLength(1);
  });

  it("votes per transaction in a batch: a conflict inside the batch refuses only the later one", () => {
    const core = fresh();
    const ready = prepare(core, [item("1.1", [put("a", "1")]), item("1.2", [put("a", "2")]), item("1.3", [put("b", "3")])]);
    const reply = ready.replies[0]!;
    if (reply.kind !== "votes") throw new Error("expected votes");
    expect(reply.votes.map((vote) => vote.vote)).toEqual(["yes", "no", "yes"]);
    expect(ready.persist.map((record) => (record.kind === "prepare" ? record.txnId : record.kind))).toEqual(["1.1", "1.3"]);
  });
});

describe("ParticipantCore commit", () => {
  it("a COMMIT no write waits for (not urgent) logs a lazy commit record: forced, but its force may wait for company", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")]), item("1.2", [put("b", "1")])]);
    const lazy = step(core, { kind: "commit", callId: nextCall(), epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 3, writes: [] }], urgent: false, nowMs: 0 });
    expect(lazy.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 3, lazy: true }]);
    expect(lazy.persist.map((record) => [mustForce(record), mayWait(record)])).toEqual([[true, true]]);
    // Its writes and acknowledgement are in the Ready as ever: the StepLoop holds them until durable.
    expect(lazy.apply).toHaveLength(1);
    expect(lazy.replies).toMatchObject([{ kind: "acks", txnIds: ["1.1"] }]);
    const urgent = commit(core, "1.2", 4);
    expect(urgent.persist.map((record) => [mustForce(record), mayWait(record)])).toEqual([[true, false]]);
    // A prepare record never waits.
    expect(prepare(core, [item("1.5", [put("c", "1")])]).persist.map(mayWait)).toEqual([false]);
  });

  it("logs a commit record with the commitSeq, applies the writes, acks, and releases the locks", () => {
    const core = fresh();
    const writes = [put("a", "1"), { key: "b", value: null }];
    prepare(core, [item("1.1", writes)]);
    const ready = commit(core, "1.1", 7);
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 7 }]);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 7, writes }]);
    expect(ready.replies).toEqual([{ kind: "acks", decision: "commit", callId: callCounter, txnIds: ["1.1"] }]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.lockHolder("b")).toBeUndefined();
    expect(core.preparedTxns()).toEqual([]);
    expect(core.hasTimers()).toBe(false);
    // The key is free again: a new transaction may prepare it.
    expect(onlyVote(prepare(core, [item("1.2", [put("a", "2")])]))).toEqual({ txnId: "1.2", vote: "yes" });
  });

  it("acks a commit of an unknown transaction without logging or applying anything (a re-sent decision)", () => {
    const core = fresh();
    const ready = commit(core, "1.9", 3);
    expect(ready.persist).toEqual([]);
    expect(ready.apply).toEqual([]);
    expect(ready.replies).toEqual([{ kind: "acks", decision: "commit", callId: callCounter, txnIds: ["1.9"] }]);

    // The same after a real commit: the second delivery changes nothing.
    prepare(core, [item("1.1", [put("a", "1")])]);
    expect(commit(core, "1.1", 4).apply).toHaveLength(1);
    const resent = commit(core, "1.1", 4);
    expect(resent.persist).toEqual([]);
    expect(resent.apply).toEqual([]);
    expect(resent.replies).toEqual([{ kind: "acks", decision: "commit", callId: callCounter, txnIds: ["1.1"] }]);
  });

  it("releases a transaction that writes the same key twice (lock allows it, so release must too)", () => {
    const core = fresh();
    const writes = [put("a", "1"), put("a", "2")];
    expect(onlyVote(prepare(core, [item("1.1", writes)])).vote).toBe("yes");
    const ready = commit(core, "1.1", 1);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 1, writes }]);
    expect(core.lockHolder("a")).toBeUndefined();

    // The same on abort, and for such a transaction rebuilt by recovery.
    expect(onlyVote(prepare(core, [item("1.2", writes)])).vote).toBe("yes");
    expect(abort(core, ["1.2"]).persist).toEqual([{ kind: "abort", txnId: "1.2" }]);
    expect(core.lockHolder("a")).toBeUndefined();
    const recovered = new ParticipantCore({ promised: PROMISED, prepared: [item("1.3", writes)], decided: [], nowMs: 0 });
    expect(step(recovered, { kind: "outcome", outcomes: [{ txnId: "1.3", outcome: "abort" }], nowMs: 0 }).persist).toHaveLength(1);
    expect(recovered.lockHolder("a")).toBeUndefined();
  });

  it("refuses (FAILED_PRECONDITION, changing nothing) a commit of a transaction this replica aborted", () => {
    const prepared = fresh();
    prepare(prepared, [item("1.1", [put("a", "1")])]);
    abort(prepared, ["1.1"]);
    const ready = commit(prepared, "1.1", 1);
    expect(ready.replies).toEqual([{ kind: "refused", callId: callCounter, code: "failed-precondition", message: "txns[0]: commit of 1.1, which this replica aborted" }]);
    expect(ready.persist).toEqual([]);
    expect(ready.apply).toEqual([]);
    expect(prepared.outcomeOf("1.1")).toBe("abort");

    const neverSeen = fresh();
    abort(neverSeen, ["1.2"]);
    expect(commit(neverSeen, "1.2", 1).replies[0]).toMatchObject({ kind: "refused", code: "failed-precondition" });
  });
});

describe("ParticipantCore COMMIT with writes (intent commits)", () => {
  it("logs prepare then commit, both forced at once, applies the writes with the commit sequence number, and acks; a second delivery applies nothing", () => {
    const core = fresh();
    const writes = [put("a", "1"), { key: "b", value: null }];
    // Not urgent: a commit record of a prepared transaction would be lazy here; these must not be.
    const ready = commitWithWrites(core, "1.4", 6, writes);
    expect(ready.persist).toEqual([
      { kind: "prepare", txnId: "1.4", writes, participants: [] },
      { kind: "commit", txnId: "1.4", commitSeq: 6 },
    ]);
    expect(ready.persist.map((record) => [mustForce(record), mayWait(record)])).toEqual([
      [true, false],
      [true, false],
    ]);
    expect(ready.apply).toEqual([{ txnId: "1.4", commitSeq: 6, writes }]);
    expect(ready.replies).toEqual([{ kind: "acks", decision: "commit", callId: callCounter, txnIds: ["1.4"] }]);
    expect(core.stateOf("1.4")).toEqual({ txnId: "1.4", state: "committed", commitSeq: 6 });
    // Nothing was locked or left prepared.
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.preparedTxns()).toEqual([]);
    expect(core.hasTimers()).toBe(false);

    const again = commitWithWrites(core, "1.4", 6, writes, true);
    expect(again.persist).toEqual([]);
    expect(again.apply).toEqual([]);
    expect(again.replies).toEqual([{ kind: "acks", decision: "commit", callId: callCounter, txnIds: ["1.4"] }]);
    // A late PREPARE of it is refused: it is decided here.
    const late = prepare(core, [item("1.4", writes)]);
    expect(onlyVote(late).vote).toBe("no");
    expect(late.persist).toEqual([]);
  });

  it("leaves the lock of a stale prepared transaction on the key alone, and that transaction's ABORT still releases it", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "old"), put("c", "old")])]);
    const ready = commitWithWrites(core, "2.1", 9, [put("a", "new")]);
    expect(ready.apply).toEqual([{ txnId: "2.1", commitSeq: 9, writes: [put("a", "new")] }]);
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.outcomeOf("1.1")).toBe("prepared");
    expect(abort(core, ["1.1"]).persist).toEqual([{ kind: "abort", txnId: "1.1" }]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.lockHolder("c")).toBeUndefined();
    expect(core.stateOf("2.1")).toEqual({ txnId: "2.1", state: "committed", commitSeq: 9 });
  });

  it("is redone by recovery from the log it wrote, and the rebuilt core knows the commit", () => {
    const core = fresh();
    const writes = [put("a", "1"), { key: "b", value: null }];
    const ready = commitWithWrites(core, "1.4", 6, writes);
    // Through the encoding, as the shell writes the log and reads it back.
    const log = ready.persist.map((record, i) => ({ lsn: i + 1, record: decodeReplicaRecord(encodeReplicaRecord(record), i + 1) }));
    const recovered = recoverReplica(log, 0);
    expect(recovered.redo).toEqual([{ txnId: "1.4", commitSeq: 6, writes }]);
    expect(recovered.prepared).toEqual([]);
    expect(recovered.decided).toEqual([{ txnId: "1.4", decided: { outcome: "commit", commitSeq: 6 } }]);
    // Applied before the crash (appliedLsn at the commit record): nothing to redo.
    expect(recoverReplica(log, 2).redo).toEqual([]);

    const rebuilt = new ParticipantCore({ promised: PROMISED, prepared: recovered.prepared, decided: recovered.decided, nowMs: 0 });
    expect(rebuilt.stateOf("1.4")).toEqual({ txnId: "1.4", state: "committed", commitSeq: 6 });
    expect(commitWithWrites(rebuilt, "1.4", 6, writes).apply).toEqual([]);
  });

  it("commits a transaction prepared here with its prepared writes, whatever writes the COMMIT carries", () => {
    const core = fresh();
    const prepared = [put("a", "1")];
    prepare(core, [item("1.1", prepared)]);
    const ready = commitWithWrites(core, "1.1", 3, [put("a", "other"), put("z", "other")], true);
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 3 }]);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 3, writes: prepared }]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.preparedTxns()).toEqual([]);
  });

  it("refuses a COMMIT with writes of a transaction this replica aborted, changing nothing", () => {
    const core = fresh();
    abort(core, ["1.2"]);
    const ready = commitWithWrites(core, "1.2", 4, [put("a", "1")]);
    expect(ready.replies).toEqual([{ kind: "refused", callId: callCounter, code: "failed-precondition", message: "txns[0]: commit of 1.2, which this replica aborted" }]);
    expect(ready.persist).toEqual([]);
    expect(ready.apply).toEqual([]);
  });
});

describe("ParticipantCore abort", () => {
  it("logs an abort record for a prepared transaction, releases its locks, and refuses a later prepare of it", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    const ready = abort(core, ["1.1"]);
    expect(ready.persist).toEqual([{ kind: "abort", txnId: "1.1" }]);
    expect(ready.apply).toEqual([]);
    expect(ready.replies).toEqual([{ kind: "acks", decision: "abort", callId: callCounter, txnIds: ["1.1"] }]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.outcomeOf("1.1")).toBe("abort");

    const late = prepare(core, [item("1.1", [put("a", "1")])]);
    const vote = onlyVote(late);
    expect(vote.vote).toBe("no");
    if (vote.vote === "no") expect(vote.reason).toContain("already decided (abort)");
    expect(late.persist).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
    // Another transaction can take the key.
    expect(onlyVote(prepare(core, [item("1.2", [put("a", "2")])])).vote).toBe("yes");
  });

  it("remembers an abort of a never-seen transaction: nothing is logged, and a later prepare of it votes NO", () => {
    const core = fresh();
    const ready = abort(core, ["1.5"]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([{ kind: "acks", decision: "abort", callId: callCounter, txnIds: ["1.5"] }]);
    const late = prepare(core, [item("1.5", [put("a", "1")])]);
    const vote = onlyVote(late);
    expect(vote.vote).toBe("no");
    if (vote.vote === "no") expect(vote.reason).toContain("already decided (abort)");
    expect(late.persist).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
  });
});

describe("ParticipantCore reads", () => {
  it("answers a read of an unlocked key in the same step", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("other", "1")])]);
    const ready = step(core, { kind: "read", callId: 100, epoch: EPOCH, keys: ["a"], nowMs: 0 });
    expect(ready.replies).toEqual([{ kind: "read", callId: 100, keys: ["a"] }]);
  });

  it("parks a read of a locked key and answers it in the Ready of the commit that releases the lock", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    const parked = step(core, { kind: "read", callId: 101, epoch: EPOCH, keys: ["b", "a"], nowMs: 10 });
    expect(parked.replies).toEqual([]);
    expect(core.hasTimers()).toBe(true);
    expect(readReplies(tick(core, 20))).toEqual([]);

    const ready = commit(core, "1.1", 1, 30);
    // The read reply rides in the commit's Ready: the shell serves it after applying the writes.
    expect(ready.apply).toHaveLength(1);
    expect(readReplies(ready)).toEqual([{ kind: "read", callId: 101, keys: ["b", "a"] }]);
    // Answered once only.
    expect(readReplies(tick(core, 40))).toEqual([]);
    expect(core.hasTimers()).toBe(false);
  });

  it("answers a parked read in the Ready of the abort that releases the lock", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    expect(step(core, { kind: "read", callId: 102, epoch: EPOCH, keys: ["a"], nowMs: 0 }).replies).toEqual([]);
    const ready = abort(core, ["1.1"], 5);
    expect(readReplies(ready)).toEqual([{ kind: "read", callId: 102, keys: ["a"] }]);
  });

  it("answers a parked read in the Ready of an outcome input that releases the lock", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    expect(step(core, { kind: "read", callId: 103, epoch: EPOCH, keys: ["a"], nowMs: 0 }).replies).toEqual([]);
    const ready = step(core, { kind: "outcome", outcomes: [{ txnId: "1.1", outcome: "commit", commitSeq: 2 }], nowMs: 5 });
    expect(ready.apply).toHaveLength(1);
    expect(ready.replies).toEqual([{ kind: "read", callId: 103, keys: ["a"] }]);
  });

  it("times out a parked read at readWaitTimeoutMs, with a message that names the limit", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    step(core, { kind: "read", callId: 104, epoch: EPOCH, keys: ["a"], nowMs: 1_000 });
    expect(readReplies(tick(core, 1_000 + limits.readWaitTimeoutMs - 1))).toEqual([]);
    const ready = tick(core, 1_000 + limits.readWaitTimeoutMs);
    const replies = readReplies(ready);
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.kind).toBe("read-timeout");
    if (reply.kind !== "read-timeout") return;
    expect(reply.callId).toBe(104);
    expect(reply.message).toContain("readWaitTimeoutMs");
    expect(reply.message).toContain(String(limits.readWaitTimeoutMs));
    expect(reply.message).toContain("1.1");
    // Gone after its timeout: the later commit does not answer it a second time.
    expect(readReplies(commit(core, "1.1", 1, 1_000 + limits.readWaitTimeoutMs + 1))).toEqual([]);
  });
});

describe("ParticipantCore in-doubt transactions", () => {
  it("queries a transaction prepared at t=0 from inDoubtQueryAfterMs on, then with growing backoff", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])], 0);
    expect(tick(core, limits.inDoubtQueryAfterMs - 1).queries).toEqual([]);

    const t1 = limits.inDoubtQueryAfterMs;
    expect(tick(core, t1).queries).toEqual(["1.1"]);
    // Not on the very next tick.
    expect(tick(core, t1 + limits.tickMs).queries).toEqual([]);
    const backoff1 = limits.outcomeQueryBackoffMsMin;
    expect(tick(core, t1 + backoff1 - 1).queries).toEqual([]);
    const t2 = t1 + backoff1;
    expect(tick(core, t2).queries).toEqual(["1.1"]);
    // The backoff doubled.
    const backoff2 = Math.min(backoff1 * 2, limits.outcomeQueryBackoffMsMax);
    expect(backoff2).toBeGreaterThan(backoff1);
    expect(tick(core, t2 + backoff1).queries).toEqual([]);
    expect(tick(core, t2 + backoff2 - 1).queries).toEqual([]);
    expect(tick(core, t2 + backoff2).queries).toEqual(["1.1"]);
  });

  it("caps the query backoff at outcomeQueryBackoffMsMax", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])], 0);
    let nowMs = limits.inDoubtQueryAfterMs;
    const times: number[] = [];
    // Tick finely for a long while and record when the queries went out.
    const endMs = nowMs + 8 * limits.outcomeQueryBackoffMsMax;
    for (; nowMs <= endMs; nowMs += limits.tickMs) {
      if (tick(core, nowMs).queries.includes("1.1")) times.push(nowMs);
    }
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps.length).toBeGreaterThan(3);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(limits.outcomeQueryBackoffMsMax);
    expect(gaps[gaps.length - 1]).toBe(limits.outcomeQueryBackoffMsMax);
    for (let i = 1; i < gaps.length; i += 1) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]!);
  });

  it("applies an in-doubt transaction on an outcome input with commit", () => {
    const core = fresh();
    const writes = [put("a", "1")];
    prepare(core, [item("1.1", writes)], 0);
    expect(tick(core, limits.inDoubtQueryAfterMs).queries).toEqual(["1.1"]);
    const ready = step(core, { kind: "outcome", outcomes: [{ txnId: "1.1", outcome: "commit", commitSeq: 5 }], nowMs: limits.inDoubtQueryAfterMs + 1 });
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 5 }]);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 5, writes }]);
    expect(ready.replies).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
    // Decided: never queried again.
    expect(tick(core, 100_000).queries).toEqual([]);
  });

  it("releases an in-doubt transaction on an outcome input with abort", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])], 0);
    expect(tick(core, limits.inDoubtQueryAfterMs).queries).toEqual(["1.1"]);
    const ready = step(core, { kind: "outcome", outcomes: [{ txnId: "1.1", outcome: "abort" }], nowMs: limits.inDoubtQueryAfterMs + 1 });
    expect(ready.persist).toEqual([{ kind: "abort", txnId: "1.1" }]);
    expect(ready.apply).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.outcomeOf("1.1")).toBe("abort");
    expect(tick(core, 100_000).queries).toEqual([]);
  });

  it("ignores a stale outcome answer about a transaction no longer prepared here", () => {
    const core = fresh();
    const writes = [put("a", "1")];
    prepare(core, [item("1.1", writes)], 0);
    expect(tick(core, limits.inDoubtQueryAfterMs).queries).toEqual(["1.1"]);
    // The commit arrives before the answer to the query.
    expect(commit(core, "1.1", 5, limits.inDoubtQueryAfterMs + 1).apply).toHaveLength(1);
    const stale = step(core, { kind: "outcome", outcomes: [{ txnId: "1.1", outcome: "commit", commitSeq: 5 }], nowMs: limits.inDoubtQueryAfterMs + 2 });
    expect(stale).toEqual(newReady());
    // An abort answer about an unknown transaction is not remembered as an abort either.
    const unknown = step(core, { kind: "outcome", outcomes: [{ txnId: "1.7", outcome: "abort" }], nowMs: limits.inDoubtQueryAfterMs + 3 });
    expect(unknown).toEqual(newReady());
    expect(core.outcomeOf("1.7")).toBe("unknown");
  });
});

describe("ParticipantCore after recovery", () => {
  it("holds the locks of recovered prepared transactions and queries them on the first tick", () => {
    const core = new ParticipantCore({
      promised: PROMISED,
      prepared: [item("1.1", [put("a", "1")]), item("1.2", [put("b", "2")])],
      decided: [{ txnId: "1.3", decided: { outcome: "abort" } }],
      nowMs: 50_000,
    });
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.lockHolder("b")).toBe("1.2");
    expect(core.hasTimers()).toBe(true);

    const refused = prepare(core, [item("2.1", [put("a", "x")])], 50_000);
    const vote = onlyVote(refused);
    expect(vote.vote).toBe("no");
    if (vote.vote === "no") expect(vote.reason).toContain("1.1");
    expect(refused.persist).toEqual([]);

    // The recovered abort is remembered too.
    expect(onlyVote(prepare(core, [item("1.3", [put("c", "3")])], 50_000)).vote).toBe("no");

    expect(tick(core, 50_000).queries.sort()).toEqual(["1.1", "1.2"]);
    // Then they back off like any other in-doubt transaction.
    expect(tick(core, 50_000 + limits.tickMs).queries).toEqual([]);
  });

  it("commits a recovered transaction on a re-sent commit from the coordinator", () => {
    const writes = [put("a", "1")];
    const core = new ParticipantCore({ promised: PROMISED, prepared: [item("1.1", writes)], decided: [], nowMs: 0 });
    const ready = commit(core, "1.1", 9);
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 9 }]);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 9, writes }]);
    expect(core.lockHolder("a")).toBeUndefined();
  });
});
