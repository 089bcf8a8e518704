// The fuzzer's commands, as fast-check generates and shrinks them: symbolic requests (a key is "the
// third shared key" or "a key of exactly 1025 bytes", a request id is "pooled id 2" or "a fresh
// one"), turned into real gRPC request objects only when a command runs (materialize). Symbolic
// fields keep generation independent of what a run learns (the transaction ids the coordinator
// hands out), and keep a shrunk sequence short to print. Pure: no I/O.
//
// The rules that keep the participant port from changing one replica's data (see arbitraries.ts,
// at the top) are checked here once more, as assertions, on the materialized requests.
import { assert, assertNever } from "../../common/assert";
import { limits } from "../../common/limits";
import { parseTxnId } from "../../common/txn-id";

export const lanesMax = 4;
export const replicaIds = ["r1", "r2", "r3"] as const;

/**
 * Transaction ids of the participant port come from one epoch no coordinator of a test cluster uses,
 * fakeEpoch, each use in its own range of counters. One epoch, not one per use: a replica remembers
 * the highest epoch of any transaction id it saw, and a coordinator taking over picks an epoch past
 * it (coordinator/takeover.ts nextEpoch). The fuzzer makes the coordinator take over again (a call of
 * a newer epoch fences it), so after a fake PREPARE the next epoch is fakeEpoch + 1 or more: past
 * every fake id. With fake ids in several epochs, the coordinator's own ids could land in one of them.
 */
export const fakeEpoch = 1_000_000;
/** Where each use's counters start (a use's ids are fakeEpoch.(start + 1) and on). */
export const fakeCounterStart = {
  /** The pool of fake ids: counters 1..4 may be PREPAREd, 5..8 never are (they may be COMMITted). */
  pool: 0,
  /** Bulk PREPAREs (txnsPerBatchMax): may be prepared, so never committed. */
  bulkPrepare: 10_000,
  /** Bulk COMMITs (txnsPerBatchMax): never prepared. */
  bulkCommit: 20_000,
  /** Bulk ids for Abort, PeerOutcome, Inspect, QueryOutcome (txnIdsPerCallMax): never prepared. */
  bulkQuery: 30_000,
} as const;
export const fakePreparePoolSize = 4;
export const fakeDecisionPoolSize = 4;
assert(fakeCounterStart.pool + fakePreparePoolSize + fakeDecisionPoolSize <= fakeCounterStart.bulkPrepare, "the fake pool's counters stay below the bulk prepares'");
assert(fakeCounterStart.bulkPrepare + limits.txnsPerBatchMax + 1 <= fakeCounterStart.bulkCommit, "bulk prepares' counters stay below the bulk commits'");
assert(fakeCounterStart.bulkCommit + limits.txnsPerBatchMax + 1 <= fakeCounterStart.bulkQuery, "bulk commits' counters stay below the bulk queries'");

/**
 * The epoch a coordinator's call carries (failover, coordinator/DESIGN.md): resolved only when the
 * call is sent (epochValue), against the epoch the coordinator's Kv.Status last gave.
 */
export type EpochRef =
  /** The active coordinator's epoch: the call reaches the replica's core. */
  | { readonly kind: "current" }
  /** Left out (0): refused INVALID_ARGUMENT "epoch is missing". */
  | { readonly kind: "missing" }
  /** `back` epochs before the current one, and at least 1: refused as fenced. */
  | { readonly kind: "older"; readonly back: number }
  /**
   * One after the current: the replica promises it, which fences the coordinator; it stands down
   * (writes in flight answered UNAVAILABLE, outcome unknown) and takes over again with a newer epoch.
   */
  | { readonly kind: "newer" }
  /** Epoch 1, which every replica promised past before the run started (run.ts FuzzTarget.start): fenced. */
  | { readonly kind: "stale" }
  /** A value that is no epoch: the replica decodes it to 0, 1 or a number past MAX_SAFE_INTEGER (run.ts checks). */
  | { readonly kind: "garbage"; readonly value: Wide };

/**
 * What an Append may carry: never the current epoch or a newer one. Its records are garbage, and a
 * replica that took them into its copy of the decision log would hand them to the next coordinator
 * taking over, which would fail to decode them. Missing, stale or garbage, it is refused.
 */
export type AppendEpochRef = Extract<EpochRef, { readonly kind: "missing" | "stale" | "garbage" }>;

/** Keys. `lin` keys are touched only by valid Get/Put/Delete, which the linearizability check covers. */
export type KeyRef =
  | { readonly kind: "lin"; readonly index: number }
  | { readonly kind: "k"; readonly index: number }
  | { readonly kind: "p"; readonly index: number }
  | { readonly kind: "sized"; readonly space: "k" | "p"; readonly bytes: number }
  | { readonly kind: "literal"; readonly text: string };

export type ValueRef =
  | { readonly kind: "none" }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "sized"; readonly bytes: number }
  /** A value no other operation of the run writes (linearizability puts). */
  | { readonly kind: "unique" };

export type RequestIdRef =
  | { readonly kind: "none" }
  /** An id no other request of the run carries. */
  | { readonly kind: "fresh" }
  /** One of a small pool, shared by every method: exactly-once memory reused across methods. */
  | { readonly kind: "pool"; readonly index: number }
  | { readonly kind: "sized"; readonly bytes: number }
  | { readonly kind: "literal"; readonly text: string };

/** A transaction id on the Kv port (TxnStatus, Resolve). */
export type KvTxnIdRef =
  /** The index-th transaction id a reply of this run carried (modulo how many; "1.1" before any). */
  | { readonly kind: "seen"; readonly index: number }
  | { readonly kind: "fake"; readonly index: number }
  | { readonly kind: "sized"; readonly bytes: number }
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "request"; readonly id: RequestIdRef };

/**
 * A transaction id on the participant port: a fake pool id (index < fakePreparePoolSize: may be
 * prepared; above: never prepared), a malformed literal or a sized one (may be prepared).
 */
export type PTxnIdRef =
  | { readonly kind: "fake"; readonly index: number }
  | { readonly kind: "sized"; readonly bytes: number }
  | { readonly kind: "literal"; readonly text: string };

/** An int64 or uint64 field: a number (NaN and the infinities included) or a decimal string. */
export type Wide = number | string;

export interface CompareSpec {
  readonly key: KeyRef;
  readonly target: string;
  readonly op: string;
  readonly value: ValueRef;
  readonly version: Wide;
  readonly exists: boolean;
}

export interface TxnOpSpec {
  readonly type: string;
  readonly key: KeyRef;
  readonly value: ValueRef;
  readonly delta: Wide;
  readonly min: Wide | null;
  readonly max: Wide | null;
  readonly mustExist: boolean;
}

export interface PrepareTxnSpec {
  readonly txnId: PTxnIdRef;
  readonly writes: readonly { readonly key: KeyRef; readonly value: ValueRef; readonly delete: boolean }[];
  readonly participants: readonly string[];
  /** When above 0, participants is this many ids instead (participantsMax). */
  readonly participantsBulk: number;
}

export interface CommitSpec {
  readonly txnId: PTxnIdRef;
  /** null: the field left out. Only a never-prepared fake id gets a value other than null or 0. */
  readonly commitSeq: Wide | null;
}

export type KvCall =
  | { readonly method: "Get"; readonly key: KeyRef }
  | { readonly method: "Put"; readonly key: KeyRef; readonly value: ValueRef; readonly requestId: RequestIdRef }
  | { readonly method: "Delete"; readonly key: KeyRef; readonly requestId: RequestIdRef }
  | { readonly method: "Status" }
  | { readonly method: "Resolve"; readonly txnId: KvTxnIdRef; readonly outcome: string }
  | {
      readonly method: "Increment";
      readonly key: KeyRef;
      readonly delta: Wide;
      readonly min: Wide | null;
      readonly max: Wide | null;
      readonly mustExist: boolean;
      readonly requestId: RequestIdRef;
    }
  | {
      readonly method: "CompareAndSet";
      readonly key: KeyRef;
      readonly newValue: ValueRef;
      readonly expectedVersion: Wide | null;
      readonly expectedValue: ValueRef;
      readonly mustNotExist: boolean;
      readonly requestId: RequestIdRef;
    }
  | { readonly method: "CompareAndDelete"; readonly key: KeyRef; readonly expectedVersion: Wide | null; readonly expectedValue: ValueRef; readonly requestId: RequestIdRef }
  | {
      readonly method: "Txn";
      readonly conditions: readonly CompareSpec[];
      readonly onSuccess: readonly TxnOpSpec[];
      readonly onFailure: readonly TxnOpSpec[];
      readonly hasOnFailure: boolean;
      readonly requestId: RequestIdRef;
      /** When set, onSuccess is replaced by `ops` operations over `keys` distinct keys (txnOpsMax, txnKeysMax). */
      readonly bulk: { readonly ops: number; readonly keys: number } | null;
    }
  | { readonly method: "TxnStatus"; readonly id: KvTxnIdRef };

export interface AppendSpec {
  readonly method: "Append";
  readonly epoch: AppendEpochRef;
  readonly coordinatorId: string;
  readonly coordinatorAddress: string;
  readonly base: boolean;
  readonly more: boolean;
  readonly firstIndex: Wide;
  readonly baseFirstIndex: Wide;
  /** Records as text (UTF-8 when sent): garbage to a coordinator that would decode them. */
  readonly records: readonly string[];
  /** When above 0, records is this many one-byte records instead (appendRecordsMax). */
  readonly bulk: number;
}

export type ParticipantCall =
  | { readonly method: "Prepare"; readonly epoch: EpochRef; readonly coordinatorId: string; readonly txns: readonly PrepareTxnSpec[]; readonly bulk: number }
  | { readonly method: "Commit"; readonly epoch: EpochRef; readonly txns: readonly CommitSpec[]; readonly bulk: number }
  | { readonly method: "Abort"; readonly epoch: EpochRef; readonly txnIds: readonly PTxnIdRef[]; readonly bulk: number }
  | { readonly method: "Read"; readonly epoch: EpochRef; readonly keys: readonly KeyRef[]; readonly bulk: number }
  | { readonly method: "Status" }
  | { readonly method: "Dump" }
  | { readonly method: "PeerOutcome" | "Inspect"; readonly replicaId: string; readonly txnIds: readonly PTxnIdRef[]; readonly bulk: number }
  | { readonly method: "CatchUp"; readonly epoch: EpochRef; readonly sourceId: string; readonly sourceAddress: string; readonly sinceSeq: Wide }
  | { readonly method: "Fetch"; readonly sinceSeq: Wide; readonly afterKey: string; readonly limit: number }
  /** A coordinator taking over. A granted one (a newer epoch) fences the coordinator, as a newer epoch does on any call. */
  | { readonly method: "Promise"; readonly epoch: EpochRef; readonly coordinatorId: string; readonly coordinatorAddress: string }
  | AppendSpec;

export type CoordinationCall = { readonly method: "QueryOutcome"; readonly replicaId: string; readonly txnIds: readonly PTxnIdRef[]; readonly bulk: number };

export type Call =
  | ({ readonly service: "Kv" } & KvCall)
  | ({ readonly service: "Participant"; readonly replica: number } & ParticipantCall)
  | ({ readonly service: "Coordination" } & CoordinationCall);

/** One request: commands of one lane run one after another; lanes of a batch run concurrently. */
export interface Command {
  readonly lane: number;
  readonly call: Call;
}

export type ServiceName = Call["service"];
/** "Service.Method" of each call (distributes over the union: no "Kv.Prepare"). */
type MethodOf<C> = C extends { readonly service: infer S extends string; readonly method: infer M extends string } ? `${S}.${M}` : never;
export type MethodName = MethodOf<Call>;

export function methodName(call: Call): MethodName {
  return `${call.service}.${call.method}` as MethodName;
}

// ----- Materializing: symbolic command -> the request object sent -----

/** What a run has learned, and the counters that make fresh names. */
export class RunNames {
  readonly seenTxnIds: string[] = [];
  private freshCount = 0;
  private uniqueCount = 0;

  freshRequestId(): string {
    this.freshCount += 1;
    return `fresh-${this.freshCount}`;
  }

  uniqueValue(): string {
    this.uniqueCount += 1;
    return `u${this.uniqueCount}`;
  }

  noteTxnId(txnId: unknown): void {
    if (typeof txnId === "string" && txnId.length > 0 && !this.seenTxnIds.includes(txnId)) this.seenTxnIds.push(txnId);
  }
}

/** A string of exactly `bytes` UTF-8 bytes starting with prefix (padded with "x"). */
export function sized(prefix: string, bytes: number): string {
  assert(Buffer.byteLength(prefix) <= bytes, `prefix ${prefix} fits in ${bytes} bytes`);
  return prefix + "x".repeat(bytes - Buffer.byteLength(prefix));
}

export function keyText(key: KeyRef): string {
  switch (key.kind) {
    case "lin":
      return `lin/${key.index}`;
    case "k":
      return `k/${key.index}`;
    case "p":
      return `fuzzp/${key.index}`;
    case "sized":
      return sized(key.space === "p" ? "fuzzp/sized/" : "k/sized/", key.bytes);
    case "literal":
      return key.text;
    default:
      return assertNever(key);
  }
}

export const requestIdPool = ["same-id", "R1", "R2", "R3"] as const;

export function requestIdText(id: RequestIdRef, names: RunNames): string | undefined {
  switch (id.kind) {
    case "none":
      return undefined;
    case "fresh":
      return names.freshRequestId();
    case "pool":
      return requestIdPool[id.index % requestIdPool.length];
    case "sized":
      return sized("sized-", id.bytes);
    case "literal":
      return id.text;
    default:
      return assertNever(id);
  }
}

function valueBytes(value: ValueRef, names: RunNames): Buffer | undefined {
  switch (value.kind) {
    case "none":
      return undefined;
    case "text":
      return Buffer.from(value.text, "utf8");
    case "sized":
      return Buffer.alloc(value.bytes, 0x61);
    case "unique":
      return Buffer.from(names.uniqueValue(), "utf8");
    default:
      return assertNever(value);
  }
}

export function fakeTxnId(index: number): string {
  return `${fakeEpoch}.${fakeCounterStart.pool + index + 1}`;
}

/** A fake id that is never PREPAREd, so a COMMIT of it with any commit_seq is allowed. */
export function isNeverPrepared(txnId: string): boolean {
  const parsed = parseTxnId(txnId);
  if (parsed === null || parsed.epoch !== fakeEpoch) return false;
  const inRange = (start: number, count: number): boolean => parsed.counter > start && parsed.counter <= start + count;
  return (
    inRange(fakeCounterStart.bulkCommit, limits.txnsPerBatchMax + 1) ||
    inRange(fakeCounterStart.bulkQuery, limits.txnIdsPerCallMax + 1) ||
    inRange(fakeCounterStart.pool + fakePreparePoolSize, fakeDecisionPoolSize)
  );
}

export function pTxnIdText(id: PTxnIdRef): string {
  switch (id.kind) {
    case "fake":
      return fakeTxnId(id.index);
    case "sized":
      // Well formed at a glance, in the fake epoch, but its counter is not a safe integer.
      return `${fakeEpoch}.${"1".padEnd(id.bytes - String(fakeEpoch).length - 1, "0")}`;
    case "literal":
      return id.text;
    default:
      return assertNever(id);
  }
}

function kvTxnIdText(id: KvTxnIdRef, names: RunNames): string {
  switch (id.kind) {
    case "seen":
      return names.seenTxnIds.length === 0 ? "1.1" : names.seenTxnIds[id.index % names.seenTxnIds.length]!;
    case "fake":
      return fakeTxnId(id.index);
    case "sized":
      return pTxnIdText(id);
    case "literal":
      return id.text;
    case "request":
      return requestIdText(id.id, names) ?? "";
    default:
      return assertNever(id);
  }
}

function optional<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}

function txnOp(op: TxnOpSpec, names: RunNames): object {
  return {
    type: op.type,
    key: keyText(op.key),
    value: valueBytes(op.value, names),
    delta: op.delta,
    min: optional(op.min),
    max: optional(op.max),
    mustExist: op.mustExist,
  };
}

function bulkIds(start: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${fakeEpoch}.${start + i + 1}`);
}

function participantsOf(txn: PrepareTxnSpec): string[] {
  if (txn.participantsBulk === 0) return [...txn.participants];
  return Array.from({ length: txn.participantsBulk }, (_, i) => replicaIds[i] ?? `r${i + 1}`);
}

/** The request object for a call's gRPC method, and what a Prepare of it prepares. */
export interface Materialized {
  /** Without its epoch: that is set when the call is sent (epochValue). */
  readonly request: object;
  /** The epoch the call carries (null: the method takes none). */
  readonly epoch: EpochRef | null;
  /** Transaction ids a Prepare carries (for the cleanup ABORT and the commit rule). */
  readonly prepared: readonly string[];
  /** For Get/Put/Delete of a lin key: what the history records. */
  readonly recorded: { readonly f: "get" | "put" | "del"; readonly key: string; readonly value: string | null } | null;
}

export function materialize(call: Call, names: RunNames): Materialized {
  const plain = (request: object, epoch: EpochRef | null = null): Materialized => ({ request, epoch, prepared: [], recorded: null });
  switch (call.service) {
    case "Kv":
      return materializeKv(call, names);
    case "Coordination":
      return plain({ replicaId: call.replicaId, txnIds: [...call.txnIds.map(pTxnIdText), ...bulkIds(fakeCounterStart.bulkQuery, call.bulk)] });
    case "Participant":
      switch (call.method) {
        case "Prepare": {
          const txns = [
            ...call.txns.map((txn) => ({
              txnId: pTxnIdText(txn.txnId),
              writes: txn.writes.map((write) => ({ key: keyText(write.key), value: valueBytes(write.value, names), delete: write.delete })),
              participants: participantsOf(txn),
            })),
            ...bulkIds(fakeCounterStart.bulkPrepare, call.bulk).map((txnId, i) => ({
              txnId,
              writes: [{ key: `fuzzp/bulk/${i}`, value: Buffer.from("b"), delete: false }],
              participants: [...replicaIds],
            })),
          ];
          for (const txn of txns) {
            assert(!isNeverPrepared(txn.txnId), `the fuzzer prepares ${txn.txnId}, an id it may commit`);
            for (const write of txn.writes) assert(write.key === "" || write.key.startsWith("fuzzp/"), `participant-port write outside fuzzp/: ${write.key}`);
          }
          return { request: { coordinatorId: call.coordinatorId, txns }, epoch: call.epoch, prepared: txns.map((txn) => txn.txnId), recorded: null };
        }
        case "Commit": {
          const txns = [
            ...call.txns.map((txn) => ({ txnId: pTxnIdText(txn.txnId), commitSeq: optional(txn.commitSeq) })),
            ...bulkIds(fakeCounterStart.bulkCommit, call.bulk).map((txnId, i) => ({ txnId, commitSeq: i + 1 })),
          ];
          for (const txn of txns) {
            const zero = txn.commitSeq === undefined || txn.commitSeq === 0;
            assert(zero || isNeverPrepared(txn.txnId), `the fuzzer commits ${txn.txnId} (commit_seq ${String(txn.commitSeq)}), an id it may prepare`);
          }
          return plain({ txns }, call.epoch);
        }
        case "Abort":
          return plain({ txnIds: [...call.txnIds.map(pTxnIdText), ...bulkIds(fakeCounterStart.bulkQuery, call.bulk)] }, call.epoch);
        case "Read":
          return plain({ keys: [...call.keys.map(keyText), ...Array.from({ length: call.bulk }, (_, i) => `fuzzp/read/${i}`)] }, call.epoch);
        case "Status":
        case "Dump":
          return plain({});
        case "PeerOutcome":
        case "Inspect":
          return plain({ replicaId: call.replicaId, txnIds: [...call.txnIds.map(pTxnIdText), ...bulkIds(fakeCounterStart.bulkQuery, call.bulk)] });
        case "CatchUp":
          return plain({ sourceId: call.sourceId, sourceAddress: call.sourceAddress, sinceSeq: call.sinceSeq }, call.epoch);
        case "Fetch":
          return plain({ sinceSeq: call.sinceSeq, afterKey: call.afterKey, limit: call.limit });
        case "Promise":
          return plain({ coordinatorId: call.coordinatorId, coordinatorAddress: call.coordinatorAddress }, call.epoch);
        case "Append": {
          assert(call.epoch.kind === "missing" || call.epoch.kind === "stale" || call.epoch.kind === "garbage", `the fuzzer appends with epoch ${call.epoch.kind}`);
          const records = call.bulk > 0 ? Array.from({ length: call.bulk }, () => Buffer.from("r")) : call.records.map((record) => Buffer.from(record, "utf8"));
          return plain(
            {
              coordinatorId: call.coordinatorId,
              coordinatorAddress: call.coordinatorAddress,
              base: call.base,
              more: call.more,
              firstIndex: call.firstIndex,
              baseFirstIndex: call.baseFirstIndex,
              records,
            },
            call.epoch,
          );
        }
        default:
          return assertNever(call);
      }
    default:
      return assertNever(call);
  }
}

function materializeKv(call: { readonly service: "Kv" } & KvCall, names: RunNames): Materialized {
  const plain = (request: object): Materialized => ({ request, epoch: null, prepared: [], recorded: null });
  const lin = (key: KeyRef): boolean => key.kind === "lin";
  switch (call.method) {
    case "Get": {
      const key = keyText(call.key);
      return { request: { key }, epoch: null, prepared: [], recorded: lin(call.key) ? { f: "get", key, value: null } : null };
    }
    case "Put": {
      const key = keyText(call.key);
      const value = valueBytes(call.value, names);
      const request = { key, value, requestId: requestIdText(call.requestId, names) };
      if (!lin(call.key)) return plain(request);
      assert(value !== undefined && (call.requestId.kind === "none" || call.requestId.kind === "fresh"), "a lin put is valid");
      return { request, epoch: null, prepared: [], recorded: { f: "put", key, value: value.toString("utf8") } };
    }
    case "Delete": {
      const key = keyText(call.key);
      const request = { key, requestId: requestIdText(call.requestId, names) };
      if (!lin(call.key)) return plain(request);
      assert(call.requestId.kind === "none" || call.requestId.kind === "fresh", "a lin delete is valid");
      return { request, epoch: null, prepared: [], recorded: { f: "del", key, value: null } };
    }
    case "Status":
      return plain({});
    case "Resolve":
      return plain({ txnId: kvTxnIdText(call.txnId, names), outcome: call.outcome });
    case "Increment":
      return plain({
        key: keyText(call.key),
        delta: call.delta,
        min: optional(call.min),
        max: optional(call.max),
        mustExist: call.mustExist,
        requestId: requestIdText(call.requestId, names),
      });
    case "CompareAndSet":
      return plain({
        key: keyText(call.key),
        newValue: valueBytes(call.newValue, names),
        expectedVersion: optional(call.expectedVersion),
        expectedValue: valueBytes(call.expectedValue, names),
        mustNotExist: call.mustNotExist,
        requestId: requestIdText(call.requestId, names),
      });
    case "CompareAndDelete":
      return plain({
        key: keyText(call.key),
        expectedVersion: optional(call.expectedVersion),
        expectedValue: valueBytes(call.expectedValue, names),
        requestId: requestIdText(call.requestId, names),
      });
    case "Txn": {
      const onSuccess =
        call.bulk === null
          ? call.onSuccess.map((op) => txnOp(op, names))
          : Array.from({ length: call.bulk.ops }, (_, i) => ({
              type: i % 2 === 0 ? "put" : "get",
              key: `k/bulk/${i % call.bulk!.keys}`,
              value: i % 2 === 0 ? Buffer.from(`b${i}`) : undefined,
            }));
      return plain({
        conditions: call.conditions.map((c) => ({ key: keyText(c.key), target: c.target, op: c.op, value: valueBytes(c.value, names), version: c.version, exists: c.exists })),
        onSuccess,
        onFailure: call.onFailure.map((op) => txnOp(op, names)),
        hasOnFailure: call.hasOnFailure,
        requestId: requestIdText(call.requestId, names),
      });
    }
    case "TxnStatus":
      return plain({ id: kvTxnIdText(call.id, names) });
    default:
      return assertNever(call);
  }
}

/**
 * The epoch field of a call, given the active coordinator's epoch as last seen (current; at least 2,
 * so that epoch 1 is older than every replica's promise: run.ts FuzzTarget.start). undefined: left out.
 */
export function epochValue(epoch: EpochRef, current: number): Wide | undefined {
  assert(Number.isSafeInteger(current) && current >= 2, `the current epoch is ${current}; a run starts past epoch 1`);
  switch (epoch.kind) {
    case "current":
      return current;
    case "missing":
      return undefined;
    case "older":
      assert(epoch.back >= 1, "an older epoch is at least one before");
      return Math.max(1, current - epoch.back);
    case "newer":
      return current + 1;
    case "stale":
      return 1;
    case "garbage":
      return epoch.value;
    default:
      return assertNever(epoch);
  }
}

export function describeEpoch(epoch: EpochRef): string {
  switch (epoch.kind) {
    case "current":
    case "missing":
    case "newer":
    case "stale":
      return epoch.kind;
    case "older":
      return `current-${epoch.back}`;
    case "garbage":
      return `garbage ${typeof epoch.value === "number" ? String(epoch.value) : JSON.stringify(epoch.value)}`;
    default:
      return assertNever(epoch);
  }
}

/** A request for a person: long strings and buffers summed up, NaN and friends kept. */
export function describeRequest(request: object): string {
  const show = (value: unknown): string => {
    if (value === undefined) return "undefined";
    if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
    if (typeof value === "string") return value.length > 40 ? `<${Buffer.byteLength(value)}-byte string ${JSON.stringify(value.slice(0, 12))}...>` : JSON.stringify(value);
    if (Buffer.isBuffer(value)) return value.length > 24 ? `<${value.length} bytes>` : `bytes(${JSON.stringify(value.toString("utf8"))})`;
    if (Array.isArray(value)) return value.length > 6 ? `[${value.slice(0, 3).map(show).join(", ")}, ... ${value.length} items]` : `[${value.map(show).join(", ")}]`;
    if (typeof value === "object" && value !== null) {
      const fields = Object.entries(value).filter(([, v]) => v !== undefined);
      return `{ ${fields.map(([k, v]) => `${k}: ${show(v)}`).join(", ")} }`;
    }
    return String(value);
  };
  return show(request);
}

/** Sizes the limits make interesting: exactly at a limit and one over. */
export const boundary = {
  key: [limits.keyBytesMax, limits.keyBytesMax + 1],
  value: [limits.valueBytesMax, limits.valueBytesMax + 1],
  requestId: [limits.requestIdBytesMax, limits.requestIdBytesMax + 1],
  txnId: [limits.txnIdBytesMax, limits.txnIdBytesMax + 1],
  txnOps: [limits.txnOpsMax, limits.txnOpsMax + 1],
  txnKeys: [limits.txnKeysMax, limits.txnKeysMax + 1],
  keysPerRead: [limits.keysPerReadMax, limits.keysPerReadMax + 1],
  txnIdsPerCall: [limits.txnIdsPerCallMax, limits.txnIdsPerCallMax + 1],
  txnsPerBatch: [limits.txnsPerBatchMax, limits.txnsPerBatchMax + 1],
  participants: [limits.participantsMax, limits.participantsMax + 1],
  appendRecords: [limits.appendRecordsMax, limits.appendRecordsMax + 1],
} as const;
