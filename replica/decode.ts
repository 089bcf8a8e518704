// Decoding of everything that reaches a replica from the network, into checked, typed values. Pure.
//
// Input from the network is not an invariant: any process that can open the participant port can
// send anything. Each request of service twopc.participant.Participant is decoded here before the
// shell (replica/server.ts) turns it into an input of the core; a missing, malformed, contradictory
// or over-limit field is INVALID_ARGUMENT naming the field (and, for a size, the limit of
// common/limits.ts), and nothing of the call reaches the core. A list is counted against its limit
// before any item is looked at. What the request contradicts in the replica's state (a commit of a
// transaction it aborted) is for the core to refuse: it alone knows that state.
//
// The answers to calls this replica makes (the coordinator's QueryOutcome, a peer's PeerOutcome)
// are decoded here too; an item that cannot be used (an id that was not asked about, a commit
// without a commit sequence number, a state this build does not know) is dropped with its reason,
// for the shell to log, and the rest of the answer is used. A page of a catch-up (Fetch) goes
// straight into the store, so a bad one is refused whole and the catch-up fails.
//
// Status and Dump take empty messages: nothing to decode.
import { InvalidArgument } from "../common/errors";
import { limits } from "../common/limits";
import type { PeerState, Write } from "../common/types";
import { checkCount, checkKey, checkMemberId, checkTxnIdFormat, checkValue, checkWholeNumber, parseAddress } from "../common/validate";
import { decodePeerStateChecked } from "../proto/convert";
import type { AbortRequest__Output } from "../proto/gen/twopc/participant/AbortRequest";
import type { AppendRequest__Output } from "../proto/gen/twopc/participant/AppendRequest";
import type { PromiseRequest__Output } from "../proto/gen/twopc/participant/PromiseRequest";
import type { ReadCopyRequest__Output } from "../proto/gen/twopc/participant/ReadCopyRequest";
import type { CatchUpRequest__Output } from "../proto/gen/twopc/participant/CatchUpRequest";
import type { CommitRequest__Output } from "../proto/gen/twopc/participant/CommitRequest";
import type { FetchRequest__Output } from "../proto/gen/twopc/participant/FetchRequest";
import type { FetchResponse__Output } from "../proto/gen/twopc/participant/FetchResponse";
import type { OutcomeResponse__Output } from "../proto/gen/twopc/participant/OutcomeResponse";
import type { PeerOutcomeRequest__Output } from "../proto/gen/twopc/participant/PeerOutcomeRequest";
import type { PeerOutcomeResponse__Output } from "../proto/gen/twopc/participant/PeerOutcomeResponse";
import type { PrepareRequest__Output } from "../proto/gen/twopc/participant/PrepareRequest";
import type { ReadRequest__Output } from "../proto/gen/twopc/participant/ReadRequest";
import type { TxnWrite__Output } from "../proto/gen/twopc/participant/TxnWrite";
import { isCommitSeq, type CommitItem, type OutcomeItem, type PrepareItem } from "./core";
import { parseTxnId } from "../common/txn-id";

export type { CommitItem };

export interface PrepareCall {
  readonly coordinatorId: string;
  readonly txns: PrepareItem[];
}

export interface TxnIdsCall {
  /** The asking replica's id ("" when the caller gave none: Inspect, from an operator or the coordinator). */
  readonly replicaId: string;
  readonly txnIds: string[];
}

export interface FetchCall {
  readonly sinceSeq: number;
  readonly afterKey: string;
  readonly limit: number;
}

export interface CatchUpCall {
  readonly sourceId: string;
  readonly sourceAddress: string;
  readonly sinceSeq: number;
}

/**
 * A batch of prepares. Each transaction names its participants, for cooperative termination; they
 * must include this replica (selfId): a replica holding a transaction it is not part of would ask,
 * and refuse, the wrong peers. A transaction id twice in one batch is refused: the coordinator
 * sends each PREPARE once (coordinator/core.ts), so a repeat can only be a faulty sender's.
 */
export function decodePrepare(request: PrepareRequest__Output, selfId: string): PrepareCall {
  checkCount("txns", request.txns.length, "txnsPerBatchMax", "transactions");
  const coordinatorId = checkMemberId("coordinator_id", request.coordinatorId);
  const firstIndex = new Map<string, number>();
  const txns = request.txns.map((txn, i): PrepareItem => {
    const field = `txns[${i}]`;
    const txnId = checkTxnIdFormat(`${field}.txn_id`, txn.txnId);
    const earlier = firstIndex.get(txnId);
    if (earlier !== undefined) throw new InvalidArgument(`${field}.txn_id`, `${field}.txn_id ${txnId} repeats txns[${earlier}].txn_id; a batch prepares a transaction once`);
    firstIndex.set(txnId, i);
    const writes = decodeWrites(txn.writes, `${field}.writes`);
    if (writes.length === 0) throw new InvalidArgument(`${field}.writes`, `${field}.writes is empty; a prepared transaction writes at least one key`);
    return { txnId, writes, participants: decodeParticipants(txn.participants, `${field}.participants`, selfId) };
  });
  return { coordinatorId, txns };
}

/** A transaction's writes, at most txnOpsMax of them (counted before any is looked at); may be empty. */
function decodeWrites(writes: readonly TxnWrite__Output[], field: string): Write[] {
  checkCount(field, writes.length, "txnOpsMax", "writes");
  return writes.map((write, j) => decodeWrite(write, `${field}[${j}]`));
}

function decodeWrite(write: TxnWrite__Output, field: string): Write {
  const key = checkKey(`${field}.key`, write.key);
  if (!write.delete) return { key, value: checkValue(`${field}.value`, write.value) };
  if (write.value.length > 0) throw new InvalidArgument(`${field}.value`, `${field}.value has ${write.value.length} bytes, but the write is a delete (its value must be empty)`);
  return { key, value: null };
}

function decodeParticipants(participants: readonly string[], field: string, selfId: string): string[] {
  checkCount(field, participants.length, "participantsMax", "replicas");
  if (participants.length === 0) throw new InvalidArgument(field, `${field} is empty; it names every replica taking part`);
  const seen = new Set<string>();
  participants.forEach((id, i) => {
    checkMemberId(`${field}[${i}]`, id);
    if (seen.has(id)) throw new InvalidArgument(`${field}[${i}]`, `${field}[${i}] names ${JSON.stringify(id)} a second time`);
    seen.add(id);
  });
  if (!seen.has(selfId)) {
    throw new InvalidArgument(field, `${field} does not name this replica (${JSON.stringify(selfId)}); a replica prepares only transactions it takes part in`);
  }
  return [...participants];
}

/**
 * A batch of commits, each with its commit sequence number and, for a replica that may not hold the
 * transaction prepared, its writes (checked as a prepare's are, but possibly empty). A transaction
 * id twice in one batch is legitimate and kept once: the coordinator re-sends an unacknowledged
 * COMMIT (on a timer, after a restart, on `kv resolve`), and while callsInFlightPerReplicaMax calls
 * are in flight its Batcher (coordinator/replica-link.ts) queues them, so a re-send can pile up in
 * the same call as the first send. The one kept carries the writes of the first occurrence that has
 * any (a first send to a replica that voted YES carries none, a re-send from a recovered record
 * may). Two different commit sequence numbers for one transaction are a contradiction.
 */
export function decodeCommit(request: CommitRequest__Output): CommitItem[] {
  checkCount("txns", request.txns.length, "txnsPerBatchMax", "transactions");
  const first = new Map<string, { index: number; position: number }>();
  const txns: CommitItem[] = [];
  request.txns.forEach((txn, i) => {
    const field = `txns[${i}]`;
    const txnId = checkTxnIdFormat(`${field}.txn_id`, txn.txnId);
    const commitSeq = checkWholeNumber(`${field}.commit_seq`, txn.commitSeq, 1);
    const writes = decodeWrites(txn.writes, `${field}.writes`);
    const earlier = first.get(txnId);
    if (earlier === undefined) {
      first.set(txnId, { index: i, position: txns.length });
      txns.push({ txnId, commitSeq, writes });
      return;
    }
    const kept = txns[earlier.position]!;
    if (kept.commitSeq !== commitSeq) {
      throw new InvalidArgument(`${field}.commit_seq`, `${field}.commit_seq is ${commitSeq}, but txns[${earlier.index}] commits ${txnId} with ${kept.commitSeq}`);
    }
    if (kept.writes.length === 0 && writes.length > 0) txns[earlier.position] = { txnId, commitSeq, writes };
  });
  return txns;
}

/** The tombstone collection floor a Commit carries (0: none). */
export function decodeGcFloor(request: CommitRequest__Output): number {
  return checkWholeNumber("gc_floor", request.gcFloor, 0);
}

/**
 * A batch of aborts. A transaction id twice is legitimate and kept once: the coordinator sends
 * ABORT to every participant when it aborts, and again to a replica whose late YES vote arrives
 * after that; both can wait in the same Batcher queue (coordinator/replica-link.ts).
 */
export function decodeAbort(request: AbortRequest__Output): string[] {
  return [...new Set(decodeTxnIds(request.txnIds, "txn_ids"))];
}

export function decodeRead(request: ReadRequest__Output): string[] {
  checkCount("keys", request.keys.length, "keysPerReadMax", "keys");
  if (request.keys.length === 0) throw new InvalidArgument("keys", `keys is empty; a read names 1 to ${limits.keysPerReadMax} keys`);
  return request.keys.map((key, i) => checkKey(`keys[${i}]`, key));
}

/** A peer in doubt asking what this replica knows: it must say who it is. */
export function decodePeerOutcome(request: PeerOutcomeRequest__Output): TxnIdsCall {
  const txnIds = decodeTxnIds(request.txnIds, "txn_ids");
  return { replicaId: checkMemberId("replica_id", request.replicaId), txnIds };
}

/** An inspection (for `kv resolve` and operators): replica_id may be empty, as the coordinator sends it. */
export function decodeInspect(request: PeerOutcomeRequest__Output): TxnIdsCall {
  const txnIds = decodeTxnIds(request.txnIds, "txn_ids");
  const replicaId = request.replicaId === "" ? "" : checkMemberId("replica_id", request.replicaId);
  return { replicaId, txnIds };
}

function decodeTxnIds(txnIds: readonly string[], field: string): string[] {
  checkCount(field, txnIds.length, "txnIdsPerCallMax", "transaction ids");
  return txnIds.map((txnId, i) => checkTxnIdFormat(`${field}[${i}]`, txnId));
}

/** One page of a catch-up. A limit of 0 (unset) or over catchUpRowsPerFetchMax is clamped, not refused. */
export function decodeFetch(request: FetchRequest__Output): FetchCall {
  const sinceSeq = checkWholeNumber("since_seq", request.sinceSeq, 0);
  const afterKeyBytes = Buffer.byteLength(request.afterKey, "utf8");
  checkCount("after_key", afterKeyBytes, "keyBytesMax", "bytes");
  const limit = Math.min(Math.max(request.limit, 1), limits.catchUpRowsPerFetchMax);
  return { sinceSeq, afterKey: request.afterKey, limit };
}

export function decodeCatchUp(request: CatchUpRequest__Output): CatchUpCall {
  const sourceId = checkMemberId("source_id", request.sourceId);
  parseAddress("source_address", request.sourceAddress);
  const sinceSeq = checkWholeNumber("since_seq", request.sinceSeq, 0);
  return { sourceId, sourceAddress: request.sourceAddress, sinceSeq };
}

/** A row copied by a catch-up: value null for a tombstone. */
export interface FetchedRow {
  readonly key: string;
  readonly value: Buffer | null;
  readonly version: number;
}

/**
 * One page of rows from the source of a catch-up, answering a Fetch of `request`. The rows go
 * straight into the store, so a page that is not what was asked for (more rows than the limit, keys
 * not in increasing order after after_key, a version below since_seq, a tombstone with a value) is
 * refused whole: the catch-up fails and the coordinator tries again later.
 */
export function decodeFetchPage(page: FetchResponse__Output, request: FetchCall): FetchedRow[] {
  checkCount("rows", page.rows.length, "catchUpRowsPerFetchMax", "rows");
  if (page.rows.length > request.limit) throw new InvalidArgument("rows", `rows has ${page.rows.length} rows; ${request.limit} were asked for`);
  // In the store's order: SQLite compares keys as UTF-8 bytes, not as JavaScript compares strings.
  let previous = Buffer.from(request.afterKey, "utf8");
  return page.rows.map((row, i) => {
    const key = checkKey(`rows[${i}].key`, row.key);
    const keyBytes = Buffer.from(key, "utf8");
    if (Buffer.compare(keyBytes, previous) <= 0) {
      throw new InvalidArgument(`rows[${i}].key`, `rows[${i}].key ${JSON.stringify(key)} does not come after ${JSON.stringify(previous.toString("utf8"))}`);
    }
    previous = keyBytes;
    const version = checkWholeNumber(`rows[${i}].version`, row.version, Math.max(1, request.sinceSeq));
    if (!row.deleted) return { key, value: checkValue(`rows[${i}].value`, row.value), version };
    if (row.value.length > 0) throw new InvalidArgument(`rows[${i}].value`, `rows[${i}].value has ${row.value.length} bytes, but the row is a tombstone`);
    return { key, value: null, version };
  });
}

/** The source's tombstone collection horizon on a catch-up page (a bad one fails the catch-up). */
export function decodeCollectedThrough(page: FetchResponse__Output): number {
  return checkWholeNumber("collected_through", page.collectedThrough, 0);
}

/** What can be used of an answer, and why the rest cannot. */
export interface Answer<T> {
  readonly items: T[];
  readonly dropped: string[];
}

/**
 * The coordinator's answer to an outcome query about `asked`. UNSPECIFIED (the coordinator has no
 * outcome to give yet) is skipped quietly, as the query is repeated; anything else unusable is
 * dropped with its reason, and so is every item of a transaction answered twice differently.
 */
export function decodeOutcomeAnswer(asked: readonly string[], response: OutcomeResponse__Output): Answer<OutcomeItem> {
  const askedSet = new Set(asked);
  const dropped: string[] = [];
  const byTxn = new Map<string, OutcomeItem | "contradicted">();
  for (const item of response.outcomes) {
    if (!askedSet.has(item.txnId)) {
      dropped.push(`${JSON.stringify(item.txnId)} was not asked about`);
      continue;
    }
    // Widened on purpose: at run time the outcome may be a number the generated type does not list.
    const outcome: string | number = item.outcome;
    if (outcome === "OUTCOME_UNSPECIFIED") continue;
    let decoded: OutcomeItem;
    if (outcome === "OUTCOME_COMMIT") {
      if (!isCommitSeq(item.commitSeq)) {
        dropped.push(`${item.txnId} is COMMIT with commit sequence number ${item.commitSeq}, not a whole number from 1`);
        continue;
      }
      decoded = { txnId: item.txnId, outcome: "commit", commitSeq: item.commitSeq };
    } else if (outcome === "OUTCOME_ABORT") {
      decoded = { txnId: item.txnId, outcome: "abort" };
    } else {
      dropped.push(`${item.txnId} has outcome ${JSON.stringify(outcome)}, which this build does not know`);
      continue;
    }
    addOnce(byTxn, item.txnId, decoded, sameOutcome, dropped);
  }
  return { items: usable(byTxn), dropped };
}

/** A peer's answer to a PeerOutcome query about `asked` (see decodeOutcomeAnswer). */
export function decodePeerAnswer(asked: readonly string[], peerId: string, response: PeerOutcomeResponse__Output): Answer<PeerState> {
  if (response.replicaId !== peerId) {
    return { items: [], dropped: [`the answer comes from ${JSON.stringify(response.replicaId)}, not from peer ${JSON.stringify(peerId)} (every item dropped)`] };
  }
  const askedSet = new Set(asked);
  const dropped: string[] = [];
  const byTxn = new Map<string, PeerState | "contradicted">();
  for (const txn of response.txns) {
    if (!askedSet.has(txn.txnId)) {
      dropped.push(`${JSON.stringify(txn.txnId)} was not asked about`);
      continue;
    }
    const decoded = decodePeerStateChecked(txn);
    if (!decoded.ok) dropped.push(decoded.reason);
    else addOnce(byTxn, txn.txnId, decoded.state, samePeerState, dropped);
  }
  return { items: usable(byTxn), dropped };
}

function addOnce<T>(byTxn: Map<string, T | "contradicted">, txnId: string, item: T, same: (a: T, b: T) => boolean, dropped: string[]): void {
  const earlier = byTxn.get(txnId);
  if (earlier === undefined) byTxn.set(txnId, item);
  else if (earlier !== "contradicted" && !same(earlier, item)) {
    byTxn.set(txnId, "contradicted");
    dropped.push(`${txnId} is answered twice, differently`);
  }
}

function usable<T>(byTxn: Map<string, T | "contradicted">): T[] {
  return [...byTxn.values()].filter((item): item is T => item !== "contradicted");
}

function sameOutcome(a: OutcomeItem, b: OutcomeItem): boolean {
  return a.outcome === b.outcome && (a.outcome !== "commit" || b.outcome !== "commit" || a.commitSeq === b.commitSeq);
}

function samePeerState(a: PeerState, b: PeerState): boolean {
  return a.state === b.state && (a.state !== "committed" || b.state !== "committed" || a.commitSeq === b.commitSeq);
}

/** The epoch of a coordinator's call (failover): a whole number from 1; 0 means it is missing. */
export function decodeEpoch(epoch: number): number {
  if (epoch === 0) throw new InvalidArgument("epoch", "epoch is missing: a coordinator names its epoch in every call (0 is not an epoch)");
  return checkWholeNumber("epoch", epoch, 1);
}

export interface PromiseCall {
  readonly epoch: number;
  readonly coordinatorId: string;
  readonly address: string;
}

export function decodePromise(request: PromiseRequest__Output): PromiseCall {
  const epoch = decodeEpoch(request.epoch);
  const coordinatorId = checkMemberId("coordinator_id", request.coordinatorId);
  parseAddress("coordinator_address", request.coordinatorAddress);
  return { epoch, coordinatorId, address: request.coordinatorAddress };
}

/** A page of the copy of the decision log: from_index 0 means from the copy's first record. */
export function decodeReadCopy(request: ReadCopyRequest__Output): { epoch: number; fromIndex: number } {
  const epoch = decodeEpoch(request.epoch);
  checkMemberId("coordinator_id", request.coordinatorId);
  return { epoch, fromIndex: checkWholeNumber("from_index", request.fromIndex, 0) };
}

export interface AppendCall extends PromiseCall {
  readonly base: boolean;
  readonly more: boolean;
  readonly baseFirstIndex: number;
  readonly firstIndex: number;
  readonly records: Buffer[];
}

/** Records of the decision log: opaque to the replica, counted and sized against the limits. */
export function decodeAppend(request: AppendRequest__Output): AppendCall {
  const promise = decodePromise(request);
  const firstIndex = checkWholeNumber("first_index", request.firstIndex, 1);
  checkCount("records", request.records.length, "appendRecordsMax", "records");
  if (!request.base && request.records.length === 0) throw new InvalidArgument("records", "records is empty; an Append that is not a base carries at least one record");
  if (request.more && !request.base) throw new InvalidArgument("more", "more is set on an Append that is not a base; only a base comes in parts");
  const baseFirstIndex = request.base ? checkWholeNumber("base_first_index", request.baseFirstIndex, 1) : 0;
  if (baseFirstIndex > firstIndex) throw new InvalidArgument("base_first_index", `base_first_index ${baseFirstIndex} is after first_index ${firstIndex}; a part of a base starts at or after the base's first record`);
  return { ...promise, base: request.base, more: request.more, baseFirstIndex, firstIndex, records: request.records.map((record) => Buffer.from(record)) };
}

/**
 * The transaction ids of a coordinator's call against its epoch: a coordinator prepares only
 * transactions of its own epoch (exact), and decides only those of its epoch or an earlier one. A
 * transaction id of a later epoch would raise the epoch this replica makes every new coordinator
 * pass (maxTxnEpoch), and one near the largest whole number would leave no epoch to take over with.
 */
export function checkTxnEpochs(epoch: number, txnIds: readonly string[], field: (i: number) => string, exact: boolean): void {
  txnIds.forEach((txnId, i) => {
    const parsed = parseTxnId(txnId);
    if (parsed === null) return; // the id's form was checked (and refused) already
    if (exact ? parsed.epoch !== epoch : parsed.epoch > epoch) {
      throw new InvalidArgument(
        field(i),
        `${field(i)} ${txnId} is of epoch ${parsed.epoch}, but the call is of epoch ${epoch}: a coordinator ${exact ? "prepares only transactions of its own epoch" : "decides no transaction of a later epoch"}`,
      );
    }
  });
}
