// Proves that the replica's pure core (replica/core.ts) refuses, rather than asserts on, commit and
// abort calls that contradict its state or carry an impossible value, and that a refused call
// changes nothing: the whole batch is checked before any of it is applied, so the Ready holds only
// the "refused" reply (no persist, no apply), and liveRecords(), the prepared transactions and their
// locks are what they were. Also: answers to this replica's own queries (outcome, peer-answers) with
// a commit sequence number below 1 are skipped, not asserted on; well-formed repeats in one batch
// still work, a COMMIT with writes (intent commits) of a transaction never seen here among them.
//
// How: build a core with some transactions prepared, committed and aborted, snapshot everything it
// exposes, step one refused call, and compare.
import { describe, expect, it } from "vitest";
import type { Write } from "../../common/types";
import { newReady, ParticipantCore, type Input, type PrepareItem, type Ready } from "../../replica/core";

/**
 * The epoch of every coordinator call here. The cores start promised to it (as after the coordinator's
 * first call), so no call in these tests adds a promise record to what they check.
 */
const EPOCH = 1;
const PROMISED = { epoch: EPOCH, coordinatorId: "c1", address: "127.0.0.1:50051" } as const;

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

function item(txnId: string, key: string): PrepareItem {
  return { txnId, writes: [put(key, txnId)], participants: ["r1", "r2"] };
}

function step(core: ParticipantCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

/** A core with 1.1 (key a) and 1.2 (key b) prepared, 1.3 committed with seq 7, 1.4 aborted. */
function seeded(): ParticipantCore {
  const core = new ParticipantCore({ promised: PROMISED, prepared: [], decided: [], nowMs: 0 });
  step(core, { kind: "prepare", callId: 1, epoch: EPOCH, txns: [item("1.1", "a"), item("1.2", "b"), item("1.3", "c"), item("1.4", "d")], nowMs: 0 });
  step(core, { kind: "commit", callId: 2, epoch: EPOCH, txns: [{ txnId: "1.3", commitSeq: 7, writes: [] }], urgent: true, nowMs: 0 });
  step(core, { kind: "abort", callId: 3, epoch: EPOCH, txnIds: ["1.4"], nowMs: 0 });
  return core;
}

function snapshot(core: ParticipantCore): unknown {
  return {
    live: core.liveRecords(),
    prepared: core.preparedTxns().map((txn) => txn.txnId),
    locks: ["a", "b", "c", "d"].map((key) => core.lockHolder(key)),
    outcomes: ["1.1", "1.2", "1.3", "1.4", "1.5"].map((txnId) => core.outcomeOf(txnId)),
  };
}

/** Steps a call that must be refused whole, and checks that it changed nothing. */
function expectRefused(input: Input & { callId: number }, code: string, message: string | RegExp): void {
  const core = seeded();
  const before = snapshot(core);
  const ready = step(core, input);
  expect(ready.persist).toEqual([]);
  expect(ready.apply).toEqual([]);
  expect(ready.queries).toEqual([]);
  expect(ready.replies).toHaveLength(1);
  expect(ready.replies[0]).toMatchObject({ kind: "refused", callId: input.callId, code });
  const reply = ready.replies[0]!;
  if (reply.kind !== "refused") throw new Error("unreachable");
  expect(reply.message).toMatch(message);
  expect(snapshot(core)).toEqual(before);
}

describe("ParticipantCore refuses contradicting calls whole, changing nothing", () => {
  it("a commit batch with one transaction this replica aborted: the prepared ones in it stay prepared", () => {
    expectRefused(
      { kind: "commit", callId: 10, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 8, writes: [] }, { txnId: "1.4", commitSeq: 9, writes: [] }], urgent: true, nowMs: 0 },
      "failed-precondition",
      "txns[1]: commit of 1.4, which this replica aborted",
    );
  });

  it("a commit batch whose refused item follows a COMMIT with writes of a transaction never seen here: nothing of it is logged or applied", () => {
    expectRefused(
      { kind: "commit", callId: 16, epoch: EPOCH, txns: [{ txnId: "1.5", commitSeq: 9, writes: [put("e", "1.5")] }, { txnId: "1.4", commitSeq: 10, writes: [put("d", "1.4")] }], urgent: true, nowMs: 0 },
      "failed-precondition",
      "txns[1]: commit of 1.4, which this replica aborted",
    );
  });

  it("a commit without a commit sequence number (0, as a missing uint64 decodes) is INVALID_ARGUMENT naming the field", () => {
    // The exact assertion of issue 10 ("commit of ... without a commit sequence number"), now a refusal.
    expectRefused(
      { kind: "commit", callId: 11, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 0, writes: [] }], urgent: true, nowMs: 0 },
      "invalid-argument",
      /^txns\[0\]\.commit_seq is 0: commit of 1\.1 without a commit sequence number/,
    );
    expectRefused({ kind: "commit", callId: 12, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 2 ** 60, writes: [] }], urgent: true, nowMs: 0 }, "invalid-argument", /txns\[0\]\.commit_seq/);
  });

  it("a commit with another commit sequence number than the one this replica committed with", () => {
    expectRefused(
      { kind: "commit", callId: 13, epoch: EPOCH, txns: [{ txnId: "1.3", commitSeq: 8, writes: [] }], urgent: true, nowMs: 0 },
      "failed-precondition",
      "txns[0].commit_seq: commit of 1.3 with commit sequence number 8, but this replica committed it with 7",
    );
  });

  it("one transaction twice in a commit batch with two commit sequence numbers", () => {
    expectRefused(
      { kind: "commit", callId: 14, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 8, writes: [] }, { txnId: "1.1", commitSeq: 9, writes: [] }], urgent: true, nowMs: 0 },
      "failed-precondition",
      "txns[1].commit_seq: commit of 1.1 with commit sequence number 9, but this call commits it with 8",
    );
  });

  it("an abort batch with one transaction this replica committed: the prepared ones in it stay prepared", () => {
    expectRefused({ kind: "abort", callId: 15, epoch: EPOCH, txnIds: ["1.1", "1.3"], nowMs: 0 }, "failed-precondition", "txn_ids[1]: abort of 1.3, which this replica committed");
  });

  it("a refused call does not hold up the other inputs of its turn", () => {
    const core = seeded();
    const out = newReady();
    core.step({ kind: "commit", callId: 20, epoch: EPOCH, txns: [{ txnId: "1.4", commitSeq: 9, writes: [] }], urgent: true, nowMs: 0 }, out);
    core.step({ kind: "commit", callId: 21, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 8, writes: [] }], urgent: true, nowMs: 0 }, out);
    expect(out.replies.map((reply) => reply.kind)).toEqual(["refused", "acks"]);
    expect(out.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 8 }]);
    expect(core.outcomeOf("1.1")).toBe("commit");
  });
});

describe("ParticipantCore accepts the repeats a well-behaved coordinator sends", () => {
  it("a commit re-sent in the same batch (same commit sequence number) is applied once and acknowledged", () => {
    const core = seeded();
    const ready = step(core, { kind: "commit", callId: 30, epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 8, writes: [] }, { txnId: "1.1", commitSeq: 8, writes: [] }, { txnId: "1.3", commitSeq: 7, writes: [] }], urgent: true, nowMs: 0 });
    expect(ready.persist).toEqual([{ kind: "commit", txnId: "1.1", commitSeq: 8 }]);
    expect(ready.apply).toHaveLength(1);
    expect(ready.replies).toEqual([{ kind: "acks", callId: 30, decision: "commit", txnIds: ["1.1", "1.1", "1.3"] }]);
  });

  it("a COMMIT with writes of a transaction never seen here, re-sent in the same batch, is logged and applied once", () => {
    const core = seeded();
    const writes = [put("e", "1.5")];
    const ready = step(core, { kind: "commit", callId: 31, epoch: EPOCH, txns: [{ txnId: "1.5", commitSeq: 9, writes }, { txnId: "1.5", commitSeq: 9, writes }], urgent: true, nowMs: 0 });
    expect(ready.persist).toEqual([
      { kind: "prepare", txnId: "1.5", writes, participants: [] },
      { kind: "commit", txnId: "1.5", commitSeq: 9 },
    ]);
    expect(ready.apply).toEqual([{ txnId: "1.5", commitSeq: 9, writes }]);
    expect(ready.replies).toEqual([{ kind: "acks", callId: 31, decision: "commit", txnIds: ["1.5", "1.5"] }]);
  });

  it("an abort of a transaction already aborted, or never seen, is acknowledged", () => {
    const core = seeded();
    const ready = step(core, { kind: "abort", callId: 31, epoch: EPOCH, txnIds: ["1.4", "1.9", "1.2"], nowMs: 0 });
    expect(ready.persist).toEqual([{ kind: "abort", txnId: "1.2" }]);
    expect(ready.replies).toEqual([{ kind: "acks", callId: 31, decision: "abort", txnIds: ["1.4", "1.9", "1.2"] }]);
  });
});

describe("ParticipantCore skips unusable answers to its own queries", () => {
  it("an outcome COMMIT or a peer's COMMITTED with commit sequence number 0 leaves the transaction prepared", () => {
    const core = seeded();
    const before = snapshot(core);
    const fromCoordinator = step(core, { kind: "outcome", outcomes: [{ txnId: "1.1", outcome: "commit", commitSeq: 0 }], nowMs: 0 });
    const fromPeer = step(core, { kind: "peer-answers", states: [{ txnId: "1.2", state: "committed", commitSeq: -1 }], nowMs: 0 });
    for (const ready of [fromCoordinator, fromPeer]) {
      expect(ready.persist).toEqual([]);
      expect(ready.apply).toEqual([]);
    }
    expect(snapshot(core)).toEqual(before);
  });

  it("an answer about a decided transaction contradicting its decision is ignored (it acts only on prepared ones)", () => {
    const core = seeded();
    const before = snapshot(core);
    step(core, { kind: "outcome", outcomes: [{ txnId: "1.3", outcome: "abort" }, { txnId: "1.4", outcome: "commit", commitSeq: 3 }], nowMs: 0 });
    step(core, { kind: "peer-answers", states: [{ txnId: "1.3", state: "aborted" }, { txnId: "1.4", state: "committed", commitSeq: 3 }], nowMs: 0 });
    expect(snapshot(core)).toEqual(before);
  });
});
