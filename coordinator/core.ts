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
  | { readonly kind: "unreachable"; readonly replicaId: string; readonly txnIds: readonly string[]; readonly reason: string; readonly nowMs: number }
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
  | { readonly kind: "abort"; readonly to: string; readonly txnId: string };

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

export type Phase = "preparing" | "committing";

export interface Txn {
  readonly txnId: string;
  /** The client request waiting for this transaction; null once answered or after recovery. */
  reqId: number | null;
  readonly writes: readonly Write[];
  /** Sorted, without duplicates. */
  readonly keys: readonly string[];
  readonly participants: readonly string[];
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
}

/** What recovery found in the decision log (coordinator/recovery.ts). */
export interface RecoveredCoordinator {
  /** The epoch of this run: one more than any epoch in the log. */
  readonly epoch: number;
  readonly lastCommitSeq: number;
  /** COMMIT decisions not known to be acknowledged by every participant. */
  readonly unfinished: readonly { txnId: string; commitSeq: number; participants: readonly string[]; keys: readonly string[] }[];
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

  constructor(
    private readonly config: CoordinatorConfig,
    recovered: RecoveredCoordinator,
    nowMs: number,
  ) {
    assert(config.participants.length > 0, "a coordinator needs participants");
    this.epoch = recovered.epoch;
    this.lastCommitSeq = recovered.lastCommitSeq;
    for (const decided of recovered.unfinished) {
      // The decision is durable; only the acknowledgements are missing. Re-send COMMIT at once.
      const txn = this.newTxn(decided.txnId, null, [], decided.keys, decided.participants, nowMs);
      txn.phase = "committing";
      txn.commitSeq = decided.commitSeq;
      txn.resendAtMs = nowMs;
      for (const key of decided.keys) {
        assert(!this.locks.has(key), `two unfinished commits lock key ${key}`);
        this.locks.set(key, txn.txnId);
      }
      this.txns.set(txn.txnId, txn);
    }
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
        break;
      case "acks":
        for (const txnId of input.txnIds) this.onAck(input.replicaId, txnId, input.nowMs, out);
        break;
      case "outcome-query":
        out.outcomes.push({ queryId: input.queryId, outcomes: input.txnIds.map((txnId) => this.outcomeFor(txnId, input.nowMs, out)) });
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
    if (txn?.phase === "committing") {
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

  /** True while something waits on time. */
  hasTimers(): boolean {
    return this.txns.size > 0 || this.queuedCount > 0;
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
    const txn = this.newTxn(formatTxnId(this.epoch, this.txnCounter), write.reqId, write.writes, write.keys, this.config.participants, nowMs);
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
    if (txn.votedYes.size < txn.participants.length) return;
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
    if (txn === undefined || txn.phase !== "committing") return;
    txn.acked.add(replicaId);
    if (txn.acked.size < txn.participants.length) return;
    this.reply(txn, { ok: true, commitSeq: txn.commitSeq }, out);
    out.persist.push({ record: { kind: "end", txnId }, force: false });
    this.finish(txn, nowMs, out);
  }

  /** Aborts a transaction still preparing: nothing to log (presumed abort). */
  private abort(txn: Txn, code: CodeValue, reason: string, nowMs: number, out: Ready): void {
    assert(txn.phase === "preparing", `abort of ${txn.txnId} after its COMMIT decision`);
    for (const to of txn.participants) out.send.push({ kind: "abort", to, txnId: txn.txnId });
    this.reply(txn, { ok: false, code, message: `transaction ${txn.txnId} aborted, nothing was written: ${reason}` }, out);
    this.finish(txn, nowMs, out);
  }

  private reply(txn: Txn, result: WriteResult, out: Ready): void {
    if (txn.reqId === null) return;
    out.replies.push({ reqId: txn.reqId, result });
    txn.reqId = null;
  }

  /** Forgets a transaction and hands its keys to the writes queued behind them. */
  private finish(txn: Txn, nowMs: number, out: Ready): void {
    this.txns.delete(txn.txnId);
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

  private outcomeFor(txnId: string, nowMs: number, out: Ready): OutcomeItem {
    const txn = this.txns.get(txnId);
    if (txn === undefined) return { txnId, outcome: "abort" }; // presumed abort
    if (txn.phase === "committing") return { txnId, outcome: "commit", commitSeq: txn.commitSeq };
    // Still collecting votes, yet a participant already asks: abort now, so that the answer holds.
    this.abort(txn, Code.UNAVAILABLE, "a replica asked for its outcome before every vote arrived", nowMs, out);
    return { txnId, outcome: "abort" };
  }

  private onTick(nowMs: number, out: Ready): void {
    for (const txn of [...this.txns.values()]) {
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
