// Proves the promise round of a takeover (coordinator/takeover.ts):
// - chooseCopy recovers from the copy of the decision log of the newest epoch, and of that epoch the
//   longest, among the granted answers only; none granted: none;
// - promiseRound succeeds as soon as a majority granted the epoch (without waiting for the rest),
//   with the copy chosen from the granted answers; a replica that saw a transaction id of a newer
//   epoch does not count as a grant; without a majority it fails, as soon as a majority can no longer
//   be reached, naming why and with an epoch to retry above anything any replica showed;
// - nextEpoch is newer than anything known or shown;
// - over real replica cores (replica/core.ts), the round fences the old epoch on every replica that
//   granted, and hands over the copy a successor must recover from.
// The planted bug takeover-from-any-copy (common/mutations.ts) must make these checks fail.
//
// How: each replica is a fake PromiseCall whose answer the test gives by hand, in the order it
// chooses; or one that steps a ParticipantCore with a promise input.
import { describe, expect, it } from "vitest";
import type { CallResult } from "../../common/env";
import { Code, fencedMessage } from "../../common/errors";
import { chooseCopy, nextEpoch, promiseRound, readCopy, type CopyPage, type CopyRead, type PromiseAnswer, type PromiseCall, type PromiseRound, type ReadCopyCall } from "../../coordinator/takeover";
import { newReady, ParticipantCore } from "../../replica/core";
import { DecisionLogCopy } from "../../replica/log-copy";
import { failureUnder } from "./planted";

function answer(fields: Partial<PromiseAnswer> & { logEpoch: number; logIndex: number }): PromiseAnswer {
  return { granted: true, promisedEpoch: 7, promisedTo: "c2", logFirstIndex: 1, maxTxnEpoch: 7, prepared: [], ...fields };
}

/** Replicas whose Promise calls wait until the test answers them. */
class ManualReplicas {
  readonly asked: { id: string; epoch: number; timeoutMs: number }[] = [];
  private readonly pending = new Map<string, (result: CallResult<PromiseAnswer>) => void>();
  readonly calls: ReadonlyMap<string, PromiseCall>;

  constructor(ids: readonly string[]) {
    this.calls = new Map(
      ids.map((id): [string, PromiseCall] => [
        id,
        (epoch, timeoutMs, done) => {
          this.asked.push({ id, epoch, timeoutMs });
          this.pending.set(id, done);
        },
      ]),
    );
  }

  answer(id: string, result: CallResult<PromiseAnswer>): void {
    const done = this.pending.get(id);
    if (done === undefined) throw new Error(`${id} was not asked`);
    this.pending.delete(id);
    done(result);
  }

  grant(id: string, fields: Partial<PromiseAnswer> & { logEpoch: number; logIndex: number }): void {
    this.answer(id, { ok: true, value: answer(fields) });
  }
}

/** Starts a round of epoch 7 over r1..r3; returns the replicas and what the round ended with. */
function round(epoch = 7): { replicas: ManualReplicas; outcomes: PromiseRound[] } {
  const replicas = new ManualReplicas(["r1", "r2", "r3"]);
  const outcomes: PromiseRound[] = [];
  promiseRound(epoch, replicas.calls, 1_000, (outcome) => outcomes.push(outcome));
  return { replicas, outcomes };
}

/** chooseCopy takes the newest epoch first, then the longest copy of it, from granted answers only. */
function choosesTheNewestThenTheLongest(): void {
  const oldButLong = answer({ logEpoch: 3, logIndex: 10 });
  const newShort = answer({ logEpoch: 4, logIndex: 2 });
  const newLong = answer({ logEpoch: 4, logIndex: 5 });
  const refusedNewest = answer({ granted: false, logEpoch: 9, logIndex: 100 });
  expect(chooseCopy([oldButLong, newShort, newLong, refusedNewest])).toBe(newLong);
  expect(chooseCopy([newLong, oldButLong, newShort])).toBe(newLong);
  expect(chooseCopy([oldButLong, newShort])).toBe(newShort);
}

/** A round of a majority, the older copy first in: recovers from the newer one. */
function roundRecoversFromTheNewestCopyOfTheMajority(): void {
  const { replicas, outcomes } = round();
  replicas.grant("r1", { logEpoch: 5, logIndex: 9 });
  expect(outcomes).toEqual([]);
  replicas.grant("r2", { logEpoch: 6, logIndex: 2 });
  expect(outcomes).toHaveLength(1);
  const outcome = outcomes[0]!;
  if (!outcome.ok) throw new Error(`the round failed: ${outcome.reason}`);
  expect(outcome.copy.logEpoch, "the epoch of the copy recovered from").toBe(6);
  expect(outcome.copy.logIndex).toBe(2);
}

describe("chooseCopy", () => {
  it("takes the copy of the newest epoch, and of that epoch the longest; refused answers do not count", () => {
    choosesTheNewestThenTheLongest();
  });

  it("has nothing to choose when nobody granted", () => {
    expect(chooseCopy([])).toBeNull();
    expect(chooseCopy([answer({ granted: false, logEpoch: 4, logIndex: 5 })])).toBeNull();
  });

  it("is caught when the planted bug takeover-from-any-copy takes the first copy", () => {
    expect(failureUnder("takeover-from-any-copy", choosesTheNewestThenTheLongest)).toContain("expected");
  });
});

describe("promiseRound", () => {
  it("asks every replica for the epoch, with the timeout", () => {
    const { replicas } = round();
    expect(replicas.asked).toEqual(["r1", "r2", "r3"].map((id) => ({ id, epoch: 7, timeoutMs: 1_000 })));
  });

  it("succeeds once a majority granted, without waiting for the rest, recovering from the newest copy among them", () => {
    roundRecoversFromTheNewestCopyOfTheMajority();
  });

  it("finishes once: later answers change nothing", () => {
    const { replicas, outcomes } = round();
    replicas.grant("r3", { logEpoch: 6, logIndex: 4 });
    replicas.grant("r1", { logEpoch: 6, logIndex: 1 });
    expect(outcomes).toEqual([{ ok: true, epoch: 7, copy: answer({ logEpoch: 6, logIndex: 4 }), copyHolders: ["r3"], granted: ["r3", "r1"], inDoubt: [] }]);
    replicas.grant("r2", { logEpoch: 6, logIndex: 9 });
    expect(outcomes).toHaveLength(1);
  });

  it("is caught when the planted bug takeover-from-any-copy recovers from the first copy in", () => {
    expect(failureUnder("takeover-from-any-copy", roundRecoversFromTheNewestCopyOfTheMajority)).toMatch(/^the epoch of the copy recovered from: expected 5 to be 6/);
  });

  it("fails without a majority, once one can no longer be reached, with the reasons and an epoch to retry above anything seen", () => {
    const { replicas, outcomes } = round();
    replicas.grant("r1", { logEpoch: 6, logIndex: 3 });
    replicas.grant("r2", { granted: false, promisedEpoch: 9, promisedTo: "c3", logEpoch: 8, logIndex: 2, maxTxnEpoch: 9 });
    // One grant and one answer to come: a majority is still possible.
    expect(outcomes).toEqual([]);
    replicas.answer("r3", { ok: false, code: Code.UNAVAILABLE, reason: "connection refused" });
    expect(outcomes).toHaveLength(1);
    const outcome = outcomes[0]!;
    if (outcome.ok) throw new Error("the round succeeded without a majority");
    expect(outcome.retryEpoch).toBe(10);
    expect(outcome.reason).toContain("1 of 3 replicas promised epoch 7 and a majority is 2");
    expect(outcome.reason).toContain("replica r2 promised epoch 9 to c3");
    expect(outcome.reason).toContain("replica r3: connection refused");
  });

  it("fails as soon as two of three refused, without waiting for the third", () => {
    const { replicas, outcomes } = round();
    replicas.grant("r1", { granted: false, promisedEpoch: 8, logEpoch: 6, logIndex: 3, maxTxnEpoch: 8 });
    expect(outcomes).toEqual([]);
    replicas.answer("r2", { ok: false, code: Code.DEADLINE_EXCEEDED, reason: "deadline exceeded" });
    expect(outcomes).toMatchObject([{ ok: false, retryEpoch: 9 }]);
  });

  it("does not count a grant from a replica that saw a transaction of a newer epoch, and retries above it", () => {
    const { replicas, outcomes } = round();
    replicas.grant("r1", { logEpoch: 6, logIndex: 3, maxTxnEpoch: 12 });
    replicas.grant("r2", { logEpoch: 6, logIndex: 3 });
    expect(outcomes).toEqual([]);
    replicas.answer("r3", { ok: false, code: Code.UNAVAILABLE, reason: "down" });
    expect(outcomes).toMatchObject([{ ok: false, retryEpoch: 13 }]);
  });
});

describe("promiseRound's copy holders", () => {
  it("are the granting replicas with the chosen copy (same epoch and last index), the chosen one first", () => {
    const { replicas, outcomes } = round();
    replicas.grant("r2", { logEpoch: 6, logIndex: 4, logFirstIndex: 3 });
    replicas.grant("r3", { logEpoch: 6, logIndex: 4 });
    expect(outcomes).toMatchObject([{ ok: true, copyHolders: ["r2", "r3"] }]);
  });
});

/** A holder of a copy of epoch 6, indexes first..last, that serves pages of at most pageMax records. */
function holder(id: string, first: number, last: number, pageMax: number, log: number[] = []): { id: string; call: ReadCopyCall } {
  const all = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => Buffer.from(`e6:${first + i}`));
  return {
    id,
    call: (fromIndex, _timeoutMs, done) => {
      log.push(fromIndex);
      const start = Math.max(fromIndex, first) - first;
      const page: CopyPage = { logEpoch: 6, logFirstIndex: first, logIndex: last, records: all.slice(start, start + pageMax) };
      done({ ok: true, value: page });
    },
  };
}

function readAll(holders: { id: string; call: ReadCopyCall }[], logIndex = 7): CopyRead {
  const reads: CopyRead[] = [];
  readCopy({ logEpoch: 6, logIndex }, holders, 1_000, (read) => reads.push(read));
  expect(reads).toHaveLength(1);
  return reads[0]!;
}

describe("readCopy", () => {
  it("reads the whole copy page by page, each page from the index after the last", () => {
    const asked: number[] = [];
    const read = readAll([holder("r1", 3, 7, 2, asked)]);
    expect(read).toEqual({ ok: true, records: ["e6:3", "e6:4", "e6:5", "e6:6", "e6:7"].map((text) => Buffer.from(text)) });
    expect(asked).toEqual([0, 5, 7]);
  });

  it("reads an empty copy as no records", () => {
    expect(readAll([holder("r1", 1, 0, 2)], 0)).toEqual({ ok: true, records: [] });
    // A replica's copy before any Append: first index 0, last index 0.
    const never: { id: string; call: ReadCopyCall } = { id: "r1", call: (_from, _timeoutMs, done) => done({ ok: true, value: { logEpoch: 0, logFirstIndex: 0, logIndex: 0, records: [] } }) };
    const reads: CopyRead[] = [];
    readCopy({ logEpoch: 0, logIndex: 0 }, [never], 1_000, (read) => reads.push(read));
    expect(reads).toEqual([{ ok: true, records: [] }]);
  });

  it("goes on to the next holder, from the start, when one fails or shows another copy", () => {
    const failing: { id: string; call: ReadCopyCall } = { id: "r1", call: (_from, _timeoutMs, done) => done({ ok: false, code: Code.UNAVAILABLE, reason: "connection refused" }) };
    const changed = holder("r2", 1, 9, 2); // longer than promised: not the copy chosen
    const good = holder("r3", 1, 7, 3);
    const read = readAll([failing, changed, good]);
    if (!read.ok) throw new Error(read.reason);
    expect(read.records.map((record) => record.toString())).toEqual(["e6:1", "e6:2", "e6:3", "e6:4", "e6:5", "e6:6", "e6:7"]);
  });

  it("fails, naming each holder's trouble, when no holder serves the copy", () => {
    const stuck: { id: string; call: ReadCopyCall } = { id: "r2", call: (_from, _timeoutMs, done) => done({ ok: true, value: { logEpoch: 6, logFirstIndex: 1, logIndex: 7, records: [] } }) };
    const read = readAll([holder("r1", 1, 5, 2), stuck]);
    expect(read.ok).toBe(false);
    if (read.ok) return;
    expect(read.reason).toContain("replica r1: its copy changed (now epoch 6, indexes 1 to 5)");
    expect(read.reason).toContain("replica r2: an empty page at index 1, before index 7");
  });
});

describe("nextEpoch", () => {
  it("is one above the highest epoch known or shown (promised, of a copy, of a transaction id)", () => {
    expect(nextEpoch(3, [])).toBe(4);
    expect(nextEpoch(3, [answer({ promisedEpoch: 5, logEpoch: 2, logIndex: 0, maxTxnEpoch: 1 })])).toBe(6);
    expect(nextEpoch(3, [answer({ promisedEpoch: 1, logEpoch: 6, logIndex: 0, maxTxnEpoch: 1 })])).toBe(7);
    expect(nextEpoch(3, [answer({ promisedEpoch: 1, logEpoch: 1, logIndex: 0, maxTxnEpoch: 8 }), answer({ promisedEpoch: 2, logEpoch: 1, logIndex: 0, maxTxnEpoch: 1 })])).toBe(9);
    expect(nextEpoch(20, [answer({ promisedEpoch: 5, logEpoch: 6, logIndex: 0, maxTxnEpoch: 7 })])).toBe(21);
  });
});

describe("a promise round over replica cores", () => {
  /** A replica core promised epoch 6 to c1, with a copy of the decision log of logEpoch, indexes 1..length. */
  function replicaCore(logEpoch: number, length: number): ParticipantCore {
    const copy = new DecisionLogCopy();
    copy.take(logEpoch, true, 1, Array.from({ length }, (_, i) => Buffer.from(`e${logEpoch}:${i + 1}`)));
    return new ParticipantCore({ promised: { epoch: 6, coordinatorId: "c1", address: "127.0.0.1:50051" }, copy, prepared: [], decided: [], nowMs: 0 });
  }

  function promiseCall(core: ParticipantCore): PromiseCall {
    return (epoch, _timeoutMs, done) => {
      const out = newReady();
      core.step({ kind: "promise", callId: 1, epoch, coordinatorId: "c2", address: "127.0.0.1:50052", nowMs: 0 }, out);
      const reply = out.replies[0];
      if (reply?.kind !== "promised") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      // The promise record is forced before the answer leaves (the StepLoop's rule): it is in the Ready.
      if (reply.granted) expect(out.persist).toEqual([{ kind: "promise", ...reply.promised }]);
      done({ ok: true, value: { granted: reply.granted, promisedEpoch: reply.promised.epoch, promisedTo: reply.promised.coordinatorId, logEpoch: reply.logEpoch, logFirstIndex: reply.logFirstIndex, logIndex: reply.logIndex, maxTxnEpoch: reply.maxTxnEpoch, prepared: reply.prepared } });
    };
  }

  function readCopyCall(core: ParticipantCore, epoch: number): ReadCopyCall {
    return (fromIndex, _timeoutMs, done) => {
      const out = newReady();
      core.step({ kind: "read-copy", callId: 3, epoch, fromIndex, recordsMax: 1, bytesMax: 4_194_304, nowMs: 0 }, out);
      const reply = out.replies[0];
      if (reply?.kind === "refused") return done({ ok: false, code: Code.FAILED_PRECONDITION, reason: reply.message });
      if (reply?.kind !== "copy-page") throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      // A read changes nothing, so nothing is forced for it.
      expect(out.persist).toEqual([]);
      done({ ok: true, value: reply });
    };
  }

  it("fences the old epoch on the replicas that granted, and recovers from the newest copy", () => {
    const cores = { r1: replicaCore(5, 9), r2: replicaCore(6, 2), r3: replicaCore(6, 4) };
    const outcomes: PromiseRound[] = [];
    promiseRound(7, new Map(Object.entries(cores).map(([id, core]) => [id, promiseCall(core)])), 1_000, (outcome) => outcomes.push(outcome));
    expect(outcomes).toHaveLength(1);
    const outcome = outcomes[0]!;
    if (!outcome.ok) throw new Error(outcome.reason);
    // Every replica answered at once here, so the round ended on the first two; the copy is the newer one of those.
    expect(outcome.granted).toEqual(["r1", "r2"]);
    expect(outcome.copy.logEpoch).toBe(6);
    expect(outcome.copyHolders).toEqual(["r2"]);
    const reads: CopyRead[] = [];
    readCopy(outcome.copy, [{ id: "r2", call: readCopyCall(cores.r2, 7) }], 1_000, (read) => reads.push(read));
    expect(reads).toHaveLength(1);
    if (!reads[0]!.ok) throw new Error(reads[0]!.reason);
    expect(reads[0]!.records.map((record) => record.toString())).toEqual(["e6:1", "e6:2"]);
    // Only the coordinator the replica promised its epoch to reads the copy: the one before is fenced.
    readCopy(outcome.copy, [{ id: "r2", call: readCopyCall(cores.r2, 6) }], 1_000, (read) => reads.push(read));
    expect(reads[1]).toMatchObject({ ok: false, reason: expect.stringContaining(fencedMessage(6, 7, "c2")) });
    for (const id of ["r1", "r2", "r3"] as const) {
      const out = newReady();
      cores[id].step({ kind: "commit", callId: 2, epoch: 6, txns: [{ txnId: "6.1", commitSeq: 1, writes: [] }], urgent: true, nowMs: 0 }, out);
      expect(out.replies[0], id).toEqual({ kind: "refused", callId: 2, code: "failed-precondition", message: fencedMessage(6, 7, "c2") });
    }
    // A second round of the same epoch (a rival taking over at once) gets no grant: its epoch is taken.
    const rival: PromiseRound[] = [];
    promiseRound(7, new Map(Object.entries(cores).map(([id, core]) => [id, promiseCall(core)])), 1_000, (outcome) => rival.push(outcome));
    expect(rival).toMatchObject([{ ok: false, retryEpoch: 8 }]);
  });
});
