// Proves that the coordinator core survives a removal that cascades: when a replica leaves the
// in-sync set, aborting a transaction it was preparing can complete another replica's wait for
// its catch-up; with no healthy in-sync replica to copy from, that replica leaves too (a nested
// leave), which aborts more transactions. The outer removal must then skip the transactions the
// nested one already aborted, rather than abort them twice (which failed the assertion "lock on
// KEY not held by TXN" and crashed the coordinator). Found by the simulator (test/sim, seed 120628).
//
// How: one core (minInSync 1) recovers with only r1 in sync. r3 comes back and starts catching up;
// a write T1 goes to r1 and r3; r2 comes back and waits for T1 before its copy; a write T2 goes to
// all three. r1 stops answering health checks (it stays in the set, as the last one, but is not
// healthy). Then r3's catch-up fails: r3 leaves and aborts T1, which lets r2's copy start, which
// has no healthy source, so r2 leaves and aborts T2; r3's removal then meets T2 again.
import { expect, it } from "vitest";
import { Code } from "../../common/errors";
import { limits } from "../../common/limits";
import { CoordinatorCore, newReady, type Input, type Ready } from "../../coordinator/core";

it("skips transactions a nested removal already aborted", () => {
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
  expect(failed.replies.map((reply) => reply.reqId).sort()).toEqual([1, 2]);
  for (const { result } of failed.replies) expect(result).toMatchObject({ ok: false, code: Code.UNAVAILABLE });
  expect(core.memberList().map((m) => `${m.id}:${m.state}`)).toEqual(["r1:in-sync", "r2:out", "r3:out"]);
  expect(core.inFlight()).toEqual([]);
  expect(core.lockedKeyCount()).toBe(0);
});
