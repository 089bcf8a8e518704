// The fuzzer's commands, as fast-check generates and shrinks them: symbolic requests (a key is "the
// third shared key" or "a key of exactly 1025 bytes", a request id is "pooled id 2" or "a fresh
// one"), turned into real gRPC request objects only when a command runs (materialize). Symbolic
// fields keep generation independent of what a run learns (the transaction ids the coordinator
// hands out), and keep a shrunk sequence short to print. Pure: no I/O.
//
// The rules that keep the participant port from changing one replica's data (see arbitraries.ts,
// at the top) are checked here once more, as assertions, on the materialized requests. Transaction
// ids are the exception to "real request objects at once": their epoch is the one of the call that
// carries them, known only when it is sent (Materialized.build).
import { assert, assertNever } from "../../common/assert";
import { limits } from "../../common/limits";
import { formatTxnId, parseTxnId } from "../../common/txn-id";

export const lanesMax = 4;
export const replicaIds = ["r1", "r2", "r3"] as const;

/**
 * Fake transaction ids: EPOCH.COUNTER with a counter no coordinator reaches, fakeCounterBase and up
 * (a coordinator issues one counter per attempt of a write, from 1 in each epoch; a run sends well
 * under a million requests, and run.ts asserts every id a write's reply carries stays below the
 * base). Each use has its own range of counters, the same in every epoch. Their epoch is the one of
 * the call that carries them (txnEpochOf, resolved when the call is sent: run.ts), as a
 * coordinator's would be: a replica refuses a Prepare of a transaction of another epoch than the
 * call's, and a Commit or Abort of one of a later epoch (replica/decode.ts checkTxnEpochs), so only
 * such ids reach a replica's core. The misfits that break that rule are sent on purpose
 * (arbitraries.ts), and must be refused. After a takeover, the fake ids of the epoch before are of
 * an earlier epoch: a decision of one is still taken (and whatever a replica still holds prepared
 * of them is aborted by the batch's cleanup in run.ts, or by the new coordinator, which presumes
 * abort for a transaction it has no COMMIT decision of), and a Prepare of one is a misfit.
 */
export const fakeCounterBase = 1_000_000_000;
/** Where each use's counters start (a use's ids are EPOCH.(start + 1) and on). */
export const fakeCounterStart = {
  /** The pool of fake ids: counters +1..+4 may be PREPAREd, +5..+8 never are (they may be COMMITted). */
  pool: fakeCounterBase,
  /** Bulk PREPAREs (txnsPerBatchMax): may be prepared, so never committed. */
  bulkPrepare: fakeCounterBase + 10_000,
  /** Bulk COMMITs (txnsPerBatchMax): never prepared. */
  bulkCommit: fakeCounterBase + 20_000,
  /** Bulk ids for Abort, PeerOutcome, Inspect, QueryOutcome (txnIdsPerCallMax): never prepared. */
  bulkQuery: fakeCounterBase + 30_000,
} as const;
export const fakePreparePoolSize = 4;
export const fakeDecisionPoolSize = 4;
assert(fakeCounterStart.pool + fakePreparePoolSize + fakeDecisionPoolSize <= fakeCounterStart.bulkPrepare, "the fake pool's counters stay below the bulk prepares'");
assert(fakeCounterStart.bulkPrepare + limits.txnsPerBatchMax + 1 <= fakeCounterStart.bulkCommit, "bulk prepares' counters stay below the bulk commits'");
assert(fakeCounterStart.bulkCommit + limits.txnsPerBatchMax + 1 <= fakeCounterStart.bulkQuery, "bulk commits' counters stay below the bulk queries'");
assert(Number.isSafeInteger(fakeCounterStart.bulkQuery + limits.txnIdsPerCallMax + 1), "fake counters are safe integers");

/** True for a counter of a fake transaction id: one no coordinator of a run reaches. */
export function isFakeCounter(counter: number): boolean {
  return counter > fakeCounterBase;
}

/**
 * The epoch of a fake transaction id, against the epoch of the call that carries it (txnEpochOf).
 * Only `call`, and `earlier` in a decision, are what a coordinator sends; the others are misfits.
 */
export type TxnEpochRef =
  /** The call's own epoch. */
  | { readonly kind: "call" }
  /** `back` epochs before the call's, and at least 1: a transaction of a coordinator before. */
  | { readonly kind: "earlier"; readonly back: number }
  /** `ahead` epochs after the call's. */
  | { readonly kind: "later"; readonly ahead: number }
  /** Number.MAX_SAFE_INTEGER: the epoch of the id that once left no epoch to take over with. */
  | { readonly kind: "max" };

export const callTxnEpoch: TxnEpochRef = { kind: "call" };

export function txnEpochOf(ref: TxnEpochRef, callEpoch: number): number {
  assert(Number.isSafeInteger(callEpoch) && callEpoch >= 1, `a call's epoch is a whole number from 1, not ${callEpoch}`);
  switch (ref.kind) {
    case "call":
      return callEpoch;
    case "earlier":
      return Math.max(1, callEpoch - ref.back);
    case "later":
      assert(Number.isSafeInteger(callEpoch + ref.ahead), `epoch ${callEpoch} + ${ref.ahead} is a safe integer`);
      return callEpoch + ref.ahead;
    case "max":
      return Number.MAX_SAFE_INTEGER;
    default:
      return assertNever(ref);
  }
}

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
  /** A fake id (fakeTxnId) of the epoch the run knows as the active coordinator's. */
  | { readonly kind: "fake"; readonly index: number }
  | { readonly kind: "sized"; readonly bytes: number }
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "request"; readonly id: RequestIdRef };

/**
 * A transaction id on the participant port: a fake pool id (index < fakePreparePoolSize: may be
 * prepared; above: never prepared) of an epoch against the call's, a malformed literal or a sized
 * one (may be prepared).
 */
export type PTxnIdRef =
  | { readonly kind: "fake"; readonly index: number; readonly epoch: TxnEpochRef }
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
  /** A page of the copy of the decision log: changes nothing; served only in the promised epoch. */
  | { readonly method: "ReadCopy"; readonly epoch: EpochRef; readonly coordinatorId: string; readonly fromIndex: Wide }
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

/** The index-th id of the fake pool, of epoch `epoch`. */
export function fakeTxnId(index: number, epoch: number): string {
  return formatTxnId(epoch, fakeCounterStart.pool + index + 1);
}

/** A fake id that is never PREPAREd (in any epoch), so a COMMIT of it with any commit_seq is allowed. */
export function isNeverPrepared(txnId: string): boolean {
  const parsed = parseTxnId(txnId);
  if (parsed === null || !isFakeCounter(parsed.counter)) return false;
  const inRange = (start: number, count: number): boolean => parsed.counter > start && parsed.counter <= start + count;
  return (
    inRange(fakeCounterStart.bulkCommit, limits.txnsPerBatchMax + 1) ||
    inRange(fakeCounterStart.bulkQuery, limits.txnIdsPerCallMax + 1) ||
    inRange(fakeCounterStart.pool + fakePreparePoolSize, fakeDecisionPoolSize)
  );
}

/** The text of a participant-port transaction id, for a call whose fake ids are of `callEpoch`. */
export function pTxnIdText(id: PTxnIdRef, callEpoch: number): string {
  switch (id.kind) {
    case "fake":
      return fakeTxnId(id.index, txnEpochOf(id.epoch, callEpoch));
    case "sized": {
      // Well formed at a glance, of the call's epoch, but its counter is not a safe integer.
      const epoch = String(callEpoch);
      return `${epoch}.${"1".padEnd(id.bytes - epoch.length - 1, "0")}`;
    }
    case "literal":
      return id.text;
    default:
      return assertNever(id);
  }
}

/**
 * A transaction id of the Kv port, given the epoch its fake or sized id is of (that of the active
 * coordinator as the run knows it when the call is sent); the names it draws, it draws now.
 */
function kvTxnIdText(id: KvTxnIdRef, names: RunNames): (epoch: number) => string {
  switch (id.kind) {
    case "seen": {
      const text = names.seenTxnIds.length === 0 ? "1.1" : names.seenTxnIds[id.index % names.seenTxnIds.length]!;
      return () => text;
    }
    case "fake":
      return (epoch) => fakeTxnId(id.index, epoch);
    case "sized":
      return (epoch) => pTxnIdText(id, epoch);
    case "literal":
      return () => id.text;
    case "request": {
      const text = requestIdText(id.id, names) ?? "";
      return () => text;
    }
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

function bulkIds(start: number, count: number, epoch: number): string[] {
  return Array.from({ length: count }, (_, i) => formatTxnId(epoch, start + i + 1));
}

function participantsOf(txn: PrepareTxnSpec): string[] {
  if (txn.participantsBulk === 0) return [...txn.participants];
  return Array.from({ length: txn.participantsBulk }, (_, i) => replicaIds[i] ?? `r${i + 1}`);
}

/**
 * A transaction id of an epoch the call may not carry (replica/decode.ts checkTxnEpochs): in a
 * Prepare, of another epoch than the call's; in a Commit or Abort, of a later one. The call must be
 * refused INVALID_ARGUMENT naming `field` (run.ts checks the answer).
 */
export interface Misfit {
  /** The field as the request has it: txns[i].txn_id, or txn_ids[i]. */
  readonly field: string;
  readonly txnId: string;
  readonly txnEpoch: number;
  readonly callEpoch: number;
}

/**
 * The first fake id of `refs` whose epoch a call of callEpoch may not carry: another one (exact: a
 * Prepare) or a later one (a Commit or Abort).
 */
function firstMisfit(refs: readonly PTxnIdRef[], callEpoch: number, field: (i: number) => string, exact: boolean): Misfit | null {
  for (const [i, ref] of refs.entries()) {
    if (ref.kind !== "fake") continue;
    const txnEpoch = txnEpochOf(ref.epoch, callEpoch);
    if (exact ? txnEpoch !== callEpoch : txnEpoch > callEpoch) return { field: field(i), txnId: pTxnIdText(ref, callEpoch), txnEpoch, callEpoch };
  }
  return null;
}

/**
 * A call with a misfit is otherwise well formed (arbitraries.ts builds it so), so that its refusal
 * can only be for the misfit's epoch, and a refusal naming another field is a wrong answer: only
 * fake ids, each once, and nothing in bulk.
 */
function assertWellFormedMisfit(refs: readonly PTxnIdRef[], texts: readonly string[], bulk: number): void {
  assert(refs.every((ref) => ref.kind === "fake"), "a call with a misfit carries only fake ids");
  assert(new Set(texts).size === texts.length, `a call with a misfit names each id once: ${texts.join(", ")}`);
  assert(bulk === 0, "a call with a misfit has no bulk ids");
}

/** What a call sends, for the epoch its fake transaction ids are of (see Materialized.build). */
export interface Built {
  /** Without its epoch field: that is set when the call is sent (epochValue). */
  readonly request: object;
  /**
   * Transaction ids a Prepare may prepare (for the cleanup ABORT): none if it carries a misfit,
   * since it must be refused whole.
   */
  readonly prepared: readonly string[];
  readonly misfit: Misfit | null;
}

/** A call, its names drawn (fresh request ids, unique values), its transaction ids not yet. */
export interface Materialized {
  /**
   * The request, given the epoch the call's fake transaction ids are of: the epoch the call carries
   * as the replica decodes it, when that is an epoch; else, and for a call that carries none, the
   * active coordinator's as the run knows it (run.ts). Pure: the same epoch gives the same request.
   */
  readonly build: (txnEpoch: number) => Built;
  /** The epoch the call carries (null: the method takes none). */
  readonly epoch: EpochRef | null;
  /** For Get/Put/Delete of a lin key: what the history records. */
  readonly recorded: { readonly f: "get" | "put" | "del"; readonly key: string; readonly value: string | null } | null;
}

export function materialize(call: Call, names: RunNames): Materialized {
  const plain = (request: (txnEpoch: number) => object, epoch: EpochRef | null = null): Materialized => ({
    build: (txnEpoch) => ({ request: request(txnEpoch), prepared: [], misfit: null }),
    epoch,
    recorded: null,
  });
  const queryIds = (refs: readonly PTxnIdRef[], bulk: number, txnEpoch: number): string[] => [
    ...refs.map((ref) => pTxnIdText(ref, txnEpoch)),
    ...bulkIds(fakeCounterStart.bulkQuery, bulk, txnEpoch),
  ];
  switch (call.service) {
    case "Kv":
      return materializeKv(call, names);
    case "Coordination":
      return plain((txnEpoch) => ({ replicaId: call.replicaId, txnIds: queryIds(call.txnIds, call.bulk, txnEpoch) }));
    case "Participant":
      switch (call.method) {
        case "Prepare": {
          // Values drawn now, in command order (a "unique" value takes the next name).
          const writes = call.txns.map((txn) => txn.writes.map((write) => ({ key: keyText(write.key), value: valueBytes(write.value, names), delete: write.delete })));
          const build = (txnEpoch: number): Built => {
            const txns = [
              ...call.txns.map((txn, i) => ({ txnId: pTxnIdText(txn.txnId, txnEpoch), writes: writes[i]!, participants: participantsOf(txn) })),
              ...bulkIds(fakeCounterStart.bulkPrepare, call.bulk, txnEpoch).map((txnId, i) => ({
                txnId,
                writes: [{ key: `fuzzp/bulk/${i}`, value: Buffer.from("b"), delete: false }],
                participants: [...replicaIds],
              })),
            ];
            for (const txn of txns) {
              assert(!isNeverPrepared(txn.txnId), `the fuzzer prepares ${txn.txnId}, an id it may commit`);
              for (const write of txn.writes) assert(write.key === "" || write.key.startsWith("fuzzp/"), `participant-port write outside fuzzp/: ${write.key}`);
            }
            const refs = call.txns.map((txn) => txn.txnId);
            const misfit = firstMisfit(refs, txnEpoch, (i) => `txns[${i}].txn_id`, true);
            if (misfit !== null) assertWellFormedMisfit(refs, txns.map((txn) => txn.txnId), call.bulk);
            return { request: { coordinatorId: call.coordinatorId, txns }, prepared: misfit === null ? txns.map((txn) => txn.txnId) : [], misfit };
          };
          return { build, epoch: call.epoch, recorded: null };
        }
        case "Commit": {
          const build = (txnEpoch: number): Built => {
            const txns = [
              ...call.txns.map((txn) => ({ txnId: pTxnIdText(txn.txnId, txnEpoch), commitSeq: optional(txn.commitSeq) })),
              ...bulkIds(fakeCounterStart.bulkCommit, call.bulk, txnEpoch).map((txnId, i) => ({ txnId, commitSeq: i + 1 })),
            ];
            for (const txn of txns) {
              const zero = txn.commitSeq === undefined || txn.commitSeq === 0;
              assert(zero || isNeverPrepared(txn.txnId), `the fuzzer commits ${txn.txnId} (commit_seq ${String(txn.commitSeq)}), an id it may prepare`);
            }
            const refs = call.txns.map((txn) => txn.txnId);
            const misfit = firstMisfit(refs, txnEpoch, (i) => `txns[${i}].txn_id`, false);
            if (misfit !== null) {
              assertWellFormedMisfit(refs, txns.map((txn) => txn.txnId), call.bulk);
              assert(txns.every((txn) => typeof txn.commitSeq === "number" && Number.isSafeInteger(txn.commitSeq) && txn.commitSeq >= 1), "a commit with a misfit has commit sequence numbers");
            }
            return { request: { txns }, prepared: [], misfit };
          };
          return { build, epoch: call.epoch, recorded: null };
        }
        case "Abort": {
          const build = (txnEpoch: number): Built => {
            const txnIds = queryIds(call.txnIds, call.bulk, txnEpoch);
            const misfit = firstMisfit(call.txnIds, txnEpoch, (i) => `txn_ids[${i}]`, false);
            if (misfit !== null) assertWellFormedMisfit(call.txnIds, txnIds, call.bulk);
            return { request: { txnIds }, prepared: [], misfit };
          };
          return { build, epoch: call.epoch, recorded: null };
        }
        case "Read":
          return plain(() => ({ keys: [...call.keys.map(keyText), ...Array.from({ length: call.bulk }, (_, i) => `fuzzp/read/${i}`)] }), call.epoch);
        case "Status":
        case "Dump":
          return plain(() => ({}));
        case "PeerOutcome":
        case "Inspect":
          return plain((txnEpoch) => ({ replicaId: call.replicaId, txnIds: queryIds(call.txnIds, call.bulk, txnEpoch) }));
        case "CatchUp":
          return plain(() => ({ sourceId: call.sourceId, sourceAddress: call.sourceAddress, sinceSeq: call.sinceSeq }), call.epoch);
        case "Fetch":
          return plain(() => ({ sinceSeq: call.sinceSeq, afterKey: call.afterKey, limit: call.limit }));
        case "Promise":
          return plain(() => ({ coordinatorId: call.coordinatorId, coordinatorAddress: call.coordinatorAddress }), call.epoch);
        case "ReadCopy":
          return plain(() => ({ coordinatorId: call.coordinatorId, fromIndex: call.fromIndex }), call.epoch);
        case "Append": {
          assert(call.epoch.kind === "missing" || call.epoch.kind === "stale" || call.epoch.kind === "garbage", `the fuzzer appends with epoch ${call.epoch.kind}`);
          const records = call.bulk > 0 ? Array.from({ length: call.bulk }, () => Buffer.from("r")) : call.records.map((record) => Buffer.from(record, "utf8"));
          return plain(
            () => ({
              coordinatorId: call.coordinatorId,
              coordinatorAddress: call.coordinatorAddress,
              base: call.base,
              more: call.more,
              firstIndex: call.firstIndex,
              baseFirstIndex: call.baseFirstIndex,
              records,
            }),
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
  const fixed = (request: object, recorded: Materialized["recorded"] = null): Materialized => ({ build: () => ({ request, prepared: [], misfit: null }), epoch: null, recorded });
  const lin = (key: KeyRef): boolean => key.kind === "lin";
  switch (call.method) {
    case "Get": {
      const key = keyText(call.key);
      return fixed({ key }, lin(call.key) ? { f: "get", key, value: null } : null);
    }
    case "Put": {
      const key = keyText(call.key);
      const value = valueBytes(call.value, names);
      const request = { key, value, requestId: requestIdText(call.requestId, names) };
      if (!lin(call.key)) return fixed(request);
      assert(value !== undefined && (call.requestId.kind === "none" || call.requestId.kind === "fresh"), "a lin put is valid");
      return fixed(request, { f: "put", key, value: value.toString("utf8") });
    }
    case "Delete": {
      const key = keyText(call.key);
      const request = { key, requestId: requestIdText(call.requestId, names) };
      if (!lin(call.key)) return fixed(request);
      assert(call.requestId.kind === "none" || call.requestId.kind === "fresh", "a lin delete is valid");
      return fixed(request, { f: "del", key, value: null });
    }
    case "Status":
      return fixed({});
    case "Resolve": {
      const txnId = kvTxnIdText(call.txnId, names);
      return { build: (txnEpoch) => ({ request: { txnId: txnId(txnEpoch), outcome: call.outcome }, prepared: [], misfit: null }), epoch: null, recorded: null };
    }
    case "Increment":
      return fixed({
        key: keyText(call.key),
        delta: call.delta,
        min: optional(call.min),
        max: optional(call.max),
        mustExist: call.mustExist,
        requestId: requestIdText(call.requestId, names),
      });
    case "CompareAndSet":
      return fixed({
        key: keyText(call.key),
        newValue: valueBytes(call.newValue, names),
        expectedVersion: optional(call.expectedVersion),
        expectedValue: valueBytes(call.expectedValue, names),
        mustNotExist: call.mustNotExist,
        requestId: requestIdText(call.requestId, names),
      });
    case "CompareAndDelete":
      return fixed({
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
      return fixed({
        conditions: call.conditions.map((c) => ({ key: keyText(c.key), target: c.target, op: c.op, value: valueBytes(c.value, names), version: c.version, exists: c.exists })),
        onSuccess,
        onFailure: call.onFailure.map((op) => txnOp(op, names)),
        hasOnFailure: call.hasOnFailure,
        requestId: requestIdText(call.requestId, names),
      });
    }
    case "TxnStatus": {
      const id = kvTxnIdText(call.id, names);
      return { build: (txnEpoch) => ({ request: { id: id(txnEpoch) }, prepared: [], misfit: null }), epoch: null, recorded: null };
    }
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
