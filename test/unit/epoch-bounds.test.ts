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
  it("does not count a refusal or an abort of an id it never prepared, after a restart either", () => {
    const core = new ParticipantCore({ selfId: "r1", prepared: [], decided: [], nowMs: 0 });
    const asked = newReady();
    core.step({ kind: "peer-query", callId: 1, txnIds: [huge], nowMs: 0 }, asked);
    expect(asked.persist).toEqual([{ kind: "refuse", txnId: huge }]);
    const records: { lsn: number; record: ReplicaRecord }[] = [
      { lsn: 1, record: { kind: "prepare", txnId: "3.1", writes: [{ key: "k", value: Buffer.from("v") }], participants: ["r1"] } },
      { lsn: 2, record: { kind: "commit", txnId: "3.1", commitSeq: 1 } },
      ...asked.persist.map((record, i) => ({ lsn: 3 + i, record })),
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
