// Proves log compaction at the unit level: FileLog.rewrite replaces the file atomically, LSNs go on
// from where the old log ended, a leftover half-written compaction file is ignored on open; and each
// core's liveRecords(), replayed by its recovery, rebuilds the state that matters (replica: prepared
// transactions with their locks, remembered decisions, the newest forgotten one, the epoch promised;
// coordinator: epoch, last commit, in-sync set, unfinished commits).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CoordinatorCore, newReady as newCoordinatorReady } from "../../coordinator/core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord } from "../../coordinator/records";
import { recoverCoordinator } from "../../coordinator/recovery";
import { FileLog } from "../../logs/file-log";
import { newReady, ParticipantCore } from "../../replica/core";
import { decodeReplicaRecord, encodeReplicaRecord } from "../../replica/records";
import { recoverReplica } from "../../replica/recovery";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempLogPath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-compact-"));
  dirs.push(dir);
  return path.join(dir, "test.wal");
}

const put = (key: string, value: string) => ({ key, value: Buffer.from(value) });
/** The coordinator's epoch in the replica calls below; the first call promises it. */
const EPOCH = 1;

describe("FileLog.rewrite", () => {
  it("replaces the records, continues the LSNs, and survives a reopen", async () => {
    const file = tempLogPath();
    const { log } = await FileLog.open(file);
    for (let i = 0; i < 10; i++) log.append(Buffer.from(`old-${i}`));
    await log.force();
    const sizeBefore = log.bytes;
    await log.rewrite([Buffer.from("kept-a"), Buffer.from("kept-b")]);
    expect(log.bytes).toBeLessThan(sizeBefore);
    expect(log.endLsn).toBe(12);
    expect(log.append(Buffer.from("after"))).toBe(12);
    await log.close();

    const { log: reopened, replayed } = await FileLog.open(file);
    expect(replayed.firstLsn).toBe(10);
    expect(replayed.records.map((record) => record.toString())).toEqual(["kept-a", "kept-b", "after"]);
    expect(reopened.endLsn).toBe(13);
    await reopened.close();
  });

  it("forces records appended without a force before it rewrites", async () => {
    const file = tempLogPath();
    const { log } = await FileLog.open(file);
    log.append(Buffer.from("lazy")); // never forced by the caller
    await log.rewrite([Buffer.from("kept")]);
    expect(log.endLsn).toBe(2);
    await log.close();
  });

  it("ignores a compaction file left by a crash before its rename", async () => {
    const file = tempLogPath();
    const { log } = await FileLog.open(file);
    log.append(Buffer.from("real"));
    await log.close();
    fs.writeFileSync(`${file}.compacting`, "half-written garbage");
    const { log: reopened, replayed } = await FileLog.open(file);
    expect(replayed.records.map((record) => record.toString())).toEqual(["real"]);
    expect(fs.existsSync(`${file}.compacting`)).toBe(false);
    await reopened.close();
  });
});

describe("ParticipantCore.liveRecords", () => {
  it("rebuilds prepared transactions, decisions and the newest forgotten id through recovery", () => {
    const core = new ParticipantCore({ prepared: [], decided: [], newestForgotten: "1.2", nowMs: 0 });
    const step = (input: Parameters<ParticipantCore["step"]>[0]) => {
      const out = newReady();
      core.step(input, out);
      return out;
    };
    step({ kind: "prepare", callId: 1, epoch: EPOCH, txns: [{ txnId: "1.5", writes: [put("a", "1")], participants: ["r1"] }], nowMs: 0 });
    step({ kind: "prepare", callId: 2, epoch: EPOCH, txns: [{ txnId: "1.6", writes: [put("b", "2")], participants: ["r1"] }], nowMs: 0 });
    step({ kind: "commit", callId: 3, epoch: EPOCH, txns: [{ txnId: "1.5", commitSeq: 7, writes: [] }], urgent: true, nowMs: 0 });
    step({ kind: "abort", callId: 4, epoch: EPOCH, txnIds: ["1.8"], nowMs: 0 });

    const records = core.liveRecords().map((record, i) => ({ lsn: 100 + i, record: decodeReplicaRecord(encodeReplicaRecord(record), 100 + i) }));
    // Nothing to redo: a compacted log's commits are already in SQLite.
    const recovered = recoverReplica(records, 99);
    expect(recovered.redo).toEqual([]);
    expect(recovered.newestForgotten).toBe("1.2");
    const rebuilt = new ParticipantCore({ ...recovered, nowMs: 0 });
    expect(rebuilt.lockHolder("b")).toBe("1.6");
    expect(rebuilt.lockHolder("a")).toBeUndefined();
    expect(rebuilt.stateOf("1.5")).toEqual({ txnId: "1.5", state: "committed", commitSeq: 7 });
    expect(rebuilt.stateOf("1.8")).toEqual({ txnId: "1.8", state: "aborted" });
    // The epoch the first call promised survives the compaction too.
    expect(rebuilt.promised()).toEqual({ epoch: EPOCH, coordinatorId: "", address: "" });
    // An id no newer than the forgotten one is never refused.
    const out = newReady();
    rebuilt.step({ kind: "peer-query", callId: 9, txnIds: ["1.1"], nowMs: 0 }, out);
    expect(out.persist).toEqual([]);
  });
});

describe("CoordinatorCore.liveRecords", () => {
  it("rebuilds epoch, last commit, in-sync set and unfinished commits through recovery", () => {
    const config = { participants: ["r1", "r2", "r3"], onConflict: "abort" as const, minInSync: 2 };
    const core = new CoordinatorCore(config, { epoch: 3, lastCommitSeq: 40, unfinished: [], membership: { inSync: ["r1", "r2"], outSince: { r3: 12 } }, remembered: [], newestForgotten: null, failures: [] }, 0);
    const step = (input: Parameters<CoordinatorCore["step"]>[0]) => {
      const out = newCoordinatorReady();
      core.step(input, out);
      return out;
    };
    for (const id of ["r1", "r2"]) step({ kind: "health", replicaId: id, ok: true, nowMs: 0 });
    step({ kind: "write", reqId: 1, writes: [put("k", "v")], nowMs: 0 });
    const txnId = core.inFlight()[0]!.txnId;
    step({ kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 1 });
    step({ kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "yes" }], nowMs: 1 }); // committed, unacknowledged

    const records = core.liveRecords().map((record, i) => decodeCoordinatorRecord(encodeCoordinatorRecord(record), i));
    const recovered = recoverCoordinator(records);
    expect(recovered.epoch).toBe(4);
    expect(recovered.lastCommitSeq).toBe(41);
    expect(recovered.membership).toEqual({ inSync: ["r1", "r2"], outSince: { r3: 12 } });
    expect(recovered.unfinished).toEqual([{ txnId, commitSeq: 41, participants: ["r1", "r2"], keys: ["k"], writes: [put("k", "v")] }]);
  });
});
