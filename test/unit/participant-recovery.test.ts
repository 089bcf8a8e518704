// Proves that a replica's log records survive encoding (replica/records.ts) byte for byte, that a
// record which does not decode is DATA_LOSS rather than a guess, and that recovery
// (replica/recovery.ts, recoverReplica) rebuilds the right state from the log: an undecided
// prepare is in doubt and keeps its writes, a commit logged after appliedLsn is redone in log
// order with its prepare's writes, a commit at or before appliedLsn is not redone, and an abort
// leaves the transaction aborted, not prepared. Intent commits: the prepare record without
// participants that a COMMIT with writes logs before its commit record is dropped when the commit
// record did not make it (a torn tail), so that it neither stays in doubt nor locks a key a stale
// prepared transaction holds; a later prepare record of the same transaction replaces it, while a
// transaction prepared twice by PREPAREs is still a failed assertion.
//
// How: encode then decode each record kind (binary values, deletes) and compare; feed hand-made
// payloads to the decoder; run recoverReplica over hand-built logs and check each field of the
// result.
import { describe, expect, it } from "vitest";
import { AssertionFailure } from "../../common/assert";
import { DataLoss } from "../../common/errors";
import type { Write } from "../../common/types";
import { ParticipantCore } from "../../replica/core";
import { decodeReplicaRecord, encodeReplicaRecord, type ReplicaRecord } from "../../replica/records";
import { recoverReplica } from "../../replica/recovery";

const PARTICIPANTS = ["r1", "r2", "r3"];

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

function roundTrip(record: ReplicaRecord): ReplicaRecord {
  return decodeReplicaRecord(encodeReplicaRecord(record), 1);
}

describe("replica record encoding", () => {
  it("round-trips a prepare record with binary values, an empty value, a unicode key and a delete", () => {
    const binary = Buffer.from([0x00, 0xff, 0x80, 0x7f, 0x0a, 0x22, 0x5c, 0xc3, 0x28]);
    const record: ReplicaRecord = {
      kind: "prepare",
      txnId: "3.17",
      writes: [
        { key: "bin", value: binary },
        { key: "empty", value: Buffer.alloc(0) },
        { key: "ключ 🔑 \"quoted\"", value: Buffer.from("v", "utf8") },
        { key: "gone", value: null },
      ],
      participants: PARTICIPANTS,
    };
    const decoded = roundTrip(record);
    expect(decoded).toEqual(record);
    if (decoded.kind !== "prepare") throw new Error("expected a prepare record");
    // Byte-exact, and values come back as Buffers, deletes as null.
    expect(Buffer.isBuffer(decoded.writes[0]!.value)).toBe(true);
    expect(decoded.writes[0]!.value!.equals(binary)).toBe(true);
    expect(decoded.writes[1]!.value!.length).toBe(0);
    expect(decoded.writes[3]!.value).toBeNull();
  });

  it("round-trips a commit record", () => {
    const record: ReplicaRecord = { kind: "commit", txnId: "3.17", commitSeq: 42 };
    expect(roundTrip(record)).toEqual(record);
  });

  it("round-trips an abort record", () => {
    const record: ReplicaRecord = { kind: "abort", txnId: "3.18" };
    expect(roundTrip(record)).toEqual(record);
  });

  it("throws DataLoss, naming the record, on a payload that is not JSON", () => {
    const decode = (): ReplicaRecord => decodeReplicaRecord(Buffer.from("{not json", "utf8"), 7);
    expect(decode).toThrow(DataLoss);
    expect(decode).toThrow(/record 7/);
    expect(() => decodeReplicaRecord(Buffer.from([0xde, 0xad, 0xbe, 0xef]), 8)).toThrow(DataLoss);
  });

  it.each([
    ["null", "null"],
    ["a number", "12"],
    ["a string", '"p"'],
    ["an unknown kind", '{"k":"x","t":"1.1"}'],
    ["no txn id", '{"k":"a"}'],
    ["a numeric txn id", '{"k":"a","t":5}'],
    ["a commit without a sequence number", '{"k":"c","t":"1.1"}'],
    ["a commit with a text sequence number", '{"k":"c","t":"1.1","s":"4"}'],
    ["a prepare without writes", '{"k":"p","t":"1.1","p":["r1"]}'],
    ["a prepare whose writes are not a list", '{"k":"p","t":"1.1","w":{},"p":["r1"]}'],
    ["a prepare with a malformed write", '{"k":"p","t":"1.1","w":[["a"]],"p":["r1"]}'],
    ["a prepare with a numeric value", '{"k":"p","t":"1.1","w":[["a",5]],"p":["r1"]}'],
    ["a prepare without participants", '{"k":"p","t":"1.1","w":[]}'],
    ["a prepare with a non-text participant", '{"k":"p","t":"1.1","w":[],"p":[1]}'],
  ])("throws DataLoss on %s", (_name, text) => {
    expect(() => decodeReplicaRecord(Buffer.from(text, "utf8"), 3)).toThrow(DataLoss);
  });
});

describe("recoverReplica", () => {
  it("leaves a prepare without a decision prepared (in doubt), with its writes and participants", () => {
    const writes = [put("a", "1"), { key: "b", value: null }];
    const recovered = recoverReplica([{ lsn: 1, record: { kind: "prepare", txnId: "1.1", writes, participants: PARTICIPANTS } }], 0);
    expect(recovered.prepared).toEqual([{ txnId: "1.1", writes, participants: PARTICIPANTS }]);
    expect(recovered.redo).toEqual([]);
    expect(recovered.decided).toEqual([]);
    expect(recovered.committedInLog).toBe(0);
  });

  it("redoes, in log order, the commits logged after appliedLsn, with their prepares' writes", () => {
    const w1 = [put("a", "1")];
    const w2 = [put("b", "2"), { key: "a", value: null }];
    const w3 = [put("c", "3")];
    const recovered = recoverReplica(
      [
        { lsn: 1, record: { kind: "prepare", txnId: "1.1", writes: w1, participants: PARTICIPANTS } },
        { lsn: 2, record: { kind: "prepare", txnId: "1.3", writes: w3, participants: PARTICIPANTS } },
        { lsn: 3, record: { kind: "prepare", txnId: "1.2", writes: w2, participants: PARTICIPANTS } },
        // Committed in the order 1.1, 1.2, 1.3 although prepared 1.1, 1.3, 1.2.
        { lsn: 4, record: { kind: "commit", txnId: "1.1", commitSeq: 1 } },
        { lsn: 5, record: { kind: "commit", txnId: "1.2", commitSeq: 2 } },
        { lsn: 6, record: { kind: "commit", txnId: "1.3", commitSeq: 3 } },
      ],
      0,
    );
    expect(recovered.redo).toEqual([
      { txnId: "1.1", commitSeq: 1, writes: w1 },
      { txnId: "1.2", commitSeq: 2, writes: w2 },
      { txnId: "1.3", commitSeq: 3, writes: w3 },
    ]);
    expect(recovered.prepared).toEqual([]);
    expect(recovered.committedInLog).toBe(3);
  });

  it("does not redo a commit at or before appliedLsn, and redoes the ones after it", () => {
    const w1 = [put("a", "1")];
    const w2 = [put("b", "2")];
    const w3 = [put("c", "3")];
    const log = [
      { lsn: 10, record: { kind: "prepare", txnId: "1.1", writes: w1, participants: PARTICIPANTS } },
      { lsn: 11, record: { kind: "prepare", txnId: "1.2", writes: w2, participants: PARTICIPANTS } },
      { lsn: 12, record: { kind: "prepare", txnId: "1.3", writes: w3, participants: PARTICIPANTS } },
      { lsn: 13, record: { kind: "commit", txnId: "1.1", commitSeq: 1 } },
      { lsn: 14, record: { kind: "commit", txnId: "1.2", commitSeq: 2 } },
      { lsn: 15, record: { kind: "commit", txnId: "1.3", commitSeq: 3 } },
    ] as const;
    // appliedLsn exactly at a commit record: that commit is in the store already.
    const recovered = recoverReplica(log, 14);
    expect(recovered.redo).toEqual([{ txnId: "1.3", commitSeq: 3, writes: w3 }]);
    expect(recovered.committedInLog).toBe(3);
    expect(recovered.prepared).toEqual([]);

    expect(recoverReplica(log, 15).redo).toEqual([]);
    expect(recoverReplica(log, 12).redo.map((apply) => apply.txnId)).toEqual(["1.1", "1.2", "1.3"]);
  });

  it("puts a prepare followed by an abort in aborted, not in prepared", () => {
    const recovered = recoverReplica(
      [
        { lsn: 1, record: { kind: "prepare", txnId: "1.1", writes: [put("a", "1")], participants: PARTICIPANTS } },
        { lsn: 2, record: { kind: "prepare", txnId: "1.2", writes: [put("b", "2")], participants: PARTICIPANTS } },
        { lsn: 3, record: { kind: "abort", txnId: "1.1" } },
      ],
      0,
    );
    expect(recovered.decided).toEqual([{ txnId: "1.1", decided: { outcome: "abort" } }]);
    expect(recovered.abortedInLog).toBe(1);
    expect(recovered.prepared.map((txn) => txn.txnId)).toEqual(["1.2"]);
    expect(recovered.redo).toEqual([]);
  });

  it("refuses (AssertionFailure) a commit record whose transaction the log never prepared", () => {
    expect(() => recoverReplica([{ lsn: 1, record: { kind: "commit", txnId: "1.1", commitSeq: 1 } }], 0)).toThrow(AssertionFailure);
  });

  it("recovers the same state from records that went through encode and decode", () => {
    const records: ReplicaRecord[] = [
      { kind: "prepare", txnId: "1.1", writes: [{ key: "a", value: Buffer.from([0, 1, 2]) }], participants: PARTICIPANTS },
      { kind: "prepare", txnId: "1.2", writes: [{ key: "b", value: null }], participants: PARTICIPANTS },
      { kind: "commit", txnId: "1.1", commitSeq: 1 },
    ];
    const log = records.map((record, i) => ({ lsn: i + 1, record: decodeReplicaRecord(encodeReplicaRecord(record), i + 1) }));
    const recovered = recoverReplica(log, 0);
    expect(recovered.redo).toEqual([{ txnId: "1.1", commitSeq: 1, writes: [{ key: "a", value: Buffer.from([0, 1, 2]) }] }]);
    expect(recovered.prepared).toEqual([{ txnId: "1.2", writes: [{ key: "b", value: null }], participants: PARTICIPANTS }]);
  });

  it("drops a prepare without participants that no commit record follows (an intent commit cut off by a crash)", () => {
    const stale = { kind: "prepare", txnId: "1.1", writes: [put("a", "old")], participants: PARTICIPANTS } as const;
    const intent = { kind: "prepare", txnId: "2.1", writes: [put("a", "new")], participants: [] } as const;
    const recovered = recoverReplica(
      [
        { lsn: 1, record: stale },
        { lsn: 2, record: intent },
      ],
      0,
    );
    expect(recovered.prepared).toEqual([{ txnId: "1.1", writes: stale.writes, participants: PARTICIPANTS }]);
    expect(recovered.decided).toEqual([]);
    expect(recovered.redo).toEqual([]);
    // A core rebuilt from it holds only the stale transaction's lock, and knows nothing of 2.1 (its
    // COMMIT was never acknowledged: the coordinator sends it again).
    const core = new ParticipantCore({ prepared: recovered.prepared, decided: recovered.decided, nowMs: 0 });
    expect(core.lockHolder("a")).toBe("1.1");
    expect(core.outcomeOf("2.1")).toBe("unknown");
  });

  it("lets a later prepare record replace a prepare without participants: the COMMIT with writes again, or the PREPARE", () => {
    const writes = [put("a", "1")];
    const intent = { kind: "prepare", txnId: "2.1", writes, participants: [] } as const;
    const resent = recoverReplica(
      [
        { lsn: 1, record: intent },
        { lsn: 2, record: intent },
        { lsn: 3, record: { kind: "commit", txnId: "2.1", commitSeq: 4 } },
      ],
      0,
    );
    expect(resent.redo).toEqual([{ txnId: "2.1", commitSeq: 4, writes }]);
    expect(resent.decided).toEqual([{ txnId: "2.1", decided: { outcome: "commit", commitSeq: 4 } }]);
    expect(resent.prepared).toEqual([]);

    const prepared = recoverReplica(
      [
        { lsn: 1, record: intent },
        { lsn: 2, record: { kind: "prepare", txnId: "2.1", writes, participants: PARTICIPANTS } },
      ],
      0,
    );
    expect(prepared.prepared).toEqual([{ txnId: "2.1", writes, participants: PARTICIPANTS }]);
  });

  it("refuses (AssertionFailure) a transaction prepared twice by PREPAREs", () => {
    const record = { kind: "prepare", txnId: "1.1", writes: [put("a", "1")], participants: PARTICIPANTS } as const;
    expect(() =>
      recoverReplica(
        [
          { lsn: 1, record },
          { lsn: 2, record },
        ],
        0,
      ),
    ).toThrow(AssertionFailure);
  });
});
