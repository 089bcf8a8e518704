// The coordinator node: everything protocol-shaped the coordinator process does, over an injected
// environment (common/env.ts: clock, timers, durable log) and a transport to its replicas.
// coordinator/server.ts is the gRPC adapter around it (decode a request, call the node, encode its
// answer); the deterministic simulator (test/sim/) runs this very node over its virtual world.
//
// What the node does: recovery and the start record (forced before it serves); every request, vote,
// acknowledgement, health check and timer tick becomes an input of the pure core
// (coordinator/core.ts), stepped through the StepLoop, which forces COMMIT decisions before any
// COMMIT or reply leaves; the links to the replicas batch the core's messages (Batcher); reads go
// where the core's read routing says (readTargets, readAccepted, over the view the core publishes
// in every Ready); an operator's Resolve is decided in the step (the core asks for what the replicas
// know when it needs it); Status asks the core through an input. Nothing here reads the core
// between steps.
import { assert, assertNever } from "../common/assert";
import { Code, fencedBy } from "../common/errors";
import type { CallResult, NodeLog, Scheduler } from "../common/env";
import { failpoint, fire, hit } from "../common/failpoints";
import type { RequestMethod } from "../common/fingerprint";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { StepLoop } from "../common/step-loop";
import type { KeyState, Program } from "../common/txn";
import type { Outcome, PeerState, Write } from "../common/types";
import {
  CoordinatorCore,
  gcFloorFor,
  newReady,
  readAccepted,
  readTargets,
  type CoreReport,
  type CoreView,
  type Input,
  type Message,
  type OnConflict,
  type OutcomeItem,
  type Ready,
  type ReplicaKnowledge,
  type TxnStatus,
  type VoteItem,
  type WriteResult,
} from "./core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord } from "./records";
import { recoverCoordinator } from "./recovery";
import { quorumOf } from "../common/quorum";
import type { AppendRequest } from "./replicated-log";
import type { CopyPage, PromiseAnswer } from "./takeover";
import { compactionDue } from "../common/compaction";
import { mutation } from "../common/mutations";
import type { PhaseTrace } from "./trace";
import { ReadBatcher, type ReadRow } from "./read-batcher";

export type { ReadRow } from "./read-batcher";

export interface ParticipantStatus {
  readonly appliedSeq: number;
  readonly prepared: readonly { readonly txnId: string; readonly keys: readonly string[]; readonly ageMs: number }[];
  readonly keys: number;
}

type PrepareMessage = Extract<Message, { kind: "prepare" }>;
type CommitMessage = Extract<Message, { kind: "commit" }>;
type AbortMessage = Extract<Message, { kind: "abort" }>;
type CatchUpMessage = Extract<Message, { kind: "catch-up" }>;

/** The calls the node makes to one replica (gRPC in production, the simulated network in the simulator). */
export interface ParticipantCalls {
  /** Votes of the replica (a vote value it does not know is left out: no vote). */
  prepare(txns: readonly PrepareMessage[], timeoutMs: number, done: (result: CallResult<VoteItem[]>) => void): void;
  /** gcFloor: the tombstone collection floor for this replica (gcFloorFor), carried along with the commits. */
  /** urgent: a write waits for these keys; the replica forces the commits at once (limits.commitForceWaitMs). */
  commit(txns: readonly { txnId: string; commitSeq: number; writes: readonly Write[] }[], gcFloor: number, urgent: boolean, timeoutMs: number, done: (result: CallResult<string[]>) => void): void;
  abort(txnIds: readonly string[], timeoutMs: number, done: (result: CallResult<string[]>) => void): void;
  read(keys: readonly string[], timeoutMs: number, done: (result: CallResult<ReadRow[]>) => void): void;
  inspect(txnIds: readonly string[], timeoutMs: number, done: (result: CallResult<PeerState[]>) => void): void;
  /** Has the replica copy what it missed from replica sourceId; answers the rows copied. */
  catchUp(sourceId: string, sinceSeq: number, timeoutMs: number, done: (result: CallResult<number>) => void): void;
  status(timeoutMs: number, done: (result: CallResult<ParticipantStatus>) => void): void;
  /** One health check: true when the replica answers SERVING. */
  checkHealth(timeoutMs: number, done: (result: CallResult<boolean>) => void): void;
  /** Failover: asks the replica to promise this epoch (coordinator/takeover.ts). */
  promise(timeoutMs: number, done: (result: CallResult<PromiseAnswer>) => void): void;
  /** Failover: a page of the replica's copy of the decision log (coordinator/takeover.ts readCopy). */
  readCopy(fromIndex: number, timeoutMs: number, done: (result: CallResult<CopyPage>) => void): void;
  /** Failover: records of the decision log (coordinator/replicated-log.ts). */
  append(request: AppendRequest, timeoutMs: number, done: (result: CallResult<{ logEpoch: number; logIndex: number }>) => void): void;
}

/** A test probe: sees every input before the core steps it, and every turn's Ready. */
export interface CoordinatorProbe {
  step?(input: Input, core: CoordinatorCore): void;
  turn?(inputs: readonly Input[], ready: Ready, core: CoordinatorCore): void;
}

export interface CoordinatorNodeOptions {
  readonly replicaIds: readonly string[];
  readonly onConflict: OnConflict;
  readonly minInSync: number;
  /** The cache of committed key states, in bytes (coordinator/value-cache.ts); 0: none. Default limits.valueCacheBytesMax. */
  readonly valueCacheBytes?: number | undefined;
  readonly scheduler: Scheduler;
  readonly log: NodeLog;
  readonly replayed: { readonly records: readonly Buffer[]; readonly firstLsn: number; readonly tornBytes: number };
  readonly replicas: (replicaId: string) => ParticipantCalls;
  /** Compact the decision log once log.size reaches this (and twice its size after the last compaction). */
  readonly compactLogSize: number;
  readonly logger: Logger;
  /** An injected I/O error before a log write: as after a failed fsync, the process must stop. */
  readonly exit: (reason: string) => void;
  readonly probe?: CoordinatorProbe;
  /**
   * Failover: the epoch the replicas promised this node (coordinator/takeover.ts); it replaces the
   * one recovery derives from the log, which it must exceed.
   */
  readonly epoch?: number;
  /** A replica refused a call as fenced by a newer epoch: this node is superseded and must stand down. */
  readonly fenced?: (byEpoch: number, replicaId: string) => void;
  /** After a takeover: transactions the promising replicas hold prepared (settled once the node serves). */
  readonly inDoubt?: readonly string[];
  /** Per-phase latency of requests (coordinator/trace.ts); none in the simulator. */
  readonly trace?: PhaseTrace;
  /** The process's metrics (coordinator/metrics.ts); none in the simulator. */
  readonly metrics?: NodeMetrics;
}

/** The kinds of batched call a link sends a replica (Batcher), as the metrics name them. */
export type BatchKind = "prepare" | "commit" | "abort";

/**
 * What the node counts as it goes, for the process's metrics (coordinator/metrics.ts): each call
 * hands over a figure the node has at hand already, so the hot path does no work of its own for
 * them. It outlives the node (a takeover builds a new node in the same process).
 */
export interface NodeMetrics {
  /** A client's write, or an operator's resolve, was answered with this result. */
  answered(result: WriteResult): void;
  /** A batched call left for a replica carrying `size` messages. */
  batchSent(kind: BatchKind, size: number): void;
}

/** What Status reports of the coordinator and of each replica. */
export interface CoordinatorStatus {
  readonly report: CoreReport;
  readonly view: CoreView;
  readonly replicas: readonly { readonly id: string; readonly status: CallResult<ParticipantStatus> }[];
}

const statusCallTimeoutMs = 1_000;

/** One turn of the loop: the core's Ready, and its view at the end of the step. */
interface Turn {
  readonly ready: Ready;
  readonly view: CoreView;
}

/**
 * Collects items and sends them in batches, with a bounded number of calls in flight. A batch holds
 * at most txnsPerBatchMax items and batchBytesMax bytes (by sizeOf), and at least one item.
 * Batching: while fewer than callsInFlightPerReplicaMax calls are in flight, a message leaves at
 * once; otherwise it waits, and the next call carries everything that piled up. Under load, one
 * round trip and one log force on the replica serve many transactions; when idle, nothing waits.
 */
export class Batcher<T> {
  private queue: T[] = [];
  private inFlight = 0;
  /** Calls made and items they carried, for status and benchmarks. */
  calls = 0;
  items = 0;

  constructor(
    /** Sends one batch; calls done when the call is over, answered or not. */
    private readonly send: (batch: T[], done: () => void) => void,
    private readonly sizeOf: (item: T) => number = () => 0,
  ) {}

  push(item: T): void {
    this.queue.push(item);
  }

  /** Items waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  flush(): void {
    while (this.queue.length > 0 && this.inFlight < limits.callsInFlightPerReplicaMax) {
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < limits.txnsPerBatchMax) {
        bytes += this.sizeOf(this.queue[count]!);
        if (count > 0 && bytes > limits.batchBytesMax) break;
        count += 1;
      }
      const batch = this.queue.splice(0, count);
      this.inFlight += 1;
      this.calls += 1;
      this.items += batch.length;
      this.send(batch, () => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }
}

/** The node's link to one replica: batches the core's messages into calls, turns answers into inputs (exported for its tests). */
export class ReplicaLink {
  private readonly prepares: Batcher<PrepareMessage>;
  private readonly commits: Batcher<CommitMessage>;
  private readonly aborts: Batcher<AbortMessage>;
  private commitAckHooks: { txnId: string; hook: () => void }[] = [];
  private readonly reads: ReadBatcher;
  /** A COMMIT waiting to be sent is urgent (a write waits for its keys): it does not linger. */
  private urgentPending = false;
  /** Cancels the timer of COMMITs lingering for company; null when none linger. */
  private lingering: (() => void) | null = null;
  private stopped = false;
  /** The highest collection floor sent to this replica, with commits or alone (pushFloor). */
  private floorSent = 0;
  /** A COMMIT of no transactions, carrying the floor alone, is in flight (pushFloor). */
  private floorPushing = false;
  /**
   * When the replica last answered a PREPARE or COMMIT call, with no call to it failing since (its
   * health check may be skipped); -Infinity once one failed.
   */
  lastAnswerMs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly id: string,
    readonly calls: ParticipantCalls,
    private readonly toCore: (input: Input) => void,
    private readonly scheduler: Scheduler,
    private readonly logger: Logger,
    /** Sees every failed call: a fenced one means this coordinator was superseded. */
    private readonly failedCall: (reason: string) => void,
    private readonly trace: PhaseTrace | undefined,
    /** The collection floor for this replica in the node's latest view (gcFloorFor), read as a call leaves. */
    private readonly gcFloor: () => number,
    private readonly metrics?: NodeMetrics,
  ) {
    this.prepares = new Batcher((batch, done) => this.sendPrepares(batch, done), prepareBytes);
    this.commits = new Batcher((batch, done) => this.sendCommits(batch, done));
    this.aborts = new Batcher((batch, done) => this.sendAborts(batch, done));
    this.reads = new ReadBatcher(id, (keys, done) => this.calls.read(keys, limits.readCallTimeoutMs, done), scheduler);
  }

  enqueue(message: Message): void {
    switch (message.kind) {
      case "prepare":
        this.prepares.push(message);
        break;
      case "commit":
        this.commits.push(message);
        if (message.urgent) this.urgentPending = true;
        break;
      case "abort":
        this.aborts.push(message);
        break;
      case "catch-up":
        this.catchUp(message);
        break;
      default:
        assertNever(message);
    }
  }

  /** Reads keys at this replica, sharing a call with the other reads of this turn (ReadBatcher). */
  readBatched(keys: readonly string[], done: (result: CallResult<ReadRow[]>) => void): void {
    // A read of a key a lingering COMMIT unlocks would wait for it at the replica: it goes first.
    if (this.lingering !== null) this.flushNow();
    this.reads.read(keys, done);
  }

  /** Runs hook once this replica acknowledged the commit of txnId (for failpoints). */
  afterCommitAck(txnId: string, hook: () => void): void {
    this.commitAckHooks.push({ txnId, hook });
  }

  /**
   * Decisions first: an ABORT or COMMIT releases locks on the replica, and a PREPARE that follows it
   * on this channel finds them free (a transaction run again without a lost replica prepares the
   * same keys its aborted attempt holds: retryWithout). Calls on one channel are served in the order
   * they were made.
   */
  flush(): void {
    if (this.stopped) return;
    // COMMITs that no write waits for, with nothing else to send, linger for company (at one client
    // the next PREPARE to this replica comes within a millisecond, and they travel in one message).
    if (this.commits.pending > 0 && !this.urgentPending && this.prepares.pending === 0 && this.aborts.pending === 0 && limits.commitLingerMs > 0) {
      this.lingering ??= this.scheduler.after(limits.commitLingerMs, () => {
        this.lingering = null;
        this.flushNow();
      });
      return;
    }
    this.flushNow();
  }

  private flushNow(): void {
    if (this.stopped) return;
    this.lingering?.();
    this.lingering = null;
    this.urgentPending = false;
    this.aborts.flush();
    this.commits.flush();
    this.prepares.flush();
  }

  /** The node stood down: nothing more leaves, lingering COMMITs included (the successor re-sends them). */
  stop(): void {
    this.stopped = true;
    this.lingering?.();
    this.lingering = null;
  }

  /** A PREPARE, COMMIT or ABORT call failed: no answer stands for a health check any more. */
  private callFailed(reason: string): void {
    this.lastAnswerMs = Number.NEGATIVE_INFINITY;
    this.failedCall(reason);
  }

  private catchUp(message: CatchUpMessage): void {
    this.logger.info(
      { event: "catch-up", replica: this.id, source: message.sourceId, sinceSeq: message.sinceSeq },
      `replica ${this.id} catches up from ${message.sourceId} (commits from ${message.sinceSeq} on)`,
    );
    this.calls.catchUp(message.sourceId, message.sinceSeq, limits.catchUpTimeoutMs, (result) => {
      if (!result.ok) this.failedCall(result.reason);
      this.toCore({
        kind: "caught-up",
        replicaId: this.id,
        incarnation: message.incarnation,
        ok: result.ok,
        reason: result.ok ? `${result.value} rows copied` : result.reason,
        nowMs: this.scheduler.nowMs(),
      });
    });
  }

  private sendPrepares(batch: PrepareMessage[], done: () => void): void {
    this.trace?.mark("prepareSent", batch.map((m) => m.txnId));
    this.metrics?.batchSent("prepare", batch.length);
    this.calls.prepare(batch, limits.replicaCallTimeoutMs, (result) => {
      const nowMs = this.scheduler.nowMs();
      if (!result.ok) {
        this.callFailed(result.reason);
        this.logger.debug({ event: "prepare-failed", replica: this.id, reason: result.reason, txns: batch.length }, "prepare call failed");
        const down = result.code === Code.UNAVAILABLE;
        this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: batch.map((m) => m.txnId), reason: result.reason, down, nowMs });
      } else {
        this.lastAnswerMs = nowMs;
        // Only votes for transactions of this batch, one each: a reply is input too.
        const asked = new Set(batch.map((m) => m.txnId));
        const votes = result.value.filter((vote) => asked.delete(vote.txnId));
        const answered = new Set(votes.map((vote) => vote.txnId));
        this.trace?.mark("votesIn", answered);
        const missing = batch.filter((m) => !answered.has(m.txnId)).map((m) => m.txnId);
        this.toCore({ kind: "votes", replicaId: this.id, votes, nowMs });
        if (missing.length > 0) {
          this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: missing, reason: "the replica returned no vote", down: false, nowMs });
        }
      }
      done();
    });
  }

  /**
   * Sends the collection floor alone (a COMMIT of no transactions) when it rose since the last one
   * this replica was sent and no COMMIT waits to carry it. Floors otherwise travel only with
   * commits, and a cluster that went idle would leave each replica with the floor of the commit
   * before its last: a backup's snapshot waits for a floor that covers it (replica/node.ts
   * snapshotMoment), and tombstone collection waits for floors too. The node calls it on its health
   * check timer; at most one such call is in flight, and none while the floor has not moved.
   */
  pushFloor(): void {
    if (this.stopped || this.floorPushing || this.commits.pending > 0 || this.lingering !== null) return;
    const floor = this.gcFloor();
    if (floor <= this.floorSent) return;
    const before = this.floorSent;
    this.floorSent = floor;
    this.floorPushing = true;
    this.calls.commit([], floor, false, limits.replicaCallTimeoutMs, (result) => {
      this.floorPushing = false;
      if (result.ok) return;
      // Not heard: the next tick sends it again.
      this.floorSent = Math.min(this.floorSent, before);
      this.callFailed(result.reason);
    });
  }

  private sendCommits(batch: CommitMessage[], done: () => void): void {
    const txns = batch.map((message) => ({ txnId: message.txnId, commitSeq: message.commitSeq, writes: message.writes ?? [] }));
    this.trace?.mark("commitSent", txns.map((txn) => txn.txnId));
    this.metrics?.batchSent("commit", batch.length);
    const floor = this.gcFloor();
    this.floorSent = Math.max(this.floorSent, floor);
    this.calls.commit(txns, floor, batch.some((message) => message.urgent), limits.replicaCallTimeoutMs, (result) => {
      if (!result.ok) {
        // The core re-sends unacknowledged commits with backoff; a refused connection means the
        // replica is down, which the core hears at once (it may then leave the in-sync set).
        this.callFailed(result.reason);
        this.logger.debug({ event: "commit-failed", replica: this.id, err: result.reason }, "commit call failed");
        if (result.code === Code.UNAVAILABLE) {
          this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: [], reason: `commit call failed: ${result.reason}`, down: true, nowMs: this.scheduler.nowMs() });
        }
      } else {
        this.lastAnswerMs = this.scheduler.nowMs();
        // Only acknowledgements of transactions of this batch: a reply is input too.
        const sent = new Set(txns.map((txn) => txn.txnId));
        const acked = new Set(result.value.filter((txnId) => sent.has(txnId)));
        this.trace?.mark("acksIn", acked);
        this.toCore({ kind: "acks", replicaId: this.id, txnIds: [...acked], nowMs: this.scheduler.nowMs() });
        if (this.commitAckHooks.length > 0) {
          const due = this.commitAckHooks.filter((entry) => acked.has(entry.txnId));
          this.commitAckHooks = this.commitAckHooks.filter((entry) => !acked.has(entry.txnId));
          for (const entry of due) entry.hook();
        }
      }
      done();
    });
  }

  private sendAborts(batch: AbortMessage[], done: () => void): void {
    // Best effort (presumed abort): a replica that misses it asks for the outcome later.
    this.metrics?.batchSent("abort", batch.length);
    this.calls.abort(
      batch.map((message) => message.txnId),
      limits.replicaCallTimeoutMs,
      (result) => {
        if (!result.ok) {
          this.callFailed(result.reason);
          this.logger.debug({ event: "abort-failed", replica: this.id, err: result.reason }, "abort call failed");
        }
        done();
      },
    );
  }
}

export class CoordinatorNode {
  /** The core, for the simulator's checks only: nothing in this node reads it between steps. */
  readonly core: CoordinatorCore;
  readonly epoch: number;
  /** What recovery found, for the simulator's counts. */
  readonly recovery: { readonly records: number; readonly tornBytes: number; readonly unfinished: number; readonly remembered: number; readonly lastCommitSeq: number };
  private readonly loop: StepLoop<Input, Turn>;
  private readonly links = new Map<string, ReplicaLink>();
  private readonly pendingWrites = new Map<number, (result: WriteResult) => void>();
  private readonly pendingQueries = new Map<number, (outcomes: OutcomeItem[]) => void>();
  private readonly pendingStatuses = new Map<number, (status: TxnStatus) => void>();
  private readonly pendingReports = new Map<number, (report: CoreReport) => void>();
  private nextRequestId = 1;
  /** The membership and readiness the core published with its last Ready. */
  private view: CoreView;
  /**
   * Each replica's health as of the newest turn stepped (immediate): health is no durable state, and
   * reads must stop going to a replica that is down even while a force holds up the turns' views.
   */
  private latestView: CoreView | null = null;
  /** Recovered commits not yet acknowledged by every replica, for the log line when each settles. */
  private readonly unsettled: Set<string>;
  private compactedSize = 0;
  /** Failpoint mid-commit-fanout: COMMITs held back from every replica but one. */
  private fanoutHold: { txnIds: Set<string>; to: string } | null = null;
  private readonly checking = new Set<string>();
  private readonly stops: (() => void)[] = [];
  /** Stood down (abandon): nothing more is answered or sent. */
  private stopped = false;

  constructor(private readonly options: CoordinatorNodeOptions) {
    const { replayed, logger, scheduler } = options;
    assert(options.replicaIds.length > 0, "the coordinator needs replicas");
    // Recovery: every COMMIT decision not acknowledged by all replicas is re-sent; any transaction
    // without a decision record is aborted (presumed abort: replicas asking about it hear ABORT).
    const records = replayed.records.map((payload, i) => decodeCoordinatorRecord(payload, replayed.firstLsn + i));
    const fromLog = recoverCoordinator(records);
    assert(options.epoch === undefined || options.epoch >= fromLog.epoch, `epoch ${options.epoch} is not newer than the log's ${fromLog.epoch - 1}`);
    const recovered = options.epoch === undefined ? fromLog : { ...fromLog, epoch: options.epoch };
    this.core = new CoordinatorCore({ participants: options.replicaIds, onConflict: options.onConflict, minInSync: options.minInSync, valueCacheBytes: options.valueCacheBytes }, recovered, scheduler.nowMs());
    this.epoch = this.core.epoch;
    this.view = this.core.view();
    this.unsettled = new Set(recovered.unfinished.map((txn) => txn.txnId));
    this.recovery = { records: records.length, tornBytes: replayed.tornBytes, unfinished: recovered.unfinished.length, remembered: recovered.remembered.length, lastCommitSeq: recovered.lastCommitSeq };
    logger.info(
      { event: "recovered", epoch: this.epoch, logRecords: records.length, tornBytesDropped: replayed.tornBytes, lastCommitSeq: recovered.lastCommitSeq, unfinishedCommits: [...this.unsettled] },
      `coordinator recovered: epoch ${this.epoch}, ${this.unsettled.size} committed transaction(s) not yet acknowledged by every ` +
        `replica (re-sending COMMIT); transactions of earlier epochs without a decision are aborted (presumed abort)`,
    );
    const core = this.core;
    const probe = options.probe;
    this.loop = new StepLoop<Input, Turn>({
      log: options.log,
      timers: scheduler,
      step: (inputs) => {
        const ready = newReady();
        // A node that stood down steps nothing more: answers still on their way find it gone.
        const stepped = this.stopped ? [] : inputs;
        for (const input of stepped) {
          probe?.step?.(input, core);
          core.step(input, ready);
        }
        if (stepped.length > 0) probe?.turn?.(stepped, ready, core);
        // The view goes with the Ready: the node acts on it only once the turn is durable.
        return { ready, view: core.view() };
      },
      records: ({ ready }) => {
        if (ready.persist.some(({ record }) => record.kind === "commit")) {
          const action = hit("before-decision-log");
          if (action?.kind === "error") {
            logger.fatal({ event: "injected-io-error", failpoint: "before-decision-log" }, "failpoint before-decision-log: injected I/O error; exiting");
            options.exit("failpoint before-decision-log");
          } else if (action !== null) {
            // PREPAREs leave, their COMMIT records never do: this node stops at once (it steps,
            // logs and sends nothing more) and the action fires once the PREPAREs are on the wire.
            this.sendAll(ready.early);
            this.stopped = true;
            this.options.scheduler.after(failpointDelayMs, () => fire("before-decision-log", action));
            return [];
          }
        }
        options.trace?.mark("decisionStepped", committed(ready));
        return ready.persist.map(({ record, force }) => ({ payload: encodeCoordinatorRecord(record), force }));
      },
      maintain: (done) => this.maintain(done),
      afterDurable: (turn) => this.afterDurable(turn),
      early: (turn) => this.early(turn),
      immediate: (turn) => this.immediate(turn),
      merge: (into, from) => mergeTurns(into, from),
      turnsInFlightMax: limits.coordinatorTurnsInFlightMax,
    });
    for (const id of options.replicaIds) {
      this.links.set(
        id,
        new ReplicaLink(id, options.replicas(id), (input) => this.loop.push(input), scheduler, logger, (reason) => this.failedCall(id, reason), options.trace, () => gcFloorFor(this.view, id), options.metrics),
      );
    }
  }

  /**
   * Writes the live records (the start record first: it makes this epoch's transaction ids unique)
   * as the log's new base and forces it, then starts the timers and calls serving: the node may
   * serve from then on. On the replicated log (coordinator/replicated-log.ts) that force is done
   * once a majority of the replicas hold this epoch's base: a successor finds it.
   */
  start(serving: () => void): void {
    const { log, scheduler } = this.options;
    log.rewrite(this.core.liveRecords().map(encodeCoordinatorRecord), () => undefined);
    this.compactedSize = log.size;
    log.force(() => {
      if (this.stopped) return;
      this.stops.push(scheduler.every(limits.tickMs, () => this.loop.push({ kind: "tick", nowMs: scheduler.nowMs() })));
      this.loop.push({ kind: "tick", nowMs: scheduler.nowMs() });
      const inDoubt = this.options.inDoubt ?? [];
      if (inDoubt.length > 0) this.loop.push({ kind: "settle-in-doubt", txnIds: inDoubt, nowMs: scheduler.nowMs() });
      // Health checks: one at a time per replica; the core removes a replica that stops answering.
      this.stops.push(scheduler.every(limits.healthCheckIntervalMs, () => this.checkHealth()));
      serving();
    });
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    for (const link of this.links.values()) link.stop();
  }

  /**
   * Stands down (a newer coordinator took over): stops the timers, and answers every call waiting on
   * this node with UNAVAILABLE (the outcome of a write is unknown: the successor knows it). Nothing
   * this node has not made durable can be acted on: the replicas refuse its epoch.
   */
  abandon(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stop();
    const message = `the coordinator stood down (${reason}); the outcome of a write is unknown: retry it with the same request id at the active coordinator`;
    for (const respond of this.pendingWrites.values()) respond({ ok: false, code: Code.UNAVAILABLE, message });
    this.pendingWrites.clear();
    for (const respond of this.pendingStatuses.values()) respond({ state: "unknown", txnId: "", commitSeq: 0, message });
    this.pendingStatuses.clear();
    for (const respond of this.pendingQueries.values()) respond([]);
    this.pendingQueries.clear();
    this.pendingReports.clear();
  }

  get abandoned(): boolean {
    return this.stopped;
  }

  private failedCall(replicaId: string, reason: string): void {
    const byEpoch = fencedBy(reason);
    if (byEpoch !== null && !this.stopped) this.options.fenced?.(byEpoch, replicaId);
  }

  /** True while inputs are queued or a turn is under way. */
  get busy(): boolean {
    return this.loop.busy;
  }

  /** Why the coordinator is not ready (what the core published last), or null. */
  get notReady(): string | null {
    return this.view.notReady;
  }

  private now(): number {
    return this.options.scheduler.nowMs();
  }

  private checkHealth(): void {
    const nowMs = this.now();
    for (const link of this.links.values()) {
      link.pushFloor();
      // A replica that answered a call since the last round needs no check of its own: that answer
      // is one (under load, health checks were a unary call each, per replica, ten times a second).
      if (nowMs - link.lastAnswerMs < limits.healthCheckIntervalMs) {
        this.loop.push({ kind: "health", replicaId: link.id, ok: true, nowMs });
        continue;
      }
      if (this.checking.has(link.id)) continue;
      this.checking.add(link.id);
      link.calls.checkHealth(limits.healthCheckTimeoutMs, (result) => {
        this.checking.delete(link.id);
        const ok = result.ok && result.value;
        if (!ok) link.lastAnswerMs = Number.NEGATIVE_INFINITY;
        this.loop.push({ kind: "health", replicaId: link.id, ok, refused: !result.ok && result.code === Code.UNAVAILABLE, nowMs: this.now() });
      });
    }
  }

  private maintain(done: () => void): void {
    const { log, logger } = this.options;
    if (!compactionDue(log.size, this.options.compactLogSize, this.compactedSize)) return done();
    const startedMs = this.now();
    const before = log.size;
    log.rewrite(this.core.liveRecords().map(encodeCoordinatorRecord), () => {
      this.compactedSize = log.size;
      const ms = Math.round(this.now() - startedMs);
      logger.info({ event: "log-compacted", bytesBefore: before, bytesAfter: log.size, ms }, `decision log compacted: ${before} -> ${log.size} bytes in ${ms} ms (no turn meanwhile)`);
      done();
    });
  }

  /**
   * The PREPAREs of a turn leave once every earlier turn was carried out, before its own COMMIT
   * records are durable (intent commits: each replica forces its prepare record and its copy of the
   * COMMIT record with one fsync).
   */
  private early({ ready }: Turn): void {
    if (this.stopped || ready.early.length === 0) return;
    this.sendAll(ready.early);
  }

  /**
   * What of a turn depends on nothing durable and no earlier turn: refusals of requests that started
   * nothing, and status reports (informational, and wanted most when a force cannot be done because
   * a majority of the replicas is gone).
   */
  private immediate({ ready, view }: Turn): void {
    this.latestView = view;
    this.view = withHealth(this.view, view);
    for (const { reqId, result } of ready.immediate) {
      const respond = this.pendingWrites.get(reqId);
      assert(respond !== undefined, `reply to unknown request ${reqId}`);
      this.pendingWrites.delete(reqId);
      this.options.trace?.replied(reqId, undefined);
      this.options.metrics?.answered(result);
      respond(result);
    }
    for (const { reqId, report } of ready.reports) {
      const respond = this.pendingReports.get(reqId);
      assert(respond !== undefined, `report to unknown request ${reqId}`);
      this.pendingReports.delete(reqId);
      respond(report);
    }
  }

  /** Hands messages to their links (those `keep` lets through), then flushes each link once. */
  private sendAll(messages: readonly Message[], keep: (message: Message) => boolean = () => true): void {
    for (const message of messages) {
      if (!keep(message)) continue;
      const link = this.links.get(message.to);
      if (link === undefined) {
        this.options.logger.error({ event: "unknown-replica", replica: message.to }, `no address for replica ${message.to}`);
        continue;
      }
      link.enqueue(message);
    }
    for (const link of this.links.values()) link.flush();
  }

  private afterDurable({ ready, view }: Turn): void {
    const { logger } = this.options;
    if (this.stopped) return;
    // First the view: reads routed from here on see this turn's membership, before any of its
    // messages or replies leave.
    this.view = withHealth(view, this.latestView);
    if (logger.isLevelEnabled("debug")) logTurn(logger, ready);
    this.options.trace?.mark("decisionDurable", committed(ready));
    for (const { from, to, reason } of ready.retried) {
      logger.info({ event: "txn-retried", txnId: from, as: to, reason }, `transaction ${from} runs again as ${to}: ${reason}`);
    }
    for (const { record } of ready.persist) {
      if (record.kind === "membership") logger.info({ event: "membership", ...record }, `in-sync set: ${record.inSync.join(", ")}`);
      if (record.kind === "end") this.options.trace?.forget(record.txnId);
      if (record.kind === "end" && this.unsettled.delete(record.txnId)) {
        logger.info({ event: "recovered-txn-settled", txnId: record.txnId }, `recovered transaction ${record.txnId} settled: committed on every replica`);
      }
    }
    // Failpoints between the durable decision and the messages that carry it (the turn that sends
    // COMMIT to every participant; its record was forced with the PREPAREs).
    const decided = ready.decided.length > 0;
    const dropCommits = decided && failpoint("after-decision-log") === "error";
    const fanout = decided ? hit("mid-commit-fanout") : null;
    if (fanout !== null) {
      // COMMIT of this turn's decisions goes to one replica only (re-sends included) until it
      // acknowledged them; then the failpoint fires. With "error" the others hear COMMIT only when
      // the core re-sends it after that.
      const txnIds = new Set(ready.decided);
      const first = ready.send.find((message) => message.kind === "commit" && txnIds.has(message.txnId));
      if (first !== undefined && first.kind === "commit") {
        const hold = { txnIds, to: first.to };
        this.fanoutHold = hold;
        this.links.get(first.to)?.afterCommitAck(first.txnId, () => {
          fire("mid-commit-fanout", fanout);
          if (this.fanoutHold === hold) this.fanoutHold = null;
        });
      }
    }
    this.sendAll(ready.send, (message) => {
      if (message.kind === "commit" && dropCommits) return false;
      const hold = this.fanoutHold;
      return !(message.kind === "commit" && hold !== null && hold.txnIds.has(message.txnId) && message.to !== hold.to);
    });
    const loseReplies = ready.replies.some(({ result }) => result.ok) && failpoint("after-commit-before-reply") === "error";
    for (const { reqId, result } of ready.replies) {
      const respond = this.pendingWrites.get(reqId);
      assert(respond !== undefined, `reply to unknown request ${reqId}`);
      this.pendingWrites.delete(reqId);
      this.options.trace?.replied(reqId, result.ok ? result.txnId : undefined);
      this.options.metrics?.answered(result);
      if (loseReplies && result.ok) {
        respond({ ok: false, code: Code.UNAVAILABLE, message: "failpoint after-commit-before-reply: the reply was lost (the write committed)" });
      } else {
        respond(result);
      }
    }
    for (const { reqId, status } of ready.statuses) {
      const respond = this.pendingStatuses.get(reqId);
      assert(respond !== undefined, `status answer to unknown request ${reqId}`);
      this.pendingStatuses.delete(reqId);
      respond(status);
    }
    for (const { txnId, keys } of ready.reads) {
      // The transaction holds the locks of these keys: read their current state for it.
      this.read(keys, (result) => {
        if (result.ok) {
          const states = new Map<string, KeyState>(result.value.map((row) => [row.key, row.found ? { value: row.value, version: row.version } : null]));
          this.loop.push({ kind: "read-result", txnId, states, reason: "", nowMs: this.now() });
        } else {
          this.loop.push({ kind: "read-result", txnId, states: null, reason: result.reason, nowMs: this.now() });
        }
      });
    }
    for (const { queryId, outcomes } of ready.outcomes) {
      const respond = this.pendingQueries.get(queryId);
      assert(respond !== undefined, `answer to unknown query ${queryId}`);
      this.pendingQueries.delete(queryId);
      respond(outcomes);
    }
    for (const { reqId, txnId, choice } of ready.inspects) this.inspectForResolve(reqId, txnId, choice);
  }

  /** Asks every replica what it knows of a transaction (unreachable ones count as unknown), and steps the Resolve again with it. */
  private inspectForResolve(reqId: number, txnId: string, choice: Outcome): void {
    const answers: ReplicaKnowledge[] = [];
    const links = [...this.links.values()];
    for (const link of links) {
      link.calls.inspect([txnId], statusCallTimeoutMs, (result) => {
        const state = result.ok ? result.value.find((item) => item.txnId === txnId) : undefined;
        answers.push({ replicaId: link.id, state: state?.state ?? "unknown", commitSeq: state?.state === "committed" ? state.commitSeq : 0 });
        if (answers.length < links.length) return;
        answers.sort((a, b) => (a.replicaId < b.replicaId ? -1 : a.replicaId > b.replicaId ? 1 : 0));
        this.options.logger.info({ event: "resolve-inspected", txnId, choice, replicas: answers }, `operator asks to ${choice} ${txnId}: the replicas know ${answers.map((a) => `${a.replicaId} ${a.state}`).join(", ")}`);
        this.loop.push({ kind: "resolve", reqId, txnId, choice, replicas: answers, nowMs: this.now() });
      });
    }
  }

  /**
   * Reads keys from the replicas the core's read routing names (readTargets: in sync and healthy),
   * all at once, and answers once a majority of all replicas answered in this epoch: none of them had
   * promised a newer one, so no successor had taken over when the first of them answered, and no
   * write acknowledged since this read arrived can be missing (failover: coordinator/DESIGN.md). The
   * values come from the in-sync answers that readAccepted still holds for (each has every
   * acknowledged write, or waited for it); of those, the newest version of each key. Healthy
   * replicas out of the set are asked too when the set alone is not a majority: they count for the
   * majority, not for the values.
   */
  private read(keys: readonly string[], done: (result: CallResult<ReadRow[]>) => void): void {
    // Planted bug (test-only, with readTargets and readAccepted): the first answer of any replica serves.
    const quorum = mutation() === "read-from-any-replica" ? 1 : quorumOf(this.links.size);
    if (this.view.readsHeld !== null) return done({ ok: false, code: Code.UNAVAILABLE, reason: `reads wait: ${this.view.readsHeld}` });
    const inSync = readTargets(this.view, this.options.scheduler.random);
    if (inSync.length === 0) return done({ ok: false, code: Code.UNAVAILABLE, reason: "no replica is in sync and healthy to serve the read" });
    const others = this.view.members.filter((m) => m.healthy && !inSync.some((t) => t.id === m.id)).map((m) => ({ id: m.id, incarnation: m.incarnation }));
    const targets = inSync.length >= quorum ? inSync : [...inSync, ...others];
    if (targets.length < quorum) {
      return done({ ok: false, code: Code.UNAVAILABLE, reason: `${targets.length} of ${this.links.size} replicas are healthy and a read needs a majority (${quorum})` });
    }
    const failures: string[] = [];
    let answered = 0;
    let pending = targets.length;
    let best: ReadRow[] | null = null;
    let finished = false;
    for (const target of targets) {
      this.links.get(target.id)!.readBatched(keys, (result) => {
        pending -= 1;
        // A fenced answer stands this node down even when the read already had its majority.
        if (!result.ok) this.failedCall(target.id, result.reason);
        if (finished) return;
        if (result.ok) {
          answered += 1;
          if (readAccepted(this.view, target.id, target.incarnation, keys)) best = best === null ? result.value : newestOf(best, result.value);
          else if (inSync.some((t) => t.id === target.id)) failures.push(`replica ${target.id} left the in-sync set while it answered, or has yet to apply a write answered to a client`);
        } else {
          if (result.code !== Code.UNAVAILABLE && result.code !== Code.DEADLINE_EXCEEDED && fencedBy(result.reason) === null) {
            finished = true;
            return done(result);
          }
          failures.push(result.reason);
        }
        if (answered >= quorum && best !== null) {
          finished = true;
          return done({ ok: true, value: best });
        }
        if (pending === 0) {
          finished = true;
          done({ ok: false, code: Code.UNAVAILABLE, reason: `the read got ${answered} answer(s) from in-sync replicas of the ${quorum} it needs: ${failures.join("; ")}` });
        }
      });
    }
  }

  // ---- what the node serves (the Kv and Coordination services) ---------------------------------

  /** A client's get of one key. */
  get(key: string, done: (result: CallResult<ReadRow>) => void): void {
    const trace = this.options.trace;
    const startUs = trace?.now() ?? 0;
    this.read([key], (result) => {
      trace?.readDone(startUs);
      if (!result.ok) return done(result);
      const row = result.value[0];
      assert(row !== undefined && row.key === key, "a replica answers the key it was asked");
      done({ ok: true, value: row });
    });
  }

  /** Runs a client's transaction (a write is a program of blind writes) through the core. */
  submit(requestId: string | null, method: RequestMethod, program: Program, respond: (result: WriteResult) => void): void {
    // Stood down before the call arrived: it reaches no core, so nothing of it can start.
    if (this.stopped) return respond({ ok: false, code: Code.UNAVAILABLE, message: "the coordinator stood down; retry at the active coordinator", notStarted: true });
    const reqId = this.nextRequestId++;
    this.pendingWrites.set(reqId, respond);
    this.options.trace?.requestArrived(reqId);
    this.loop.push({ kind: "txn", reqId, requestId, method, program, nowMs: this.now() });
  }

  txnStatus(id: string, respond: (status: TxnStatus) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingStatuses.set(reqId, respond);
    this.loop.push({ kind: "txn-status", reqId, id, nowMs: this.now() });
  }

  /** An operator settles a transaction: decided in the step (see Input resolve). */
  resolve(txnId: string, choice: Outcome, respond: (result: WriteResult) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingWrites.set(reqId, respond);
    this.options.logger.info({ event: "resolve", txnId, outcome: choice }, `operator asks to ${choice} ${txnId}`);
    this.loop.push({ kind: "resolve", reqId, txnId, choice, replicas: null, nowMs: this.now() });
  }

  /** A replica asks the outcome of transactions it holds in doubt. */
  queryOutcome(txnIds: readonly string[], respond: (outcomes: OutcomeItem[]) => void): void {
    const queryId = this.nextRequestId++;
    this.pendingQueries.set(queryId, respond);
    this.loop.push({ kind: "outcome-query", queryId, txnIds, nowMs: this.now() });
  }

  /**
   * The core's report (asked through its loop, answered as the status input is stepped) and the
   * view the core published last: what the metrics read at a scrape, without asking the replicas.
   */
  figures(respond: (figures: { report: CoreReport; view: CoreView }) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingReports.set(reqId, (report) => respond({ report, view: this.view }));
    this.loop.push({ kind: "status", reqId, nowMs: this.now() });
  }

  /** The coordinator's report (asked of the core through its loop) and each replica's status. */
  status(respond: (status: CoordinatorStatus) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingReports.set(reqId, (report) => {
      const view = this.view;
      const replicas: { id: string; status: CallResult<ParticipantStatus> }[] = [];
      const links = [...this.links.values()];
      for (const link of links) {
        link.calls.status(statusCallTimeoutMs, (status) => {
          replicas.push({ id: link.id, status });
          if (replicas.length < links.length) return;
          const order = new Map(links.map((l, i) => [l.id, i]));
          replicas.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
          respond({ report, view, replicas });
        });
      }
    });
    this.loop.push({ kind: "status", reqId, nowMs: this.now() });
  }
}

/** Protocol steps of one turn, at debug level. */
function logTurn(logger: Logger, ready: Ready): void {
  for (const { record } of ready.persist) {
    if (record.kind === "commit") logger.debug({ event: "decision", txnId: record.txnId, commitSeq: record.commitSeq }, `decided COMMIT ${record.txnId}`);
  }
  for (const message of ready.send) {
    const what = message.kind === "catch-up" ? `from ${message.sourceId} since ${message.sinceSeq}` : message.txnId;
    logger.debug({ event: "send", kind: message.kind, to: message.to, what }, `${message.kind} ${what} -> ${message.to}`);
  }
  for (const { reqId, result } of ready.replies) {
    if (result.ok) logger.debug({ event: "reply", reqId, commitSeq: result.commitSeq }, `request ${reqId} committed`);
    else logger.debug({ event: "reply", reqId, code: result.code, reason: result.message }, `request ${reqId} failed`);
  }
}

/** The transactions a Ready decides to commit. */
/** The view with each replica's health as the newest view stepped (`latest`) has it. */
function withHealth(view: CoreView, latest: CoreView | null): CoreView {
  const healthOf = (id: string, healthy: boolean): boolean => latest?.members.find((m) => m.id === id)?.healthy ?? healthy;
  if (latest === null || view.members.every((m) => healthOf(m.id, m.healthy) === m.healthy)) return view;
  return { ...view, members: view.members.map((m) => ({ ...m, healthy: healthOf(m.id, m.healthy) })) };
}

/**
 * A turn that logged nothing, folded into the last turn still waiting (StepLoop merge): its rest is
 * carried out right after that one's, with the newer view. Its immediate part and reports went out
 * when it was stepped.
 */
function mergeTurns(into: Turn, from: Turn): Turn {
  const a = into.ready;
  const b = from.ready;
  assert(b.persist.length === 0 && b.early.length === 0, "a turn folded into another logged nothing and sends nothing early");
  const ready: Ready = {
    persist: a.persist,
    send: [...a.send, ...b.send],
    early: a.early,
    replies: [...a.replies, ...b.replies],
    immediate: [],
    outcomes: [...a.outcomes, ...b.outcomes],
    reads: [...a.reads, ...b.reads],
    statuses: [...a.statuses, ...b.statuses],
    inspects: [...a.inspects, ...b.inspects],
    reports: [],
    decided: [...a.decided, ...b.decided],
    retried: [...a.retried, ...b.retried],
  };
  return { ready, view: from.view };
}

/** How long the before-decision-log failpoint lets PREPAREs travel before it fires. */
const failpointDelayMs = 20;

function committed(ready: Ready): string[] {
  const txnIds: string[] = [];
  for (const { record } of ready.persist) if (record.kind === "commit") txnIds.push(record.txnId);
  return txnIds;
}

/** Row by row (the same keys, in the same order), the newer version of the two answers. */
function newestOf(a: readonly ReadRow[], b: readonly ReadRow[]): ReadRow[] {
  return a.map((row, i) => {
    const other = b[i];
    return other !== undefined && other.key === row.key && other.version > row.version ? other : row;
  });
}

/** Bytes of the keys and values a PREPARE carries. */
function prepareBytes(message: PrepareMessage): number {
  let bytes = 0;
  for (const write of message.writes) bytes += Buffer.byteLength(write.key, "utf8") + (write.value?.length ?? 0);
  return bytes;
}

