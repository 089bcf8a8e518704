// Proves that the coordinator core survives a removal that cascades: when a replica leaves the
// in-sync set, a transaction still reading that it took part in runs again without it
// (retryWithout), which can complete another replica's wait for its catch-up; with no healthy
// in-sync replica to copy from, that replica leaves too (a nested leave), which runs more
// transactions again. The outer removal must then skip the transactions the nested one already
// ended, rather than end them twice (which failed the assertion "lock on KEY not held by TXN" and
// crashed the coordinator). Found by the simulator (test/sim, seed 120628). A second case does the
// same with transactions past their PREPARE (intent commits, issue 13): they never run again, but a
// leave that frees a commit's keys can set off the nested leave too, and every transaction still
// commits once.
//
// How: one core (minInSync 1) recovers with only r1 in sync. r3 comes back and starts catching up;
// a transaction T1 goes to r1 and r3; r2 comes back and waits for T1 before its copy; a transaction
// T2 goes to all three. r1 stops answering health checks (it stays in the set, as the last one, but
// is not healthy). Then r3's catch-up fails: r3 leaves and T1 ends or frees its keys, which lets r2's
// copy start, which has no healthy source, so r2 leaves, meeting T2; r3's removal then meets T2 again.
import { describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import type { Program } from "../../common/txn";
import { CoordinatorCore, newReady, type Input, type Ready } from "../../coordinator/core";

function setUp(): { core: CoordinatorCore; step: (input: Input) => Ready } {
  const core = new CoordinatorCore(
    { participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 1 },
    { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: { inSync: ["r1"], outSince: { r2: 1, r3: 1 } }, remembered: [], newestForgotten: null, failures: [] },
    0,
  );
  const step = (input: Input): Ready => {
    const ready = newReady();
    core.step(input, ready);
    return ready;
  };
  return { core, step };
}

/** r2 and r3 answer at 60; r1, last heard at 10, is down but stays in the set as the last one. */
function r1GoesDown(core: CoordinatorCore, step: (input: Input) => Ready): void {
  step({ kind: "health", replicaId: "r2", ok: true, nowMs: 60 });
  step({ kind: "health", replicaId: "r3", ok: true, nowMs: 60 });
  step({ kind: "tick", nowMs: 10 + limits.replicaDownAfterMs + 1 });
  expect(core.memberList().find((m) => m.id === "r1")).toMatchObject({ state: "in-sync", healthy: false });
}

/** The transaction id of a Ready's (early) PREPAREs. */
function prepareId(ready: Ready): string {
  const ids = new Set(ready.early.flatMap((message) => (message.kind === "prepare" ? [message.txnId] : [])));
  expect(ids.size).toBe(1);
  return [...ids][0]!;
}

function incr(key: string): Program {
  return { conditions: [], then: [{ kind: "incr", key, delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
}

describe("a removal that cascades into a nested one", () => {
  it("skips transactions a nested removal already ran again, and every transaction still commits", () => {
    const { core, step } = setUp();
    step({ kind: "health", replicaId: "r1", ok: true, nowMs: 10 });
    const r3Back = step({ kind: "health", replicaId: "r3", ok: true, nowMs: 20 });
    expect(r3Back.send).toEqual([{ kind: "catch-up", to: "r3", sourceId: "r1", sinceSeq: 1, incarnation: 1 }]);
    // Transactions that read: they are still reading (no replica has heard of them) when the replicas leave.
    const t1 = step({ kind: "txn", reqId: 1, requestId: null, method: "txn", program: incr("a"), nowMs: 30 });
    const t1Id = t1.reads[0]!.txnId;
    expect(core.inFlight().find((txn) => txn.txnId === t1Id)?.participants).toEqual(["r1", "r3"]);
    const r2Back = step({ kind: "health", replicaId: "r2", ok: true, nowMs: 40 });
    expect(r2Back.send).toEqual([]); // r2 waits for T1 before its copy
    const t2 = step({ kind: "txn", reqId: 2, requestId: null, method: "txn", program: incr("b"), nowMs: 50 });
    const t2Id = t2.reads[0]!.txnId;
    expect(core.inFlight().find((txn) => txn.txnId === t2Id)?.participants).toEqual(["r1", "r2", "r3"]);
    r1GoesDown(core, step);

    const failed = step({ kind: "caught-up", replicaId: "r3", incarnation: 1, ok: false, reason: "r3 crashed", nowMs: 1_600 });
    expect(core.memberList().map((m) => `${m.id}:${m.state}`)).toEqual(["r1:in-sync", "r2:out", "r3:out"]);
    // Nobody failed: each transaction runs again, once per replica it lost (T1 twice: r3, then r2).
    expect(failed.replies).toEqual([]);
    const again = core.inFlight();
    expect(again.map((txn) => [txn.keys, txn.participants, txn.attempt, txn.phase])).toEqual([
      [["b"], ["r1"], 2, "reading"],
      [["a"], ["r1"], 3, "reading"],
    ]);
    // T1 ran again over r1 and r2 first, and that attempt ran again over r1 alone.
    const attempts = failed.retried.map(({ to }) => to);
    expect(failed.retried.map(({ from }) => from)).toEqual([t1Id, t2Id, attempts[0]]);
    expect(attempts.slice(1)).toEqual(again.map((txn) => txn.txnId));
    expect(core.lockedKeyCount()).toBe(2);
    // No replica heard of any attempt: nothing is aborted; each attempt asked to read its key (the
    // answer to T1's second attempt will be ignored).
    expect(failed.send).toEqual([]);
    expect(failed.reads.map(({ txnId }) => txnId)).toEqual(attempts);

    // The transactions' clients (T2's is request 2, T1's request 1) get their commits when r1, their
    // only participant, votes; r1's acks then END them.
    for (const [i, txn] of again.entries()) {
      const prepared = step({ kind: "read-result", txnId: txn.txnId, states: new Map([[txn.keys[0]!, null]]), reason: "", nowMs: 1_605 });
      expect(prepared.early.map((m) => [m.kind, m.to])).toEqual([["prepare", "r1"]]);
      expect(prepared.persist).toEqual([{ record: expect.objectContaining({ kind: "commit", txnId: txn.txnId, commitSeq: i + 1 }), force: true }]);
      const decided = step({ kind: "votes", replicaId: "r1", votes: [{ txnId: txn.txnId, vote: "yes" }], nowMs: 1_610 });
      expect(decided.replies).toEqual([
        { reqId: [2, 1][i], result: { ok: true, commitSeq: i + 1, txnId: txn.txnId, outcome: { branch: "then", results: [{ kind: "incr", key: txn.keys[0], value: 1 }] } } },
      ]);
      const acked = step({ kind: "acks", replicaId: "r1", txnIds: [txn.txnId], nowMs: 1_620 });
      expect(acked.replies).toEqual([]);
      expect(acked.persist).toEqual([{ record: { kind: "end", txnId: txn.txnId }, force: false }]);
    }
    expect(core.inFlight()).toEqual([]);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("with transactions past their PREPARE: none runs again or is aborted, each commits once, and the replicas that left owe their acks", () => {
    const { core, step } = setUp();
    step({ kind: "health", replicaId: "r1", ok: true, nowMs: 10 });
    step({ kind: "health", replicaId: "r3", ok: true, nowMs: 20 });
    const t1 = step({ kind: "write", reqId: 1, writes: [{ key: "a", value: Buffer.from("1") }], nowMs: 30 });
    expect(t1.early.map((m) => m.to)).toEqual(["r1", "r3"]);
    const t1Id = prepareId(t1);
    // T1 commits and r1 acknowledges; r3, catching up, has not: T1 holds "a" until it does.
    step({ kind: "votes", replicaId: "r1", votes: [{ txnId: t1Id, vote: "yes" }], nowMs: 31 });
    const t1Decided = step({ kind: "votes", replicaId: "r3", votes: [{ txnId: t1Id, vote: "yes" }], nowMs: 31 });
    expect(t1Decided.replies.map((r) => r.reqId)).toEqual([1]);
    step({ kind: "acks", replicaId: "r1", txnIds: [t1Id], nowMs: 32 });
    const r2Back = step({ kind: "health", replicaId: "r2", ok: true, nowMs: 40 });
    expect(r2Back.send).toEqual([]); // r2 waits for T1 before its copy
    const t2 = step({ kind: "write", reqId: 2, writes: [{ key: "b", value: Buffer.from("2") }], nowMs: 50 });
    expect(t2.early.map((m) => m.to)).toEqual(["r1", "r2", "r3"]);
    const t2Id = prepareId(t2);
    step({ kind: "votes", replicaId: "r1", votes: [{ txnId: t2Id, vote: "yes" }], nowMs: 51 });
    r1GoesDown(core, step);

    // r3 leaves: T1 needs no one else, turns owed and frees "a", so r2's copy starts, finds no healthy
    // source, and r2 leaves too (nested), leaving T2 to r1; r3's removal then meets T2 again.
    const failed = step({ kind: "caught-up", replicaId: "r3", incarnation: 1, ok: false, reason: "r3 crashed", nowMs: 1_600 });
    expect(core.memberList().map((m) => `${m.id}:${m.state}`)).toEqual(["r1:in-sync", "r2:out", "r3:out"]);
    expect(failed.retried).toEqual([]);
    expect(failed.send.filter((m) => m.kind === "abort")).toEqual([]);
    // T2 had r1's YES: it commits now, COMMIT with the writes to r2 and r3, which did not vote YES.
    expect(failed.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId: t2Id, outcome: { branch: "then", results: [{ kind: "put", key: "b" }] } } }]);
    expect(failed.send.filter((m) => m.kind === "commit")).toEqual([
      { kind: "commit", to: "r1", txnId: t2Id, commitSeq: 2, urgent: false, writes: null },
      { kind: "commit", to: "r2", txnId: t2Id, commitSeq: 2, urgent: false, writes: [{ key: "b", value: Buffer.from("2") }] },
      { kind: "commit", to: "r3", txnId: t2Id, commitSeq: 2, urgent: false, writes: [{ key: "b", value: Buffer.from("2") }] },
    ]);
    expect(core.inFlight().map((txn) => [txn.txnId, txn.phase, [...txn.owed].sort()])).toEqual([
      [t1Id, "owed", ["r3"]],
      [t2Id, "committing", ["r2", "r3"]],
    ]);
    expect(core.lockedKeyCount()).toBe(1);
    const acked = step({ kind: "acks", replicaId: "r1", txnIds: [t2Id], nowMs: 1_620 });
    expect(acked.replies).toEqual([]);
    expect(core.inFlight().map((txn) => [txn.txnId, txn.phase])).toEqual([
      [t1Id, "owed"],
      [t2Id, "owed"],
    ]);
    expect(core.lockedKeyCount()).toBe(0);
  });
});
