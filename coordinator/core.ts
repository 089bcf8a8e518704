// The coordinator side of two-phase commit, as a pure state machine: the lock table, the 2PC
// driver, timeouts and the answers to replicas' outcome queries.
//
// No gRPC, fs, clock or randomness here: the node (coordinator/node.ts, in production under the gRPC
// adapter coordinator/server.ts, in test/sim under the simulator) turns client calls and replica
// answers into Inputs and carries out each Ready through the StepLoop, which forces the decision
// records before any message or reply of the Ready leaves. Time arrives as nowMs. The node asks the
// core nothing between steps: what it needs comes in the Ready (Status through an input, the
// membership and readiness as view() taken at the end of each turn's step).
//
// A transaction's life (a put or a delete is a transaction of blind writes; common/txn.ts):
// 1. Lock its keys in the lock table (all at once, or none: a transaction never holds one key while
//    it waits for another, so transactions cannot deadlock). A key held by another transaction
//    queues it (--on-conflict wait, lockWaitTimeoutMs), or refuses it with ABORTED.
// 1a. If it has conditions, increments or gets, ask the shell to read those keys from an in-sync
//    replica (phase "reading"; no replica has heard of it yet), then evaluate the program over them
//    (pure): a failed condition or bound ends it here with nothing written, a transaction with
//    nothing to write is answered at once, and the rest goes on with the writes it computed. When
//    the cache of committed key states holds every key it reads (coordinator/value-cache.ts), the
//    program is evaluated over those at once, with no read, if that evaluation writes.
// 2. Intent commits (issue 13): take the next commit sequence number, log the COMMIT record with the
//    writes (forced), and send PREPARE to every participant in the same turn, without waiting for
//    that force (Ready.early): one round, in which each replica forces its prepare record and its
//    copy of the COMMIT record with one fsync. Once the record is durable (on a majority of the
//    replicas' copies of the decision log) the transaction commits, whatever the votes: nothing
//    after PREPARE aborts it, and a successor that finds the record commits it.
// 3. Collect the votes (prepareTimeoutMs). A participant that votes NO (a key held by a stale
//    transaction of an earlier epoch, which is aborted), cannot be reached or stays silent gets the
//    writes with its COMMIT (it holds nothing prepared); a participant that leaves the in-sync set
//    owes the acknowledgement instead.
// 4. The decision (checkVoted): as soon as a majority of all replicas voted YES (early answers: a
//    write waits for the second-fastest replica of three, not the slowest), or every participant
//    voted or timed out. COMMIT goes to every participant at once, with the writes to each that has
//    not voted YES (it commits its prepare if it has one by then, or applies the writes without
//    one), and the client is answered. The StepLoop sends them only once the COMMIT record is
//    durable (it was forced in an earlier turn). A participant that had not voted YES is unsure of
//    the keys until it votes YES or acknowledges: a read takes no value of those keys from it
//    (readAccepted). Every other in-sync participant holds the transaction prepared (its reads of
//    the keys wait) or has applied it, and a read needs a majority of answers, so every read after
//    the answer sees the write. A transaction that reads keys first holds their locks, which wait
//    for every acknowledgement (step 5).
// 5. Keep the locks until every acknowledgement is in, re-sending COMMIT with backoff; then log END
//    (not forced) and forget.
//
// Exactly once. A request may carry a request id, the same on every retry. While it runs, a retry
// joins it (one transaction, every waiting call answered). Its COMMIT record carries the id and the
// result, and the core remembers committed requests (requestIdRetentionMs, requestIdsRememberedMax;
// recovery and compaction keep them), so a retry of a committed request gets the original result
// and nothing is applied again. A request id names one request: the core keeps the fingerprint of
// its method and program (common/fingerprint.ts; durably in the COMMIT record) and refuses another
// request under the same id with INVALID_ARGUMENT, applying nothing.
//
// A definite failure stays true. A client told "nothing was written" relies on it for the request,
// not for one attempt: an earlier attempt of the same request id may still be on its way (the
// simulator's seed 1219 saw one arrive 1.4 s late, after a retry of it had been answered ABORTED,
// and commit). So a request with a request id that fails definitely is remembered by its request id
// as durably and as long as a commit (requestIdRetentionMs; requestIdsRememberedMax counts commits
// and failures together; recovery and compaction keep them), and every later attempt of it gets the
// same code and message, and none starts. Definite (records.ts definiteFailureCodes):
// - ABORTED: a lock conflict (--on-conflict abort), lockWaitersPerKeyMax, a lock wait timeout
//   (lockWaitTimeoutMs), an operator's abort of a transaction still reading. The request lost; a new
//   try is a new request. (A NO vote is no failure since intent commits: the transaction commits.)
// - FAILED_PRECONDITION and INVALID_ARGUMENT from evaluating the program over the state read under
//   its locks (a condition or bound failed, a counter that is not an integer): a verdict on the data.
// Not definite, not remembered, a retry with the same request id runs anew:
// - UNAVAILABLE (writes refused while too few replicas are in sync, a read that failed, a timeout
//   while reading, txnAttemptsMax replicas lost while reading). That attempt's transaction wrote
//   nothing and never will (presumed abort), but UNAVAILABLE says the outcome of the request is
//   unknown (grpc statuscodes.md) and the client library retries it with the same request id:
//   remembered, one blip of a replica would fail the request for good.
// - RESOURCE_EXHAUSTED (inFlightTxnsMax): the request did not start; "retry later" means with the
//   same request id, and remembering it would cost a forced record at the moment of overload.
// - INVALID_ARGUMENT for a different request under a used request id (requestIdMismatch): that is
//   about the other request; the request id keeps its own answer.
// Persist before you speak: the "failed" record is forced in the Ready that answers the failure
// (requestEnded), so the StepLoop makes it durable before the reply leaves; failures in one turn share
// its one force. A request without a request id logs nothing: no retry of it can be recognised.
// txn-status of a request id says "aborted" only for a remembered definite failure; after an
// UNAVAILABLE attempt it says "unknown".
//
// The in-sync set. Writes go to the replicas in sync (and to those catching up). A replica whose
// health checks fail for replicaDownAfterMs, or whose calls are refused once it has been reached
// (a replica still starting up refuses connections too), leaves the set (a forced
// membership record, naming the commit sequence number from which it missed writes), as long as
// at least minInSync replicas stay in it; otherwise it stays in, and writes fail fast until it is
// back, so the latest data is never left on fewer than minInSync replicas. Transactions still reading
// run again without it, and those past PREPARE commit without it; COMMITs it had not acknowledged
// are owed to it (kept, without their locks, until
// it acknowledges), so the coordinator never answers "abort" to it about a commit. When it answers
// health checks again it catches up: it joins new transactions at once, and once every
// transaction older than that has finished it copies what it missed from an in-sync replica; then
// it is in sync again (another forced membership record). Read routing (readTargets,
// readAccepted): reads go only to healthy in-sync replicas, in an order drawn from the node's source
// of randomness, and an answer from a replica that left the set while the read was out is dropped.
import { FifoMap } from "../common/fifo-map";
import { assert, assertNever } from "../common/assert";
import { Code, codeName, type CodeValue } from "../common/errors";
import { requestFingerprint, type RequestMethod } from "../common/fingerprint";
import { limits } from "../common/limits";
import { mutation } from "../common/mutations";
import { quorumOf } from "../common/quorum";
import { blindWrites, evaluate, keysToRead, type Evaluation, programKeys, putProgram, type KeyState, type Program, type TxnOutcome } from "../common/txn";
import { formatTxnId, isNewerTxnId, parseTxnId } from "../common/txn-id";
import type { Outcome, Write } from "../common/types";
import { ValueCache } from "./value-cache";
import { definiteFailureCodes, type CoordinatorRecord, type RememberedCommit, type RememberedFailure } from "./records";

export type OnConflict = "abort" | "wait";

export type Input =
  /** Blind writes (put, delete): a program with no condition and no read. */
  | { readonly kind: "write"; readonly reqId: number; readonly writes: readonly Write[]; readonly requestId?: string | null; readonly nowMs: number }
  /**
   * A transaction. requestId names the logical request across retries: a retry of a request still
   * running waits for its result, and one of a committed request gets the original result.
   */
  | {
      readonly kind: "txn";
      readonly reqId: number;
      readonly requestId: string | null;
      /** The client method that carried it: a request id names one method with one program. */
      readonly method: RequestMethod;
      readonly program: Program;
      readonly nowMs: number;
    }
  /** The keys a transaction asked to read (null states: the read failed, for `reason`). */
  | { readonly kind: "read-result"; readonly txnId: string; readonly states: ReadonlyMap<string, KeyState> | null; readonly reason: string; readonly nowMs: number }
  /** What became of a transaction (by transaction id) or of a request (by request id). */
  | { readonly kind: "txn-status"; readonly reqId: number; readonly id: string; readonly nowMs: number }
  | { readonly kind: "votes"; readonly replicaId: string; readonly votes: readonly VoteItem[]; readonly nowMs: number }
  /** A prepare call to a replica failed: those transactions got no vote from it. */
  | {
      readonly kind: "unreachable";
      readonly replicaId: string;
      readonly txnIds: readonly string[];
      readonly reason: string;
      /** The replica refused the connection (it is down), rather than being slow. */
      readonly down: boolean;
      readonly nowMs: number;
    }
  /** The result of one health check of a replica. */
  | {
      readonly kind: "health";
      readonly replicaId: string;
      readonly ok: boolean;
      /** The check failed because the replica refused the connection (it is down, not slow). */
      readonly refused?: boolean;
      readonly nowMs: number;
    }
  /** A catch-up the core asked for finished (ok) or failed. */
  | { readonly kind: "caught-up"; readonly replicaId: string; readonly incarnation: number; readonly ok: boolean; readonly reason: string; readonly nowMs: number }
  | { readonly kind: "acks"; readonly replicaId: string; readonly txnIds: readonly string[]; readonly nowMs: number }
  | { readonly kind: "outcome-query"; readonly queryId: number; readonly txnIds: readonly string[]; readonly nowMs: number }
  /**
   * An operator settles a transaction. The core decides in the step whether it needs to know what
   * the replicas know of it: if so (replicas null) it asks the node (Ready.inspects), which steps the
   * same request again with their answers, and the core decides then, over its state at that step,
   * so that no choice contradicts a known decision.
   */
  | {
      readonly kind: "resolve";
      readonly reqId: number;
      readonly txnId: string;
      readonly choice: Outcome;
      readonly replicas: readonly ReplicaKnowledge[] | null;
      readonly nowMs: number;
    }
  /** Status asks for a report of the core (kv status). */
  | { readonly kind: "status"; readonly reqId: number; readonly nowMs: number }
  /**
   * After a takeover: transactions the replicas that promised hold prepared. Those of an earlier
   * epoch that have no COMMIT here are aborted at once (presumed abort: they never committed), so
   * that their locks do not hold up the retries of their requests (a NO vote makes a transaction
   * wait for its COMMIT with the writes to that replica).
   */
  | { readonly kind: "settle-in-doubt"; readonly txnIds: readonly string[]; readonly nowMs: number }
  | { readonly kind: "tick"; readonly nowMs: number };

/** What one replica said it knows of a transaction (unreachable: unknown). */
export interface ReplicaKnowledge {
  readonly replicaId: string;
  readonly state: "committed" | "aborted" | "prepared" | "unknown";
  readonly commitSeq: number;
}

/** A replica as reads and status see it: published in every Ready (Ready.view). */
export interface MemberView {
  readonly id: string;
  readonly state: MemberState;
  readonly healthy: boolean;
  /** Grows every time the member leaves the in-sync set or starts a catch-up. */
  readonly incarnation: number;
}

/** What the node may know of the core between steps: taken at the end of each turn's step (view()). */
export interface CoreView {
  readonly members: readonly MemberView[];
  /** Why the coordinator is not ready (readiness()), or null. */
  readonly notReady: string | null;
  /**
   * The tombstone collection floor (collectionFloor()): every replica in sync in this view has
   * applied every commit with a sequence number up to it. Only for those replicas: gcFloorFor.
   */
  readonly gcFloor: number;
  /**
   * Why reads are refused now, or null: a successor settles the commits it recovered first (their
   * participants may not all hold them prepared, so replicas could answer a read differently).
   */
  readonly readsHeld: string | null;
  /**
   * Replica id -> the keys of answered transactions it has neither voted YES for nor acknowledged
   * (early answers: checkVoted). The core's own live table, not a copy: between steps it is as of
   * the last step. A read takes no value of those keys from that replica (readAccepted).
   */
  readonly unsure: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The tables of request ids CoreReport.requestIdEntries counts. */
export const requestIdTables = ["active", "remembered", "failures", "fingerprints", "recent-failures", "read-only"] as const;
export type RequestIdTable = (typeof requestIdTables)[number];

/** The report Status asks for. */
export interface CoreReport {
  readonly epoch: number;
  readonly lastCommitSeq: number;
  readonly lockedKeys: number;
  /** Writes queued behind a held key now (--on-conflict wait). */
  readonly lockWaiters: number;
  /** Writes that have queued behind a held key since this core was built (one count per queuing). */
  readonly lockWaits: number;
  /**
   * Entries of each table this core keeps request ids in (exactly-once; memory the metrics report):
   * remembered commits and definite failures (durable, bounded by requestIdsRememberedMax), and the
   * memory-only tables of fingerprints, unknown-outcome failures and read-only results.
   */
  readonly requestIdEntries: { readonly [table in RequestIdTable]: number };
  /**
   * The cache of committed key states (coordinator/value-cache.ts): its entries and bytes now, and
   * since this core was built, the transactions evaluated from it (hits) and those that read their
   * keys from a replica instead (misses: a key not cached, or an evaluation that writes nothing).
   */
  readonly valueCache: { readonly entries: number; readonly bytes: number; readonly hits: number; readonly misses: number };
  readonly inFlight: readonly {
    readonly txnId: string;
    readonly phase: Phase;
    readonly keys: readonly string[];
    readonly startedMs: number;
    readonly waitingFor: readonly string[];
  }[];
}

export type VoteItem =
  | { readonly txnId: string; readonly vote: "yes" }
  /** lockedBy: the prepared transaction whose lock made the replica vote NO, if that was the reason. */
  | { readonly txnId: string; readonly vote: "no"; readonly reason: string; readonly lockedBy?: string };

export type Message =
  | { readonly kind: "prepare"; readonly to: string; readonly txnId: string; readonly writes: readonly Write[]; readonly participants: readonly string[] }
  /**
   * urgent: a write waits for one of its keys, so the replica forces the COMMIT at once; otherwise
   * it may share the fsync with what comes next (limits.commitForceWaitMs). Re-sent decisions are
   * urgent.
   */
  | {
      readonly kind: "commit";
      readonly to: string;
      readonly txnId: string;
      readonly commitSeq: number;
      readonly urgent: boolean;
      /** The writes, for a participant that may hold nothing prepared (it did not vote YES); else null. */
      readonly writes: readonly Write[] | null;
    }
  | { readonly kind: "abort"; readonly to: string; readonly txnId: string }
  /** Have replica `to` copy every row of version sinceSeq or later from replica sourceId. */
  | { readonly kind: "catch-up"; readonly to: string; readonly sourceId: string; readonly sinceSeq: number; readonly incarnation: number };

export type WriteResult =
  | {
      readonly ok: true;
      /** 0 when the transaction wrote nothing (only reads, or an empty branch). */
      readonly commitSeq: number;
      readonly message?: string;
      readonly txnId?: string;
      readonly outcome?: TxnOutcome;
    }
  | {
      readonly ok: false;
      readonly code: CodeValue;
      readonly message: string;
      /**
       * True when this attempt was refused before any replica was asked to prepare it: it wrote
       * nothing and never will. The shell says so to the client (common/errors.ts
       * notStartedMetadataKey), which can then tell an UNAVAILABLE that started nothing from one of
       * unknown outcome.
       */
      readonly notStarted?: true;
    };

export type OutcomeItem =
  | { readonly txnId: string; readonly outcome: "commit"; readonly commitSeq: number }
  | { readonly txnId: string; readonly outcome: "abort" };

export interface TxnStatus {
  readonly state: "committed" | "aborted" | "unknown";
  readonly txnId: string;
  readonly commitSeq: number;
  /** For a person: why this answer, and what to do next when it is unknown. */
  readonly message: string;
}

export interface Ready {
  /** Appended in order; the forced ones are durable before anything else in this Ready happens. */
  readonly persist: { readonly record: CoordinatorRecord; readonly force: boolean }[];
  readonly send: Message[];
  /**
   * Messages that depend on no record of this turn (PREPAREs): sent as soon as every earlier turn's
   * Ready was carried out, without waiting for this turn's force (common/step-loop.ts early).
   */
  readonly early: Message[];
  readonly replies: { readonly reqId: number; readonly result: WriteResult }[];
  /** Refusals of requests that started nothing (no record, no state): sent at once, in no order with the rest. */
  readonly immediate: { readonly reqId: number; readonly result: WriteResult }[];
  readonly outcomes: { readonly queryId: number; readonly outcomes: OutcomeItem[] }[];
  /** Keys to read from an in-sync replica for a transaction; the answer comes back as read-result. */
  readonly reads: { readonly txnId: string; readonly keys: readonly string[] }[];
  readonly statuses: { readonly reqId: number; readonly status: TxnStatus }[];
  /** Resolve requests that need to know what the replicas know of a transaction (see Input resolve). */
  readonly inspects: { readonly reqId: number; readonly txnId: string; readonly choice: Outcome }[];
  readonly reports: { readonly reqId: number; readonly report: CoreReport }[];
  /** Transactions whose COMMIT goes to every participant, with the answer, in this Ready (for failpoints and the log). */
  readonly decided: string[];
  /** Transactions that lost a participant before their decision and run again (retryWithout), for the log. */
  readonly retried: { readonly from: string; readonly to: string; readonly reason: string }[];
}

export function newReady(): Ready {
  return { persist: [], send: [], early: [], replies: [], immediate: [], outcomes: [], reads: [], statuses: [], inspects: [], reports: [], decided: [], retried: [] };
}

/**
 * Read routing: the replicas a read may go to (in sync and healthy), in a random order drawn with
 * `random` (the environment's). The first that answers serves the read, if readAccepted.
 */
export function readTargets(view: CoreView, random: () => number): { id: string; incarnation: number }[] {
  // Planted bug (test-only): any replica, in sync or not.
  const anyReplica = mutation() === "read-from-any-replica";
  const order = view.members.filter((m) => anyReplica || (m.state === "in-sync" && m.healthy)).map((m) => ({ id: m.id, incarnation: m.incarnation }));
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * An answer to a read is kept only if its replica is still in sync and has not left the set since
 * the read went out (same incarnation): one that left may have missed writes; and if the replica is
 * not unsure of any of the keys: it voted YES for (or acknowledged) every answered transaction of
 * them, so its read waited for each or saw it. Judged when the answer arrives, over the view as of
 * the last step: a replica's votes, acknowledgements and read answers travel on one ordered stream,
 * and the node judges a read answer as it arrives while a vote or an acknowledgement sent after it
 * is stepped later; so a YES or an ack the view holds was sent before the answer, and that answer
 * waited for the transaction (prepared there) or saw it (applied). A read sent after a COMMIT on the
 * same stream is served after it.
 */
export function readAccepted(view: CoreView, id: string, incarnation: number, keys: readonly string[]): boolean {
  if (mutation() === "read-from-any-replica") return true;
  const member = view.members.find((m) => m.id === id);
  if (member === undefined || member.state !== "in-sync" || member.incarnation !== incarnation) return false;
  // Planted bug (test-only): the answer of a replica that may not have an answered write serves.
  if (mutation() === "read-from-unsure-replica") return true;
  const unsure = view.unsure.get(id);
  return unsure === undefined || !keys.some((key) => unsure.has(key));
}

/**
 * The collection floor to send replica `id` with its commits: the view's gcFloor if the replica is
 * in sync in that view, else 0. The floor says nothing of a replica out of the set or catching up
 * (it may miss commits below it), and a replica collects tombstones only up to the floor it heard.
 */
export function gcFloorFor(view: CoreView, id: string): number {
  return view.members.some((m) => m.id === id && m.state === "in-sync") ? view.gcFloor : 0;
}

/**
 * reading: holds its locks and waits for the current state of the keys it reads (no replica has
 * heard of it yet). preparing: its COMMIT record logged, collecting votes. committing: decided (a
 * majority voted YES, or every vote is in), COMMIT sent to every participant and the client
 * answered, waiting for acknowledgements, keys locked.
 * owed: every in-sync participant acknowledged and the keys are free, but a participant that left
 * the in-sync set still owes its acknowledgement.
 */
export type Phase = "reading" | "preparing" | "committing" | "owed";

export type MemberState = "in-sync" | "catching-up" | "out";

export interface Member {
  readonly id: string;
  state: MemberState;
  /** Grows every time the member leaves the in-sync set or starts a catch-up. */
  incarnation: number;
  /** False once it failed health checks for replicaDownAfterMs or refused a call; true on its next good check. */
  healthy: boolean;
  lastOkMs: number;
  /** Answered a health check since this coordinator started (until then, only a timeout removes it). */
  contacted: boolean;
  /** Out or catching up: every commit with a lower sequence number was applied there. */
  outSinceSeq: number;
  /** Catching up: transactions older than the catch-up, which must finish before the copy starts. */
  catchUpWaitFor: Set<string> | null;
  catchUpRetryAtMs: number;
}

export interface Txn {
  readonly txnId: string;
  /** Which run of its request this is (QueuedWrite.attempt; 1 for a transaction rebuilt from the log). */
  readonly attempt: number;
  /** The client calls waiting for this transaction (a retry joins them); emptied once answered. */
  readonly reqIds: number[];
  readonly requestId: string | null;
  /** Of the request id's request ("" without a request id, or rebuilt from the log). */
  readonly fingerprint: string;
  /** Null for a transaction rebuilt from the log. */
  readonly program: Program | null;
  /** Known once the program is evaluated (at once for blind writes). */
  writes: readonly Write[];
  outcome: TxnOutcome | null;
  /** Its program writes without reading: a retry can rebuild its results, so none are remembered. */
  blind: boolean;
  /** Sorted, without duplicates. */
  readonly keys: readonly string[];
  readonly participants: readonly string[];
  /** Participants whose vote and acknowledgement this transaction still needs. */
  readonly required: Set<string>;
  /** Participants that left the in-sync set and still owe the acknowledgement of the COMMIT. */
  readonly owed: Set<string>;
  readonly startedMs: number;
  phase: Phase;
  readonly votedYes: Set<string>;
  /** Participants that voted NO, could not be reached or stayed silent: their COMMIT carries the writes. */
  readonly needsWrites: Set<string>;
  /** Decided: COMMIT went to every participant, with the client's answer. */
  commitSentToAll: boolean;
  /**
   * Participants that had neither voted YES nor acknowledged when the client was answered: until
   * they do, their reads of its keys may miss it (CoordinatorCore.unsure).
   */
  readonly unsure: Set<string>;
  /** Rebuilt from the log: who voted is unknown, so every participant gets the writes. */
  recovered: boolean;
  /** The request it answers, remembered once it is answered (null for a transaction rebuilt from the log). */
  remember: RememberedCommit | null;
  prepareDeadlineMs: number;
  commitSeq: number;
  readonly acked: Set<string>;
  resendAtMs: number;
  resendBackoffMs: number;
}

interface QueuedWrite {
  /** 1 for a request's first transaction; more when it runs again after losing a replica (retryWithout). */
  readonly attempt: number;
  readonly reqIds: number[];
  readonly requestId: string | null;
  /** Of the request id's request ("" without a request id). */
  readonly fingerprint: string;
  readonly program: Program;
  readonly keys: readonly string[];
  readonly deadlineMs: number;
}

export interface CoordinatorConfig {
  readonly participants: readonly string[];
  readonly onConflict: OnConflict;
  /** Writes need at least this many replicas in sync. */
  readonly minInSync: number;
  /** The cache of committed key states (coordinator/value-cache.ts), in bytes; 0: none. Default limits.valueCacheBytesMax. */
  readonly valueCacheBytes?: number | undefined;
}

export interface Membership {
  readonly inSync: readonly string[];
  /** For each replica not in sync: the commit sequence number from which it may have missed writes. */
  readonly outSince: Readonly<Record<string, number>>;
}

/** What recovery found in the decision log (coordinator/recovery.ts). */
export interface RecoveredCoordinator {
  /** The epoch of this run: one more than any epoch in the log. */
  readonly epoch: number;
  readonly lastCommitSeq: number;
  /**
   * COMMIT decisions not known to be acknowledged by every participant, with their writes (null in
   * logs written before intent commits: every participant had voted YES for those).
   */
  readonly unfinished: readonly { txnId: string; commitSeq: number; participants: readonly string[]; keys: readonly string[]; writes: readonly Write[] | null }[];
  /** The last membership record, or null when the log has none (every replica is in sync). */
  readonly membership: Membership | null;
  /** Committed requests, oldest decision first, and the newest transaction id already forgotten. */
  readonly remembered: readonly RememberedCommit[];
  readonly newestForgotten: string | null;
  /** Requests that failed definitely, oldest first; none shares a request id with a remembered commit. */
  readonly failures: readonly RememberedFailure[];
}

export class CoordinatorCore {
  readonly epoch: number;
  private lastCommitSeq: number;
  private txnCounter = 0;
  private readonly txns = new Map<string, Txn>();
  /** key -> id of the transaction holding it. */
  private readonly locks = new Map<string, string>();
  /** Committed states of keys, known without a read (coordinator/value-cache.ts). */
  private readonly cache: ValueCache;
  /** key -> writes queued behind its holder (--on-conflict wait). */
  private readonly waiters = new Map<string, QueuedWrite[]>();
  private queuedCount = 0;
  /** Writes queued behind a held key since this core was built (CoreReport.lockWaits). */
  private lockWaits = 0;
  private readonly members = new Map<string, Member>();
  /**
   * Replica id -> key -> how many answered transactions of that key the replica has neither voted
   * YES for nor acknowledged (Txn.unsure). Its answer to a read of such a key may miss a write the
   * client was told of, so a read takes no value from it (readAccepted).
   */
  private readonly unsure = new Map<string, Map<string, number>>();
  /** Request id -> the client calls waiting for it and its fingerprint, for requests running or queued. */
  private readonly active = new Map<string, { readonly reqIds: number[]; readonly fingerprint: string }>();
  /**
   * Request id -> fingerprint of the last request that used it (memory only, bounded), for ids whose
   * request ended without a remembered commit or failure (UNAVAILABLE, or read-only); remembered
   * commits and failures carry theirs.
   */
  private readonly fingerprints = new FifoMap<string, string>();
  /** Committed requests, by transaction id, oldest decision first (exactly-once, txn-status). */
  private readonly remembered = new FifoMap<string, RememberedCommit>();
  private readonly rememberedByRequest = new Map<string, string>();
  /** Every commit with a newer transaction id than this is remembered. */
  private newestForgotten: string | null;
  /** Requests that failed definitely, by request id, oldest first (durable: "failed" records). */
  private readonly failures = new FifoMap<string, RememberedFailure>();
  /**
   * Request ids whose last attempt failed with an unknown outcome for the request (UNAVAILABLE), and
   * why (memory only, bounded): a retry runs anew.
   */
  private readonly recentFailures = new FifoMap<string, string>();
  /**
   * Transactions (and their request ids) that succeeded without writing anything: read-only, or an
   * empty branch. Memory only, bounded: txn-status reports them as done, with commit sequence 0.
   */
  private readonly recentReadOnly = new FifoMap<string, string>();

  constructor(
    private readonly config: CoordinatorConfig,
    recovered: RecoveredCoordinator,
    nowMs: number,
  ) {
    assert(config.participants.length > 0, "a coordinator needs participants");
    assert(config.minInSync >= 1, "minInSync is at least 1");
    this.epoch = recovered.epoch;
    this.lastCommitSeq = recovered.lastCommitSeq;
    this.cache = new ValueCache(config.valueCacheBytes ?? limits.valueCacheBytesMax);
    this.newestForgotten = recovered.newestForgotten;
    // Remembering them one by one would forget the oldest as soon as requestIdsRememberedMax is
    // passed (no failure is remembered yet, so only commits go): those are forgotten at once, which
    // saves a successor a second or so after a long load (a copy of the log can hold 500,000 commits).
    const skipped = Math.max(0, recovered.remembered.length - limits.requestIdsRememberedMax);
    for (let i = 0; i < skipped; i++) this.noteForgotten(recovered.remembered[i]!.txnId);
    for (let i = skipped; i < recovered.remembered.length; i++) this.remember(recovered.remembered[i]!);
    for (const failure of recovered.failures) this.rememberFailure(failure);
    this.forgetOld(nowMs);
    for (const id of config.participants) {
      // With no membership record, every replica is in sync. A replica the record does not know
      // (added to the configuration since) must copy everything: it is out since 0.
      const inSync = recovered.membership === null || recovered.membership.inSync.includes(id);
      const outSinceSeq = recovered.membership?.outSince[id] ?? 0;
      this.members.set(id, {
        id,
        state: inSync ? "in-sync" : "out",
        incarnation: 0,
        healthy: true,
        lastOkMs: nowMs,
        contacted: false,
        outSinceSeq,
        catchUpWaitFor: null,
        catchUpRetryAtMs: nowMs,
      });
    }
    // A commit that shares a key with a newer unfinished commit had released its locks before the
    // newer one took them: it was owed (every in-sync participant had applied it) at the stop.
    const newestSeqOfKey = new Map<string, number>();
    for (const decided of recovered.unfinished) {
      for (const key of decided.keys) newestSeqOfKey.set(key, Math.max(newestSeqOfKey.get(key) ?? 0, decided.commitSeq));
    }
    for (const decided of recovered.unfinished) {
      // The decision is durable; only the acknowledgements are missing. Re-send COMMIT at once.
      const participants = decided.participants.filter((id) => this.members.has(id));
      const txn = this.newTxn(decided.txnId, null, null, decided.keys, participants, nowMs);
      txn.phase = "committing";
      txn.commitSeq = decided.commitSeq;
      txn.writes = decided.writes ?? [];
      txn.recovered = true;
      txn.commitSentToAll = true;
      txn.resendAtMs = nowMs;
      const released = decided.keys.some((key) => newestSeqOfKey.get(key)! > decided.commitSeq);
      for (const id of participants) {
        // The log does not say who acknowledged a released commit: every participant still owes it.
        if (!released && this.members.get(id)!.state === "in-sync") continue;
        txn.required.delete(id);
        txn.owed.add(id);
      }
      this.txns.set(txn.txnId, txn);
      if (txn.required.size === 0) {
        txn.phase = "owed";
        continue;
      }
      for (const key of decided.keys) {
        assert(!this.locks.has(key), `two unfinished commits lock key ${key}`);
        this.locks.set(key, txn.txnId);
      }
    }
  }

  /** The replicas, their state in the in-sync set and their health. */
  memberList(): readonly Member[] {
    return [...this.members.values()];
  }

  /**
   * The membership and readiness now: what a node may act on between steps (reads, health). The
   * node takes it at the end of each turn's step, with the Ready, and once before its first turn.
   */
  view(): CoreView {
    return {
      members: [...this.members.values()].map((m) => ({ id: m.id, state: m.state, healthy: m.healthy, incarnation: m.incarnation })),
      notReady: this.readiness(),
      gcFloor: this.collectionFloor(),
      readsHeld: this.readsHeld(),
      unsure: this.unsure,
    };
  }

  /** Reads wait while a commit rebuilt from the log is not acknowledged by its in-sync participants. */
  private readsHeld(): string | null {
    for (const txn of this.txns.values()) {
      if (txn.recovered && txn.phase === "committing") return `settling the commits recovered from the decision log (${txn.txnId} first)`;
    }
    return null;
  }

  /**
   * The tombstone collection floor (replica/DESIGN.md, "Tombstone collection"): the highest F such
   * that every in-sync replica has applied every commit with a sequence number up to F. A commit
   * still in the table holds the floor below it while an in-sync participant has not acknowledged
   * it (acknowledgements come in any order, so this is a minimum, not the last ack); a commit that
   * left the table was acknowledged by every participant, and a replica that joined the set since
   * copied it. Participants out of the set or catching up do not hold it: they get no floor
   * (gcFloorFor), and one that fell behind the collection gets a full copy when it catches up.
   */
  private collectionFloor(): number {
    let floor = this.lastCommitSeq;
    for (const txn of this.txns.values()) {
      if (txn.phase === "reading" || txn.commitSeq > floor) continue;
      if (txn.participants.some((id) => !txn.acked.has(id) && this.members.get(id)?.state === "in-sync")) floor = txn.commitSeq - 1;
    }
    return floor;
  }

  /**
   * Every record a compacted log must hold so that recovery rebuilds what matters of this core:
   * the epoch and last commit sequence number, the in-sync set, the remembered commits and
   * definite failures, and each COMMIT decision not yet acknowledged by all its participants.
   */
  liveRecords(): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [this.startRecord(), this.membershipRecord()];
    const commits = [...this.remembered.values()];
    for (let i = 0; i === 0 || i < commits.length; i += rememberedPerRecordMax) {
      records.push({ kind: "remembered", commits: commits.slice(i, i + rememberedPerRecordMax), newestForgotten: this.newestForgotten });
    }
    for (const failure of this.failures.values()) records.push({ kind: "failed", ...failure });
    for (const txn of this.txns.values()) {
      if (txn.phase === "reading") continue; // no record: presumed abort if we crash
      const record = { kind: "commit" as const, txnId: txn.txnId, commitSeq: txn.commitSeq, participants: txn.participants, keys: txn.keys, writes: txn.writes };
      // Not answered yet, so not among the remembered commits above: the record carries its request.
      records.push(txn.remember !== null && !this.remembered.has(txn.txnId) ? { ...record, remember: txn.remember } : record);
    }
    return records;
  }

  /** The record to force before serving: it makes this epoch's transaction ids unique. */
  startRecord(): CoordinatorRecord {
    return { kind: "start", epoch: this.epoch, lastCommitSeq: this.lastCommitSeq };
  }

  step(input: Input, out: Ready): void {
    switch (input.kind) {
      case "write":
        this.onRequest(input.reqId, input.requestId ?? null, "put", putProgram(input.writes), input.nowMs, out);
        break;
      case "txn":
        this.onRequest(input.reqId, input.requestId, input.method, input.program, input.nowMs, out);
        break;
      case "read-result":
        this.onReadResult(input, out);
        break;
      case "txn-status":
        out.statuses.push({ reqId: input.reqId, status: this.statusOf(input.id) });
        break;
      case "votes":
        for (const vote of input.votes) this.onVote(input.replicaId, vote, input.nowMs, out);
        break;
      case "unreachable":
        // A replica that is down leaves the in-sync set first (if enough stay), and its transactions
        // run again without it (retryWithout); only those it still takes part in fail here.
        if (input.down && this.members.get(input.replicaId)?.contacted === true) this.markDown(input.replicaId, input.reason, input.nowMs, out);
        for (const txnId of input.txnIds) {
          const txn = this.txns.get(txnId);
          if (txn?.phase !== "preparing" || !txn.participants.includes(input.replicaId)) continue; // a read failure comes as read-result
          // Its COMMIT record is logged: it commits, and this replica gets the writes with its COMMIT.
          if (!txn.votedYes.has(input.replicaId)) txn.needsWrites.add(input.replicaId);
          this.checkVoted(txn, input.nowMs, out);
        }
        break;
      case "health":
        if (!input.ok && input.refused === true && this.members.get(input.replicaId)?.contacted === true) this.markDown(input.replicaId, "it refused the health check's connection", input.nowMs, out);
        else this.onHealth(input.replicaId, input.ok, input.nowMs, out);
        break;
      case "caught-up":
        this.onCaughtUp(input, out);
        break;
      case "acks":
        for (const txnId of input.txnIds) this.onAck(input.replicaId, txnId, input.nowMs, out);
        break;
      case "outcome-query":
        out.outcomes.push({ queryId: input.queryId, outcomes: input.txnIds.flatMap((txnId) => this.outcomeFor(txnId)) });
        break;
      case "tick":
        this.onTick(input.nowMs, out);
        break;
      case "resolve":
        this.onResolve(input, out);
        break;
      case "status":
        out.reports.push({ reqId: input.reqId, report: this.report() });
        break;
      case "settle-in-doubt":
        for (const txnId of input.txnIds) {
          // A decided commit (re-sent as COMMIT from recovery, or remembered) is not in doubt here;
          // a transaction of this epoch cannot be anyone's but this coordinator's.
          if (this.presumedAborted(txnId) === null) continue;
          for (const to of this.config.participants) out.send.push({ kind: "abort", to, txnId });
        }
        break;
      default:
        assertNever(input);
    }
  }

  /** The cache of committed key states: entries, bytes, hits and misses (CoreReport.valueCache). */
  cacheFigures(): CoreReport["valueCache"] {
    return { entries: this.cache.size, bytes: this.cache.bytes, hits: this.cache.hits, misses: this.cache.misses };
  }

  private report(): CoreReport {
    return {
      epoch: this.epoch,
      lastCommitSeq: this.lastCommitSeq,
      lockedKeys: this.locks.size,
      lockWaiters: this.queuedCount,
      lockWaits: this.lockWaits,
      requestIdEntries: {
        active: this.active.size,
        remembered: this.remembered.size,
        failures: this.failures.size,
        fingerprints: this.fingerprints.size,
        "recent-failures": this.recentFailures.size,
        "read-only": this.recentReadOnly.size,
      },
      valueCache: this.cacheFigures(),
      inFlight: [...this.txns.values()].map((txn) => ({
        txnId: txn.txnId,
        phase: txn.phase,
        keys: txn.keys,
        startedMs: txn.startedMs,
        waitingFor: txn.participants.filter((id) => (txn.phase === "preparing" ? !txn.votedYes.has(id) && !txn.needsWrites.has(id) : !txn.acked.has(id))),
      })),
    };
  }

  private onResolve(input: Extract<Input, { kind: "resolve" }>, out: Ready): void {
    const { reqId, txnId, choice } = input;
    const refuse = (message: string): void => {
      out.replies.push({ reqId, result: { ok: false, code: Code.FAILED_PRECONDITION, message: `cannot ${choice} ${txnId}: ${message}` } });
    };
    const done = (message: string, commitSeq = 0): void => {
      out.replies.push({ reqId, result: { ok: true, commitSeq, message } });
    };
    const parsedId = parseTxnId(txnId);
    if (parsedId !== null && parsedId.epoch > this.epoch) {
      // No coordinator has issued it: its epoch is later than this one's (and replicas refuse a
      // decision about a transaction of a later epoch than the call's).
      return refuse(`no transaction ${txnId} was started: its epoch ${parsedId.epoch} is later than this coordinator's (${this.epoch})`);
    }
    const txn = this.txns.get(txnId);
    if (txn?.phase === "committing" || txn?.phase === "owed") {
      if (choice === "abort") return refuse(`the coordinator decided COMMIT (commit sequence number ${txn.commitSeq})`);
      this.resendCommit(txn, out);
      return done(`COMMIT re-sent to the replicas that had not acknowledged it`, txn.commitSeq);
    }
    if (txn?.phase === "preparing") {
      // Its COMMIT record was logged with its PREPARE (intent commits): it cannot be aborted.
      if (choice === "abort") return refuse(`its COMMIT decision is logged (commit sequence number ${txn.commitSeq}); it commits once a majority voted YES or every participant voted`);
      return refuse(`it is still collecting votes; it commits once a majority voted YES or every participant voted, or after ${limits.prepareTimeoutMs} ms (prepareTimeoutMs)`);
    }
    if (txn?.phase === "reading") {
      if (choice === "commit") return refuse("it is still reading its keys and has no COMMIT decision");
      this.abort(txn, Code.ABORTED, "aborted by an operator", input.nowMs, out);
      return done("aborted before any replica heard of it");
    }
    // Not in flight here: finished, or of an earlier epoch. A commit remembered here, or known to a
    // replica, rules out an abort. (Planted bug, test-only: the bug of issue 11, where the shell
    // decided "in flight?" before the step and the core did not consult its remembered commits: a
    // transaction that finished meanwhile is settled without asking anyone.)
    const outsideTheStep = mutation() === "resolve-decided-outside-the-step";
    const remembered = outsideTheStep ? undefined : this.remembered.get(txnId);
    if (remembered !== undefined) {
      if (choice === "abort") return refuse(`the coordinator decided COMMIT (commit sequence number ${remembered.commitSeq}), and it finished`);
      return done(`committed already (commit sequence number ${remembered.commitSeq}), on every replica`, remembered.commitSeq);
    }
    const replicas = input.replicas ?? (outsideTheStep ? [] : null);
    if (replicas === null) {
      // Only the replicas can tell now: the node asks them and steps this request again.
      out.inspects.push({ reqId, txnId, choice });
      return;
    }
    const committed = replicas.find((replica) => replica.state === "committed");
    if (committed !== undefined) {
      if (choice === "abort") return refuse(`replica ${committed.replicaId} committed it (commit sequence number ${committed.commitSeq})`);
      // Only to the replicas that hold it prepared: a replica that never prepared it took no part in
      // it (it was out of the in-sync set) and must not acknowledge a commit it does not hold.
      const inDoubt = replicas.filter((replica) => replica.state === "prepared").map((replica) => replica.replicaId);
      for (const to of inDoubt) out.send.push({ kind: "commit", to, txnId, commitSeq: committed.commitSeq, urgent: true, writes: null });
      return done(`COMMIT (commit sequence number ${committed.commitSeq}, as replica ${committed.replicaId} has it) sent to the replicas that hold it prepared`, committed.commitSeq);
    }
    if (choice === "commit") {
      return refuse("no process knows a COMMIT decision for it, so it is aborted (presumed abort)");
    }
    for (const to of this.config.participants) out.send.push({ kind: "abort", to, txnId });
    return done("no COMMIT decision exists (presumed abort); ABORT sent to every replica");
  }

  inFlight(): readonly Txn[] {
    return [...this.txns.values()];
  }

  lockedKeyCount(): number {
    return this.locks.size;
  }

  lastSeq(): number {
    return this.lastCommitSeq;
  }

  private onRequest(reqId: number, requestId: string | null, method: RequestMethod, program: Program, nowMs: number, out: Ready): void {
    assert(program.then.length > 0 || program.conditions.length > 0 || (program.otherwise?.length ?? 0) > 0, "a transaction has an operation");
    const fingerprint = requestId === null ? "" : requestFingerprint(method, program);
    if (requestId !== null) {
      // A request id names one request: another request under it is refused, nothing applied.
      const mismatch = this.requestIdMismatch(requestId, fingerprint, program);
      if (mismatch !== null) {
        out.replies.push({ reqId, result: { ok: false, code: Code.INVALID_ARGUMENT, message: mismatch } });
        return;
      }
      // Exactly-once: a retry of a request still running waits for its result; a retry of a
      // committed request gets the original result and applies nothing again.
      const waiting = this.active.get(requestId);
      if (waiting !== undefined) {
        waiting.reqIds.push(reqId);
        return;
      }
      const txnId = this.rememberedByRequest.get(requestId);
      if (txnId !== undefined) {
        const commit = this.remembered.get(txnId)!;
        const outcome = commit.outcome ?? blindOutcome(program);
        out.replies.push({ reqId, result: { ok: true, commitSeq: commit.commitSeq, txnId, outcome, message: "a retry: the request had committed" } });
        return;
      }
      // A definite failure stays true: the same answer, and no attempt runs.
      const failed = this.failures.get(requestId);
      if (failed !== undefined) {
        out.replies.push({ reqId, result: { ok: false, code: failed.code, message: failed.message } });
        return;
      }
    }
    // Refusals before anything starts depend on no record: they leave at once (Ready.immediate), even
    // while an earlier turn waits for a force that cannot be done (a majority of the replicas lost).
    if (this.txns.size + this.queuedCount >= limits.inFlightTxnsMax) {
      out.immediate.push({
        reqId,
        result: {
          ok: false,
          code: Code.RESOURCE_EXHAUSTED,
          message: `the coordinator has ${limits.inFlightTxnsMax} writes in flight (inFlightTxnsMax); retry later`,
        },
      });
      return;
    }
    const refusal = this.writesRefused();
    if (refusal !== null) {
      // Refused at admission: no transaction exists for it, so nothing of it can be prepared.
      out.immediate.push({ reqId, result: { ok: false, code: Code.UNAVAILABLE, message: refusal, notStarted: true } });
      return;
    }
    const reqIds = [reqId];
    if (requestId !== null) {
      this.active.set(requestId, { reqIds, fingerprint });
      setBounded(this.fingerprints, requestId, fingerprint);
    }
    this.tryStart({ attempt: 1, reqIds, requestId, fingerprint, program, keys: programKeys(program), deadlineMs: nowMs + limits.lockWaitTimeoutMs }, nowMs, out);
  }

  /**
   * Why a request may not use this request id (INVALID_ARGUMENT), or null: the id is new, or the
   * request repeats the one that used it (same method and program).
   */
  private requestIdMismatch(requestId: string, fingerprint: string, program: Program): string | null {
    const refusal =
      `request_id ${JSON.stringify(requestId)} was used for a different request (another method, other keys or other ` +
      `arguments); a retry must repeat its request exactly, and a new request needs a new request id. Nothing was applied`;
    const active = this.active.get(requestId);
    if (active !== undefined) return active.fingerprint === fingerprint ? null : refusal;
    const txnId = this.rememberedByRequest.get(requestId);
    if (txnId !== undefined) {
      const commit = this.remembered.get(txnId)!;
      // A commit logged before fingerprints were kept: only a retry of blind writes (whose result
      // follows from the request itself) can be answered from it.
      if (commit.fingerprint === null) return commit.outcome === null && blindOutcome(program) !== undefined ? null : refusal;
      return commit.fingerprint === fingerprint ? null : refusal;
    }
    const failed = this.failures.get(requestId);
    if (failed !== undefined) return failed.fingerprint === fingerprint ? null : refusal;
    const known = this.fingerprints.get(requestId);
    return known === undefined || known === fingerprint ? null : refusal;
  }

  /** Answers every call waiting for a request that ends before it starts (refused, or timed out waiting). */
  private refuse(write: QueuedWrite, code: CodeValue, message: string, nowMs: number, out: Ready): void {
    const result: WriteResult = { ok: false, code, message };
    for (const reqId of write.reqIds) out.replies.push({ reqId, result });
    write.reqIds.length = 0;
    this.requestEnded(write.requestId, write.fingerprint, null, result, nowMs, out);
  }

  /** Takes every lock of the write and starts it, or refuses it, or queues it behind a held key. */
  private tryStart(write: QueuedWrite, nowMs: number, out: Ready): void {
    const held = write.keys.find((key) => this.locks.has(key));
    if (held !== undefined) {
      const holder = this.txns.get(this.locks.get(held)!);
      assert(holder !== undefined, `lock on ${held} held by a forgotten transaction`);
      // A holder that decided COMMIT waits only for acknowledgements (and may have answered its
      // client): a write behind it waits even with onConflict abort, so that a client's next write to
      // a key it was just told is committed is not refused by that very write.
      if (this.config.onConflict === "abort" && holder.phase !== "committing") {
        this.refuse(write, Code.ABORTED, `key ${JSON.stringify(held)} is being written by transaction ${holder.txnId} (${holder.phase}); retry as a new request (a new request id)`, nowMs, out);
        return;
      }
      const queue = this.waiters.get(held) ?? [];
      if (queue.length >= limits.lockWaitersPerKeyMax) {
        this.refuse(write, Code.ABORTED, `key ${JSON.stringify(held)} already has ${limits.lockWaitersPerKeyMax} writes waiting (lockWaitersPerKeyMax); retry as a new request (a new request id)`, nowMs, out);
        return;
      }
      queue.push(write);
      this.waiters.set(held, queue);
      this.queuedCount += 1;
      this.lockWaits += 1;
      return;
    }
    this.startTxn(write, nowMs, out);
  }

  /** Starts a transaction for the write, whose keys are free (or held by the attempt it replaces). */
  private startTxn(write: QueuedWrite, nowMs: number, out: Ready): void {
    if (write.requestId !== null) {
      assert(!this.failures.has(write.requestId), `request ${write.requestId} starts after it failed definitely`);
      assert(!this.rememberedByRequest.has(write.requestId), `request ${write.requestId} starts after it committed`);
    }
    this.txnCounter += 1;
    const participants = [...this.members.values()].filter((m) => m.state !== "out").map((m) => m.id);
    const txn = this.newTxn(formatTxnId(this.epoch, this.txnCounter), write, write.program, write.keys, participants, nowMs);
    for (const key of txn.keys) this.locks.set(key, txn.txnId);
    this.txns.set(txn.txnId, txn);
    const reads = keysToRead(write.program);
    txn.blind = reads.length === 0;
    if (!txn.blind) {
      // The keys' committed states, if the cache holds them all (coordinator/value-cache.ts): only an
      // evaluation that writes is taken from it, since only a commit proves this coordinator's place.
      const cached = this.cache.lookup(reads);
      const evaluation = cached === null ? null : evaluate(write.program, cached);
      if (evaluation?.ok === true && evaluation.writes.length > 0) {
        this.cache.hits += 1;
        this.evaluated(txn, evaluation, nowMs, out);
        return;
      }
      this.cache.misses += 1;
      // Under its locks, no other transaction can change these keys until this one ends: the state
      // read now is the state it commits over.
      txn.phase = "reading";
      out.reads.push({ txnId: txn.txnId, keys: reads });
      return;
    }
    this.evaluated(txn, blindWrites(write.program), nowMs, out);
  }

  private onReadResult(input: Extract<Input, { kind: "read-result" }>, out: Ready): void {
    const txn = this.txns.get(input.txnId);
    if (txn?.phase !== "reading") return; // aborted meanwhile (a timeout, a replica left)
    if (input.states === null) {
      this.abort(txn, Code.UNAVAILABLE, `could not read its keys: ${input.reason}`, input.nowMs, out);
      return;
    }
    assert(txn.program !== null, `transaction ${txn.txnId} reads without a program`);
    // Read under the transaction's locks: the committed states until it, holding them, writes.
    for (const [key, state] of input.states) this.cache.set(key, state);
    this.evaluated(txn, evaluate(txn.program, input.states), input.nowMs, out);
  }

  /** Goes on with an evaluated transaction: fails it, answers it (nothing to write), or prepares it. */
  private evaluated(txn: Txn, evaluation: Evaluation, nowMs: number, out: Ready): void {
    if (!evaluation.ok) {
      this.endUnwritten(txn, { ok: false, code: evaluation.code, message: evaluation.message }, nowMs, out);
      return;
    }
    txn.outcome = evaluation.outcome;
    if (evaluation.writes.length === 0) {
      this.endUnwritten(txn, { ok: true, commitSeq: 0, txnId: txn.txnId, outcome: evaluation.outcome }, nowMs, out);
      return;
    }
    txn.writes = evaluation.writes;
    txn.phase = "preparing";
    txn.prepareDeadlineMs = nowMs + limits.prepareTimeoutMs;
    // Intent commits: the COMMIT record, with the writes, is logged now; durable, the transaction
    // commits. The PREPAREs leave without waiting for its force (early), so that each replica forces
    // its prepare record and its copy of this record together. Nothing answers the client or sends
    // COMMIT before the record is durable: those come from later turns, which the StepLoop carries
    // out only after this one's force.
    assert(txn.requestId === null || !this.failures.has(txn.requestId), `commit of request ${txn.requestId}, which failed definitely`);
    this.lastCommitSeq += 1;
    txn.commitSeq = this.lastCommitSeq;
    txn.remember = {
      txnId: txn.txnId,
      requestId: txn.requestId,
      fingerprint: txn.requestId === null ? null : txn.fingerprint,
      commitSeq: txn.commitSeq,
      outcome: txn.blind ? null : txn.outcome,
      atMs: nowMs,
    };
    out.persist.push({
      record: { kind: "commit", txnId: txn.txnId, commitSeq: txn.commitSeq, participants: txn.participants, keys: txn.keys, writes: txn.writes, remember: txn.remember },
      // Planted bug (test-only): the decision rides along unforced, so COMMIT and the answer may leave before it is durable.
      force: mutation() !== "commit-before-decision-forced",
    });
    for (const to of txn.participants) {
      out.early.push({ kind: "prepare", to, txnId: txn.txnId, writes: txn.writes, participants: txn.participants });
    }
  }

  /** Ends a transaction no replica heard of: it failed before PREPARE, or it writes nothing. */
  private endUnwritten(txn: Txn, result: WriteResult, nowMs: number, out: Ready): void {
    assert(txn.phase === "reading", `${txn.txnId} ends unwritten after its COMMIT record was logged`);
    if (result.ok) {
      for (const id of txn.requestId === null ? [txn.txnId] : [txn.txnId, txn.requestId]) setBounded(this.recentReadOnly, id, txn.txnId);
    }
    this.reply(txn, result, nowMs, out);
    this.txns.delete(txn.txnId);
    this.release(txn, nowMs, out);
  }

  private newTxn(
    txnId: string,
    request: QueuedWrite | null,
    program: Program | null,
    keys: readonly string[],
    participants: readonly string[],
    nowMs: number,
  ): Txn {
    return {
      txnId,
      attempt: request?.attempt ?? 1,
      reqIds: request?.reqIds ?? [],
      requestId: request?.requestId ?? null,
      fingerprint: request?.fingerprint ?? "",
      program,
      writes: [],
      outcome: null,
      blind: false,
      keys,
      participants,
      required: new Set(participants),
      owed: new Set(),
      startedMs: nowMs,
      phase: "reading",
      votedYes: new Set(),
      needsWrites: new Set(),
      commitSentToAll: false,
      unsure: new Set(),
      recovered: false,
      remember: null,
      prepareDeadlineMs: nowMs + limits.prepareTimeoutMs,
      commitSeq: 0,
      acked: new Set(),
      resendAtMs: 0,
      resendBackoffMs: limits.decisionResendMsMin,
    };
  }

  private onVote(replicaId: string, vote: VoteItem, nowMs: number, out: Ready): void {
    const txn = this.txns.get(vote.txnId);
    if (txn === undefined) {
      // Not running here (of an earlier epoch that never committed, or finished): make sure this
      // replica lets go of it. A finished commit was applied everywhere; an ABORT for it is refused.
      if (vote.vote === "yes" && !this.remembered.has(vote.txnId)) out.send.push({ kind: "abort", to: replicaId, txnId: vote.txnId });
      return;
    }
    if (txn.phase === "reading") return;
    assert(txn.participants.includes(replicaId), `vote from ${replicaId}, not a participant of ${txn.txnId}`);
    if (vote.vote === "no") {
      const stale = vote.lockedBy === undefined ? null : this.presumedAborted(vote.lockedBy);
      if (stale !== null) {
        // The key is held by a transaction of an earlier epoch that never committed (a coordinator
        // before this one left it prepared): abort it everywhere, before this one's COMMIT on each
        // replica's channel (decisions leave in order).
        for (const to of this.config.participants) out.send.push({ kind: "abort", to, txnId: stale });
      }
      // Its COMMIT record is logged: it commits all the same, and this replica gets the writes
      // (it got them with its COMMIT already if the vote came after the answer).
      txn.needsWrites.add(replicaId);
    } else {
      txn.votedYes.add(replicaId);
      // After the answer: it holds the transaction prepared, and its reads of the keys wait for it.
      this.settleUnsure(txn, replicaId);
      txn.needsWrites.delete(replicaId);
    }
    this.checkVoted(txn, nowMs, out);
  }

  /**
   * COMMIT goes out, with the client's answer, once every participant it still needs voted (or will
   * get the writes), or as soon as a majority of all replicas voted YES (early answers, issue 13):
   * a write waits for the second-fastest replica of three, not the slowest. The COMMIT record is
   * durable by the time either leaves (it was forced in an earlier turn). A participant that has not
   * voted YES by then is unsure of the keys until it votes YES or acknowledges (readAccepted).
   */
  private checkVoted(txn: Txn, nowMs: number, out: Ready): void {
    if (txn.phase !== "preparing") return;
    let yes = 0;
    let undecided = 0;
    for (const id of txn.required) {
      if (txn.votedYes.has(id)) yes += 1;
      else if (!txn.needsWrites.has(id)) undecided += 1;
    }
    const early = yes >= quorumOf(this.config.participants.length);
    if (undecided > 0 && !early) return;
    txn.phase = "committing";
    txn.resendAtMs = nowMs + txn.resendBackoffMs;
    this.advanceCommit(txn, nowMs, out);
  }

  /** `replicaId` voted YES for or acknowledged an answered transaction: it is sure of its keys. */
  private settleUnsure(txn: Txn, replicaId: string): void {
    if (!txn.unsure.delete(replicaId)) return;
    const keys = this.unsure.get(replicaId)!;
    for (const key of txn.keys) {
      const count = keys.get(key)!;
      if (count === 1) keys.delete(key);
      else keys.set(key, count - 1);
    }
    if (keys.size === 0) this.unsure.delete(replicaId);
  }

  /**
   * A COMMIT to `to`: with the writes unless it voted YES (it holds them prepared). urgent when a
   * write waits for one of its keys (the replica forces it at once rather than with its next turn).
   */
  private commitMessage(txn: Txn, to: string, urgent: boolean): Message {
    const writes = txn.votedYes.has(to) || txn.writes.length === 0 ? null : txn.writes;
    return { kind: "commit", to, txnId: txn.txnId, commitSeq: txn.commitSeq, urgent, writes };
  }

  /**
   * Drives a committing transaction: at its decision (checkVoted), COMMIT to every participant (with
   * the writes to those that have not voted YES: one that voted NO, could not be reached or has not
   * voted yet; a replica that holds it prepared commits that and ignores them) and the client's
   * answer; those that had not voted YES are unsure of its keys until they vote YES or acknowledge.
   * Then the acknowledgements free the keys.
   */
  private advanceCommit(txn: Txn, nowMs: number, out: Ready): void {
    if (txn.phase !== "committing") return this.checkCommitted(txn, nowMs, out);
    if (!txn.commitSentToAll) {
      txn.commitSentToAll = true;
      out.decided.push(txn.txnId);
      txn.resendAtMs = nowMs + txn.resendBackoffMs;
      const waited = txn.keys.some((key) => this.waiters.has(key));
      for (const to of txn.participants) {
        if (txn.acked.has(to)) continue;
        // One that did not vote YES applies the writes without a prepare: forced at once anyway.
        out.send.push(this.commitMessage(txn, to, waited || txn.needsWrites.has(to)));
        if (!txn.votedYes.has(to)) this.markUnsure(txn, to);
      }
      if (txn.remember !== null) this.remember(txn.remember);
      // Answered now; the StepLoop sends it once the COMMIT record, forced in an earlier turn, is durable.
      this.reply(txn, this.committedResult(txn), nowMs, out);
    }
    this.checkCommitted(txn, nowMs, out);
  }

  /** Until `replicaId` votes YES or acknowledges, its reads of the keys take no value (readAccepted). */
  private markUnsure(txn: Txn, replicaId: string): void {
    if (txn.unsure.has(replicaId)) return;
    txn.unsure.add(replicaId);
    let keys = this.unsure.get(replicaId);
    if (keys === undefined) this.unsure.set(replicaId, (keys = new Map()));
    for (const key of txn.keys) keys.set(key, (keys.get(key) ?? 0) + 1);
  }

  /** Re-sends COMMIT to the participants that have not acknowledged it. */
  private resendCommit(txn: Txn, out: Ready): void {
    for (const id of txn.participants) if (!txn.acked.has(id)) out.send.push(this.commitMessage(txn, id, true));
  }

  private onAck(replicaId: string, txnId: string, nowMs: number, out: Ready): void {
    const txn = this.txns.get(txnId);
    if (txn === undefined || txn.phase === "preparing" || txn.phase === "reading") return;
    txn.acked.add(replicaId);
    txn.owed.delete(replicaId);
    this.settleUnsure(txn, replicaId);
    this.advanceCommit(txn, nowMs, out);
  }

  private committedResult(txn: Txn): WriteResult {
    return { ok: true, commitSeq: txn.commitSeq, txnId: txn.txnId, ...(txn.outcome === null ? {} : { outcome: txn.outcome }) };
  }

  /** Unlocks and forgets a committing transaction as its acknowledgements come in. */
  private checkCommitted(txn: Txn, nowMs: number, out: Ready): void {
    if (txn.phase === "committing") {
      if (!txn.commitSentToAll) return;
      for (const id of txn.required) if (!txn.acked.has(id)) return;
      this.reply(txn, this.committedResult(txn), nowMs, out);
      txn.phase = "owed";
      this.release(txn, nowMs, out);
    }
    if (txn.phase === "owed" && txn.owed.size === 0) {
      out.persist.push({ record: { kind: "end", txnId: txn.txnId }, force: false });
      // Every participant acknowledged.
      assert(txn.unsure.size === 0, `${txn.txnId} ends with participants unsure of it`);
      this.txns.delete(txn.txnId);
    }
  }

  /**
   * A transaction still reading lost a participant (the replica left the in-sync set): no replica
   * has heard of it, so it runs again at once as a new transaction over the replicas in the set now,
   * keeping its locks and its waiting calls, so that the client sees a slower success rather than an
   * error (issue 12). After txnAttemptsMax attempts it fails with UNAVAILABLE. (A transaction
   * past its PREPARE commits without the replica, which then owes the acknowledgement: leave.)
   */
  private retryWithout(txn: Txn, reason: string, nowMs: number, out: Ready): void {
    assert(txn.phase === "reading" && txn.program !== null, `${txn.txnId} runs again after its PREPARE`);
    if (txn.attempt >= limits.txnAttemptsMax) {
      this.abort(txn, Code.UNAVAILABLE, reason, nowMs, out);
      return;
    }
    this.txns.delete(txn.txnId);
    const write: QueuedWrite = {
      attempt: txn.attempt + 1,
      reqIds: txn.reqIds,
      requestId: txn.requestId,
      fingerprint: txn.fingerprint,
      program: txn.program,
      keys: txn.keys,
      deadlineMs: nowMs + limits.lockWaitTimeoutMs,
    };
    // The locks pass to the new attempt as they are: no queued write gets in between. Then a
    // catch-up that waited for the old attempt may start.
    this.startTxn(write, nowMs, out);
    out.retried.push({ from: txn.txnId, to: formatTxnId(this.epoch, this.txnCounter), reason });
    this.finishedForCatchUp(txn, nowMs, out);
  }

  /**
   * txnId if it is a transaction of an earlier epoch that this coordinator knows did not commit
   * (no COMMIT recovered or remembered: presumed abort, as outcomeFor answers), else null.
   */
  private presumedAborted(txnId: string): string | null {
    const parsed = parseTxnId(txnId);
    if (parsed === null || parsed.epoch >= this.epoch || this.txns.has(txnId) || this.remembered.has(txnId)) return null;
    // A commit this coordinator no longer remembers is older than newestForgotten: not presumed.
    if (this.newestForgotten !== null && !isNewerTxnId(txnId, this.newestForgotten)) return null;
    return txnId;
  }

  /**
   * Aborts a transaction still reading: no replica has heard of it and nothing was logged (presumed
   * abort). One past its PREPARE has its COMMIT record logged and is never aborted.
   */
  private abort(txn: Txn, code: CodeValue, reason: string, nowMs: number, out: Ready): void {
    assert(txn.phase === "reading", `abort of ${txn.txnId} after its COMMIT record was logged`);
    // Still reading: no PREPARE of it ever left, so no replica holds it (presumed abort): an
    // UNAVAILABLE says it did not start (the other codes are definite by themselves).
    const message = `transaction ${txn.txnId} aborted, nothing was written: ${reason}`;
    this.endUnwritten(txn, code === Code.UNAVAILABLE ? { ok: false, code, message, notStarted: true } : { ok: false, code, message }, nowMs, out);
  }

  private reply(txn: Txn, result: WriteResult, nowMs: number, out: Ready): void {
    // Answered already (a commit is answered with its decision; its last ack comes here again): its
    // request ended then, and a newer attempt of the same request id may be running.
    if (txn.reqIds.length === 0) return;
    for (const reqId of txn.reqIds) out.replies.push({ reqId, result });
    txn.reqIds.length = 0;
    this.requestEnded(txn.requestId, txn.fingerprint, txn.txnId, result, nowMs, out);
  }

  /**
   * A request's attempt is over, with `result` (already in out.replies). A definite failure is
   * remembered and logged, forced: the StepLoop makes the record durable before any reply of this
   * Ready leaves, so no crash can forget a failure a client heard. After any other ending a retry
   * starts anew, or finds the remembered commit.
   */
  private requestEnded(requestId: string | null, fingerprint: string, txnId: string | null, result: WriteResult, nowMs: number, out: Ready): void {
    if (requestId === null) return;
    this.active.delete(requestId);
    this.recentFailures.delete(requestId);
    if (result.ok) return;
    if (!definiteFailureCodes.includes(result.code)) {
      assert(result.code === Code.UNAVAILABLE, `request ${requestId} ended with ${codeName(result.code)}, neither definite nor UNAVAILABLE`);
      setBounded(this.recentFailures, requestId, `${codeName(result.code)}: ${result.message}`);
      return;
    }
    assert(fingerprint !== "", `request ${requestId} has no fingerprint`);
    // Planted bug (test-only): a definite failure is forgotten, so a later attempt runs anew.
    if (mutation() === "forget-definite-failures") return;
    const failure: RememberedFailure = { requestId, fingerprint, code: result.code, message: result.message, txnId, atMs: nowMs };
    this.rememberFailure(failure);
    out.persist.push({ record: { kind: "failed", ...failure }, force: true });
  }

  private remember(commit: RememberedCommit): void {
    assert(commit.requestId === null || !this.failures.has(commit.requestId), `commit of request ${commit.requestId}, which failed definitely`);
    this.remembered.set(commit.txnId, commit);
    if (commit.requestId !== null) this.rememberedByRequest.set(commit.requestId, commit.txnId);
    this.forgetPastMax();
  }

  private rememberFailure(failure: RememberedFailure): void {
    assert(!this.rememberedByRequest.has(failure.requestId), `failure of request ${failure.requestId}, which committed`);
    assert(!this.failures.has(failure.requestId), `second failure of request ${failure.requestId}`);
    this.failures.set(failure.requestId, failure);
    this.recentReadOnly.delete(failure.requestId);
    this.forgetPastMax();
  }

  /** Past requestIdsRememberedMax commits and failures together, forgets the oldest of them. */
  private forgetPastMax(): void {
    while (this.remembered.size + this.failures.size > limits.requestIdsRememberedMax) {
      const commit = this.remembered.oldest();
      const failure = this.failures.oldest();
      if (failure === undefined || (commit !== undefined && commit[1].atMs <= failure[1].atMs)) this.forgetOldest();
      else this.forgetFailure(failure[1]);
    }
  }

  /** A forgotten failure's request id is new again: a later attempt runs. */
  private forgetFailure(failure: RememberedFailure): void {
    this.failures.delete(failure.requestId);
    this.fingerprints.delete(failure.requestId);
  }

  private forgetOldest(): void {
    const [txnId, commit] = this.remembered.oldest()!;
    this.remembered.delete(txnId);
    if (commit.requestId !== null && this.rememberedByRequest.get(commit.requestId) === txnId) {
      this.rememberedByRequest.delete(commit.requestId);
      this.fingerprints.delete(commit.requestId);
    }
    this.noteForgotten(txnId);
  }

  /** A committed transaction is forgotten: txn-status calls anything as old and unknown "aborted" only past it. */
  private noteForgotten(txnId: string): void {
    if (this.newestForgotten === null || isNewerTxnId(txnId, this.newestForgotten)) this.newestForgotten = txnId;
  }

  /** Forgets the committed and definitely failed requests older than requestIdRetentionMs. */
  private forgetOld(nowMs: number): void {
    for (;;) {
      const oldest = this.remembered.oldest();
      if (oldest === undefined || nowMs - oldest[1].atMs <= limits.requestIdRetentionMs) break;
      this.forgetOldest();
    }
    for (;;) {
      const oldest = this.failures.oldest();
      if (oldest === undefined || nowMs - oldest[1].atMs <= limits.requestIdRetentionMs) return;
      this.forgetFailure(oldest[1]);
    }
  }

  /**
   * What became of a transaction or request. By transaction id: committed if its decision is known;
   * aborted if it ended without one (presumed abort), which is certain for any id newer than the
   * newest forgotten commit. By request id: committed if remembered; aborted if it failed
   * definitely (remembered); unknown otherwise (running, or its last attempt was UNAVAILABLE).
   */
  private statusOf(id: string): TxnStatus {
    const unknown = (message: string): TxnStatus => ({ state: "unknown", txnId: "", commitSeq: 0, message });
    const byRequest = this.rememberedByRequest.get(id);
    const txnId = byRequest ?? id;
    const commit = this.remembered.get(txnId);
    const txn = this.txns.get(txnId);
    // Committed for a client once it is answered: COMMIT went to every participant.
    if (txn !== undefined && !txn.commitSentToAll) return { ...unknown(`in progress (${txn.phase}); ask again`), txnId };
    if (txn !== undefined) {
      return { state: "committed", txnId, commitSeq: txn.commitSeq, message: `committed with commit sequence number ${txn.commitSeq}` };
    }
    if (commit !== undefined) {
      return { state: "committed", txnId, commitSeq: commit.commitSeq, message: `committed with commit sequence number ${commit.commitSeq}` };
    }
    if (this.active.has(id)) return unknown("request in progress (running or waiting for a lock); ask again");
    const failed = this.failures.get(id);
    if (failed !== undefined) {
      return {
        state: "aborted",
        txnId: failed.txnId ?? "",
        commitSeq: 0,
        message:
          `it failed, nothing was written, and no attempt of it will run (${codeName(failed.code)}: ${failed.message}); ` +
          `a retry with the same request id gets this answer`,
      };
    }
    const readOnly = this.recentReadOnly.get(id);
    if (readOnly !== undefined) {
      return { state: "committed", txnId: readOnly, commitSeq: 0, message: "it succeeded without writing anything (only reads, or an empty branch)" };
    }
    const failure = this.recentFailures.get(id);
    if (failure !== undefined) {
      return unknown(
        `its last attempt failed (${failure}) and wrote nothing, but that does not settle the request: an earlier attempt ` +
          `may still be on its way; retry it with the same request id`,
      );
    }
    const parsed = parseTxnId(id);
    if (parsed !== null) {
      const issued = parsed.epoch < this.epoch || (parsed.epoch === this.epoch && parsed.counter <= this.txnCounter);
      if (!issued) return unknown(`no transaction ${id} was started yet`);
      if (this.newestForgotten === null || isNewerTxnId(id, this.newestForgotten)) {
        return { state: "aborted", txnId: id, commitSeq: 0, message: "it has no COMMIT decision (presumed abort): nothing was written" };
      }
      return unknown(`transaction ${id} is older than the commits the coordinator remembers (requestIdsRememberedMax, requestIdRetentionMs)`);
    }
    return unknown(
      `no commit of request ${JSON.stringify(id)} is remembered and no attempt is running: it did not commit within the last ` +
        `${limits.requestIdRetentionMs / 1000} s (requestIdRetentionMs), unless an attempt is still on its way; retry it with the same request id`,
    );
  }

  /** A catch-up waiting for this transaction to finish may start once it has. */
  private finishedForCatchUp(txn: Txn, nowMs: number, out: Ready): void {
    for (const member of this.members.values()) {
      if (member.catchUpWaitFor?.delete(txn.txnId) && member.catchUpWaitFor.size === 0) this.sendCatchUp(member, nowMs, out);
    }
  }

  /**
   * A committed transaction lets go of its keys: those it wrote are now at its writes, at its commit
   * sequence number (what a replica reads from now on). Not so for a recovered commit of an earlier
   * epoch: a newer commit of the same key may have been logged after it (it was acknowledged by
   * every in-sync replica and let go of the key before the stop, but not by all), and its writes may
   * be unknown here (an older record). Its keys are forgotten instead: read again.
   */
  private cacheCommitted(txn: Txn): void {
    if (txn.recovered) {
      for (const key of txn.keys) this.cache.delete(key);
      return;
    }
    // Planted bug (test-only): the cache keeps what it held before the commit.
    if (mutation() === "value-cache-keeps-old-state") return;
    for (const write of txn.writes) this.cache.set(write.key, write.value === null ? null : { value: write.value, version: txn.commitSeq });
  }

  /** Hands a finished transaction's keys to the writes queued behind them. */
  private release(txn: Txn, nowMs: number, out: Ready): void {
    this.finishedForCatchUp(txn, nowMs, out);
    if (txn.phase === "owed") this.cacheCommitted(txn);
    for (const key of txn.keys) {
      assert(this.locks.get(key) === txn.txnId, `lock on ${key} not held by ${txn.txnId}`);
      this.locks.delete(key);
    }
    for (const key of txn.keys) {
      const queue = this.waiters.get(key);
      if (queue === undefined) continue;
      this.waiters.delete(key);
      this.queuedCount -= queue.length;
      // Re-try each queued write in arrival order: the first takes the key, the rest queue again
      // behind it (or behind another key they need).
      for (const write of queue) this.tryStart(write, nowMs, out);
    }
  }

  /**
   * What the coordinator tells a replica asking about a transaction: COMMIT once decided; ABORT when
   * it has no such transaction (presumed abort: it never commits one it does not know); nothing yet
   * for one still collecting votes (the replica asks again; the prepare timeout bounds the wait).
   */
  private outcomeFor(txnId: string): OutcomeItem[] {
    const txn = this.txns.get(txnId);
    if (txn === undefined) {
      // A commit that finished (every participant acknowledged) while the question was on its way
      // is still a commit: answer it from memory rather than with ABORT. (The replica ignores an
      // answer about a transaction it no longer holds; the answer must be right all the same.)
      const remembered = this.remembered.get(txnId);
      if (remembered !== undefined) return [{ txnId, outcome: "commit", commitSeq: remembered.commitSeq }];
      // Of a later epoch than this coordinator's: a newer coordinator ran it, and only it can tell (a
      // replica in doubt may ask a coordinator it promised no epoch to: replica transports).
      const parsed = parseTxnId(txnId);
      if (parsed === null || parsed.epoch > this.epoch) return [];
      return [{ txnId, outcome: "abort" }];
    }
    // Not before COMMIT goes to every participant: until then an in-sync participant may not hold it.
    if (!txn.commitSentToAll) return [];
    return [{ txnId, outcome: "commit", commitSeq: txn.commitSeq }];
  }


  private onTick(nowMs: number, out: Ready): void {
    for (const txn of [...this.txns.values()]) {
      if (this.txns.get(txn.txnId) !== txn) continue; // aborted meanwhile, by a leave an abort set off
      switch (txn.phase) {
        case "reading":
          if (nowMs >= txn.prepareDeadlineMs) {
            this.abort(txn, Code.UNAVAILABLE, `its keys could not be read within ${limits.prepareTimeoutMs} ms (prepareTimeoutMs)`, nowMs, out);
          }
          break;
        case "preparing":
          if (nowMs >= txn.prepareDeadlineMs) {
            // Silent participants get the writes with their COMMIT (their vote may still come).
            for (const id of txn.required) if (!txn.votedYes.has(id)) txn.needsWrites.add(id);
            this.checkVoted(txn, nowMs, out);
          }
          break;
        case "committing":
        case "owed":
          if (nowMs >= txn.resendAtMs) {
            this.resendCommit(txn, out);
            txn.resendAtMs = nowMs + txn.resendBackoffMs;
            txn.resendBackoffMs = Math.min(txn.resendBackoffMs * 2, limits.decisionResendMsMax);
          }
          break;
        default:
          assertNever(txn.phase);
      }
    }
    if (this.queuedCount > 0) this.expireWaiters(nowMs, out);
    this.forgetOld(nowMs);
    for (const member of this.members.values()) {
      if (member.state !== "out" && nowMs - member.lastOkMs > limits.replicaDownAfterMs) {
        this.markDown(member.id, `no answer to health checks for ${limits.replicaDownAfterMs} ms (replicaDownAfterMs)`, nowMs, out);
      }
    }
  }

  /**
   * Why the coordinator is not ready, or null when it is: a write sent now goes ahead at once
   * (enough replicas in sync and healthy) and every in-sync replica has been reached since this
   * coordinator started, so no participant call waits for a first connection. What the health
   * service, the Status call and `kv cluster`'s "ready" line report.
   */
  readiness(): string | null {
    const refused = this.writesRefused();
    if (refused !== null) return refused;
    const unreached = [...this.members.values()].filter((m) => m.state === "in-sync" && !m.contacted).map((m) => m.id);
    if (unreached.length > 0) return `in-sync replica(s) ${unreached.join(", ")} not reached yet since the coordinator started`;
    return null;
  }

  /** Why writes are refused now, or null when they may go ahead. */
  private writesRefused(): string | null {
    const inSync = [...this.members.values()].filter((m) => m.state === "in-sync");
    const need = `${inSync.length} of ${this.members.size} replicas are in sync and writes need at least ${this.config.minInSync} (--min-in-sync)`;
    if (inSync.length < this.config.minInSync) return `${need}; writes resume once enough replicas are back and caught up`;
    const down = inSync.filter((m) => !m.healthy).map((m) => m.id);
    if (down.length > 0) return `replica(s) ${down.join(", ")} are down and cannot leave the in-sync set: ${need}; writes resume when they are back`;
    // A write's COMMIT record must reach a majority of all the replicas (the decision log), in sync or not.
    const healthy = [...this.members.values()].filter((m) => m.healthy).length;
    const majority = Math.floor(this.members.size / 2) + 1;
    if (healthy < majority) return `${healthy} of ${this.members.size} replicas are up and a write's COMMIT record needs a majority (${majority}); writes resume when enough are back`;
    return null;
  }

  private onHealth(id: string, ok: boolean, nowMs: number, out: Ready): void {
    const member = this.members.get(id);
    if (member === undefined || !ok) return; // a failed check only counts by its absence (see onTick)
    member.lastOkMs = nowMs;
    member.healthy = true;
    member.contacted = true;
    if (member.state === "out" && nowMs >= member.catchUpRetryAtMs) this.startCatchUp(member, nowMs, out);
  }

  /**
   * A replica is down (failed health checks, or refused a call). It leaves the in-sync set if at
   * least minInSync replicas stay in it; otherwise it stays, marked down, and writes fail fast.
   */
  private markDown(id: string, reason: string, nowMs: number, out: Ready): void {
    const member = this.members.get(id);
    if (member === undefined || member.state === "out") return;
    member.healthy = false;
    if (member.state === "in-sync") {
      const inSync = [...this.members.values()].filter((m) => m.state === "in-sync").length;
      if (inSync - 1 < this.config.minInSync) return;
      member.outSinceSeq = this.firstSeqNotAppliedBy(id);
    }
    this.leave(member, reason, nowMs, out);
  }

  /** The lowest commit sequence number the replica may not have applied. */
  private firstSeqNotAppliedBy(id: string): number {
    let first = this.lastCommitSeq + 1;
    for (const txn of this.txns.values()) {
      if (txn.phase !== "reading" && txn.participants.includes(id) && !txn.acked.has(id)) first = Math.min(first, txn.commitSeq);
    }
    return first;
  }

  /** Takes a replica out of the in-sync set (or out of its catch-up), durably. */
  private leave(member: Member, reason: string, nowMs: number, out: Ready): void {
    member.state = "out";
    member.incarnation += 1;
    member.catchUpWaitFor = null;
    out.persist.push({ record: this.membershipRecord(), force: true });
    for (const txn of [...this.txns.values()]) {
      // An abort below may let another replica's catch-up start and, with no healthy source, take
      // that replica out too (a nested leave), which may abort or finish transactions still listed
      // here: skip those.
      if (this.txns.get(txn.txnId) !== txn) continue;
      if (!txn.participants.includes(member.id)) continue;
      if (txn.phase === "reading") {
        this.retryWithout(txn, `replica ${member.id} left the in-sync set (${reason})`, nowMs, out);
      } else if (!txn.acked.has(member.id)) {
        // Past its PREPARE it commits without this replica, which owes the acknowledgement.
        txn.required.delete(member.id);
        txn.owed.add(member.id);
        if (txn.phase === "preparing") this.checkVoted(txn, nowMs, out);
        else this.advanceCommit(txn, nowMs, out);
      }
    }
  }

  private startCatchUp(member: Member, nowMs: number, out: Ready): void {
    member.state = "catching-up";
    member.incarnation += 1;
    // New transactions include it from now on; the older ones must finish before the copy starts,
    // so that the source has applied every commit the replica will not see as a participant.
    member.catchUpWaitFor = new Set([...this.txns.values()].filter((txn) => txn.phase !== "owed").map((txn) => txn.txnId));
    if (member.catchUpWaitFor.size === 0) this.sendCatchUp(member, nowMs, out);
  }

  private sendCatchUp(member: Member, nowMs: number, out: Ready): void {
    member.catchUpWaitFor = null;
    const source = [...this.members.values()].find((m) => m.state === "in-sync" && m.healthy);
    if (source === undefined) {
      // No in-sync replica to copy from: out again (it may have joined transactions since), and
      // try again after catchUpRetryMs.
      member.catchUpRetryAtMs = nowMs + limits.catchUpRetryMs;
      this.leave(member, "no healthy in-sync replica to copy from", nowMs, out);
      return;
    }
    out.send.push({ kind: "catch-up", to: member.id, sourceId: source.id, sinceSeq: member.outSinceSeq, incarnation: member.incarnation });
  }


  private onCaughtUp(input: Extract<Input, { kind: "caught-up" }>, out: Ready): void {
    const member = this.members.get(input.replicaId);
    if (member === undefined || member.state !== "catching-up" || member.incarnation !== input.incarnation) return;
    if (!input.ok) {
      member.catchUpRetryAtMs = input.nowMs + limits.catchUpRetryMs;
      this.leave(member, `catch-up failed: ${input.reason}`, input.nowMs, out);
      return;
    }
    member.state = "in-sync";
    out.persist.push({ record: this.membershipRecord(), force: true });
  }

  private membershipRecord(): CoordinatorRecord {
    const inSync: string[] = [];
    const outSince: Record<string, number> = {};
    for (const member of this.members.values()) {
      if (member.state === "in-sync") inSync.push(member.id);
      else outSince[member.id] = member.outSinceSeq;
    }
    return { kind: "membership", inSync, outSince };
  }

  private expireWaiters(nowMs: number, out: Ready): void {
    for (const [key, queue] of this.waiters) {
      const still = queue.filter((write) => {
        if (nowMs < write.deadlineMs) return true;
        this.refuse(write, Code.ABORTED, `waited ${limits.lockWaitTimeoutMs} ms (lockWaitTimeoutMs) for key ${JSON.stringify(key)}, held by another write; retry as a new request (a new request id)`, nowMs, out);
        return false;
      });
      this.queuedCount -= queue.length - still.length;
      if (still.length === 0) this.waiters.delete(key);
      else this.waiters.set(key, still);
    }
  }
}

const rememberedPerRecordMax = 1_000;

/** Sets key (as the newest entry) in a memory-only map of at most requestIdsRememberedMax entries. */
function setBounded(map: FifoMap<string, string>, key: string, value: string): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limits.requestIdsRememberedMax) map.delete(map.oldest()![0]);
}


/** The results of a program of blind writes (what a retry of a remembered one gets). */
function blindOutcome(program: Program): TxnOutcome | undefined {
  const evaluation = keysToRead(program).length === 0 ? blindWrites(program) : null;
  return evaluation?.ok === true ? evaluation.outcome : undefined;
}
