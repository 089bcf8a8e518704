// The records of the coordinator's decision log, and their encoding. Pure.
//
// Presumed abort: only COMMIT decisions are logged. A transaction with no commit record is aborted,
// whatever happened to it. Intent commits (issue 13): the commit record, with the writes, is appended
// as PREPARE leaves, and a transaction whose record is durable commits whatever the votes; it is
// forced before any replica hears COMMIT and before the client is answered.
//
// Exactly once: the COMMIT record carries the request it answers (RememberedCommit), and a request
// that failed definitely has its own forced "failed" record (RememberedFailure), so that a retry, or
// a late earlier attempt, of either gets the same answer after a restart too.
import { assertNever } from "../common/assert";
import { Code, type CodeValue, DataLoss } from "../common/errors";
import type { KeyState, OpResult, TxnOutcome } from "../common/txn";
import type { Write } from "../common/types";
import { decodeWrites, encodeWrites, type EncodedWrite } from "../common/write-codec";

/**
 * A committed request the coordinator remembers, so that a retry with the same request id returns
 * the original result (exactly-once). outcome is null for a program of blind writes (puts and
 * deletes): its results follow from the request itself.
 */
export interface RememberedCommit {
  readonly txnId: string;
  readonly requestId: string | null;
  /**
   * What the request id names (common/fingerprint.ts): a retry must match it. Null without a
   * request id, and in logs of versions that did not keep it.
   */
  readonly fingerprint: string | null;
  readonly commitSeq: number;
  readonly outcome: TxnOutcome | null;
  /** Wall-clock time of the decision (the shell's clock), for requestIdRetentionMs. */
  readonly atMs: number;
}

/**
 * The codes of a definite failure (coordinator/core.ts says why these): the request failed, nothing
 * was written, and it never will be under its request id. UNAVAILABLE is not one of them.
 */
export const definiteFailureCodes: readonly CodeValue[] = [Code.ABORTED, Code.FAILED_PRECONDITION, Code.INVALID_ARGUMENT];

/**
 * A request that failed definitely, remembered by its request id so that every later attempt of it
 * gets the same failure (same code, same message) and none runs.
 */
export interface RememberedFailure {
  readonly requestId: string;
  /** What the request id names (common/fingerprint.ts): another request under it is refused. */
  readonly fingerprint: string;
  readonly code: CodeValue;
  readonly message: string;
  /** The transaction of the attempt that failed; null when it failed before it started (a lock conflict or lock wait). */
  readonly txnId: string | null;
  /** Wall-clock time of the failure (the shell's clock), for requestIdRetentionMs. */
  readonly atMs: number;
}

export type CoordinatorRecord =
  /** Forced at every start, before the coordinator serves: transaction ids carry the epoch. */
  | { readonly kind: "start"; readonly epoch: number; readonly lastCommitSeq: number }
  /**
   * The COMMIT decision, appended (forced) as PREPARE leaves: durable, the transaction commits.
   * Forced before any COMMIT is sent or the client is answered.
   */
  | {
      readonly kind: "commit";
      readonly txnId: string;
      readonly commitSeq: number;
      readonly participants: readonly string[];
      readonly keys: readonly string[];
      /**
       * The writes, for a participant that does not hold the transaction prepared (absent in logs of
       * versions before intent commits, whose commits every participant had voted YES for).
       */
      readonly writes?: readonly Write[];
      /** The request it answers, remembered for retries (absent in logs of older versions). */
      readonly remember?: RememberedCommit;
    }
  /**
   * Written by compaction only: committed requests still remembered, and the newest transaction id
   * among those forgotten (every commit with a newer id is remembered, so an unknown one aborted).
   */
  | { readonly kind: "remembered"; readonly commits: readonly RememberedCommit[]; readonly newestForgotten: string | null }
  /**
   * A request failed definitely. Forced before the failure is answered (and before any later attempt
   * of the request is answered from it); compaction writes one per failure still remembered.
   */
  | ({ readonly kind: "failed" } & RememberedFailure)
  /** Every participant acknowledged the commit: recovery may forget the transaction. Not forced. */
  | { readonly kind: "end"; readonly txnId: string }
  /**
   * The in-sync set changed. Forced before any write goes ahead without a replica that left, and
   * before a replica that caught up serves reads.
   */
  | { readonly kind: "membership"; readonly inSync: readonly string[]; readonly outSince: Readonly<Record<string, number>> };

type Encoded =
  | { k: "s"; e: number; q: number }
  | { k: "c"; t: string; q: number; p: readonly string[]; y: readonly string[]; r?: EncodedRemembered; w?: EncodedWrite[] }
  | { k: "r"; c: readonly EncodedRemembered[]; f: string | null }
  | { k: "f"; r: string; g: string; c: number; m: string; t: string | null; a: number }
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
      if (record.remember !== undefined) encoded.r = encodeRemembered(record.remember);
      if (record.writes !== undefined) encoded.w = encodeWrites(record.writes);
      break;
    case "remembered":
      encoded = { k: "r", c: record.commits.map(encodeRemembered), f: record.newestForgotten };
      break;
    case "failed":
      encoded = { k: "f", r: record.requestId, g: record.fingerprint, c: record.code, m: record.message, t: record.txnId, a: record.atMs };
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
    case "c": {
      if (typeof record.t !== "string" || typeof record.q !== "number") return bad();
      if (!isStringList(record.p) || !isStringList(record.y)) return bad();
      const commit = { kind: "commit" as const, txnId: record.t, commitSeq: record.q, participants: record.p, keys: record.y };
      const writes = record.w === undefined ? {} : { writes: decodeWrites(record.w, `coordinator log record ${lsn}`) };
      if (record.r === undefined) return { ...commit, ...writes };
      return { ...commit, remember: decodeRemembered(record.r) ?? bad(), ...writes };
    }
    case "r": {
      if (!Array.isArray(record.c) || (record.f !== null && typeof record.f !== "string")) return bad();
      const commits = (record.c as unknown[]).map((item) => decodeRemembered(item) ?? bad());
      return { kind: "remembered", commits, newestForgotten: record.f };
    }
    case "f": {
      const code = definiteFailureCodes.find((c) => c === record.c);
      if (typeof record.r !== "string" || typeof record.g !== "string" || code === undefined || typeof record.m !== "string") return bad();
      if ((record.t !== null && typeof record.t !== "string") || typeof record.a !== "number") return bad();
      return { kind: "failed", requestId: record.r, fingerprint: record.g, code, message: record.m, txnId: record.t, atMs: record.a };
    }
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

/**
 * [txnId, requestId, commitSeq, atMs, outcome, fingerprint?]; outcome: [branch, results] with results
 * as tuples. The fingerprint is absent in logs of older versions (and when it is null).
 */
type EncodedRemembered =
  | [string, string | null, number, number, EncodedOutcome | null]
  | [string, string | null, number, number, EncodedOutcome | null, string];
type EncodedOutcome = ["t" | "e", EncodedResult[]];
type EncodedResult = ["p", string] | ["d", string] | ["i", string, number] | ["g", string, string | null, number];

function encodeRemembered(commit: RememberedCommit): EncodedRemembered {
  const outcome = commit.outcome;
  const encodedOutcome: EncodedOutcome | null =
    outcome === null ? null : [outcome.branch === "then" ? "t" : "e", outcome.results.map(encodeResult)];
  return commit.fingerprint === null
    ? [commit.txnId, commit.requestId, commit.commitSeq, commit.atMs, encodedOutcome]
    : [commit.txnId, commit.requestId, commit.commitSeq, commit.atMs, encodedOutcome, commit.fingerprint];
}

function encodeResult(result: OpResult): EncodedResult {
  switch (result.kind) {
    case "put":
      return ["p", result.key];
    case "del":
      return ["d", result.key];
    case "incr":
      return ["i", result.key, result.value];
    case "get":
      return ["g", result.key, result.state === null ? null : result.state.value.toString("base64"), result.state?.version ?? 0];
    default:
      return assertNever(result);
  }
}

function decodeRemembered(value: unknown): RememberedCommit | null {
  if (!Array.isArray(value) || (value.length !== 5 && value.length !== 6)) return null;
  const [txnId, requestId, commitSeq, atMs, outcome, encodedFingerprint] = value as unknown[];
  if (typeof txnId !== "string" || (requestId !== null && typeof requestId !== "string")) return null;
  if (typeof commitSeq !== "number" || typeof atMs !== "number") return null;
  if (encodedFingerprint !== undefined && typeof encodedFingerprint !== "string") return null;
  const fingerprint = encodedFingerprint ?? null;
  if (outcome === null) return { txnId, requestId, fingerprint, commitSeq, atMs, outcome: null };
  if (!Array.isArray(outcome) || outcome.length !== 2 || (outcome[0] !== "t" && outcome[0] !== "e") || !Array.isArray(outcome[1])) return null;
  const results: OpResult[] = [];
  for (const item of outcome[1] as unknown[]) {
    const result = decodeResult(item);
    if (result === null) return null;
    results.push(result);
  }
  return { txnId, requestId, fingerprint, commitSeq, atMs, outcome: { branch: outcome[0] === "t" ? "then" : "else", results } };
}

function decodeResult(value: unknown): OpResult | null {
  if (!Array.isArray(value) || typeof value[1] !== "string") return null;
  const key = value[1];
  switch (value[0]) {
    case "p":
      return { kind: "put", key };
    case "d":
      return { kind: "del", key };
    case "i":
      return typeof value[2] === "number" ? { kind: "incr", key, value: value[2] } : null;
    case "g": {
      if (typeof value[3] !== "number") return null;
      if (value[2] === null) return { kind: "get", key, state: null };
      if (typeof value[2] !== "string") return null;
      const state: KeyState = { value: Buffer.from(value[2], "base64"), version: value[3] };
      return { kind: "get", key, state };
    }
    default:
      return null;
  }
}
