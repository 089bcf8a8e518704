// What this proves: an operator's Resolve is decided entirely inside the core's step.
//   (a) a Resolve of a transaction the core neither tracks nor remembers asks for what the replicas
//       know (Ready.inspects), answers nothing and sends nothing yet; stepped again with their
//       answers, it decides then, over the core's state at that step;
//   (b) a transaction that commits and finishes between the two steps is still refused an abort
//       (the core consults its remembered commits at the second step), and no ABORT leaves;
//   (c) a commit settled from a replica's knowledge goes only to the replicas that hold the
//       transaction prepared, never to one that took no part in it.
// How: the pure core, stepped by hand (no node, no network).
import { describe, expect, it } from "vitest";
import { Code } from "../../common/errors";
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
    const txnId = started.send.find((message) => message.kind === "prepare")!.txnId;
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
    expect(ready.send).toEqual([{ kind: "commit", to: "r2", txnId: "1.3", commitSeq: 4, urgent: true }]);
    expect(ready.replies).toMatchObject([{ reqId: 2, result: { ok: true, commitSeq: 4 } }]);
  });
});
