// The records of a replica's write-ahead log, and their encoding. Pure.
import { assertNever } from "../common/assert";
import { DataLoss } from "../common/errors";
import type { Write } from "../common/types";
import { decodeWrites, encodeWrites, type EncodedWrite } from "../common/write-codec";

export type ReplicaRecord =
  /** Forced before the YES vote: the writes, and so the keys this transaction locks. */
  | { readonly kind: "prepare"; readonly txnId: string; readonly writes: readonly Write[]; readonly participants: readonly string[] }
  /** Forced before the commit is acknowledged. */
  | { readonly kind: "commit"; readonly txnId: string; readonly commitSeq: number }
  /** Never waited on: a lost abort record only makes recovery ask the coordinator again. */
  | { readonly kind: "abort"; readonly txnId: string }
  /** A promise never to prepare this transaction, forced before a peer is told "aborted". */
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

type Encoded =
  | { k: "p"; t: string; w: EncodedWrite[]; p: readonly string[] }
  | { k: "c"; t: string; s: number }
  | { k: "a"; t: string }
  | { k: "r"; t: string }
  | { k: "d"; t: string; s: number }
  | { k: "f"; t: string }
  | { k: "e"; e: number; c: string; a: string }
  | { k: "l"; e: number; b: boolean; i: number; r: string[] };

export function encodeReplicaRecord(record: ReplicaRecord): Buffer {
  let encoded: Encoded;
  switch (record.kind) {
    case "prepare":
      encoded = { k: "p", t: record.txnId, w: encodeWrites(record.writes), p: record.participants };
      break;
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
      encoded = { k: "l", e: record.epoch, b: record.base, i: record.firstIndex, r: record.records.map((payload) => payload.toString("base64")) };
      break;
    default:
      assertNever(record);
  }
  return Buffer.from(JSON.stringify(encoded), "utf8");
}

/** Decodes a record whose checksum matched. A record that does not parse is DATA_LOSS. */
export function decodeReplicaRecord(payload: Buffer, lsn: number): ReplicaRecord {
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
