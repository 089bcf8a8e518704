// The replica's log records (replica/records.ts): prepare and copy records are binary (common/
// binary.ts, issue 13), the rest JSON. Proves that:
// - every kind of record decodes to what was encoded, values as bytes (empty, binary, deletes),
//   keys and ids in any Unicode;
// - a log written before binary records (prepare and copy in JSON, values in base64) replays;
// - a binary record cut short anywhere, with bytes left over, or of an unknown kind is DATA_LOSS,
//   naming the record, and never another error.
import { describe, expect, it } from "vitest";
import { DataLoss } from "../../common/errors";
import { encodeWrites } from "../../common/write-codec";
import { decodeReplicaRecord, encodeReplicaRecord, type ReplicaRecord } from "../../replica/records";

const records: ReplicaRecord[] = [
  {
    kind: "prepare",
    txnId: "3.17",
    writes: [
      { key: "a", value: Buffer.from("one") },
      { key: "ключ/🔑", value: Buffer.from([0, 0xff, 0x62, 0x69, 0x6e]) },
      { key: "empty", value: Buffer.alloc(0) },
      { key: "gone", value: null },
    ],
    participants: ["r1", "r2", "r3"],
  },
  { kind: "prepare", txnId: "1.1", writes: [], participants: [] },
  { kind: "copy", epoch: 4, base: true, firstIndex: 0, records: [Buffer.from("{\"k\":\"s\"}"), Buffer.alloc(0), Buffer.from([1, 2, 3])] },
  { kind: "copy", epoch: 9_007_199_254_740, base: false, firstIndex: 123_456, records: [] },
  { kind: "commit", txnId: "3.17", commitSeq: 42 },
  { kind: "abort", txnId: "3.18" },
  { kind: "refuse", txnId: "2.5" },
  { kind: "committed", txnId: "3.17", commitSeq: 42 },
  { kind: "forgotten", txnId: "3.1" },
  { kind: "promise", epoch: 5, coordinatorId: "c2", address: "127.0.0.1:50052" },
];

describe("replica log records", () => {
  it("decode to what was encoded, for every kind", () => {
    for (const record of records) expect(decodeReplicaRecord(encodeReplicaRecord(record), 7)).toEqual(record);
  });

  it("prepare and copy records are binary; the others JSON", () => {
    for (const record of records) {
      const first = encodeReplicaRecord(record)[0];
      expect(first, record.kind).toBe(record.kind === "prepare" || record.kind === "copy" ? 0 : "{".charCodeAt(0));
    }
  });

  it("a log written before binary records replays: prepare and copy in JSON", () => {
    const prepare = records[0] as Extract<ReplicaRecord, { kind: "prepare" }>;
    const oldPrepare = Buffer.from(JSON.stringify({ k: "p", t: prepare.txnId, w: encodeWrites(prepare.writes), p: prepare.participants }));
    expect(decodeReplicaRecord(oldPrepare, 1)).toEqual(prepare);
    const copy = records[2] as Extract<ReplicaRecord, { kind: "copy" }>;
    const oldCopy = Buffer.from(JSON.stringify({ k: "l", e: copy.epoch, b: copy.base, i: copy.firstIndex, r: copy.records.map((r) => r.toString("base64")) }));
    expect(decodeReplicaRecord(oldCopy, 2)).toEqual(copy);
  });

  it("a binary record cut short anywhere, with bytes left over, or of an unknown kind is DATA_LOSS naming it", () => {
    for (const record of [records[0]!, records[2]!]) {
      const encoded = encodeReplicaRecord(record);
      for (let length = 1; length < encoded.length; length++) {
        expect(() => decodeReplicaRecord(encoded.subarray(0, length), 12), `${record.kind} cut at ${length}`).toThrow(DataLoss);
      }
      expect(() => decodeReplicaRecord(Buffer.concat([encoded, Buffer.from([0])]), 12)).toThrow(/replica log record 12: 1 bytes left over/);
    }
    expect(() => decodeReplicaRecord(Buffer.from([0, 99]), 13)).toThrow(/replica log record 13 is binary of unknown kind 99/);
    const huge = Buffer.from(encodeReplicaRecord({ kind: "copy", epoch: 1, base: false, firstIndex: 0, records: [] }));
    huge.writeDoubleBE(1e9, huge.length - 8);
    expect(() => decodeReplicaRecord(huge, 14)).toThrow(DataLoss);
  });
});
