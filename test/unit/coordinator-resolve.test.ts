// What this proves: an operator's Resolve is decided entirely inside the core's step.
//   (a) a Resolve of a transaction the core neither tracks nor remembers asks for what the replicas
//       know (Ready.inspects), answers nothing and sends nothing yet; stepped again with their
//       answers, it decides then, over the core's state at that step;
//   (b) a transaction that commits and finishes between the two steps is still refused an abort
//       (the core consults its remembered commits at the second step), and no ABORT leaves;
//   (c) a commit settled from a replica's knowledge goes only to the replicas that hold the
//       transaction prepared, never to one that took no part in it;
//   (d) a transaction still preparing cannot be resolved either way: its COMMIT record was logged
//       with its PREPAREs (intent commits, issue 13), so it will commit, and the refusal says so;
//   (e) a transaction still reading is aborted before any replica heard of it (no ABORT sent);
//   (f) one whose COMMIT with the writes went only to a replica that voted NO is refused an abort,
//       and a commit re-sends that COMMIT, with the writes, to that replica alone.
// How: the pure core, stepped by hand (no node, no network).
import { describe, expect, it } from "vitest";
import { Code } from "../../common/errors";
import { limits } from "../../common/limits";
import type { Write } from "../../common/types";
import { CoordinatorCore, newReady, type Input, type Ready, type RecoveredCoordinator } from "../../coordinator/core";

const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };

function newCore(recovered: RecoveredCoordinator = FRESH): CoordinatorCore {
  return new CoordinatorCore({ participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 2 }, recovered, 0);
}

function step(core: CoordinatorCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

describe("Resolve is decided in the step", () => {
  it("(a) asks for the replicas' knowledge only when it needs it, and decides when it comes back", () => {
    const core = newCore({ ...FRESH, epoch: 2 });
    const first = step(core, { kind: "resolve", reqId: 1, txnId: "1.7", choice: "abort", replicas: null, nowMs: 0 });
    expect(first.inspects).toEqual([{ reqId: 1, txnId: "1.7", choice: "abort" }]);
    expect(first.replies).toEqual([]);
    expect(first.send).toEqual([]);
    const unknown = ["r1", "r2", "r3"].map((replicaId) => ({ replicaId, state: "unknown" as const, commitSeq: 0 }));
    const second = step(core, { kind: "resolve", reqId: 1, txnId: "1.7", choice: "abort", replicas: unknown, nowMs: 0 });
    expect(second.inspects).toEqual([]);
    expect(second.replies).toMatchObject([{ reqId: 1, result: { ok: true } }]);
  });

  it("(b) refuses to abort a transaction that committed and finished between the two steps", () => {
    const core = newCore();
    const started = step(core, { kind: "write", reqId: 1, writes: [put("k", "v")], nowMs: 0 });
    const txnId = started.early.find((message) => message.kind === "prepare")!.txnId;
    // The operator sent the Resolve while the transaction was in flight; meanwhile it commits and
    // finishes (every vote and every acknowledgement in).
    for (const replicaId of ["r1", "r2", "r3"]) step(core, { kind: "votes", replicaId, votes: [{ txnId, vote: "yes" }], nowMs: 1 });
    for (const replicaId of ["r1", "r2", "r3"]) step(core, { kind: "acks", replicaId, txnIds: [txnId], nowMs: 2 });
    // The Resolve is stepped only now: not in flight any more, but remembered.
    const ready = step(core, { kind: "resolve", reqId: 9, txnId, choice: "abort", replicas: null, nowMs: 3 });
    expect(ready.inspects).toEqual([]);
    expect(ready.replies).toMatchObject([{ reqId: 9, result: { ok: false, code: Code.FAILED_PRECONDITION } }]);
    expect(ready.send).toEqual([]);
  });

  it("(c) sends a commit it learned from a replica only to the replicas holding it prepared", () => {
    const core = newCore({ ...FRESH, epoch: 2 });
    const replicas = [
      { replicaId: "r1", state: "committed" as const, commitSeq: 4 },
      { replicaId: "r2", state: "prepared" as const, commitSeq: 0 },
      { replicaId: "r3", state: "unknown" as const, commitSeq: 0 },
    ];
    const ready = step(core, { kind: "resolve", reqId: 2, txnId: "1.3", choice: "commit", replicas, nowMs: 0 });
    expect(ready.send).toEqual([{ kind: "commit", to: "r2", txnId: "1.3", commitSeq: 4, urgent: true, writes: null }]);
    expect(ready.replies).toMatchObject([{ reqId: 2, result: { ok: true, commitSeq: 4 } }]);
  });

  it("(d) refuses both choices for a transaction still preparing, naming that it will commit, and leaves it to commit", () => {
    const core = newCore();
    const started = step(core, { kind: "write", reqId: 1, writes: [put("k", "v")], nowMs: 0 });
    const txnId = started.early.find((message) => message.kind === "prepare")!.txnId;
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 1 });
    for (const choice of ["abort", "commit"] as const) {
      const ready = step(core, { kind: "resolve", reqId: 9, txnId, choice, replicas: null, nowMs: 2 });
      expect(ready.inspects).toEqual([]);
      expect(ready.send).toEqual([]);
      expect(ready.persist).toEqual([]);
      expect(ready.replies).toEqual([{ reqId: 9, result: { ok: false, code: Code.FAILED_PRECONDITION, message: expect.stringContaining(`cannot ${choice} ${txnId}`) } }]);
      expect(ready.replies[0]!.result).toMatchObject({ message: expect.stringContaining("it commits once a majority voted YES or every participant voted") });
    }
    // The abort's refusal names the logged decision; the commit's, the prepare timeout that bounds the wait.
    expect(step(core, { kind: "resolve", reqId: 10, txnId, choice: "abort", replicas: null, nowMs: 3 }).replies[0]!.result).toMatchObject({ message: expect.stringContaining("COMMIT decision is logged (commit sequence number 1)") });
    expect(step(core, { kind: "resolve", reqId: 11, txnId, choice: "commit", replicas: null, nowMs: 3 }).replies[0]!.result).toMatchObject({ message: expect.stringContaining(`${limits.prepareTimeoutMs} ms (prepareTimeoutMs)`) });
    expect(core.inFlight().map((txn) => [txn.txnId, txn.phase])).toEqual([[txnId, "preparing"]]);
    const decided = step(core, { kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "yes" }], nowMs: 4 });
    expect(decided.replies).toMatchObject([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId } }]);
  });

  it("(e) aborts a transaction still reading, before any replica heard of it: ABORTED to its client, no ABORT sent", () => {
    const core = newCore();
    const program = { conditions: [], then: [{ kind: "incr" as const, key: "c", delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
    const txnId = step(core, { kind: "txn", reqId: 1, requestId: null, method: "txn", program, nowMs: 0 }).reads[0]!.txnId;
    const refused = step(core, { kind: "resolve", reqId: 8, txnId, choice: "commit", replicas: null, nowMs: 1 });
    expect(refused.replies).toMatchObject([{ reqId: 8, result: { ok: false, code: Code.FAILED_PRECONDITION, message: expect.stringContaining("still reading") } }]);
    const ready = step(core, { kind: "resolve", reqId: 9, txnId, choice: "abort", replicas: null, nowMs: 1 });
    expect(ready.send).toEqual([]);
    expect(ready.early).toEqual([]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([
      { reqId: 1, result: { ok: false, code: Code.ABORTED, message: expect.stringContaining("aborted by an operator") } },
      { reqId: 9, result: { ok: true, commitSeq: 0, message: "aborted before any replica heard of it" } },
    ]);
    expect(core.inFlight()).toEqual([]);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("(f) refuses to abort a decided transaction whose NO voter has not acknowledged; a commit re-sends it, with the writes, to that replica alone", () => {
    const core = newCore();
    const started = step(core, { kind: "write", reqId: 1, writes: [put("k", "v")], nowMs: 0 });
    const txnId = started.early.find((message) => message.kind === "prepare")!.txnId;
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "no", reason: "locked" }], nowMs: 1 });
    step(core, { kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "yes" }], nowMs: 1 });
    step(core, { kind: "votes", replicaId: "r3", votes: [{ txnId, vote: "no", reason: "locked" }], nowMs: 1 });
    step(core, { kind: "acks", replicaId: "r1", txnIds: [txnId], nowMs: 1 });
    step(core, { kind: "acks", replicaId: "r2", txnIds: [txnId], nowMs: 1 });
    const abort = step(core, { kind: "resolve", reqId: 9, txnId, choice: "abort", replicas: null, nowMs: 2 });
    expect(abort.send).toEqual([]);
    expect(abort.replies).toMatchObject([{ reqId: 9, result: { ok: false, code: Code.FAILED_PRECONDITION, message: expect.stringContaining("decided COMMIT") } }]);
    const commit = step(core, { kind: "resolve", reqId: 10, txnId, choice: "commit", replicas: null, nowMs: 2 });
    expect(commit.send).toEqual([{ kind: "commit", to: "r3", txnId, commitSeq: 1, urgent: true, writes: [put("k", "v")] }]);
    expect(commit.replies).toMatchObject([{ reqId: 10, result: { ok: true, commitSeq: 1 } }]);
    expect(commit.replies.map((r) => r.reqId)).toEqual([10]); // the client was answered at the decision
  });
});
