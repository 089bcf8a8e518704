// The participant side of two-phase commit, as a pure state machine.
//
// No gRPC, SQLite, fs, clock or randomness here: the node (replica/node.ts, under the gRPC adapter
// replica/server.ts or the simulator) turns calls into Inputs, steps the core, and carries out the Ready it gets back through the StepLoop, which forces
// the log records before anything in the Ready is applied or sent. Time arrives as nowMs in each
// input. The deterministic simulator drives this same module.
//
// Rules:
// - prepare: vote NO if a key is locked by another prepared transaction or the transaction was
//   already aborted here; otherwise lock the keys and log a prepare record. The YES vote leaves
//   only after that record is forced (the StepLoop sees to it).
// - commit: log a commit record, apply the writes, release the locks; acknowledge once forced.
//   With intent commits (issue 13) a transaction commits once its COMMIT record is on a majority of
//   the copies of the coordinator's decision log, whatever the votes, so a COMMIT may reach a
//   replica that never prepared the transaction (it voted NO on a key a stale transaction locked,
//   the PREPARE never arrived, or a successor coordinator re-sends it from a recovered record); such
//   a COMMIT carries the writes. A transaction not held prepared here and not decided here, with
//   writes: log a prepare record (no participants: nobody is ever asked about it) and a commit
//   record, both forced, apply the writes and acknowledge. The store applies a write only over an
//   older version, so a late or repeated COMMIT never rolls a key back; the lock table is left
//   alone (a key may still be locked by a stale prepared transaction, which a later ABORT
//   releases). Without writes, or committed here already: a re-sent decision applied before,
//   acknowledge it and do nothing.
// - abort: log an abort record (not forced: presumed abort), release the locks.
// - read: answered once none of its keys is locked by a prepared transaction; refused after
//   readWaitTimeoutMs, so a read never returns a value older than a commit already acknowledged.
// - tick: a transaction prepared for inDoubtQueryAfterMs is in doubt; ask the coordinator for its
//   outcome, backing off from outcomeQueryBackoffMsMin to outcomeQueryBackoffMsMax. When the
//   coordinator cannot be reached (input coordinator-unreachable), ask the peers instead
//   (cooperative termination), each only about its own transactions (replica/peer-queries.ts).
// - the force rule (mustForce): every record is forced before the Ready that made it speaks, except
//   an abort record (presumed abort: a lost abort is asked about again, and aborted again).
// - peer-query: a peer in doubt asks what this replica knows. Committed or aborted here: say so.
//   Prepared here: uncertain too. Never seen: unknown, and nothing is logged. (This replica used to
//   log a refusal and answer aborted, since a transaction could not commit without its YES vote;
//   with intent commits it can, so never having seen a transaction says nothing of its outcome.
//   Refuse records in old logs still replay as aborts.)
// - refusals: a commit or abort call that contradicts what this replica decided (a commit of a
//   transaction it aborted, an abort of one it committed, a commit with another commit sequence
//   number than the one it committed with) or carries no commit sequence number is refused whole,
//   before anything changes: the call gets a "refused" reply and its Ready nothing else. Its input
//   came from the network (replica/decode.ts checked its form, not its truth), so this is an error
//   for the sender, not a failed assertion. Answers to this replica's own queries (outcome,
//   peer-answers) act only on transactions prepared here, and skip a commit without a valid commit
//   sequence number (the shell drops and logs those first). The assertions left guard the core's
//   own bookkeeping, which no input reaches.
import { FifoMap } from "../common/fifo-map";
import { assert, assertNever } from "../common/assert";
import { fencedMessage } from "../common/errors";
import { limits } from "../common/limits";
import { DecisionLogCopy, type Promised } from "./log-copy";
import { mutation } from "../common/mutations";
import { peerQueries } from "./peer-queries";
import { compareTxnIds, parseTxnId, type ParsedTxnId } from "../common/txn-id";
import type { Outcome, PeerState, Write } from "../common/types";

export type { PeerState };
import type { ReplicaRecord } from "./records";

export interface PreparedTxn {
  readonly txnId: string;
  readonly writes: readonly Write[];
  readonly participants: readonly string[];
  readonly preparedAtMs: number;
  nextQueryAtMs: number;
  queryBackoffMs: number;
}

export interface PrepareItem {
  readonly txnId: string;
  readonly writes: readonly Write[];
  readonly participants: readonly string[];
}

/**
 * A transaction to commit. writes: its writes, for a replica that may not hold it prepared (intent
 * commits); empty when the coordinator sent none (this replica voted YES and holds them).
 */
export interface CommitItem {
  readonly txnId: string;
  readonly commitSeq: number;
  readonly writes: readonly Write[];
}

export type VoteResult =
  | { readonly txnId: string; readonly vote: "yes" }
  | { readonly txnId: string; readonly vote: "no"; readonly reason: string; readonly lockedBy?: string };

/**
 * Calls from a coordinator carry its epoch (failover): one older than the epoch this replica promised
 * is refused ("fenced"), one newer is promised first (durably) and then served.
 */
export type Input =
  | { readonly kind: "prepare"; readonly callId: number; readonly epoch: number; readonly txns: readonly PrepareItem[]; readonly nowMs: number }
  /**
   * urgent: a write waits at the coordinator for these keys, so the commit records are forced at
   * once; otherwise their force may wait for company (mayWait). The records of a transaction not
   * prepared here, committed with the writes the call carries, are always forced at once.
   */
  | { readonly kind: "commit"; readonly callId: number; readonly epoch: number; readonly txns: readonly CommitItem[]; readonly urgent: boolean; readonly nowMs: number }
  | { readonly kind: "abort"; readonly callId: number; readonly epoch: number; readonly txnIds: readonly string[]; readonly nowMs: number }
  /** A coordinator taking over asks for this replica's promise, and how far its copy of the decision log reaches. */
  | { readonly kind: "promise"; readonly callId: number; readonly epoch: number; readonly coordinatorId: string; readonly address: string; readonly nowMs: number }
  /** The coordinator this replica promised its epoch to reads a page of the copy of the decision log. */
  | { readonly kind: "read-copy"; readonly callId: number; readonly epoch: number; readonly fromIndex: number; readonly recordsMax: number; readonly bytesMax: number; readonly nowMs: number }
  /** Records of the coordinator's decision log (see replica/log-copy.ts). */
  | {
      readonly kind: "append";
      readonly callId: number;
      readonly epoch: number;
      readonly coordinatorId: string;
      readonly address: string;
      readonly base: boolean;
      /** A base that continues in the next call. */
      readonly more: boolean;
      /** For a base: the index of its first record (parts after the first start later). */
      readonly baseFirstIndex: number;
      readonly firstIndex: number;
      readonly records: readonly Buffer[];
      readonly nowMs: number;
    }
  /** A call served outside the core (a catch-up) checks its epoch first. */
  | { readonly kind: "fence"; readonly callId: number; readonly epoch: number; readonly nowMs: number }
  /** The coordinator's answer to an outcome query. */
  | { readonly kind: "outcome"; readonly outcomes: readonly OutcomeItem[]; readonly nowMs: number }
  | { readonly kind: "read"; readonly callId: number; readonly epoch: number; readonly keys: readonly string[]; readonly nowMs: number }
  | { readonly kind: "tick"; readonly nowMs: number }
  /** A peer asks about transactions it holds in doubt (cooperative termination). */
  | { readonly kind: "peer-query"; readonly callId: number; readonly txnIds: readonly string[]; readonly nowMs: number }
  /** What peers answered about transactions this replica holds in doubt. */
  | { readonly kind: "peer-answers"; readonly states: readonly PeerState[]; readonly nowMs: number }
  /** What this replica knows of transactions, changing nothing (for operators). */
  | { readonly kind: "inspect"; readonly callId: number; readonly txnIds: readonly string[]; readonly nowMs: number }
  /** Answered once everything stepped before it is durable and applied (for status and dumps). */
  | { readonly kind: "barrier"; readonly callId: number; readonly nowMs: number }
  /** The coordinator did not answer an outcome query about these transactions: ask the peers. */
  | { readonly kind: "coordinator-unreachable"; readonly txnIds: readonly string[]; readonly nowMs: number };

export type Decided = { readonly outcome: "commit"; readonly commitSeq: number } | { readonly outcome: "abort" };

export type OutcomeItem =
  | { readonly txnId: string; readonly outcome: "commit"; readonly commitSeq: number }
  | { readonly txnId: string; readonly outcome: "abort" };

export interface Apply {
  readonly txnId: string;
  readonly commitSeq: number;
  readonly writes: readonly Write[];
}

/** The gRPC code a refusal travels as, named without importing gRPC. */
export type RefusalCode = "invalid-argument" | "failed-precondition";

export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
}

export type Reply =
  | { readonly kind: "votes"; readonly callId: number; readonly votes: VoteResult[] }
  /** The call contradicts this replica's state or carries an impossible value; it changed nothing. */
  | { readonly kind: "refused"; readonly callId: number; readonly code: RefusalCode; readonly message: string }
  | { readonly kind: "acks"; readonly callId: number; readonly decision: Outcome; readonly txnIds: string[] }
  /** Serve the read now, from the store, after this Ready's writes are applied. */
  | { readonly kind: "read"; readonly callId: number; readonly keys: readonly string[] }
  | { readonly kind: "read-timeout"; readonly callId: number; readonly message: string }
  /** Everything stepped before is applied; with the transactions held prepared at that point. */
  | { readonly kind: "barrier"; readonly callId: number; readonly prepared: readonly PreparedSummary[] }
  | { readonly kind: "peer-states"; readonly callId: number; readonly states: PeerState[] }
  | {
      readonly kind: "promised";
      readonly callId: number;
      readonly granted: boolean;
      readonly promised: Promised;
      readonly logEpoch: number;
      readonly logFirstIndex: number;
      readonly logIndex: number;
      readonly maxTxnEpoch: number;
      /** The transactions held prepared here (in doubt). */
      readonly prepared: readonly string[];
    }
  /** A page of the copy of the decision log: records from max(fromIndex, logFirstIndex) on. */
  | { readonly kind: "copy-page"; readonly callId: number; readonly logEpoch: number; readonly logFirstIndex: number; readonly logIndex: number; readonly records: readonly Buffer[] }
  /** staged: the records were kept aside as a part of a base; logIndex is how far the parts reach. */
  | { readonly kind: "appended"; readonly callId: number; readonly logEpoch: number; readonly logIndex: number; readonly staged: boolean }
  | { readonly kind: "fence-ok"; readonly callId: number };

export interface Ready {
  /** Appended in order; forced before anything else in this Ready happens. */
  readonly persist: ReplicaRecord[];
  /** Committed writes to apply to the store, in this order, after persist is durable. */
  readonly apply: Apply[];
  readonly replies: Reply[];
  /** Transactions whose outcome to ask the coordinator for. */
  readonly queries: string[];
  /** Which peer to ask about which in-doubt transactions (the coordinator could not be reached). */
  readonly peerQueries: { readonly peerId: string; readonly txnIds: readonly string[] }[];
  /** Set when this replica promised a new epoch: outcome queries go to that coordinator from now on. */
  promised: Promised | null;
}

/** A transaction held prepared, as status reports it. */
export interface PreparedSummary {
  readonly txnId: string;
  readonly keys: readonly string[];
  readonly preparedAtMs: number;
}

/**
 * The force rule: which records must be durable before anything of their Ready is applied or sent.
 * All but an abort record: presumed abort makes a lost abort harmless (the replica asks again).
 */
export function mustForce(record: ReplicaRecord): boolean {
  // Planted bug (test-only): the prepare record rides along unforced, so the YES vote may leave
  // before it is durable.
  if (record.kind === "prepare" && mutation() === "vote-before-prepare-forced") return false;
  return record.kind !== "abort";
}

/**
 * Whether a forced record's force may wait for company (common/step-loop.ts, lazy forces): a commit
 * record no write waits for. Its writes are applied and its acknowledgement sent only once it is
 * durable, like any forced record, and whatever is stepped after it is carried out after it (a read
 * of its keys sees its writes); only the fsync is shared with the next turn's.
 */
export function mayWait(record: ReplicaRecord): boolean {
  return record.kind === "commit" && record.lazy === true;
}

/** A commit sequence number: a whole number from 1 (0 is what a missing uint64 field decodes to). */
export function isCommitSeq(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

export function newReady(): Ready {
  return { persist: [], apply: [], replies: [], queries: [], peerQueries: [], promised: null };
}

interface ParkedRead {
  readonly callId: number;
  readonly epoch: number;
  readonly keys: readonly string[];
  readonly deadlineMs: number;
}

export class ParticipantCore {
  private readonly prepared = new Map<string, PreparedTxn>();
  /** key -> id of the prepared transaction that locks it. */
  private readonly locks = new Map<string, string>();
  /** Decided transactions, oldest first (a Map iterates in insertion order), bounded. */
  private readonly decided = new FifoMap<string, Decided>();
  /** The newest id among the decisions forgotten to keep `decided` bounded; null while none was. */
  private newestForgotten: ParsedTxnId | null = null;
  private parkedReads: ParkedRead[] = [];
  /** Set when a lock was released or a read arrived: parked reads need another look. */
  private readsToCheck = false;
  /** Failover: the epoch promised (durably), and the copy of the coordinator's decision log. */
  private promisedEpoch: Promised;
  private readonly copy: DecisionLogCopy;
  /** The highest epoch of any transaction id seen here: a new coordinator's epoch must pass it. */
  private maxTxnEpoch = 0;

  /**
   * Builds the core from what recovery found: transactions prepared and not yet decided (they keep
   * their locks and are asked about at once) and the decisions in the log, oldest first.
   */
  /** This replica's id (it asks its peers, never itself). */
  private readonly selfId: string;

  constructor(recovered: {
    /** This replica's id; "" where no peer is ever asked (unit tests). */
    selfId?: string;
    prepared: readonly PrepareItem[];
    decided: readonly { txnId: string; decided: Decided }[];
    /** The newest id among decisions forgotten before a compaction of the log. */
    newestForgotten?: string | null;
    /** Failover: the epoch promised, and the copy of the decision log (none: a new replica). */
    promised?: Promised;
    copy?: DecisionLogCopy;
    nowMs: number;
  }) {
    this.selfId = recovered.selfId ?? "";
    this.newestForgotten = recovered.newestForgotten ? parseTxnId(recovered.newestForgotten) : null;
    this.promisedEpoch = recovered.promised ?? { epoch: 0, coordinatorId: "", address: "" };
    this.copy = recovered.copy ?? new DecisionLogCopy();
    this.maxTxnEpoch = Math.max(this.promisedEpoch.epoch, this.copy.epoch, this.newestForgotten?.epoch ?? 0);
    // Only transactions committed or still prepared here count (a COMMIT's ids are of its call's
    // epoch or an earlier one: replica/decode.ts checkTxnEpochs): an abort or an old refusal may
    // name any id a peer or a coordinator asked about, and must not raise the epoch a new
    // coordinator has to pass.
    for (const { txnId, decided } of recovered.decided) if (decided.outcome === "commit") this.seeTxnId(txnId);
    for (const { txnId } of recovered.prepared) this.seeTxnId(txnId);
    for (const { txnId, decided } of recovered.decided) this.remember(txnId, decided);
    for (const txn of recovered.prepared) {
      this.lock(txn, recovered.nowMs);
      this.prepared.get(txn.txnId)!.nextQueryAtMs = recovered.nowMs;
    }
  }

  step(input: Input, out: Ready): void {
    switch (input.kind) {
      case "prepare": {
        const fenced = this.fence(input.epoch, out);
        if (fenced !== null) {
          out.replies.push({ kind: "refused", callId: input.callId, ...fenced });
          break;
        }
        out.replies.push({ kind: "votes", callId: input.callId, votes: input.txns.map((txn) => this.prepare(txn, input.nowMs, out)) });
        break;
      }
      case "commit": {
        const refusal = this.fence(input.epoch, out) ?? this.checkCommits(input.txns);
        if (refusal !== null) {
          out.replies.push({ kind: "refused", callId: input.callId, ...refusal });
          break;
        }
        const acked: string[] = [];
        for (const txn of input.txns) {
          if (this.prepared.has(txn.txnId)) this.commit(txn.txnId, txn.commitSeq, out, !input.urgent);
          else this.commitUnprepared(txn, out);
          acked.push(txn.txnId);
        }
        out.replies.push({ kind: "acks", callId: input.callId, decision: "commit", txnIds: acked });
        break;
      }
      case "abort": {
        const refusal = this.fence(input.epoch, out) ?? this.checkAborts(input.txnIds);
        if (refusal !== null) {
          out.replies.push({ kind: "refused", callId: input.callId, ...refusal });
          break;
        }
        for (const txnId of input.txnIds) this.abort(txnId, out);
        out.replies.push({ kind: "acks", callId: input.callId, decision: "abort", txnIds: [...input.txnIds] });
        break;
      }
      case "outcome":
        for (const item of input.outcomes) {
          // An answer about a transaction no longer prepared here is stale (its decision arrived
          // meanwhile); remembering it as aborted could contradict a commit that was applied.
          if (!this.prepared.has(item.txnId)) continue;
          if (item.outcome === "abort") this.abort(item.txnId, out);
          else if (isCommitSeq(item.commitSeq)) this.commit(item.txnId, item.commitSeq, out);
        }
        break;
      case "read": {
        const fenced = this.fence(input.epoch, out);
        if (fenced !== null) {
          out.replies.push({ kind: "refused", callId: input.callId, ...fenced });
          break;
        }
        this.parkedReads.push({ callId: input.callId, epoch: input.epoch, keys: input.keys, deadlineMs: input.nowMs + limits.readWaitTimeoutMs });
        this.readsToCheck = true;
        break;
      }
      case "fence": {
        const fenced = this.fence(input.epoch, out);
        out.replies.push(fenced === null ? { kind: "fence-ok", callId: input.callId } : { kind: "refused", callId: input.callId, ...fenced });
        break;
      }
      case "promise":
        this.onPromise(input, out);
        break;
      case "append":
        this.onAppend(input, out);
        break;
      case "read-copy":
        this.onReadCopy(input, out);
        break;
      case "tick":
        this.tick(input.nowMs, out);
        this.readsToCheck = true;
        break;
      case "barrier":
        out.replies.push({
          kind: "barrier",
          callId: input.callId,
          prepared: [...this.prepared.values()].map((txn) => ({ txnId: txn.txnId, keys: txn.writes.map((write) => write.key), preparedAtMs: txn.preparedAtMs })),
        });
        break;
      case "coordinator-unreachable":
        for (const [peerId, txnIds] of peerQueries(this.selfId, [...this.prepared.values()], input.txnIds)) out.peerQueries.push({ peerId, txnIds });
        break;
      case "peer-query":
        // From what is known here, changing nothing: a transaction never seen here is unknown, not
        // aborted, since it may commit without this replica's vote (intent commits).
        out.replies.push({ kind: "peer-states", callId: input.callId, states: input.txnIds.map((txnId) => this.stateOf(txnId)) });
        break;
      case "peer-answers":
        for (const state of input.states) {
          if (!this.prepared.has(state.txnId)) continue; // settled meanwhile
          if (state.state === "committed" && isCommitSeq(state.commitSeq)) this.commit(state.txnId, state.commitSeq, out);
          else if (state.state === "aborted") this.abort(state.txnId, out);
        }
        break;
      case "inspect":
        out.replies.push({ kind: "peer-states", callId: input.callId, states: input.txnIds.map((txnId) => this.stateOf(txnId)) });
        break;
      default:
        assertNever(input);
    }
    if (this.readsToCheck) this.serveReads(input.nowMs, out);
  }

  /** What status reports: the transactions held prepared, with the keys they lock. */
  preparedTxns(): readonly PreparedTxn[] {
    return [...this.prepared.values()];
  }

  /** True while something waits on time: a prepared transaction or a parked read. */
  hasTimers(): boolean {
    return this.prepared.size > 0 || this.parkedReads.length > 0;
  }

  lockHolder(key: string): string | undefined {
    return this.locks.get(key);
  }

  outcomeOf(txnId: string): Outcome | "prepared" | "unknown" {
    if (this.prepared.has(txnId)) return "prepared";
    return this.decided.get(txnId)?.outcome ?? "unknown";
  }

  /**
   * Every record a compacted log must hold so that recovery rebuilds this core: the newest forgotten
   * decision, the decisions remembered (oldest first; commits as knowledge only, since their writes
   * are in SQLite, which the shell forces before compacting), and each prepared transaction.
   */
  liveRecords(): ReplicaRecord[] {
    const records: ReplicaRecord[] = [];
    if (this.promisedEpoch.epoch > 0) records.push({ kind: "promise", ...this.promisedEpoch });
    if (this.copy.epoch > 0) records.push({ kind: "copy", epoch: this.copy.epoch, base: true, firstIndex: this.copy.firstIndex, records: this.copy.records });
    if (this.newestForgotten !== null) {
      records.push({ kind: "forgotten", txnId: `${this.newestForgotten.epoch}.${this.newestForgotten.counter}` });
    }
    for (const [txnId, decided] of this.decided) {
      records.push(decided.outcome === "commit" ? { kind: "committed", txnId, commitSeq: decided.commitSeq } : { kind: "abort", txnId });
    }
    for (const txn of this.prepared.values()) {
      records.push({ kind: "prepare", txnId: txn.txnId, writes: txn.writes, participants: txn.participants });
    }
    return records;
  }

  /** What this replica knows of a transaction, changing nothing. */
  stateOf(txnId: string): PeerState {
    if (this.prepared.has(txnId)) return { txnId, state: "prepared" };
    const decided = this.decided.get(txnId);
    if (decided === undefined) return { txnId, state: "unknown" };
    return decided.outcome === "commit" ? { txnId, state: "committed", commitSeq: decided.commitSeq } : { txnId, state: "aborted" };
  }

  /**
   * Why a commit call must be refused, or null. Pure, over the whole batch before any of it is
   * applied, so that a refused call changes nothing; a transaction named twice is checked against
   * its earlier commit in the same batch too.
   */
  private checkCommits(txns: readonly { txnId: string; commitSeq: number }[]): Refusal | null {
    const inBatch = new Map<string, number>();
    for (const [i, { txnId, commitSeq }] of txns.entries()) {
      if (!isCommitSeq(commitSeq)) {
        return { code: "invalid-argument", message: `txns[${i}].commit_seq is ${commitSeq}: commit of ${txnId} without a commit sequence number (a whole number from 1)` };
      }
      const decided = this.decided.get(txnId);
      if (decided?.outcome === "abort") {
        return { code: "failed-precondition", message: `txns[${i}]: commit of ${txnId}, which this replica aborted` };
      }
      const batchSeq = inBatch.get(txnId);
      if (batchSeq !== undefined && batchSeq !== commitSeq) {
        return { code: "failed-precondition", message: `txns[${i}].commit_seq: commit of ${txnId} with commit sequence number ${commitSeq}, but this call commits it with ${batchSeq}` };
      }
      if (decided?.outcome === "commit" && decided.commitSeq !== commitSeq) {
        return {
          code: "failed-precondition",
          message: `txns[${i}].commit_seq: commit of ${txnId} with commit sequence number ${commitSeq}, but this replica committed it with ${decided.commitSeq}`,
        };
      }
      inBatch.set(txnId, commitSeq);
    }
    return null;
  }

  /** Why an abort call must be refused, or null (see checkCommits). */
  private checkAborts(txnIds: readonly string[]): Refusal | null {
    for (const [i, txnId] of txnIds.entries()) {
      if (this.decided.get(txnId)?.outcome === "commit") {
        return { code: "failed-precondition", message: `txn_ids[${i}]: abort of ${txnId}, which this replica committed` };
      }
    }
    return null;
  }

  /** The epoch this replica promised, and to whom. */
  promised(): Promised {
    return this.promisedEpoch;
  }

  /**
   * The fence: a call of an epoch older than the one promised is refused; one of a newer epoch is
   * promised first (the record is forced before anything of this Ready is sent, so a promise is
   * durable before this replica serves the new epoch).
   */
  private fence(epoch: number, out: Ready, coordinatorId = "", address = ""): Refusal | null {
    // Planted bug (test-only): no fence, so a superseded coordinator is still served.
    if (epoch < this.promisedEpoch.epoch && mutation() !== "skip-fence") {
      return { code: "failed-precondition", message: fencedMessage(epoch, this.promisedEpoch.epoch, this.promisedEpoch.coordinatorId) };
    }
    const learnsWho = epoch === this.promisedEpoch.epoch && coordinatorId !== "" && this.promisedEpoch.coordinatorId === "";
    if (epoch > this.promisedEpoch.epoch || learnsWho) this.promise({ epoch, coordinatorId, address }, out);
    return null;
  }

  private promise(promised: Promised, out: Ready): void {
    this.promisedEpoch = promised;
    this.maxTxnEpoch = Math.max(this.maxTxnEpoch, promised.epoch);
    out.persist.push({ kind: "promise", ...promised });
    out.promised = promised;
  }

  private onPromise(input: Extract<Input, { kind: "promise" }>, out: Ready): void {
    const granted = input.epoch > this.promisedEpoch.epoch;
    if (granted) this.promise({ epoch: input.epoch, coordinatorId: input.coordinatorId, address: input.address }, out);
    out.replies.push({
      kind: "promised",
      callId: input.callId,
      granted,
      promised: this.promisedEpoch,
      logEpoch: this.copy.epoch,
      logFirstIndex: this.copy.firstIndex,
      logIndex: this.copy.lastIndex,
      maxTxnEpoch: this.maxTxnEpoch,
      prepared: granted ? [...this.prepared.keys()] : [],
    });
  }

  /**
   * Only the coordinator this replica promised its epoch to reads the copy: an older one is fenced,
   * and a newer epoch (never promised here) is refused without promising it, since a read changes
   * nothing. The copy cannot change between the pages of that coordinator's reads: an older epoch's
   * Append is fenced, and a newer coordinator's would fence this reader.
   */
  private onReadCopy(input: Extract<Input, { kind: "read-copy" }>, out: Ready): void {
    const promised = this.promisedEpoch;
    if (input.epoch !== promised.epoch) {
      const message =
        input.epoch < promised.epoch
          ? fencedMessage(input.epoch, promised.epoch, promised.coordinatorId)
          : `epoch ${input.epoch} was not promised here (promised: ${promised.epoch}); ask for a promise before reading the copy of the decision log`;
      out.replies.push({ kind: "refused", callId: input.callId, code: "failed-precondition", message });
      return;
    }
    const page = this.copy.page(input.fromIndex, input.recordsMax, input.bytesMax);
    out.replies.push({ kind: "copy-page", callId: input.callId, logEpoch: this.copy.epoch, logFirstIndex: this.copy.firstIndex, logIndex: this.copy.lastIndex, records: page });
  }

  private onAppend(input: Extract<Input, { kind: "append" }>, out: Ready): void {
    const fenced = this.fence(input.epoch, out, input.coordinatorId, input.address);
    if (fenced !== null) {
      out.replies.push({ kind: "refused", callId: input.callId, ...fenced });
      return;
    }
    if (input.base) {
      // A base, whole or in parts: nothing changes until its last part is here with every part
      // before it. A part kept aside is answered with how far the parts reach (in the base's epoch),
      // so that the coordinator sends the next one; anything else with the copy as it is.
      const whole = this.copy.basePart(input.epoch, input.baseFirstIndex, input.firstIndex, input.records, input.more);
      if (whole === null) {
        const staged = this.copy.stagedTo(input.epoch, input.baseFirstIndex);
        const answer = staged > 0 ? { logEpoch: input.epoch, logIndex: staged } : { logEpoch: this.copy.epoch, logIndex: this.copy.lastIndex };
        out.replies.push({ kind: "appended", callId: input.callId, ...answer, staged: staged > 0 });
        return;
      }
      if (this.copy.accepts(input.epoch, true, whole.firstIndex, whole.records) !== null) {
        this.copy.take(input.epoch, true, whole.firstIndex, whole.records);
        out.persist.push({ kind: "copy", epoch: input.epoch, base: true, firstIndex: whole.firstIndex, records: whole.records });
      }
    } else {
      const taken = this.copy.accepts(input.epoch, false, input.firstIndex, input.records);
      if (taken !== null && taken.length > 0) {
        const firstIndex = this.copy.lastIndex + 1;
        this.copy.take(input.epoch, false, firstIndex, taken);
        out.persist.push({ kind: "copy", epoch: input.epoch, base: false, firstIndex, records: taken });
      }
    }
    out.replies.push({ kind: "appended", callId: input.callId, logEpoch: this.copy.epoch, logIndex: this.copy.lastIndex, staged: false });
  }

  private seeTxnId(txnId: string): void {
    const parsed = parseTxnId(txnId);
    if (parsed !== null) this.maxTxnEpoch = Math.max(this.maxTxnEpoch, parsed.epoch);
  }

  private prepare(txn: PrepareItem, nowMs: number, out: Ready): VoteResult {
    this.seeTxnId(txn.txnId);
    if (this.prepared.has(txn.txnId)) return { txnId: txn.txnId, vote: "yes" }; // a re-sent prepare
    const decided = this.decided.get(txn.txnId);
    if (decided !== undefined) {
      return { txnId: txn.txnId, vote: "no", reason: `transaction ${txn.txnId} was already decided (${decided.outcome}) on this replica` };
    }
    if (this.mayBeForgotten(txn.txnId)) {
      // Older than a decision this replica forgot: it may be one it committed (possibly without
      // preparing it) or refused (old logs). Voting NO is always safe.
      return { txnId: txn.txnId, vote: "no", reason: `transaction ${txn.txnId} is older than the decisions this replica remembers` };
    }
    for (const write of txn.writes) {
      const holder = this.locks.get(write.key);
      if (holder !== undefined) {
        return { txnId: txn.txnId, vote: "no", reason: `key ${JSON.stringify(write.key)} is locked by prepared transaction ${holder}`, lockedBy: holder };
      }
    }
    this.lock(txn, nowMs);
    out.persist.push({ kind: "prepare", txnId: txn.txnId, writes: txn.writes, participants: txn.participants });
    return { txnId: txn.txnId, vote: "yes" };
  }

  private lock(txn: PrepareItem, nowMs: number): void {
    assert(!this.prepared.has(txn.txnId), `transaction ${txn.txnId} prepared twice`);
    for (const write of txn.writes) {
      const holder = this.locks.get(write.key);
      assert(holder === undefined || holder === txn.txnId, `key locked by ${holder} while preparing ${txn.txnId}`);
      this.locks.set(write.key, txn.txnId);
    }
    this.prepared.set(txn.txnId, {
      txnId: txn.txnId,
      writes: txn.writes,
      participants: txn.participants,
      preparedAtMs: nowMs,
      nextQueryAtMs: nowMs + limits.inDoubtQueryAfterMs,
      queryBackoffMs: limits.outcomeQueryBackoffMsMin,
    });
  }

  /**
   * Commits a transaction held prepared here, with its prepared writes (writes a COMMIT carries are
   * not looked at: they are the same). lazy: the commit record's force may wait for company
   * (mayWait); the acknowledgement waits with it.
   */
  private commit(txnId: string, commitSeq: number, out: Ready, lazy = false): void {
    const txn = this.prepared.get(txnId);
    // A call's commit of a transaction not prepared here goes to commitUnprepared; an answer acts
    // only on a transaction prepared here.
    assert(txn !== undefined, `commit of transaction ${txnId}, which is not prepared here`);
    assert(isCommitSeq(commitSeq), `commit of ${txnId} without a commit sequence number`);
    this.release(txn);
    this.remember(txnId, { outcome: "commit", commitSeq });
    out.persist.push(lazy ? { kind: "commit", txnId, commitSeq, lazy } : { kind: "commit", txnId, commitSeq });
    out.apply.push({ txnId, commitSeq, writes: txn.writes });
  }

  /**
   * A COMMIT of a transaction this replica does not hold prepared. Committed here already, or sent
   * without writes (a re-sent decision, applied before): nothing to do. Otherwise it committed
   * without this replica's vote (intent commits): log its writes as a prepare record and then the
   * commit record, so that recovery redoes them as it redoes any commit, and apply them. Both
   * records are forced (never lazy): the acknowledgement says the writes are durable here. The lock
   * table is not touched: a key may be locked by a stale prepared transaction that will be aborted;
   * its lock stays its own, and the store's version guard keeps the newer write.
   */
  private commitUnprepared(txn: CommitItem, out: Ready): void {
    const { txnId, commitSeq, writes } = txn;
    const decided = this.decided.get(txnId);
    // Refused by checkCommits.
    assert(decided?.outcome !== "abort", `commit of transaction ${txnId}, which this replica aborted`);
    if (decided !== undefined || writes.length === 0) return;
    assert(isCommitSeq(commitSeq), `commit of ${txnId} without a commit sequence number`);
    this.seeTxnId(txnId);
    this.remember(txnId, { outcome: "commit", commitSeq });
    out.persist.push({ kind: "prepare", txnId, writes, participants: [] });
    out.persist.push({ kind: "commit", txnId, commitSeq });
    out.apply.push({ txnId, commitSeq, writes });
  }

  private abort(txnId: string, out: Ready): void {
    const txn = this.prepared.get(txnId);
    if (txn !== undefined) {
      this.release(txn);
      out.persist.push({ kind: "abort", txnId });
    }
    const decided = this.decided.get(txnId);
    // Refused by checkAborts (a call); an answer acts only on a transaction prepared here.
    assert(decided?.outcome !== "commit", `abort of transaction ${txnId}, which this replica committed`);
    if (decided === undefined) this.remember(txnId, { outcome: "abort" });
  }

  private release(txn: PreparedTxn): void {
    // Once per key: a transaction may write a key twice, and lock() took that key once.
    for (const key of new Set(txn.writes.map((write) => write.key))) {
      assert(this.locks.get(key) === txn.txnId, `lock on a key of ${txn.txnId} held by another`);
      this.locks.delete(key);
    }
    this.prepared.delete(txn.txnId);
    this.readsToCheck = this.parkedReads.length > 0;
  }

  /** True when txnId is no newer than a decision this replica has forgotten. */
  private mayBeForgotten(txnId: string): boolean {
    if (this.newestForgotten === null) return false;
    const parsed = parseTxnId(txnId);
    return parsed !== null && compareTxnIds(parsed, this.newestForgotten) <= 0;
  }

  private remember(txnId: string, decided: Decided): void {
    this.decided.set(txnId, decided);
    if (this.decided.size <= limits.decisionsRememberedMax) return;
    const oldest = this.decided.oldest()?.[0];
    if (oldest === undefined) return;
    this.decided.delete(oldest);
    const parsed = parseTxnId(oldest);
    if (parsed !== null && (this.newestForgotten === null || compareTxnIds(parsed, this.newestForgotten) > 0)) this.newestForgotten = parsed;
  }

  private tick(nowMs: number, out: Ready): void {
    for (const txn of this.prepared.values()) {
      if (txn.nextQueryAtMs > nowMs) continue;
      out.queries.push(txn.txnId);
      txn.nextQueryAtMs = nowMs + txn.queryBackoffMs;
      txn.queryBackoffMs = Math.min(txn.queryBackoffMs * 2, limits.outcomeQueryBackoffMsMax);
    }
  }

  /** Serves every parked read whose keys are free; times out the ones past their deadline. */
  private serveReads(nowMs: number, out: Ready): void {
    this.readsToCheck = false;
    const still: ParkedRead[] = [];
    for (const read of this.parkedReads) {
      const locked = read.keys.find((key) => this.locks.has(key));
      if (read.epoch < this.promisedEpoch.epoch && mutation() !== "skip-fence") {
        // Promised a newer epoch while the read waited: its answer could miss that epoch's writes.
        out.replies.push({ kind: "refused", callId: read.callId, code: "failed-precondition", message: fencedMessage(read.epoch, this.promisedEpoch.epoch, this.promisedEpoch.coordinatorId) });
      } else if (locked === undefined) {
        out.replies.push({ kind: "read", callId: read.callId, keys: read.keys });
      } else if (nowMs >= read.deadlineMs) {
        out.replies.push({
          kind: "read-timeout",
          callId: read.callId,
          message:
            `key ${JSON.stringify(locked)} stayed locked by prepared transaction ${this.locks.get(locked)} ` +
            `for ${limits.readWaitTimeoutMs} ms (readWaitTimeoutMs); its outcome is not known here yet, retry`,
        });
      } else {
        still.push(read);
      }
    }
    this.parkedReads = still;
  }
}
