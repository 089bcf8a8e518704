// fast-check arbitraries for every method of twopc.kv.Kv, twopc.participant.Participant and
// twopc.participant.Coordination, shaped after the request types of proto/gen/**: each field gets
// valid values, boundary values (exactly at a limit of common/limits.ts and one over) and malformed
// ones (missing fields, empty strings, garbage transaction ids, huge and negative numbers, NaN and
// the infinities, unknown enum strings, min > max). Request ids and transaction ids come from small
// pools shared by every method, so a sequence reuses them across methods (a Put under request id R,
// then an Increment under R).
//
// The participant port is unauthenticated (TLS comes later): a forged but well-formed PREPARE then
// COMMIT would legitimately change one replica's data, and the end-of-run check that every replica
// holds the same data would mean nothing. So the participant-port commands keep to these rules:
//   (a) transaction ids only with counters no coordinator reaches (model.ts fakeCounterBase, from
//       1,000,000,000 up), of the call's epoch as a coordinator's are (or, in a Commit or Abort, of
//       an earlier one), or malformed ones; never an id a coordinator issued;
//   (b) keys only in their own namespace, "fuzzp/...", never a key of the Kv port;
//   (c) never a well-formed COMMIT (commit_seq other than 0) of an id the fuzzer may PREPARE: the
//       ids split in two, in every epoch alike, those that may be prepared (fake counters
//       base+1..+4, the bulk-prepare range, malformed and sized ids), committed only with commit_seq
//       0 or none, and those that never are (fake counters base+5..+8, the bulk-commit and
//       bulk-query ranges), committed with anything; model.ts asserts it again on every request;
//   (d) every transaction a batch PREPAREd is ABORTed on every replica at the end of the batch
//       (run.ts), so none holds its locks for long;
//   (e) CatchUp only from addresses nothing listens on or that do not parse (127.0.0.1:1, "", ...):
//       a real source would copy rows into one replica;
//   (f) never an Append of the current epoch or a newer one (model.ts AppendEpochRef): its garbage
//       records would become one replica's copy of the decision log, which the next coordinator
//       taking over would recover from and fail to decode.
// Every call a coordinator makes carries its epoch (failover): mostly the active coordinator's
// (the call reaches the replica's core), sometimes none (refused), an older one (fenced) or a value
// that is no epoch. Rarely a newer one: the replica promises it, which fences the coordinator; it
// stands down and takes over again with a newer epoch, and writes meanwhile answer UNAVAILABLE
// (outcome unknown, which the linearizability check allows for). A Promise of a newer epoch does
// the same. That tests the fence and the takeover under load, and the run's checks hold across it:
// run.ts refreshes the epoch after a fenced or unavailable answer, waits for an active coordinator
// after each batch, and the replicas must still agree at the end.
// Never a call of epoch Number.MAX_SAFE_INTEGER: a replica promises it, and no coordinator can take
// over after that, since the next epoch is past what a replica decodes: one call stops the cluster
// for good. That is a bug of the failover (replica/decode.ts decodeEpoch takes any epoch up to
// MAX_SAFE_INTEGER, coordinator/takeover.ts nextEpoch goes one past the highest it hears), to be
// fixed there, not found again by every run.
// Misfits, on purpose (model.ts Misfit): a Prepare with a transaction id of another epoch than the
// call's (earlier, later, or MAX_SAFE_INTEGER, the epoch of the id that once stopped every later
// takeover), and a Commit or Abort with one of a later epoch. Each such call is otherwise well
// formed, and run.ts checks it is refused INVALID_ARGUMENT naming that id's field; were one taken,
// its id's epoch would be the one every later coordinator must pass (replica/decode.ts
// checkTxnEpochs). PeerOutcome, Inspect and QueryOutcome carry no epoch, and name fake ids of the
// run's current epoch or an earlier one only (a replica once refused an id it never saw, durably,
// when a peer asked about it, and counted that id's epoch as one it saw: replica/core.ts seeTxnId;
// since intent commits it answers "unknown" and logs nothing, and the fake ids stay as they were).
// The Kv port's own methods are free: Resolve and TxnStatus may name the fake ids too (of the epoch
// the run knows as current), since a COMMIT chosen by the coordinator goes to every replica alike.
import fc from "fast-check";
import { limits } from "../../common/limits";
import {
  boundary,
  callTxnEpoch,
  type AppendEpochRef,
  type EpochRef,
  fakeDecisionPoolSize,
  fakePreparePoolSize,
  lanesMax,
  replicaIds,
  type Call,
  type Command,
  type CommitSpec,
  type CompareSpec,
  type KeyRef,
  type KvTxnIdRef,
  type PrepareTxnSpec,
  type PTxnIdRef,
  type RequestIdRef,
  type TxnEpochRef,
  type TxnOpSpec,
  type ValueRef,
  type Wide,
} from "./model";

const w = <T>(weight: number, arbitrary: fc.Arbitrary<T>): fc.WeightedArbitrary<T> => ({ weight, arbitrary });

// ----- Fields -----

const linKeys = 4;
const sharedKeys = 6;
const participantKeys = 4;

const linKey: fc.Arbitrary<KeyRef> = fc.integer({ min: 0, max: linKeys - 1 }).map((index) => ({ kind: "lin", index }));

/** A key of the Kv port other than the lin keys. */
const kvKey: fc.Arbitrary<KeyRef> = fc.oneof(
  w(10, fc.integer({ min: 0, max: sharedKeys - 1 }).map((index): KeyRef => ({ kind: "k", index }))),
  w(1, fc.constantFrom(...boundary.key).map((bytes): KeyRef => ({ kind: "sized", space: "k", bytes }))),
  w(1, fc.constantFrom("", "\ud800", "../../etc", "k/\u0000", " ").map((text): KeyRef => ({ kind: "literal", text }))),
);

/** A key of the participant port: in fuzzp/ (rule b), or malformed. */
const pKey: fc.Arbitrary<KeyRef> = fc.oneof(
  w(10, fc.integer({ min: 0, max: participantKeys - 1 }).map((index): KeyRef => ({ kind: "p", index }))),
  w(1, fc.constantFrom(...boundary.key).map((bytes): KeyRef => ({ kind: "sized", space: "p", bytes }))),
  w(1, fc.constantFrom("", "fuzzp/\ud800").map((text): KeyRef => ({ kind: "literal", text }))),
);

const valueText = fc.constantFrom("a", "", "0", "1", "-1", "-0", "42", "1e3", "0x10", " 7", "9007199254740991", "9007199254740992", "abc");
const value: fc.Arbitrary<ValueRef> = fc.oneof(
  w(12, valueText.map((text): ValueRef => ({ kind: "text", text }))),
  w(2, fc.constant<ValueRef>({ kind: "none" })),
  // Values of a mebibyte cost time: rare.
  w(1, fc.constantFrom(0, 1, ...boundary.value).map((bytes): ValueRef => ({ kind: "sized", bytes }))),
);
const presentValue: fc.Arbitrary<ValueRef> = valueText.map((text) => ({ kind: "text", text }));

const requestId: fc.Arbitrary<RequestIdRef> = fc.oneof(
  w(3, fc.constant<RequestIdRef>({ kind: "none" })),
  w(2, fc.constant<RequestIdRef>({ kind: "fresh" })),
  w(6, fc.integer({ min: 0, max: 3 }).map((index): RequestIdRef => ({ kind: "pool", index }))),
  w(1, fc.constantFrom(...boundary.requestId).map((bytes): RequestIdRef => ({ kind: "sized", bytes }))),
  w(1, fc.constantFrom("../../etc", "1.1", " ", "\u0000").map((text): RequestIdRef => ({ kind: "literal", text }))),
);
const linRequestId: fc.Arbitrary<RequestIdRef> = fc.constantFrom<RequestIdRef>({ kind: "none" }, { kind: "fresh" });

const huge: Wide[] = [
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  "9223372036854775807",
  "-9223372036854775808",
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1.5,
];
const int64: fc.Arbitrary<Wide> = fc.oneof(
  w(6, fc.integer({ min: -5, max: 5 })),
  w(2, fc.constantFrom<Wide>(100, -100, 1_000_000, -1_000_000)),
  w(1, fc.constantFrom(...huge)),
);
const uint64: fc.Arbitrary<Wide> = fc.oneof(
  w(6, fc.integer({ min: 0, max: 8 })),
  w(1, fc.constantFrom<Wide>(-1, Number.MAX_SAFE_INTEGER, "18446744073709551615", Number.NaN, 1.5)),
);
const uint32 = fc.constantFrom(0, 1, 2, 10, limits.catchUpRowsPerFetchMax, limits.catchUpRowsPerFetchMax + 1, 4_294_967_295, -1, Number.NaN);

/** Transaction ids that are not "EPOCH.COUNTER" as a coordinator writes them. */
const malformedTxnIds = ["../../etc", "1.", "-1.2", "", "abc", "1.2.3", " 1.1", "1.1\n", "01.1", "1e3.1", "0.0", "\u0663.\u0661", "18446744073709551616.1"];

const kvTxnId: fc.Arbitrary<KvTxnIdRef> = fc.oneof(
  w(4, fc.integer({ min: 0, max: 30 }).map((index): KvTxnIdRef => ({ kind: "seen", index }))),
  w(2, fc.integer({ min: 0, max: fakePreparePoolSize + fakeDecisionPoolSize - 1 }).map((index): KvTxnIdRef => ({ kind: "fake", index }))),
  w(2, fc.constantFrom(...malformedTxnIds, "1.1", "999999999.1").map((text): KvTxnIdRef => ({ kind: "literal", text }))),
  w(1, fc.constantFrom(...boundary.txnId).map((bytes): KvTxnIdRef => ({ kind: "sized", bytes }))),
  w(2, requestId.map((id): KvTxnIdRef => ({ kind: "request", id }))),
);

/**
 * The epoch of a fake id in a Commit, Abort or query: mostly the call's, sometimes an earlier one (a
 * transaction of a coordinator before a takeover, whose decision a replica takes).
 */
const decisionTxnEpoch: fc.Arbitrary<TxnEpochRef> = fc.oneof(
  w(8, fc.constant(callTxnEpoch)),
  w(1, fc.integer({ min: 1, max: 3 }).map((back): TxnEpochRef => ({ kind: "earlier", back }))),
);
/** The epoch of a misfit in a Prepare: any but the call's (one earlier than epoch 1 is epoch 1: no misfit then). */
const misfitPrepareEpoch: fc.Arbitrary<TxnEpochRef> = fc.oneof(
  w(2, fc.integer({ min: 1, max: 2 }).map((back): TxnEpochRef => ({ kind: "earlier", back }))),
  w(2, fc.constantFrom(1, 1_000).map((ahead): TxnEpochRef => ({ kind: "later", ahead }))),
  w(1, fc.constant<TxnEpochRef>({ kind: "max" })),
);
/** The epoch of a misfit in a Commit or Abort: a later one than the call's. */
const misfitDecisionEpoch: fc.Arbitrary<TxnEpochRef> = fc.oneof(
  w(2, fc.constantFrom(1, 1_000).map((ahead): TxnEpochRef => ({ kind: "later", ahead }))),
  w(1, fc.constant<TxnEpochRef>({ kind: "max" })),
);

const preparePool = fc.integer({ min: 0, max: fakePreparePoolSize - 1 });
const decisionPool = fc.integer({ min: fakePreparePoolSize, max: fakePreparePoolSize + fakeDecisionPoolSize - 1 });

/** An id the fuzzer may PREPARE (so COMMIT only with commit_seq 0 or none: rule c), of an epoch. */
const preparableTxnId = (epoch: fc.Arbitrary<TxnEpochRef>): fc.Arbitrary<PTxnIdRef> =>
  fc.oneof(
    w(5, fc.tuple(preparePool, epoch).map(([index, epoch]): PTxnIdRef => ({ kind: "fake", index, epoch }))),
    w(3, fc.constantFrom(...malformedTxnIds).map((text): PTxnIdRef => ({ kind: "literal", text }))),
    w(1, fc.constantFrom(...boundary.txnId).map((bytes): PTxnIdRef => ({ kind: "sized", bytes }))),
  );
/** An id the fuzzer never PREPAREs. */
const decisionTxnId: fc.Arbitrary<PTxnIdRef> = fc.tuple(decisionPool, decisionTxnEpoch).map(([index, epoch]) => ({ kind: "fake", index, epoch }));
const anyPTxnId = fc.oneof(w(3, preparableTxnId(decisionTxnEpoch)), w(1, decisionTxnId));

const memberId = fc.oneof(
  w(6, fc.constantFrom(...replicaIds)),
  w(1, fc.constantFrom("", "coordinator", "r9", "../../etc", "x".repeat(limits.memberIdBytesMax), "x".repeat(limits.memberIdBytesMax + 1))),
);

const bulkOrNone = (sizes: readonly number[]): fc.Arbitrary<number> => fc.oneof(w(30, fc.constant(0)), w(1, fc.constantFrom(...sizes)));
const optionalWide = (arbitrary: fc.Arbitrary<Wide>): fc.Arbitrary<Wide | null> => fc.option(arbitrary, { nil: null });

// ----- Kv -----

const compare: fc.Arbitrary<CompareSpec> = fc.record({
  key: kvKey,
  target: fc.constantFrom("value", "version", "exists", "", "VALUE", "bogus"),
  op: fc.constantFrom("=", "!=", "<", ">", "", "==", ">="),
  value,
  version: uint64,
  exists: fc.boolean(),
});

const txnOp: fc.Arbitrary<TxnOpSpec> = fc.record({
  type: fc.oneof(w(6, fc.constantFrom("put", "del", "incr", "get")), w(1, fc.constantFrom("", "PUT", "delete", "cas"))),
  key: kvKey,
  value,
  delta: int64,
  min: optionalWide(int64),
  max: optionalWide(int64),
  mustExist: fc.boolean(),
});

const kvCall: fc.Arbitrary<Call> = fc.oneof(
  w(8, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Get" as const), key: fc.oneof(w(3, linKey), w(2, kvKey)) })),
  w(6, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Put" as const), key: linKey, value: fc.constant<ValueRef>({ kind: "unique" }), requestId: linRequestId })),
  w(5, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Put" as const), key: kvKey, value, requestId })),
  w(2, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Delete" as const), key: linKey, requestId: linRequestId })),
  w(3, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Delete" as const), key: kvKey, requestId })),
  w(1, fc.constant<Call>({ service: "Kv", method: "Status" })),
  w(2, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("Resolve" as const), txnId: kvTxnId, outcome: fc.constantFrom("commit", "abort", "", "COMMIT", "maybe") })),
  w(
    5,
    fc.record({
      service: fc.constant("Kv" as const),
      method: fc.constant("Increment" as const),
      key: kvKey,
      delta: int64,
      min: optionalWide(int64),
      max: optionalWide(int64),
      mustExist: fc.boolean(),
      requestId,
    }),
  ),
  w(
    3,
    fc.record({
      service: fc.constant("Kv" as const),
      method: fc.constant("CompareAndSet" as const),
      key: kvKey,
      newValue: value,
      expectedVersion: optionalWide(uint64),
      expectedValue: fc.oneof(w(2, fc.constant<ValueRef>({ kind: "none" })), w(1, presentValue)),
      mustNotExist: fc.boolean(),
      requestId,
    }),
  ),
  w(
    2,
    fc.record({
      service: fc.constant("Kv" as const),
      method: fc.constant("CompareAndDelete" as const),
      key: kvKey,
      expectedVersion: optionalWide(uint64),
      expectedValue: fc.oneof(w(2, fc.constant<ValueRef>({ kind: "none" })), w(1, presentValue)),
      requestId,
    }),
  ),
  w(
    4,
    fc.record({
      service: fc.constant("Kv" as const),
      method: fc.constant("Txn" as const),
      conditions: fc.array(compare, { maxLength: 3 }),
      onSuccess: fc.array(txnOp, { maxLength: 4 }),
      onFailure: fc.array(txnOp, { maxLength: 2 }),
      hasOnFailure: fc.boolean(),
      requestId,
      bulk: fc.oneof(
        w(20, fc.constant(null)),
        w(1, fc.constantFrom(...boundary.txnOps).chain((ops) => fc.constantFrom(...boundary.txnKeys).map((keys) => ({ ops, keys })))),
      ),
    }),
  ),
  w(3, fc.record({ service: fc.constant("Kv" as const), method: fc.constant("TxnStatus" as const), id: kvTxnId })),
);

// ----- Participant and Coordination -----

/**
 * Values that are no epoch, as gRPC carries them: each decodes to 0 (missing), 1 (older than every
 * replica's promise) or a number past MAX_SAFE_INTEGER (refused); run.ts checks that before sending.
 */
const garbageEpochs: Wide[] = [-1, Number.NaN, 0.5, 1.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, "18446744073709551615", "-1", 2 ** 53, "abc"];

/** The epoch of a coordinator's call: see the rules at the top. */
const epoch: fc.Arbitrary<EpochRef> = fc.oneof(
  w(160, fc.constant<EpochRef>({ kind: "current" })),
  w(8, fc.constant<EpochRef>({ kind: "missing" })),
  w(8, fc.integer({ min: 1, max: 3 }).map((back): EpochRef => ({ kind: "older", back }))),
  w(2, fc.constant<EpochRef>({ kind: "stale" })),
  w(8, fc.constantFrom(...garbageEpochs).map((value): EpochRef => ({ kind: "garbage", value }))),
  w(1, fc.constant<EpochRef>({ kind: "newer" })),
);

/** The epoch of an Append: never the current or a newer one (rule f). */
const appendEpoch: fc.Arbitrary<AppendEpochRef> = fc.oneof(
  w(2, fc.constant<AppendEpochRef>({ kind: "missing" })),
  w(4, fc.constant<AppendEpochRef>({ kind: "stale" })),
  w(2, fc.constantFrom(...garbageEpochs).map((value): AppendEpochRef => ({ kind: "garbage", value }))),
);

const replica = fc.integer({ min: 0, max: replicaIds.length - 1 });

const prepareTxn: fc.Arbitrary<PrepareTxnSpec> = fc.record({
  txnId: preparableTxnId(fc.constant(callTxnEpoch)),
  writes: fc.array(fc.record({ key: pKey, value, delete: fc.boolean() }), { maxLength: 3 }),
  participants: fc.oneof(w(4, fc.constant([...replicaIds])), w(1, fc.subarray(["r1", "r2", "r3", "r9", ""]))),
  participantsBulk: bulkOrNone(boundary.participants),
});

const commitTxn: fc.Arbitrary<CommitSpec> = fc.oneof(
  w(3, fc.record({ txnId: preparableTxnId(decisionTxnEpoch), commitSeq: fc.constantFrom<Wide | null>(null, 0) })),
  w(1, fc.record({ txnId: decisionTxnId, commitSeq: fc.oneof(uint64, fc.constant(null)) })),
);

/**
 * Fake ids at distinct pool indices, each of the call's epoch but one, the misfit (model.ts Misfit).
 * The calls made of them are otherwise well formed, so that they must be refused for its epoch alone.
 */
function withMisfit(pool: fc.Arbitrary<number>, misfitEpoch: fc.Arbitrary<TxnEpochRef>): fc.Arbitrary<PTxnIdRef[]> {
  return fc
    .tuple(fc.uniqueArray(pool, { minLength: 1, maxLength: 3 }), fc.nat({ max: 2 }), misfitEpoch)
    .map(([indices, at, epoch]) => indices.map((index, i): PTxnIdRef => ({ kind: "fake", index, epoch: i === at % indices.length ? epoch : callTxnEpoch })));
}

const misfitPrepare: fc.Arbitrary<Call> = fc.record({
  service: fc.constant("Participant" as const),
  replica,
  method: fc.constant("Prepare" as const),
  epoch,
  coordinatorId: fc.constantFrom("coordinator", ...replicaIds),
  txns: withMisfit(preparePool, misfitPrepareEpoch).map((txnIds) =>
    txnIds.map(
      (txnId, i): PrepareTxnSpec => ({
        txnId,
        writes: [{ key: { kind: "p", index: i }, value: { kind: "text", text: "m" }, delete: false }],
        participants: [...replicaIds],
        participantsBulk: 0,
      }),
    ),
  ),
  bulk: fc.constant(0),
});

const misfitCommit: fc.Arbitrary<Call> = fc.record({
  service: fc.constant("Participant" as const),
  replica,
  method: fc.constant("Commit" as const),
  epoch,
  txns: fc
    .tuple(withMisfit(decisionPool, misfitDecisionEpoch), fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 3, maxLength: 3 }))
    .map(([txnIds, commitSeqs]) => txnIds.map((txnId, i): CommitSpec => ({ txnId, commitSeq: commitSeqs[i]! }))),
  bulk: fc.constant(0),
});

const misfitAbort: fc.Arbitrary<Call> = fc.record({
  service: fc.constant("Participant" as const),
  replica,
  method: fc.constant("Abort" as const),
  epoch,
  txnIds: withMisfit(fc.integer({ min: 0, max: fakePreparePoolSize + fakeDecisionPoolSize - 1 }), misfitDecisionEpoch),
  bulk: fc.constant(0),
});

// Not ":1": an empty host waits for name resolution until the fetch deadline (10 s) and stalls a run.
// Also where a Promise or Append says its coordinator is: a replica that promised it asks there
// about its transactions in doubt, finds nobody, and asks its peers (the coordinator's next promise
// moves it back).
const sourceAddress = fc.constantFrom("127.0.0.1:1", "", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:", "[::1", "unix:/nonexistent/twopc.sock");
/** Mostly the one of those that parses, so that a Promise or Append gets past the decoder. */
const coordinatorAddress = fc.oneof(w(4, fc.constant("127.0.0.1:1")), w(1, sourceAddress));

const participantCall: fc.Arbitrary<Call> = fc.oneof(
  w(
    5,
    fc.record({
      service: fc.constant("Participant" as const),
      replica,
      method: fc.constant("Prepare" as const),
      epoch,
      coordinatorId: memberId,
      txns: fc.array(prepareTxn, { maxLength: 3 }),
      bulk: bulkOrNone(boundary.txnsPerBatch),
    }),
  ),
  w(
    5,
    fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("Commit" as const), epoch, txns: fc.array(commitTxn, { maxLength: 3 }), bulk: bulkOrNone(boundary.txnsPerBatch) }),
  ),
  w(
    3,
    fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("Abort" as const), epoch, txnIds: fc.array(anyPTxnId, { maxLength: 3 }), bulk: bulkOrNone(boundary.txnIdsPerCall) }),
  ),
  w(1, misfitPrepare),
  w(1, misfitCommit),
  w(1, misfitAbort),
  w(
    2,
    fc.record({
      service: fc.constant("Participant" as const),
      replica,
      method: fc.constant("Read" as const),
      epoch,
      // A key a fake transaction holds makes the read wait (up to readWaitTimeoutMs): not too often.
      keys: fc.array(fc.oneof(w(1, pKey), w(3, kvKey), w(2, linKey)), { maxLength: 3 }),
      bulk: bulkOrNone(boundary.keysPerRead),
    }),
  ),
  w(1, fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("Status" as const) })),
  w(1, fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("Dump" as const) })),
  w(
    2,
    fc.record({
      service: fc.constant("Participant" as const),
      replica,
      method: fc.constantFrom("PeerOutcome" as const, "Inspect" as const),
      replicaId: memberId,
      txnIds: fc.array(anyPTxnId, { maxLength: 3 }),
      bulk: bulkOrNone(boundary.txnIdsPerCall),
    }),
  ),
  w(1, fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("CatchUp" as const), epoch, sourceId: memberId, sourceAddress, sinceSeq: uint64 })),
  w(1, fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("Promise" as const), epoch, coordinatorId: memberId, coordinatorAddress })),
  w(1, fc.record({ service: fc.constant("Participant" as const), replica, method: fc.constant("ReadCopy" as const), epoch, coordinatorId: memberId, fromIndex: fc.oneof(w(3, fc.integer({ min: 0, max: 8 })), w(1, uint64)) })),
  w(
    1,
    fc.record({
      service: fc.constant("Participant" as const),
      replica,
      method: fc.constant("Append" as const),
      epoch: appendEpoch,
      coordinatorId: memberId,
      coordinatorAddress,
      // Mostly well formed, so that most of those with the stale epoch get as far as the fence.
      base: fc.boolean(),
      more: fc.oneof(w(3, fc.constant(false)), w(1, fc.constant(true))),
      firstIndex: fc.oneof(w(3, fc.integer({ min: 1, max: 8 })), w(1, uint64)),
      baseFirstIndex: fc.oneof(w(3, fc.integer({ min: 1, max: 4 })), w(1, uint64)),
      records: fc.array(fc.constantFrom("", "r", "\u0000\u0001", '{"kind":"commit"}', "x".repeat(300)), { minLength: 1, maxLength: 3 }),
      bulk: bulkOrNone(boundary.appendRecords),
    }),
  ),
  w(
    1,
    fc.record({
      service: fc.constant("Participant" as const),
      replica,
      method: fc.constant("Fetch" as const),
      sinceSeq: uint64,
      afterKey: fc.constantFrom("", "k/1", "fuzzp/", "\uffff", "lin/0"),
      limit: uint32,
    }),
  ),
);

const coordinationCall: fc.Arbitrary<Call> = fc.record({
  service: fc.constant("Coordination" as const),
  method: fc.constant("QueryOutcome" as const),
  replicaId: memberId,
  txnIds: fc.array(anyPTxnId, { maxLength: 3 }),
  bulk: bulkOrNone(boundary.txnIdsPerCall),
});

export const command: fc.Arbitrary<Command> = fc.record({
  lane: fc.integer({ min: 0, max: lanesMax - 1 }),
  call: fc.oneof(w(60, kvCall), w(33, participantCall), w(4, coordinationCall)),
});

/** Per run array, the length of its prefix that was run when it failed (a run stops at the failed batch). */
const failedPrefixLength = new WeakMap<readonly Command[], number>();

/** Tells the shrinker that only the first `length` commands of `commands` ran before it failed. */
export function noteFailedPrefix(commands: readonly Command[], length: number): void {
  failedPrefixLength.set(commands, length);
}

interface RunContext {
  readonly items: readonly unknown[];
}

/**
 * A run: exactly `length` commands, generated in execution order. Shrinking, each candidate a run
 * against a fresh cluster, so few and good ones: first the prefix that ran before the failure (a
 * run stops at its failed batch), then the run without a chunk of a half, a quarter, ... down to
 * single commands (delta debugging), then each command simplified by its own arbitrary (lane 0,
 * fewer items, plainer values).
 */
class RunArbitrary extends fc.Arbitrary<Command[]> {
  constructor(
    private readonly item: fc.Arbitrary<Command>,
    private readonly length: number,
  ) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<Command[]> {
    const values = Array.from({ length: this.length }, () => this.item.generate(mrng, biasFactor));
    return this.wrap(values.map((value) => value.value_), values.map((value) => value.context));
  }

  canShrinkWithoutContext(_value: unknown): _value is Command[] {
    return false;
  }

  shrink(value: Command[], context: unknown): fc.Stream<fc.Value<Command[]>> {
    const items = (context as RunContext | undefined)?.items ?? [];
    const failed = failedPrefixLength.get(value);
    const prefix = failed !== undefined && failed < value.length ? [this.wrap(value.slice(0, failed), items.slice(0, failed))] : [];
    const self = this;
    function* removals(): Generator<fc.Value<Command[]>> {
      for (let chunk = Math.floor(value.length / 2); chunk >= 1; chunk = Math.floor(chunk / 2)) {
        for (let start = 0; start + chunk <= value.length; start += chunk) {
          yield self.wrap([...value.slice(0, start), ...value.slice(start + chunk)], [...items.slice(0, start), ...items.slice(start + chunk)]);
        }
      }
    }
    function* simplifications(): Generator<fc.Value<Command[]>> {
      for (let i = 0; i < value.length; i++) {
        for (const shrunk of self.item.shrink(value[i]!, items[i])) {
          yield self.wrap([...value.slice(0, i), shrunk.value_, ...value.slice(i + 1)], [...items.slice(0, i), shrunk.context, ...items.slice(i + 1)]);
        }
      }
    }
    return fc.stream(prefix[Symbol.iterator]()).join(removals(), simplifications());
  }

  private wrap(commands: Command[], items: readonly unknown[]): fc.Value<Command[]> {
    const context: RunContext = { items };
    return new fc.Value(commands, context);
  }
}

export function runArbitrary(length: number): fc.Arbitrary<Command[]> {
  return new RunArbitrary(command, length);
}
