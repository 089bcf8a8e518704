// Proves the cooperative-termination rules of the replica's pure core (replica/core.ts), the old
// refuse record (replica/records.ts) and recovery of it (replica/recovery.ts):
// - a peer-query is answered from what this replica knows: prepared (uncertain too), committed
//   with its commitSeq, or aborted, logging nothing;
// - a peer-query about a transaction never seen here is answered "unknown", logs nothing and
//   remembers nothing: with intent commits (issue 13) that transaction may commit without this
//   replica's vote, so a later PREPARE of it may still vote YES and a later COMMIT with its writes
//   is applied, not refused (replicas used to log a refusal and answer "aborted");
// - inspect answers the same way, changing nothing;
// - peer-answers settle only transactions prepared here: committed -> commit record, apply with
//   the peer's commitSeq, locks released; aborted -> abort record, locks released;
//   prepared/unknown -> nothing changes; answers about anything else are ignored;
// - once decisions were forgotten (more than limits.decisionsRememberedMax), an id forgotten, older
//   or newer than them, or not EPOCH.COUNTER is "unknown" too, and nothing is logged;
// - a refuse record (no longer written, still in old logs) round-trips through its encoding, and
//   recovery turns it into a decided abort, in log order with the commits (carrying their
//   commitSeq) and aborts, clearing a prepare;
// - an abort of a transaction this replica committed is refused (FAILED_PRECONDITION), changing nothing.
//
// How: each test builds a core (fresh, or through the constructor's `decided` list, the way
// recovery hands it over), steps inputs one at a time, and checks the whole Ready each step
// produced (persist, apply, replies, queries) plus the public accessors (stateOf, outcomeOf,
// lockHolder). Recovery is checked on hand-built logs, and its result is fed to a new core.
import { describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import type { Write } from "../../common/types";
import {
  newReady,
  ParticipantCore,
  type Decided,
  type Input,
  type PeerState,
  type PrepareItem,
  type Ready,
  type VoteResult,
} from "../../replica/core";
import { decodeReplicaRecord, encodeReplicaRecord, type ReplicaRecord } from "../../replica/records";
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

function abort(core: ParticipantCore, txnIds: string[], nowMs = 0): Ready {
  return step(core, { kind: "abort", callId: nextCall(), epoch: EPOCH, txnIds, nowMs });
}

function peerAnswers(core: ParticipantCore, states: PeerState[], nowMs = 0): Ready {
  return step(core, { kind: "peer-answers", states, nowMs });
}

/** The single vote a one-transaction prepare produced. */
function onlyVote(ready: Ready): VoteResult {
  expect(ready.replies).toHaveLength(1);
  const reply = ready.replies[0]!;
  if (reply.kind !== "votes") throw new Error(`expected a votes reply, got ${reply.kind}`);
  expect(reply.votes).toHaveLength(1);
  return reply.votes[0]!;
}

/** Steps a peer-query or inspect and returns its Ready and the states of its single reply. */
function ask(core: ParticipantCore, kind: "peer-query" | "inspect", txnIds: string[], nowMs = 0): { ready: Ready; states: PeerState[] } {
  const callId = nextCall();
  const ready = step(core, { kind, callId, txnIds, nowMs });
  expect(ready.replies).toHaveLength(1);
  const reply = ready.replies[0]!;
  if (reply.kind !== "peer-states") throw new Error(`expected a peer-states reply, got ${reply.kind}`);
  expect(reply.callId).toBe(callId);
  // Neither kind ever applies writes or asks the coordinator anything.
  expect(ready.apply).toEqual([]);
  expect(ready.queries).toEqual([]);
  return { ready, states: reply.states };
}

/** A core that has decided `count` aborts, "1.1" .. "1.<count>", in that order, as recovery hands them over. */
function coreWithAborts(count: number): ParticipantCore {
  const decided: { txnId: string; decided: Decided }[] = [];
  for (let counter = 1; counter <= count; counter += 1) decided.push({ txnId: `1.${counter}`, decided: { outcome: "abort" } });
  return new ParticipantCore({ promised: PROMISED, prepared: [], decided, nowMs: 0 });
}

describe("peer-query about transactions this replica knows", () => {
  it("answers prepared for a transaction prepared here, logging nothing and keeping its locks", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    const { ready, states } = ask(core, "peer-query", ["1.1"]);
    expect(states).toEqual([{ txnId: "1.1", state: "prepared" }]);
    expect(ready.persist).toEqual([]);
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.outcomeOf("1.1")).toBe("prepared");
  });

  it("answers committed with the commitSeq for a transaction committed here, logging nothing", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    commit(core, "1.1", 4);
    const { ready, states } = ask(core, "peer-query", ["1.1"]);
    expect(states).toEqual([{ txnId: "1.1", state: "committed", commitSeq: 4 }]);
    expect(ready.persist).toEqual([]);
  });

  it("answers aborted for a transaction aborted here (prepared first, or presumed), logging nothing", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    abort(core, ["1.1"]);
    abort(core, ["1.2"]); // an abort of a transaction never prepared here (presumed abort)
    const { ready, states } = ask(core, "peer-query", ["1.1", "1.2"]);
    expect(states).toEqual([
      { txnId: "1.1", state: "aborted" },
      { txnId: "1.2", state: "aborted" },
    ]);
    expect(ready.persist).toEqual([]);
  });
});

describe("peer-query about a transaction never seen here: unknown, nothing logged", () => {
  it("answers unknown, logs and remembers nothing, and a later prepare of it still votes YES", () => {
    const core = fresh();
    const first = ask(core, "peer-query", ["2.7"]);
    expect(first.states).toEqual([{ txnId: "2.7", state: "unknown" }]);
    expect(first.ready.persist).toEqual([]);
    expect(core.outcomeOf("2.7")).toBe("unknown");

    const later = prepare(core, [item("2.7", [put("k", "v")])]);
    expect(onlyVote(later)).toEqual({ txnId: "2.7", vote: "yes" });
    expect(later.persist).toEqual([{ kind: "prepare", txnId: "2.7", writes: [put("k", "v")], participants: [...PARTICIPANTS] }]);
    expect(core.lockHolder("k")).toBe("2.7");
  });

  it("answers each id of one query in order: never-seen ones unknown, the known ones from state", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    const { ready, states } = ask(core, "peer-query", ["2.8", "1.1", "2.9"]);
    expect(ready.persist).toEqual([]);
    expect(states).toEqual([
      { txnId: "2.8", state: "unknown" },
      { txnId: "1.1", state: "prepared" },
      { txnId: "2.9", state: "unknown" },
    ]);
  });

  it("does not stand in the way of a commit without this replica's vote: the COMMIT with its writes is applied", () => {
    const core = fresh();
    ask(core, "peer-query", ["2.7"]);
    // The transaction's COMMIT record reached a majority of the decision log's copies: it commits.
    const writes = [put("k", "v")];
    const committed = step(core, { kind: "commit", callId: nextCall(), epoch: EPOCH, txns: [{ txnId: "2.7", commitSeq: 5, writes }], urgent: true, nowMs: 0 });
    expect(committed.replies).toEqual([{ kind: "acks", callId: callCounter, decision: "commit", txnIds: ["2.7"] }]);
    expect(committed.apply).toEqual([{ txnId: "2.7", commitSeq: 5, writes }]);
    expect(core.stateOf("2.7")).toEqual({ txnId: "2.7", state: "committed", commitSeq: 5 });
    // A peer asking again now learns the commit.
    expect(ask(core, "peer-query", ["2.7"]).states).toEqual([{ txnId: "2.7", state: "committed", commitSeq: 5 }]);
  });
});

describe("inspect", () => {
  it("answers unknown for a never-seen transaction, logs nothing, and a later prepare of it still votes YES", () => {
    const core = fresh();
    const { ready, states } = ask(core, "inspect", ["2.7"]);
    expect(states).toEqual([{ txnId: "2.7", state: "unknown" }]);
    expect(ready.persist).toEqual([]);
    expect(core.outcomeOf("2.7")).toBe("unknown");

    const later = prepare(core, [item("2.7", [put("k", "v")])]);
    expect(onlyVote(later)).toEqual({ txnId: "2.7", vote: "yes" });
    expect(later.persist).toEqual([{ kind: "prepare", txnId: "2.7", writes: [put("k", "v")], participants: [...PARTICIPANTS] }]);
    expect(core.lockHolder("k")).toBe("2.7");
  });

  it("reports prepared, committed and aborted states like a peer-query, changing nothing", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")]), item("1.2", [put("b", "2")]), item("1.3", [put("c", "3")])]);
    commit(core, "1.2", 7);
    abort(core, ["1.3"]);
    const { ready, states } = ask(core, "inspect", ["1.1", "1.2", "1.3"]);
    expect(states).toEqual([
      { txnId: "1.1", state: "prepared" },
      { txnId: "1.2", state: "committed", commitSeq: 7 },
      { txnId: "1.3", state: "aborted" },
    ]);
    expect(ready.persist).toEqual([]);
    expect(core.lockHolder("a")).toBe("1.1");
  });
});

describe("peer-answers about this replica's in-doubt transactions", () => {
  const writes = [put("a", "1"), put("b", "2")];

  function inDoubt(): ParticipantCore {
    const core = fresh();
    prepare(core, [item("1.1", writes)]);
    expect(core.lockHolder("a")).toBe("1.1");
    return core;
  }

  it("commits on a committed answer: commit record, apply with the peer's commitSeq, locks released", () => {
    const core = inDoubt();
    const ready = peerAnswers(core, [{ txnId: "1.1", state: "committed", commitSeq: 9 }]);
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 9 }]);
    expect(ready.apply).toEqual([{ txnId: "1.1", commitSeq: 9, writes }]);
    expect(ready.replies).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.lockHolder("b")).toBeUndefined();
    expect(core.preparedTxns()).toEqual([]);
    expect(core.stateOf("1.1")).toEqual({ txnId: "1.1", state: "committed", commitSeq: 9 });
    // The keys are free: another transaction can lock them.
    expect(onlyVote(prepare(core, [item("1.2", [put("a", "x")])]))).toEqual({ txnId: "1.2", vote: "yes" });
  });

  it("serves a read parked on the in-doubt keys once a peer's answer settles the transaction", () => {
    const core = inDoubt();
    const parked = step(core, { kind: "read", callId: 500, epoch: EPOCH, keys: ["a"], nowMs: 0 });
    expect(parked.replies).toEqual([]);
    const ready = peerAnswers(core, [{ txnId: "1.1", state: "committed", commitSeq: 9 }], 10);
    expect(ready.replies).toEqual([{ kind: "read", callId: 500, keys: ["a"] }]);
  });

  it("aborts on an aborted answer: abort record, nothing applied, locks released", () => {
    const core = inDoubt();
    const ready = peerAnswers(core, [{ txnId: "1.1", state: "aborted" }]);
    expect(ready.persist).toEqual([{ kind: "abort", txnId: "1.1" }]);
    expect(ready.apply).toEqual([]);
    expect(core.lockHolder("a")).toBeUndefined();
    expect(core.lockHolder("b")).toBeUndefined();
    expect(core.outcomeOf("1.1")).toBe("abort");
  });

  it.each(["prepared", "unknown"] as const)("changes nothing on a %s answer: still prepared, locks held", (state) => {
    const core = inDoubt();
    const ready = peerAnswers(core, [{ txnId: "1.1", state }]);
    expect(ready).toEqual(newReady());
    expect(core.outcomeOf("1.1")).toBe("prepared");
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.lockHolder("b")).toBe("1.1");
    expect(core.preparedTxns().map((txn) => txn.txnId)).toEqual(["1.1"]);
  });

  it("ignores answers about transactions not prepared here: never seen, already committed, already aborted", () => {
    const core = fresh();
    prepare(core, [item("1.2", [put("c", "1")]), item("1.3", [put("d", "1")])]);
    commit(core, "1.2", 3);
    abort(core, ["1.3"]);
    const ready = peerAnswers(core, [
      { txnId: "5.5", state: "committed", commitSeq: 11 },
      { txnId: "5.6", state: "aborted" },
      { txnId: "1.2", state: "aborted" }, // would contradict the commit applied here
      { txnId: "1.3", state: "committed", commitSeq: 12 }, // would contradict the abort here
    ]);
    expect(ready).toEqual(newReady());
    expect(core.outcomeOf("5.5")).toBe("unknown");
    expect(core.outcomeOf("5.6")).toBe("unknown");
    expect(core.stateOf("1.2")).toEqual({ txnId: "1.2", state: "committed", commitSeq: 3 });
    expect(core.outcomeOf("1.3")).toBe("abort");
  });
});

describe("forgotten decisions", () => {
  const count = limits.decisionsRememberedMax + 5; // "1.1" .. "1.5" are forgotten, "1.5" the newest of them

  it("answers unknown for a forgotten id and for never-seen ids older or newer than the forgotten ones, logging nothing", () => {
    const core = coreWithAborts(count);
    expect(core.outcomeOf("1.5")).toBe("unknown"); // forgotten
    expect(core.outcomeOf("1.6")).toBe("abort"); // the oldest still remembered

    const { ready, states } = ask(core, "peer-query", ["1.3", "1.5", "0.9", "1.6", "9.1"]);
    expect(states).toEqual([
      { txnId: "1.3", state: "unknown" }, // forgotten: may have been a commit
      { txnId: "1.5", state: "unknown" }, // equal to the newest forgotten
      { txnId: "0.9", state: "unknown" }, // never seen, older than a forgotten decision
      { txnId: "1.6", state: "aborted" },
      { txnId: "9.1", state: "unknown" }, // never seen, newer than every forgotten decision
    ]);
    expect(ready.persist).toEqual([]);
    // Nothing was remembered, so nothing more was forgotten.
    expect(core.outcomeOf("1.6")).toBe("abort");
  });

  it("answers unknown for an id that does not parse as EPOCH.COUNTER, and can still prepare it", () => {
    const core = fresh();
    const ids = ["abc", "1.2.3", "", "-1.2", "1.", ".1", "1.x"];
    const { ready, states } = ask(core, "peer-query", ids);
    expect(states).toEqual(ids.map((txnId) => ({ txnId, state: "unknown" })));
    expect(ready.persist).toEqual([]);
    expect(onlyVote(prepare(core, [item("abc", [put("k", "v")])]))).toEqual({ txnId: "abc", vote: "yes" });
  });
});

describe("the refuse record (no longer written; old logs hold it)", () => {
  it("round-trips through its encoding", () => {
    const record: ReplicaRecord = { kind: "refuse", txnId: "2.7" };
    const encoded = encodeReplicaRecord(record);
    expect(decodeReplicaRecord(encoded, 1)).toEqual(record);
    // Re-encoding the decoded record gives the same bytes.
    expect(encodeReplicaRecord(decodeReplicaRecord(encoded, 1)).equals(encoded)).toBe(true);
  });

  it("is recovered as a decided abort, in log order with commits and aborts, and clears a prepare", () => {
    const log: ReplicaRecord[] = [
      { kind: "prepare", txnId: "1.1", writes: [put("a", "1")], participants: [...PARTICIPANTS] },
      { kind: "prepare", txnId: "1.2", writes: [put("b", "2")], participants: [...PARTICIPANTS] },
      { kind: "commit", txnId: "1.1", commitSeq: 4 },
      { kind: "refuse", txnId: "2.7" },
      { kind: "abort", txnId: "1.2" },
      { kind: "prepare", txnId: "1.3", writes: [put("c", "3")], participants: [...PARTICIPANTS] },
      { kind: "refuse", txnId: "1.3" },
      { kind: "prepare", txnId: "1.4", writes: [put("d", "4")], participants: [...PARTICIPANTS] },
      { kind: "prepare", txnId: "1.5", writes: [put("e", "5")], participants: [...PARTICIPANTS] },
      { kind: "commit", txnId: "1.5", commitSeq: 5 },
    ];
    // Through the encoding, as the shell reads the log back.
    const records = log.map((record, index) => ({ lsn: index + 1, record: decodeReplicaRecord(encodeReplicaRecord(record), index + 1) }));
    const recovered = recoverReplica(records, 0);
    expect(recovered.decided).toEqual([
      { txnId: "1.1", decided: { outcome: "commit", commitSeq: 4 } },
      { txnId: "2.7", decided: { outcome: "abort" } },
      { txnId: "1.2", decided: { outcome: "abort" } },
      { txnId: "1.3", decided: { outcome: "abort" } },
      { txnId: "1.5", decided: { outcome: "commit", commitSeq: 5 } },
    ]);
    // The prepare followed by a refuse is not left prepared; only the undecided one is.
    expect(recovered.prepared.map((txn) => txn.txnId)).toEqual(["1.4"]);
    expect(recovered.committedInLog).toBe(2);
    expect(recovered.abortedInLog).toBe(3);
    expect(recovered.redo.map((apply) => [apply.txnId, apply.commitSeq])).toEqual([
      ["1.1", 4],
      ["1.5", 5],
    ]);

    // A core rebuilt from it keeps the old refusal as an abort: same answer, no new record, NO to a
    // late prepare.
    const core = new ParticipantCore({ promised: PROMISED, prepared: recovered.prepared, decided: recovered.decided, nowMs: 0 });
    const { ready, states } = ask(core, "peer-query", ["2.7", "1.3", "1.1", "1.4"]);
    expect(states).toEqual([
      { txnId: "2.7", state: "aborted" },
      { txnId: "1.3", state: "aborted" },
      { txnId: "1.1", state: "committed", commitSeq: 4 },
      { txnId: "1.4", state: "prepared" },
    ]);
    expect(ready.persist).toEqual([]);
    const late = prepare(core, [item("2.7", [put("k", "v")])]);
    expect(onlyVote(late).vote).toBe("no");
    expect(late.persist).toEqual([]);
    expect(core.lockHolder("c")).toBeUndefined();
    expect(core.lockHolder("d")).toBe("1.4");
  });
});

describe("refusals", () => {
  it("an abort of a transaction this replica committed is refused, changing nothing", () => {
    const core = fresh();
    prepare(core, [item("1.1", [put("a", "1")])]);
    commit(core, "1.1", 3);
    const refused = abort(core, ["1.1"]);
    expect(refused.replies).toEqual([{ kind: "refused", callId: callCounter, code: "failed-precondition", message: "txn_ids[0]: abort of 1.1, which this replica committed" }]);
    expect(refused.persist).toEqual([]);
    expect(core.stateOf("1.1")).toEqual({ txnId: "1.1", state: "committed", commitSeq: 3 });
  });
});
