// Proves that the coordinator core survives a removal that cascades: when a replica leaves the
// in-sync set, ending a transaction it was preparing (its attempt is aborted and runs again without
// it: retryWithout) can complete another replica's wait for its catch-up; with no healthy in-sync
// replica to copy from, that replica leaves too (a nested leave), which ends more transactions. The
// outer removal must then skip the transactions the nested one already ended, rather than end them
// twice (which failed the assertion "lock on KEY not held by TXN" and crashed the coordinator).
// Found by the simulator (test/sim, seed 120628).
//
// How: one core (minInSync 1) recovers with only r1 in sync. r3 comes back and starts catching up;
// a write T1 goes to r1 and r3; r2 comes back and waits for T1 before its copy; a write T2 goes to
// all three. r1 stops answering health checks (it stays in the set, as the last one, but is not
// healthy). Then r3's catch-up fails: r3 leaves and T1 runs again (over r1 and r2, still catching
// up), which lets r2's copy start, which has no healthy source, so r2 leaves and T2 and T1's second
// attempt run again over r1; r3's removal then meets T2 again. Both writes end up committed by r1.
import { expect, it } from "vitest";
import { limits } from "../../common/limits";
import { CoordinatorCore, newReady, type Input, type Ready } from "../../coordinator/core";

it("skips transactions a nested removal already ended, and every write still commits", () => {
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
  step({ kind: "health", replicaId: "r1", ok: true, nowMs: 10 });
  const r3Back = step({ kind: "health", replicaId: "r3", ok: true, nowMs: 20 });
  expect(r3Back.send).toEqual([{ kind: "catch-up", to: "r3", sourceId: "r1", sinceSeq: 1, incarnation: 1 }]);
  const t1 = step({ kind: "write", reqId: 1, writes: [{ key: "a", value: Buffer.from("1") }], nowMs: 30 });
  expect(t1.send.map((m) => m.to)).toEqual(["r1", "r3"]);
  const r2Back = step({ kind: "health", replicaId: "r2", ok: true, nowMs: 40 });
  expect(r2Back.send).toEqual([]); // r2 waits for T1 before its copy
  const t2 = step({ kind: "write", reqId: 2, writes: [{ key: "b", value: Buffer.from("2") }], nowMs: 50 });
  expect(t2.send.map((m) => m.to)).toEqual(["r1", "r2", "r3"]);
  // r1 was last heard at 10: it is down, but stays in the set as the last one.
  step({ kind: "health", replicaId: "r2", ok: true, nowMs: 60 });
  step({ kind: "health", replicaId: "r3", ok: true, nowMs: 60 });
  step({ kind: "tick", nowMs: 10 + limits.replicaDownAfterMs + 1 });
  expect(core.memberList().find((m) => m.id === "r1")).toMatchObject({ state: "in-sync", healthy: false });

  const failed = step({ kind: "caught-up", replicaId: "r3", incarnation: 1, ok: false, reason: "r3 crashed", nowMs: 1_600 });
  expect(core.memberList().map((m) => `${m.id}:${m.state}`)).toEqual(["r1:in-sync", "r2:out", "r3:out"]);
  // Nobody failed: each write runs again, once per replica it lost (T1 twice: r3, then r2).
  expect(failed.replies).toEqual([]);
  const again = core.inFlight();
  expect(again.map((txn) => [txn.keys, txn.participants, txn.attempt])).toEqual([
    [["b"], ["r1"], 2],
    [["a"], ["r1"], 3],
  ]);
  expect(core.lockedKeyCount()).toBe(2);
  // Every attempt that ended was aborted where it had prepared; the last ones prepare at r1.
  const sent = (kind: string, txnId: string): string[] => failed.send.filter((m) => m.kind === kind && "txnId" in m && m.txnId === txnId).map((m) => m.to);
  const t1Id = t1.send[0]!.kind === "prepare" ? t1.send[0]!.txnId : "";
  const t2Id = t2.send[0]!.kind === "prepare" ? t2.send[0]!.txnId : "";
  expect(sent("abort", t1Id)).toEqual(["r1", "r3"]);
  expect(sent("abort", t2Id)).toEqual(["r1", "r2", "r3"]);
  for (const txn of again) expect(sent("prepare", txn.txnId)).toEqual(["r1"]);

  // The writes' clients (T2's is request 2, T1's request 1) get their commits, at the decisions; r1's
  // acks then END them.
  for (const [i, txn] of again.entries()) {
    const decided = step({ kind: "votes", replicaId: "r1", votes: [{ txnId: txn.txnId, vote: "yes" }], nowMs: 1_610 });
    expect(decided.replies).toEqual([
      { reqId: [2, 1][i], result: { ok: true, commitSeq: i + 1, txnId: txn.txnId, outcome: { branch: "then", results: [{ kind: "put", key: txn.keys[0] }] } } },
    ]);
    const acked = step({ kind: "acks", replicaId: "r1", txnIds: [txn.txnId], nowMs: 1_620 });
    expect(acked.replies).toEqual([]);
    expect(acked.persist).toEqual([{ record: { kind: "end", txnId: txn.txnId }, force: false }]);
  }
  expect(core.inFlight()).toEqual([]);
  expect(core.lockedKeyCount()).toBe(0);
});
