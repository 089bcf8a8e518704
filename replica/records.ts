// The records of a replica's write-ahead log, and their encoding. Pure.
import { assertNever } from "../common/assert";
import { BinaryReader, BinaryWriter, sizeOf } from "../common/binary";
import { DataLoss } from "../common/errors";
import type { Write } from "../common/types";
import { decodeWrites } from "../common/write-codec";

export type ReplicaRecord =
  /**
   * Forced before the YES vote: the writes, and so the keys this transaction locks. Also written,
   * without participants and followed by its commit record, for a COMMIT with writes of a
   * transaction this replica never prepared (replica/core.ts commitUnprepared).
   */
  | { readonly kind: "prepare"; readonly txnId: string; readonly writes: readonly Write[]; readonly participants: readonly string[] }
  /**
   * Forced before the commit is acknowledged. lazy (not encoded): the force may wait for company
   * (replica/core.ts mayWait).
   */
  | { readonly kind: "commit"; readonly txnId: string; readonly commitSeq: number; readonly lazy?: boolean }
  /** Never waited on: a lost abort record only makes recovery ask the coordinator again. */
  | { readonly kind: "abort"; readonly txnId: string }
  /**
   * No longer written: a promise never to prepare this transaction, forced before a peer was told
   * "aborted" about a transaction this replica never saw (wrong since intent commits: replica/core.ts,
   * peer-query). Old logs still hold them; recovery replays one as an abort.
   */
  | { readonly kind: "refuse"; readonly txnId: string }
  /** Written only by compaction: a commit already applied (and forced in SQLite), kept as knowledge. */
  | { readonly kind: "committed"; readonly txnId: string; readonly commitSeq: number }
  /** Written only by compaction: the newest transaction id among the decisions forgotten. */
  | { readonly kind: "forgotten"; readonly txnId: string }
  /**
   * Failover: the epoch this replica promised, and to which coordinator (its id and address, "" when
   * the epoch came with a call that does not name them). Forced before the promise is answered or
   * any call of that epoch is served: a calls of a lower epoch is refused from then on.
   */
  | { readonly kind: "promise"; readonly epoch: number; readonly coordinatorId: string; readonly address: string }
  /**
   * Failover: records of the coordinator's decision log, held for its successor: with base, they
   * replace the copy; without, they follow its last record. Forced before the Append is answered.
   */
  | { readonly kind: "copy"; readonly epoch: number; readonly base: boolean; readonly firstIndex: number; readonly records: readonly Buffer[] };

/** The JSON records ("p" and "l" are read from logs written before binary prepare and copy records). */
type Encoded =
  | { k: "c"; t: string; s: number }
  | { k: "a"; t: string }
  | { k: "r"; t: string }
  | { k: "d"; t: string; s: number }
  | { k: "f"; t: string }
  | { k: "e"; e: number; c: string; a: string };

/**
 * The first byte of a binary record. The hot path's records (prepare, copy) are binary (common/
 * binary.ts); the others are JSON, which always starts with "{". Logs written before binary records
 * replay as they are.
 */
const binaryMark = 0;
const binaryPrepare = 1;
const binaryCopy = 2;

function encodeBinaryPrepare(record: Extract<ReplicaRecord, { kind: "prepare" }>): Buffer {
  let bytes = 2 * sizeOf.u8 + sizeOf.string(record.txnId) + sizeOf.int + sizeOf.int;
  for (const participant of record.participants) bytes += sizeOf.string(participant);
  for (const write of record.writes) bytes += sizeOf.string(write.key) + sizeOf.u8 + (write.value === null ? 0 : sizeOf.bytes(write.value));
  const writer = new BinaryWriter(bytes).u8(binaryMark).u8(binaryPrepare).string(record.txnId).int(record.participants.length);
  for (const participant of record.participants) writer.string(participant);
  writer.int(record.writes.length);
  for (const write of record.writes) {
    writer.string(write.key).u8(write.value === null ? 0 : 1);
    if (write.value !== null) writer.bytes(write.value);
  }
  return writer.done();
}

function encodeBinaryCopy(record: Extract<ReplicaRecord, { kind: "copy" }>): Buffer {
  let bytes = 3 * sizeOf.u8 + 3 * sizeOf.int;
  for (const payload of record.records) bytes += sizeOf.bytes(payload);
  const writer = new BinaryWriter(bytes).u8(binaryMark).u8(binaryCopy).int(record.epoch).u8(record.base ? 1 : 0).int(record.firstIndex).int(record.records.length);
  for (const payload of record.records) writer.bytes(payload);
  return writer.done();
}

function decodeBinary(payload: Buffer, lsn: number): ReplicaRecord {
  const reader = new BinaryReader(payload, `replica log record ${lsn}`);
  reader.u8();
  const kind = reader.u8();
  const count = (): number => {
    const n = reader.int();
    if (n < 0 || n > payload.length) throw new DataLoss(`replica log record ${lsn}: a count of ${n} in ${payload.length} bytes`);
    return n;
  };
  let record: ReplicaRecord;
  if (kind === binaryPrepare) {
    const txnId = reader.string();
    const participants = Array.from({ length: count() }, () => reader.string());
    const writes = Array.from({ length: count() }, () => {
      const key = reader.string();
      const flag = reader.u8();
      if (flag > 1) throw new DataLoss(`replica log record ${lsn}: a write's value flag is ${flag}`);
      return { key, value: flag === 1 ? reader.bytes() : null };
    });
    record = { kind: "prepare", txnId, writes, participants };
  } else if (kind === binaryCopy) {
    const epoch = reader.int();
    const base = reader.u8();
    if (base > 1) throw new DataLoss(`replica log record ${lsn}: a copy's base flag is ${base}`);
    const firstIndex = reader.int();
    const records = Array.from({ length: count() }, () => reader.bytes());
    record = { kind: "copy", epoch, base: base === 1, firstIndex, records };
  } else {
    throw new DataLoss(`replica log record ${lsn} is binary of unknown kind ${kind}`);
  }
  reader.end();
  return record;
}

export function encodeReplicaRecord(record: ReplicaRecord): Buffer {
  let encoded: Encoded;
  switch (record.kind) {
    case "prepare":
      return encodeBinaryPrepare(record);
    case "commit":
      encoded = { k: "c", t: record.txnId, s: record.commitSeq };
      break;
    case "abort":
      encoded = { k: "a", t: record.txnId };
      break;
    case "refuse":
      encoded = { k: "r", t: record.txnId };
      break;
    case "committed":
      encoded = { k: "d", t: record.txnId, s: record.commitSeq };
      break;
    case "forgotten":
      encoded = { k: "f", t: record.txnId };
      break;
    case "promise":
      encoded = { k: "e", e: record.epoch, c: record.coordinatorId, a: record.address };
      break;
    case "copy":
      return encodeBinaryCopy(record);
    default:
      assertNever(record);
  }
  return Buffer.from(JSON.stringify(encoded), "utf8");
}

/** Decodes a record whose checksum matched. A record that does not parse is DATA_LOSS. */
export function decodeReplicaRecord(payload: Buffer, lsn: number): ReplicaRecord {
  if (payload.length > 0 && payload[0] === binaryMark) return decodeBinary(payload, lsn);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new DataLoss(`replica log record ${lsn} is not valid JSON`);
  }
  const bad = (): never => {
    throw new DataLoss(`replica log record ${lsn} has an unknown shape: ${payload.toString("utf8").slice(0, 200)}`);
  };
  if (typeof value !== "object" || value === null) return bad();
  const record = value as Record<string, unknown>;
  if (record.k === "e") {
    if (typeof record.e !== "number" || typeof record.c !== "string" || typeof record.a !== "string") return bad();
    return { kind: "promise", epoch: record.e, coordinatorId: record.c, address: record.a };
  }
  if (record.k === "l") {
    const r = record.r;
    if (typeof record.e !== "number" || typeof record.b !== "boolean" || typeof record.i !== "number" || !Array.isArray(r) || !r.every((x) => typeof x === "string")) return bad();
    return { kind: "copy", epoch: record.e, base: record.b, firstIndex: record.i, records: (r as string[]).map((x) => Buffer.from(x, "base64")) };
  }
  if (typeof record.t !== "string") return bad();
  switch (record.k) {
    case "p":
      if (!Array.isArray(record.p) || !record.p.every((p) => typeof p === "string")) return bad();
      return { kind: "prepare", txnId: record.t, writes: decodeWrites(record.w, `replica log record ${lsn}`), participants: record.p };
    case "c":
      if (typeof record.s !== "number") return bad();
      return { kind: "commit", txnId: record.t, commitSeq: record.s };
    case "a":
      return { kind: "abort", txnId: record.t };
    case "r":
      return { kind: "refuse", txnId: record.t };
    case "d":
      if (typeof record.s !== "number") return bad();
      return { kind: "committed", txnId: record.t, commitSeq: record.s };
    case "f":
      return { kind: "forgotten", txnId: record.t };
    default:
      return bad();
  }
}
