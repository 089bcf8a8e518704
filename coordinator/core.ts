// The coordinator side of two-phase commit, as a pure state machine: the lock table, the 2PC
// driver, timeouts and the answers to replicas' outcome queries.
//
// No gRPC, fs, clock or randomness here: the shell (coordinator/server.ts) turns client calls and
// replica answers into Inputs and carries out each Ready through the StepLoop, which forces the
// decision records before any message or reply of the Ready leaves. Time arrives as nowMs.
//
// A write's life:
// 1. Lock its keys in the lock table (all at once, or none: a write never holds one key while it
//    waits for another, so writes cannot deadlock). A key held by another transaction refuses the
//    write with ABORTED, or with --on-conflict wait queues it (lockWaitTimeoutMs).
// 2. Send PREPARE to every participant; wait for every vote (prepareTimeoutMs).
// 3. Any NO vote, unreachable participant or timeout: abort. Nothing is logged (presumed abort);
//    ABORT goes to every participant, the locks are released and the client hears why.
// 4. Every vote YES: take the next commit sequence number and log the COMMIT decision (forced),
//    then send COMMIT to every participant.
// 5. Answer the client once every participant acknowledged (or commitAckWaitMs after the decision:
//    the decision is durable, the write will be applied everywhere). Keep the locks until every
//    acknowledgement is in, re-sending COMMIT with backoff; then log END (not forced) and forget.
//
// The in-sync set. Writes go to the replicas in sync (and to those catching up). A replica whose
// health checks fail for replicaDownAfterMs, or whose calls are refused once it has been reached
// (a replica still starting up refuses connections too), leaves the set (a forced
// membership record, naming the commit sequence number from which it missed writes), as long as
// at least minInSync replicas stay in it; otherwise it stays in, and writes fail fast until it is
// back, so the latest data is never left on fewer than minInSync replicas. Transactions it was
// preparing abort; COMMITs it had not acknowledged are owed to it (kept, without their locks, until
// it acknowledges), so the coordinator never answers "abort" to it about a commit. When it answers
// health checks again it catches up: it joins new transactions at once, and once every
// transaction older than that has finished it copies what it missed from an in-sync replica; then
// it is in sync again (another forced membership record). Reads go only to healthy in-sync
// replicas; the shell drops an answer from a replica that left the set while the read was out.
import { assert, assertNever } from "../common/assert";
import { Code, type CodeValue } from "../common/errors";
import { limits } from "../common/limits";
import { formatTxnId } from "../common/txn-id";
import type { Outcome, Write } from "../common/types";
import type { CoordinatorRecord } from "./records";

export type OnConflict = "abort" | "wait";

export type Input =
  | { readonly kind: "write"; readonly reqId: number; readonly writes: readonly Write[]; readonly nowMs: number }
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
   * An operator settles a transaction. `replicas` is what the replicas said they know of it
   * (the shell asked them), so that no choice contradicts a known decision.
   */
  | {
      readonly kind: "resolve";
      readonly reqId: number;
      readonly txnId: string;
      readonly choice: Outcome;
      readonly replicas: readonly { readonly replicaId: string; readonly state: "committed" | "aborted" | "prepared" | "unknown"; readonly commitSeq: number }[];
      readonly nowMs: number;
    }
  | { readonly kind: "tick"; readonly nowMs: number };

export type VoteItem =
  | { readonly txnId: string; readonly vote: "yes" }
  | { readonly txnId: string; readonly vote: "no"; readonly reason: string };

export type Message =
  | { readonly kind: "prepare"; readonly to: string; readonly txnId: string; readonly writes: readonly Write[]; readonly participants: readonly string[] }
  | { readonly kind: "commit"; readonly to: string; readonly txnId: string; readonly commitSeq: number }
  | { readonly kind: "abort"; readonly to: string; readonly txnId: string }
  /** Have replica `to` copy every row of version sinceSeq or later from replica sourceId. */
  | { readonly kind: "catch-up"; readonly to: string; readonly sourceId: string; readonly sinceSeq: number; readonly incarnation: number };

export type WriteResult =
  | { readonly ok: true; readonly commitSeq: number; readonly message?: string }
  | { readonly ok: false; readonly code: CodeValue; readonly message: string };

export type OutcomeItem =
  | { readonly txnId: string; readonly outcome: "commit"; readonly commitSeq: number }
  | { readonly txnId: string; readonly outcome: "abort" };

export interface Ready {
  /** Appended in order; the forced ones are durable before anything else in this Ready happens. */
  readonly persist: { readonly record: CoordinatorRecord; readonly force: boolean }[];
  readonly send: Message[];
  readonly replies: { readonly reqId: number; readonly result: WriteResult }[];
  readonly outcomes: { readonly queryId: number; readonly outcomes: OutcomeItem[] }[];
}

export function newReady(): Ready {
  return { persist: [], send: [], replies: [], outcomes: [] };
}

/**
 * preparing: collecting votes. committing: COMMIT decided, waiting for acknowledgements, keys locked.
 * owed: every in-sync participant acknowledged and the keys are free, but a participant that left
 * the in-sync set still owes its acknowledgement.
 */
export type Phase = "preparing" | "committing" | "owed";

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
  /** The client request waiting for this transaction; null once answered or after recovery. */
  reqId: number | null;
  readonly writes: readonly Write[];
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
  prepareDeadlineMs: number;
  commitSeq: number;
  readonly acked: Set<string>;
  replyAtMs: number;
  resendAtMs: number;
  resendBackoffMs: number;
}

interface QueuedWrite {
  readonly reqId: number;
  readonly writes: readonly Write[];
  readonly keys: readonly string[];
  readonly deadlineMs: number;
}

export interface CoordinatorConfig {
  readonly participants: readonly string[];
  readonly onConflict: OnConflict;
  /** Writes need at least this many replicas in sync. */
  readonly minInSync: number;
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
  /** COMMIT decisions not known to be acknowledged by every participant. */
  readonly unfinished: readonly { txnId: string; commitSeq: number; participants: readonly string[]; keys: readonly string[] }[];
  /** The last membership record, or null when the log has none (every replica is in sync). */
  readonly membership: Membership | null;
}

export class CoordinatorCore {
  readonly epoch: number;
  private lastCommitSeq: number;
  private txnCounter = 0;
  private readonly txns = new Map<string, Txn>();
  /** key -> id of the transaction holding it. */
  private readonly locks = new Map<string, string>();
  /** key -> writes queued behind its holder (--on-conflict wait). */
  private readonly waiters = new Map<string, QueuedWrite[]>();
  private queuedCount = 0;
  private readonly members = new Map<string, Member>();

  constructor(
    private readonly config: CoordinatorConfig,
    recovered: RecoveredCoordinator,
    nowMs: number,
  ) {
    assert(config.participants.length > 0, "a coordinator needs participants");
    assert(config.minInSync >= 1, "minInSync is at least 1");
    this.epoch = recovered.epoch;
    this.lastCommitSeq = recovered.lastCommitSeq;
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
      const txn = this.newTxn(decided.txnId, null, [], decided.keys, participants, nowMs);
      txn.phase = "committing";
      txn.commitSeq = decided.commitSeq;
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

  /** Replicas a read may go to: in sync and healthy, with their incarnations. */
  readable(): { id: string; incarnation: number }[] {
    return [...this.members.values()].filter((m) => m.state === "in-sync" && m.healthy).map((m) => ({ id: m.id, incarnation: m.incarnation }));
  }

  /** True while the replica is in sync, and has not left the set since `incarnation`. */
  stillReadable(id: string, incarnation: number): boolean {
    const member = this.members.get(id);
    return member !== undefined && member.state === "in-sync" && member.incarnation === incarnation;
  }

  /**
   * Every record a compacted log must hold so that recovery rebuilds what matters of this core:
   * the epoch and last commit sequence number, the in-sync set, and each COMMIT decision not yet
   * acknowledged by all its participants.
   */
  liveRecords(): CoordinatorRecord[] {
    const records: CoordinatorRecord[] = [this.startRecord(), this.membershipRecord()];
    for (const txn of this.txns.values()) {
      if (txn.phase === "preparing") continue; // no record: presumed abort if we crash
      records.push({ kind: "commit", txnId: txn.txnId, commitSeq: txn.commitSeq, participants: txn.participants, keys: txn.keys });
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
        this.onWrite(input.reqId, input.writes, input.nowMs, out);
        break;
      case "votes":
        for (const vote of input.votes) this.onVote(input.replicaId, vote, input.nowMs, out);
        break;
      case "unreachable":
        for (const txnId of input.txnIds) {
          const txn = this.txns.get(txnId);
          if (txn?.phase !== "preparing") continue;
          this.abort(txn, Code.UNAVAILABLE, `replica ${input.replicaId} could not be reached (${input.reason})`, input.nowMs, out);
        }
        if (input.down && this.members.get(input.replicaId)?.contacted === true) this.markDown(input.replicaId, input.reason, input.nowMs, out);
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
      default:
        assertNever(input);
    }
  }

  private onResolve(input: Extract<Input, { kind: "resolve" }>, out: Ready): void {
    const { reqId, txnId, choice } = input;
    const refuse = (message: string): void => {
      out.replies.push({ reqId, result: { ok: false, code: Code.FAILED_PRECONDITION, message: `cannot ${choice} ${txnId}: ${message}` } });
    };
    const done = (message: string, commitSeq = 0): void => {
      out.replies.push({ reqId, result: { ok: true, commitSeq, message } });
    };
    const txn = this.txns.get(txnId);
    if (txn?.phase === "committing" || txn?.phase === "owed") {
      if (choice === "abort") return refuse(`the coordinator decided COMMIT (commit sequence number ${txn.commitSeq})`);
      for (const to of txn.participants) {
        if (!txn.acked.has(to)) out.send.push({ kind: "commit", to, txnId, commitSeq: txn.commitSeq });
      }
      return done(`COMMIT re-sent to the replicas that had not acknowledged it`, txn.commitSeq);
    }
    if (txn?.phase === "preparing") {
      if (choice === "commit") return refuse("it is still collecting votes and has no COMMIT decision");
      this.abort(txn, Code.ABORTED, "aborted by an operator", input.nowMs, out);
      return done("aborted; ABORT sent to every replica");
    }
    // Not in flight here: finished, or of an earlier epoch. The replicas say what they know.
    const committed = input.replicas.find((replica) => replica.state === "committed");
    if (committed !== undefined) {
      if (choice === "abort") return refuse(`replica ${committed.replicaId} committed it (commit sequence number ${committed.commitSeq})`);
      for (const to of this.config.participants) out.send.push({ kind: "commit", to, txnId, commitSeq: committed.commitSeq });
      return done(`COMMIT (commit sequence number ${committed.commitSeq}, as replica ${committed.replicaId} has it) sent to every replica`, committed.commitSeq);
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

  private onWrite(reqId: number, writes: readonly Write[], nowMs: number, out: Ready): void {
    assert(writes.length > 0, "a write has at least one key");
    if (this.txns.size + this.queuedCount >= limits.inFlightTxnsMax) {
      out.replies.push({
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
      out.replies.push({ reqId, result: { ok: false, code: Code.UNAVAILABLE, message: refusal } });
      return;
    }
    const keys = [...new Set(writes.map((write) => write.key))].sort();
    this.tryStart({ reqId, writes, keys, deadlineMs: nowMs + limits.lockWaitTimeoutMs }, nowMs, out);
  }

  /** Takes every lock of the write and starts it, or refuses it, or queues it behind a held key. */
  private tryStart(write: QueuedWrite, nowMs: number, out: Ready): void {
    const held = write.keys.find((key) => this.locks.has(key));
    if (held !== undefined) {
      const holder = this.txns.get(this.locks.get(held)!);
      assert(holder !== undefined, `lock on ${held} held by a forgotten transaction`);
      if (this.config.onConflict === "abort") {
        out.replies.push({
          reqId: write.reqId,
          result: {
            ok: false,
            code: Code.ABORTED,
            message: `key ${JSON.stringify(held)} is being written by transaction ${holder.txnId} (${holder.phase}); retry`,
          },
        });
        return;
      }
      const queue = this.waiters.get(held) ?? [];
      if (queue.length >= limits.lockWaitersPerKeyMax) {
        out.replies.push({
          reqId: write.reqId,
          result: {
            ok: false,
            code: Code.ABORTED,
            message: `key ${JSON.stringify(held)} already has ${limits.lockWaitersPerKeyMax} writes waiting (lockWaitersPerKeyMax); retry`,
          },
        });
        return;
      }
      queue.push(write);
      this.waiters.set(held, queue);
      this.queuedCount += 1;
      return;
    }
    this.txnCounter += 1;
    const participants = [...this.members.values()].filter((m) => m.state !== "out").map((m) => m.id);
    const txn = this.newTxn(formatTxnId(this.epoch, this.txnCounter), write.reqId, write.writes, write.keys, participants, nowMs);
    for (const key of txn.keys) this.locks.set(key, txn.txnId);
    this.txns.set(txn.txnId, txn);
    for (const to of txn.participants) {
      out.send.push({ kind: "prepare", to, txnId: txn.txnId, writes: txn.writes, participants: txn.participants });
    }
  }

  private newTxn(
    txnId: string,
    reqId: number | null,
    writes: readonly Write[],
    keys: readonly string[],
    participants: readonly string[],
    nowMs: number,
  ): Txn {
    return {
      txnId,
      reqId,
      writes,
      keys,
      participants,
      required: new Set(participants),
      owed: new Set(),
      startedMs: nowMs,
      phase: "preparing",
      votedYes: new Set(),
      prepareDeadlineMs: nowMs + limits.prepareTimeoutMs,
      commitSeq: 0,
      acked: new Set(),
      replyAtMs: 0,
      resendAtMs: 0,
      resendBackoffMs: limits.decisionResendMsMin,
    };
  }

  private onVote(replicaId: string, vote: VoteItem, nowMs: number, out: Ready): void {
    const txn = this.txns.get(vote.txnId);
    if (txn === undefined) {
      // Aborted already (a timeout, or another NO). Make sure this replica lets go of it.
      if (vote.vote === "yes") out.send.push({ kind: "abort", to: replicaId, txnId: vote.txnId });
      return;
    }
    if (txn.phase !== "preparing") return;
    assert(txn.participants.includes(replicaId), `vote from ${replicaId}, not a participant of ${txn.txnId}`);
    if (vote.vote === "no") {
      this.abort(txn, Code.ABORTED, `replica ${replicaId} voted NO: ${vote.reason}`, nowMs, out);
      return;
    }
    txn.votedYes.add(replicaId);
    for (const id of txn.required) if (!txn.votedYes.has(id)) return;
    // Every participant voted YES: decide COMMIT. The StepLoop forces this record before the
    // COMMIT messages below leave.
    this.lastCommitSeq += 1;
    txn.phase = "committing";
    txn.commitSeq = this.lastCommitSeq;
    txn.replyAtMs = nowMs + limits.commitAckWaitMs;
    txn.resendAtMs = nowMs + txn.resendBackoffMs;
    out.persist.push({
      record: { kind: "commit", txnId: txn.txnId, commitSeq: txn.commitSeq, participants: txn.participants, keys: txn.keys },
      force: true,
    });
    for (const to of txn.participants) out.send.push({ kind: "commit", to, txnId: txn.txnId, commitSeq: txn.commitSeq });
  }

  private onAck(replicaId: string, txnId: string, nowMs: number, out: Ready): void {
    const txn = this.txns.get(txnId);
    if (txn === undefined || txn.phase === "preparing") return;
    txn.acked.add(replicaId);
    txn.owed.delete(replicaId);
    this.checkCommitted(txn, nowMs, out);
  }

  /** Answers, unlocks and forgets a committing transaction as its acknowledgements come in. */
  private checkCommitted(txn: Txn, nowMs: number, out: Ready): void {
    if (txn.phase === "committing") {
      for (const id of txn.required) if (!txn.acked.has(id)) return;
      this.reply(txn, { ok: true, commitSeq: txn.commitSeq }, out);
      txn.phase = "owed";
      this.release(txn, nowMs, out);
    }
    if (txn.phase === "owed" && txn.owed.size === 0) {
      out.persist.push({ record: { kind: "end", txnId: txn.txnId }, force: false });
      this.txns.delete(txn.txnId);
    }
  }

  /** Aborts a transaction still preparing: nothing to log (presumed abort). */
  private abort(txn: Txn, code: CodeValue, reason: string, nowMs: number, out: Ready): void {
    assert(txn.phase === "preparing", `abort of ${txn.txnId} after its COMMIT decision`);
    for (const to of txn.participants) out.send.push({ kind: "abort", to, txnId: txn.txnId });
    this.reply(txn, { ok: false, code, message: `transaction ${txn.txnId} aborted, nothing was written: ${reason}` }, out);
    this.txns.delete(txn.txnId);
    this.release(txn, nowMs, out);
  }

  private reply(txn: Txn, result: WriteResult, out: Ready): void {
    if (txn.reqId === null) return;
    out.replies.push({ reqId: txn.reqId, result });
    txn.reqId = null;
  }

  /** Hands a finished transaction's keys to the writes queued behind them. */
  private release(txn: Txn, nowMs: number, out: Ready): void {
    for (const member of this.members.values()) {
      if (member.catchUpWaitFor?.delete(txn.txnId) && member.catchUpWaitFor.size === 0) this.sendCatchUp(member, nowMs, out);
    }
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
    if (txn === undefined) return [{ txnId, outcome: "abort" }];
    if (txn.phase === "preparing") return [];
    return [{ txnId, outcome: "commit", commitSeq: txn.commitSeq }];
  }


  private onTick(nowMs: number, out: Ready): void {
    for (const txn of [...this.txns.values()]) {
      if (this.txns.get(txn.txnId) !== txn) continue; // aborted meanwhile, by a leave an abort set off
      switch (txn.phase) {
        case "preparing":
          if (nowMs >= txn.prepareDeadlineMs) {
            const silent = txn.participants.filter((id) => !txn.votedYes.has(id));
            this.abort(
              txn,
              Code.UNAVAILABLE,
              `replica(s) ${silent.join(", ")} did not vote within ${limits.prepareTimeoutMs} ms (prepareTimeoutMs)`,
              nowMs,
              out,
            );
          }
          break;
        case "committing":
        case "owed":
          if (nowMs >= txn.replyAtMs) this.reply(txn, { ok: true, commitSeq: txn.commitSeq }, out);
          if (nowMs >= txn.resendAtMs) {
            for (const to of txn.participants) {
              if (!txn.acked.has(to)) out.send.push({ kind: "commit", to, txnId: txn.txnId, commitSeq: txn.commitSeq });
            }
            txn.resendAtMs = nowMs + txn.resendBackoffMs;
            txn.resendBackoffMs = Math.min(txn.resendBackoffMs * 2, limits.decisionResendMsMax);
          }
          break;
        default:
          assertNever(txn.phase);
      }
    }
    if (this.queuedCount > 0) this.expireWaiters(nowMs, out);
    for (const member of this.members.values()) {
      if (member.state !== "out" && nowMs - member.lastOkMs > limits.replicaDownAfterMs) {
        this.markDown(member.id, `no answer to health checks for ${limits.replicaDownAfterMs} ms (replicaDownAfterMs)`, nowMs, out);
      }
    }
  }

  /** Why writes are refused now, or null when they may go ahead. */
  private writesRefused(): string | null {
    const inSync = [...this.members.values()].filter((m) => m.state === "in-sync");
    const need = `${inSync.length} of ${this.members.size} replicas are in sync and writes need at least ${this.config.minInSync} (--min-in-sync)`;
    if (inSync.length < this.config.minInSync) return `${need}; writes resume once enough replicas are back and caught up`;
    const down = inSync.filter((m) => !m.healthy).map((m) => m.id);
    if (down.length > 0) return `replica(s) ${down.join(", ")} are down and cannot leave the in-sync set: ${need}; writes resume when they are back`;
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
      if (txn.phase !== "preparing" && txn.participants.includes(id) && !txn.acked.has(id)) first = Math.min(first, txn.commitSeq);
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
      if (txn.phase === "preparing") {
        this.abort(txn, Code.UNAVAILABLE, `replica ${member.id} left the in-sync set (${reason})`, nowMs, out);
      } else if (!txn.acked.has(member.id)) {
        txn.required.delete(member.id);
        txn.owed.add(member.id);
        this.checkCommitted(txn, nowMs, out);
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
        out.replies.push({
          reqId: write.reqId,
          result: {
            ok: false,
            code: Code.ABORTED,
            message: `waited ${limits.lockWaitTimeoutMs} ms (lockWaitTimeoutMs) for key ${JSON.stringify(key)}, held by another write; retry`,
          },
        });
        return false;
      });
      this.queuedCount -= queue.length - still.length;
      if (still.length === 0) this.waiters.delete(key);
      else this.waiters.set(key, still);
    }
  }
}
