// The records of the coordinator's decision log, and their encoding. Pure.
//
// Presumed abort: only COMMIT decisions are logged. A transaction with no commit record is aborted,
// whatever happened to it, and a commit record is forced before any replica hears COMMIT.
import { assertNever } from "../common/assert";
import { DataLoss } from "../common/errors";

export type CoordinatorRecord =
  /** Forced at every start, before the coordinator serves: transaction ids carry the epoch. */
  | { readonly kind: "start"; readonly epoch: number; readonly lastCommitSeq: number }
  /** The COMMIT decision, forced before any COMMIT is sent or the client is answered. */
  | {
      readonly kind: "commit";
      readonly txnId: string;
      readonly commitSeq: number;
      readonly participants: readonly string[];
      readonly keys: readonly string[];
    }
  /** Every participant acknowledged the commit: recovery may forget the transaction. Not forced. */
  | { readonly kind: "end"; readonly txnId: string }
  /**
   * The in-sync set changed. Forced before any write goes ahead without a replica that left, and
   * before a replica that caught up serves reads.
   */
  | { readonly kind: "membership"; readonly inSync: readonly string[]; readonly outSince: Readonly<Record<string, number>> };

type Encoded =
  | { k: "s"; e: number; q: number }
  | { k: "c"; t: string; q: number; p: readonly string[]; y: readonly string[] }
  | { k: "e"; t: string }
  | { k: "m"; i: readonly string[]; o: Readonly<Record<string, number>> };

export function encodeCoordinatorRecord(record: CoordinatorRecord): Buffer {
  let encoded: Encoded;
  switch (record.kind) {
    case "start":
      encoded = { k: "s", e: record.epoch, q: record.lastCommitSeq };
      break;
    case "commit":
      encoded = { k: "c", t: record.txnId, q: record.commitSeq, p: record.participants, y: record.keys };
      break;
    case "end":
      encoded = { k: "e", t: record.txnId };
      break;
    case "membership":
      encoded = { k: "m", i: record.inSync, o: record.outSince };
      break;
    default:
      assertNever(record);
  }
  return Buffer.from(JSON.stringify(encoded), "utf8");
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

/** Decodes a record whose checksum matched. A record that does not parse is DATA_LOSS. */
export function decodeCoordinatorRecord(payload: Buffer, lsn: number): CoordinatorRecord {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new DataLoss(`coordinator log record ${lsn} is not valid JSON`);
  }
  const bad = (): never => {
    throw new DataLoss(`coordinator log record ${lsn} has an unknown shape: ${payload.toString("utf8").slice(0, 200)}`);
  };
  if (typeof value !== "object" || value === null) return bad();
  const record = value as Record<string, unknown>;
  switch (record.k) {
    case "s":
      if (typeof record.e !== "number" || typeof record.q !== "number") return bad();
      return { kind: "start", epoch: record.e, lastCommitSeq: record.q };
    case "c":
      if (typeof record.t !== "string" || typeof record.q !== "number") return bad();
      if (!isStringList(record.p) || !isStringList(record.y)) return bad();
      return { kind: "commit", txnId: record.t, commitSeq: record.q, participants: record.p, keys: record.y };
    case "e":
      if (typeof record.t !== "string") return bad();
      return { kind: "end", txnId: record.t };
    case "m": {
      if (!isStringList(record.i) || typeof record.o !== "object" || record.o === null || Array.isArray(record.o)) return bad();
      const outSince = record.o as Record<string, unknown>;
      if (!Object.values(outSince).every((seq) => typeof seq === "number")) return bad();
      return { kind: "membership", inSync: record.i, outSince: outSince as Record<string, number> };
    }
    default:
      return bad();
  }
}
