// Proves the replica's side of coordinator failover in its pure core (replica/core.ts, the fence and
// the Promise call; coordinator/DESIGN.md, "Failover"):
// - a call of an epoch older than the one promised (prepare, commit, abort, read, fence, append) is
//   refused FAILED_PRECONDITION with the fenced message (common/errors.ts fencedMessage, which
//   fencedBy reads back) and changes nothing: no record, no write applied, no lock, no copy;
// - a call of the promised epoch is served with no new promise; a call of a newer epoch is promised
//   first, with a forced "promise" record in the same Ready as its reply (so the StepLoop makes the
//   promise durable before the reply leaves), and the older epoch is refused from then on;
// - Promise grants a higher epoch (forced record, the copy of the decision log handed over, the
//   highest transaction epoch seen) and refuses an equal or lower one, changing nothing;
// - a read parked on a lock is refused once the replica promised a newer epoch while it waited:
//   neither the release of the lock nor a tick serves it.
// The planted bug skip-fence (common/mutations.ts) must make these checks fail.
//
// How: each check builds a core promised epoch 3 to coordinator c2, steps one input with a fresh
// Ready, and compares the Ready and a snapshot of the core (its live records, locks, outcomes,
// promise) before and after.
import { describe, expect, it } from "vitest";
import { fencedBy, fencedMessage } from "../../common/errors";
import type { Write } from "../../common/types";
import { mustForce, newReady, ParticipantCore, type Input, type PrepareItem, type Ready } from "../../replica/core";
import { DecisionLogCopy, type Promised } from "../../replica/log-copy";
import { failureUnder } from "./planted";

const PROMISED: Promised = { epoch: 3, coordinatorId: "c2", address: "127.0.0.1:50052" };
const OLDER = 2;
const NEWER = 4;

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

function item(txnId: string, key: string): PrepareItem {
  return { txnId, writes: [put(key, txnId)], participants: ["r1", "r2", "r3"] };
}

function step(core: ParticipantCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

/** The copy of the decision log the cores below hold: three records of epoch 2, indexes 1..3. */
function copyOfEpoch2(): DecisionLogCopy {
  const copy = new DecisionLogCopy();
  copy.take(2, true, 1, [Buffer.from("d1"), Buffer.from("d2"), Buffer.from("d3")]);
  return copy;
}

/** Promised epoch 3 to c2; 3.1 prepared (key a), 3.2 committed; a copy of epoch 2. */
function promisedCore(): ParticipantCore {
  return new ParticipantCore({
    promised: PROMISED,
    copy: copyOfEpoch2(),
    prepared: [item("3.1", "a")],
    decided: [{ txnId: "3.2", decided: { outcome: "commit", commitSeq: 5 } }],
    nowMs: 0,
  });
}

function snapshot(core: ParticipantCore): unknown {
  return {
    live: core.liveRecords(),
    promised: core.promised(),
    locks: ["a", "b", "c", "z"].map((key) => core.lockHolder(key)),
    outcomes: ["3.1", "3.2", "3.3"].map((txnId) => core.outcomeOf(txnId)),
  };
}

/** One call of each kind a coordinator makes, in `epoch`, each touching what the core holds. */
function callsOf(epoch: number): Input[] {
  return [
    { kind: "prepare", callId: 1, epoch, txns: [item("3.3", "c")], nowMs: 0 },
    { kind: "commit", callId: 2, epoch, txns: [{ txnId: "3.1", commitSeq: 6, writes: [] }], urgent: true, nowMs: 0 },
    { kind: "abort", callId: 3, epoch, txnIds: ["3.1"], nowMs: 0 },
    { kind: "read", callId: 4, epoch, keys: ["z"], nowMs: 0 },
    { kind: "fence", callId: 5, epoch, nowMs: 0 },
    { kind: "append", callId: 6, epoch, coordinatorId: "c1", address: "127.0.0.1:50051", base: true, more: false, baseFirstIndex: 1, firstIndex: 1, records: [Buffer.from("x")], nowMs: 0 },
  ];
}

/** A call of an older epoch is refused with the fenced message, and changes nothing. */
function refusesOlderEpoch(input: Input): void {
  const core = promisedCore();
  const before = snapshot(core);
  const ready = step(core, input);
  expect(ready.persist, input.kind).toEqual([]);
  expect(ready.apply, input.kind).toEqual([]);
  expect(ready.queries, input.kind).toEqual([]);
  expect(ready.promised, input.kind).toBeNull();
  expect(ready.replies, input.kind).toEqual([{ kind: "refused", callId: callIdOf(input), code: "failed-precondition", message: fencedMessage(OLDER, 3, "c2") }]);
  expect(snapshot(core), input.kind).toEqual(before);
}

function callIdOf(input: Input): number {
  if (!("callId" in input)) throw new Error(`${input.kind} is not a call`);
  return input.callId;
}

describe("the fence: calls of an older epoch", () => {
  it.each(callsOf(OLDER).map((input) => [input.kind, input] as const))("refuses %s of an older epoch with the fenced message, changing nothing", (_kind, input) => {
    refusesOlderEpoch(input);
  });

  it("the refusal names the promised epoch in a form fencedBy reads back (the coordinator stands down on it)", () => {
    const ready = step(promisedCore(), callsOf(OLDER)[0]!);
    const reply = ready.replies[0]!;
    if (reply.kind !== "refused") throw new Error(`expected a refusal, got ${reply.kind}`);
    expect(reply.message).toMatch(/^fenced: /);
    expect(reply.message).toContain("coordinator c2");
    expect(fencedBy(reply.message)).toBe(3);
    expect(fencedBy("replica r1: connection refused")).toBeNull();
  });

  it("is caught, for every kind of call, when the planted bug skip-fence serves a superseded coordinator", () => {
    for (const input of callsOf(OLDER)) {
      // The first expectation to fail names the call: it was served, not refused.
      expect(failureUnder("skip-fence", () => refusesOlderEpoch(input))).toMatch(new RegExp(`^${input.kind}: `));
    }
  });
});

describe("the fence: calls of the promised and of a newer epoch", () => {
  it("serves a call of the promised epoch without a new promise", () => {
    const core = promisedCore();
    const ready = step(core, callsOf(3)[0]!);
    expect(ready.persist).toEqual([{ kind: "prepare", ...item("3.3", "c") }]);
    expect(ready.promised).toBeNull();
    expect(ready.replies).toEqual([{ kind: "votes", callId: 1, votes: [{ txnId: "3.3", vote: "yes" }] }]);
    expect(core.promised()).toEqual(PROMISED);
  });

  it("promises a newer epoch first: a forced promise record in the same Ready as the reply, then the older epoch is fenced", () => {
    for (const input of callsOf(NEWER)) {
      const core = promisedCore();
      const ready = step(core, input);
      // A call names no coordinator except an append: the promise knows the epoch, and for an append who.
      const promised: Promised = input.kind === "append" ? { epoch: NEWER, coordinatorId: "c1", address: "127.0.0.1:50051" } : { epoch: NEWER, coordinatorId: "", address: "" };
      expect(ready.persist[0], input.kind).toEqual({ kind: "promise", ...promised });
      expect(mustForce(ready.persist[0]!), input.kind).toBe(true);
      expect(ready.promised, input.kind).toEqual(promised);
      // Served in the same Ready: the StepLoop forces the promise before any of these replies leaves.
      expect(ready.replies, input.kind).toHaveLength(1);
      expect(ready.replies[0]!.kind, input.kind).not.toBe("refused");
      expect(core.promised(), input.kind).toEqual(promised);

      const stale = step(core, callsOf(3)[0]!);
      expect(stale.replies, input.kind).toEqual([{ kind: "refused", callId: 1, code: "failed-precondition", message: fencedMessage(3, NEWER, promised.coordinatorId) }]);
      expect(stale.persist, input.kind).toEqual([]);
    }
  });

  it("learns who holds the promised epoch from an append of that epoch, with a forced record", () => {
    const core = new ParticipantCore({ promised: { epoch: 3, coordinatorId: "", address: "" }, prepared: [], decided: [], nowMs: 0 });
    const ready = step(core, { kind: "append", callId: 7, epoch: 3, coordinatorId: "c2", address: PROMISED.address, base: true, more: false, baseFirstIndex: 1, firstIndex: 1, records: [], nowMs: 0 });
    expect(ready.persist[0]).toEqual({ kind: "promise", ...PROMISED });
    expect(ready.promised).toEqual(PROMISED);
    // Known now: the next append of the epoch promises nothing again.
    const again = step(core, { kind: "append", callId: 8, epoch: 3, coordinatorId: "c2", address: PROMISED.address, base: false, more: false, baseFirstIndex: 0, firstIndex: 1, records: [Buffer.from("r")], nowMs: 0 });
    expect(again.persist.map((record) => record.kind)).toEqual(["copy"]);
  });
});

describe("Promise", () => {
  it("grants a higher epoch with a forced promise record, and says how far its copy of the decision log reaches", () => {
    const core = promisedCore();
    const ready = step(core, { kind: "promise", callId: 9, epoch: NEWER, coordinatorId: "c3", address: "127.0.0.1:50053", nowMs: 0 });
    const promised: Promised = { epoch: NEWER, coordinatorId: "c3", address: "127.0.0.1:50053" };
    expect(ready.persist).toEqual([{ kind: "promise", ...promised }]);
    expect(mustForce(ready.persist[0]!)).toBe(true);
    expect(ready.promised).toEqual(promised);
    expect(ready.replies).toEqual([
      { kind: "promised", callId: 9, granted: true, promised, logEpoch: 2, logFirstIndex: 1, logIndex: 3, maxTxnEpoch: NEWER, prepared: ["3.1"] },
    ]);
    // The new coordinator reads the copy (rpc ReadCopy); the one before cannot.
    expect(step(core, { kind: "read-copy", callId: 13, epoch: NEWER, fromIndex: 0, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 }).replies).toEqual([
      { kind: "copy-page", callId: 13, logEpoch: 2, logFirstIndex: 1, logIndex: 3, records: [Buffer.from("d1"), Buffer.from("d2"), Buffer.from("d3")] },
    ]);
    expect(step(core, { kind: "read-copy", callId: 14, epoch: 3, fromIndex: 0, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 }).replies[0]).toMatchObject({ kind: "refused", code: "failed-precondition" });
    // Held to it: the coordinator of epoch 3 is fenced from now on.
    expect(step(core, { kind: "commit", callId: 10, epoch: 3, txns: [{ txnId: "3.1", commitSeq: 6, writes: [] }], urgent: true, nowMs: 0 }).replies[0]).toMatchObject({ kind: "refused", code: "failed-precondition" });
    expect(core.outcomeOf("3.1")).toBe("prepared");
  });

  it("refuses an equal or lower epoch, changing nothing and naming no transactions", () => {
    for (const epoch of [3, OLDER]) {
      const core = promisedCore();
      const before = snapshot(core);
      const ready = step(core, { kind: "promise", callId: 11, epoch, coordinatorId: "c9", address: "127.0.0.1:50059", nowMs: 0 });
      expect(ready.persist, `epoch ${epoch}`).toEqual([]);
      expect(ready.promised, `epoch ${epoch}`).toBeNull();
      expect(ready.replies, `epoch ${epoch}`).toEqual([{ kind: "promised", callId: 11, granted: false, promised: PROMISED, logEpoch: 2, logFirstIndex: 1, logIndex: 3, maxTxnEpoch: 3, prepared: [] }]);
      expect(snapshot(core), `epoch ${epoch}`).toEqual(before);
    }
  });

  it("reports the highest transaction epoch seen, so that a successor's epoch can pass it", () => {
    // A commit counts (it was prepared here); an abort does not (test/unit/epoch-bounds.test.ts).
    const core = new ParticipantCore({
      promised: PROMISED,
      prepared: [],
      decided: [
        { txnId: "7.1", decided: { outcome: "commit", commitSeq: 1 } },
        { txnId: "9.1", decided: { outcome: "abort" } },
      ],
      nowMs: 0,
    });
    const ready = step(core, { kind: "promise", callId: 12, epoch: NEWER, coordinatorId: "c3", address: "127.0.0.1:50053", nowMs: 0 });
    expect(ready.replies[0]).toMatchObject({ kind: "promised", granted: true, maxTxnEpoch: 7 });
  });
});

/** A read of a locked key parks; a promise of a newer epoch meanwhile gets it refused, never served. */
function refusesAParkedReadOnceANewerEpochIsPromised(): void {
  for (const release of ["commit of the newer epoch", "tick"] as const) {
    const core = promisedCore();
    const parked = step(core, { kind: "read", callId: 20, epoch: 3, keys: ["a"], nowMs: 0 });
    expect(parked.replies, release).toEqual([]);
    expect(step(core, { kind: "promise", callId: 21, epoch: NEWER, coordinatorId: "c3", address: "127.0.0.1:50053", nowMs: 1 }).replies[0], release).toMatchObject({ granted: true });
    const ready =
      release === "tick"
        ? step(core, { kind: "tick", nowMs: 2 })
        : step(core, { kind: "commit", callId: 22, epoch: NEWER, txns: [{ txnId: "3.1", commitSeq: 6, writes: [] }], urgent: true, nowMs: 2 });
    const readReplies = ready.replies.filter((reply) => reply.callId === 20);
    expect(readReplies, release).toEqual([{ kind: "refused", callId: 20, code: "failed-precondition", message: fencedMessage(3, NEWER, "c3") }]);
    // Answered once: nothing is left waiting.
    expect(step(core, { kind: "tick", nowMs: 3 }).replies, release).toEqual([]);
  }
}

describe("parked reads across a promise", () => {
  it("refuses a read parked on a lock once a newer epoch was promised, on the release of the lock or the next tick", () => {
    refusesAParkedReadOnceANewerEpochIsPromised();
  });

  it("is caught when the planted bug skip-fence serves the parked read", () => {
    // Served on the release of its lock instead.
    expect(failureUnder("skip-fence", refusesAParkedReadOnceANewerEpochIsPromised)).toMatch(/^commit of the newer epoch: .*kind: 'read'/);
  });
});
