// Transaction ids of later epochs than any coordinator used cannot raise the epoch a new
// coordinator must pass (issue 12, found by the fuzzer): a replica counts only transactions it
// prepared, and a coordinator refuses to settle an id no coordinator can have issued.
import { describe, expect, it } from "vitest";
import { Code } from "../../common/errors";
import { CoordinatorCore, newReady as newCoordinatorReady, type RecoveredCoordinator } from "../../coordinator/core";
import { newReady, ParticipantCore } from "../../replica/core";
import { recoverReplica } from "../../replica/recovery";
import type { ReplicaRecord } from "../../replica/records";

const huge = "9007199254740991.1";

function promiseAnswer(core: ParticipantCore, epoch: number) {
  const out = newReady();
  core.step({ kind: "promise", callId: 1, epoch, coordinatorId: "c1", address: "127.0.0.1:50051", nowMs: 0 }, out);
  return out.replies[0];
}

describe("the highest transaction epoch a replica reports", () => {
  it("does not count a peer's query, an old refusal or an abort of an id it never prepared, after a restart either", () => {
    const core = new ParticipantCore({ selfId: "r1", prepared: [], decided: [], nowMs: 0 });
    const asked = newReady();
    core.step({ kind: "peer-query", callId: 1, txnIds: [huge], nowMs: 0 }, asked);
    // Answered unknown, nothing logged (intent commits: replica/core.ts, peer-query).
    expect(asked.persist).toEqual([]);
    expect(promiseAnswer(core, 1)).toMatchObject({ kind: "promised", granted: true, maxTxnEpoch: 1 });
    const records: { lsn: number; record: ReplicaRecord }[] = [
      { lsn: 1, record: { kind: "prepare", txnId: "3.1", writes: [{ key: "k", value: Buffer.from("v") }], participants: ["r1"] } },
      { lsn: 2, record: { kind: "commit", txnId: "3.1", commitSeq: 1 } },
      // A refusal an older build logged for a peer's query.
      { lsn: 3, record: { kind: "refuse", txnId: huge } },
      { lsn: 9, record: { kind: "abort", txnId: "9007199254740990.7" } },
    ];
    const recovered = recoverReplica(records, 0);
    const restarted = new ParticipantCore({ selfId: "r1", prepared: recovered.prepared, decided: recovered.decided, nowMs: 0 });
    expect(promiseAnswer(restarted, 5)).toMatchObject({ kind: "promised", granted: true, maxTxnEpoch: 5 });
  });

  it("counts a transaction it prepared and one it committed", () => {
    const core = new ParticipantCore({
      selfId: "r1",
      prepared: [{ txnId: "7.2", writes: [{ key: "a", value: Buffer.from("1") }], participants: ["r1"] }],
      decided: [{ txnId: "6.1", decided: { outcome: "commit", commitSeq: 1 } }],
      nowMs: 0,
    });
    expect(promiseAnswer(core, 1)).toMatchObject({ granted: true, maxTxnEpoch: 7 });
  });
});

describe("an operator's resolve of a transaction of a later epoch", () => {
  it("is refused: no coordinator has issued it", () => {
    const recovered: RecoveredCoordinator = { epoch: 3, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };
    const core = new CoordinatorCore({ participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 2 }, recovered, 0);
    const out = newCoordinatorReady();
    core.step({ kind: "resolve", reqId: 1, txnId: huge, choice: "abort", replicas: null, nowMs: 0 }, out);
    expect(out.replies).toEqual([{ reqId: 1, result: { ok: false, code: Code.FAILED_PRECONDITION, message: expect.stringContaining("no transaction 9007199254740991.1 was started") } }]);
    expect(out.send).toEqual([]);
    expect(out.inspects).toEqual([]);
  });
});

describe("after a takeover, the transactions the replicas hold in doubt", () => {
  it("are aborted at once unless committed: presumed abort, before the retries of their requests come", () => {
    const recovered: RecoveredCoordinator = {
      epoch: 5,
      lastCommitSeq: 9,
      unfinished: [{ txnId: "4.7", commitSeq: 9, participants: ["r1", "r2", "r3"], keys: ["k"], writes: null }],
      membership: null,
      remembered: [],
      newestForgotten: null,
      failures: [],
    };
    const core = new CoordinatorCore({ participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 2 }, recovered, 0);
    const out = newCoordinatorReady();
    core.step({ kind: "settle-in-doubt", txnIds: ["4.7", "4.8", "5.1"], nowMs: 0 }, out);
    // 4.7 is a recovered commit (its COMMIT is re-sent by recovery); 5.1 is of this epoch; 4.8 had no
    // COMMIT on a majority, so it never committed: ABORT to every replica.
    expect(out.send).toEqual(["r1", "r2", "r3"].map((to) => ({ kind: "abort", to, txnId: "4.8" })));
    expect(out.persist).toEqual([]);
  });
});

describe("a NO vote for a key held by a transaction an earlier coordinator left prepared", () => {
  const recovered: RecoveredCoordinator = { epoch: 5, lastCommitSeq: 3, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };

  function votedNo(lockedBy: string) {
    const core = new CoordinatorCore({ participants: ["r1", "r2", "r3"], onConflict: "abort", minInSync: 2 }, recovered, 0);
    const start = newCoordinatorReady();
    core.step({ kind: "write", reqId: 1, writes: [{ key: "k", value: Buffer.from("v") }], requestId: "req-1", nowMs: 0 }, start);
    const txnId = (start.early[0] as { txnId: string }).txnId;
    const out = newCoordinatorReady();
    core.step({ kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "no", reason: `key "k" is locked by prepared transaction ${lockedBy}`, lockedBy }], nowMs: 1 }, out);
    return { txnId, out };
  }

  it("aborts that transaction everywhere; the write still commits (intent commits), that replica getting the writes", () => {
    const { out } = votedNo("4.9");
    expect(out.replies).toEqual([]);
    const aborts = out.send.filter((message) => message.kind === "abort");
    expect(aborts.map((message) => `${message.txnId}->${message.to}`)).toEqual(["4.9->r1", "4.9->r2", "4.9->r3"]);
    expect(out.send.filter((message) => message.kind === "prepare")).toEqual([]);
  });

  it("aborts nothing when the holder is of this epoch, and the write is no failure either", () => {
    const { out } = votedNo("5.7");
    expect(out.send.filter((message) => message.kind === "abort")).toEqual([]);
    expect(out.replies).toEqual([]);
    expect(out.persist.filter(({ record }) => record.kind === "failed")).toEqual([]);
  });
});
