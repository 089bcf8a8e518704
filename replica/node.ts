// The replica node: everything protocol-shaped a replica process does, over an injected environment
// (common/env.ts: clock, timers, durable log), its store and its transport to the coordinator and
// the peers. replica/server.ts is the gRPC adapter around it (decode a call, call the node, encode
// its answer); the deterministic simulator (test/sim/) runs this very node over its virtual world.
//
// What the node does: recovery (replay the log, redo the commits the store has not applied, rebuild
// the core); every call becomes an input of the pure core (replica/core.ts) stepped through the
// StepLoop, which forces the log (replica/core.ts mustForce) before the Ready's writes are applied
// and its replies sent; the tick; outcome queries to the coordinator (one at a time, split at
// txnIdsPerCallMax) and, when the coordinator does not answer, the peer queries the core asks for;
// catch-up page by page; compaction. A whole batch of prepares in one call, and every call that
// arrives during a force, share one log force and one store transaction.
import { assert, assertNever } from "../common/assert";
import { Code, type CodeValue } from "../common/errors";
import type { CallResult, NodeLog, Scheduler } from "../common/env";
import { failpoint, type FailpointName } from "../common/failpoints";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { mutation } from "../common/mutations";
import { StepLoop } from "../common/step-loop";
import type { PeerState } from "../common/types";
import { ParticipantCore, mayWait, mustForce, newReady, type Apply, type CommitItem, type Input, type OutcomeItem, type PrepareItem, type PreparedSummary, type Ready, type Reply, type VoteResult } from "./core";
import type { Promised } from "./log-copy";
import { idsPerCall } from "./peer-queries";
import { decodeReplicaRecord, encodeReplicaRecord } from "./records";
import { recoverReplica } from "./recovery";
import { compactionDue } from "../common/compaction";
import { needsFullCopy, TombstoneCollector, type FullCopyPage } from "./tombstones";

/** A row as catch-up copies it: value null is a tombstone. */
export interface VersionedEntry {
  readonly key: string;
  readonly value: Buffer | null;
  readonly version: number;
}

export interface StoredValue {
  readonly key: string;
  readonly found: boolean;
  readonly value: Buffer;
  readonly version: number;
}

/** The store the node keeps its data in (replica/store.ts over SQLite; the simulator's in memory). */
export interface ReplicaStore {
  appliedLsn(): number;
  appliedSeq(): number;
  /** Applies committed writes, each only over an older version, with the LSN of the last record. */
  apply(batch: readonly Apply[], lastLsn: number): void;
  /** Installs copied rows, each only over an older version. */
  install(entries: readonly VersionedEntry[]): void;
  /** Makes everything applied durable. */
  checkpoint(): void;
  /** Tombstones of versions up to this one may have been collected (replica/tombstones.ts). */
  collectedThrough(): number;
  /** Deletes at most `limit` tombstones of versions up to throughSeq and, if any, moves the horizon there, atomically; returns how many. */
  collectTombstones(throughSeq: number, limit: number): number;
  /** One page of a full copy (FullCopyPage), atomically; returns the stale rows it deleted. */
  installFull(page: FullCopyPage): number;
  /**
   * The next range of a full copy from a snapshot the transport brought (at most `limit` of its
   * rows after afterKey), atomically, by installFull's rule with the snapshot's horizon; this
   * store takes `horizon`.
   */
  installFullFrom(snapshot: SnapshotCopy, afterKey: string, limit: number, horizon: number): FullCopyStep;
  tombstoneCount(): number;
  fetch(sinceSeq: number, afterKey: string, limit: number): VersionedEntry[];
  read(keys: readonly string[]): StoredValue[];
  keyCount(): number;
  dump(): { entries: { key: string; value: Buffer; version: number }[]; checksum: string };
}

/** Items of an answer, and those dropped as unusable (replica/decode.ts says why). */
export interface Answered<T> {
  readonly items: T[];
  readonly dropped: readonly string[];
}

export interface FetchRequest {
  readonly sinceSeq: number;
  readonly afterKey: string;
  readonly limit: number;
}

export interface FetchPage {
  readonly rows: VersionedEntry[];
  readonly done: boolean;
  /** The source's tombstone collection horizon when it read the page. */
  readonly collectedThrough: number;
}

/**
 * A snapshot of a catch-up's source, taken after the catch-up started, held locally (a SQLite file
 * in the data directory; the simulator's copy of the source's rows): read in key order, page by
 * page, and closed (the file removed) when the catch-up is done with it.
 */
export interface SnapshotCopy {
  /** The source's tombstone collection horizon in the snapshot. */
  readonly collectedThrough: number;
  close(): void;
}

/** One range of a full copy from a snapshot (ReplicaStore.installFullFrom). */
export interface FullCopyStep {
  /** The snapshot's rows in the range. */
  readonly rows: number;
  /** The range's last key; null: it went to the end (the copy is done). */
  readonly throughKey: string | null;
  /** Stale rows dropped (staleAfterFullCopy). */
  readonly dropped: number;
}

/** What the node calls out with: the coordinator, the peers, and the source of a catch-up. */
export interface ReplicaTransport {
  /** Outcome queries go to this coordinator from now on: the one this replica promised its epoch to. */
  followCoordinator(promised: Promised): void;
  queryOutcome(txnIds: readonly string[], timeoutMs: number, done: (result: CallResult<Answered<OutcomeItem>>) => void): void;
  peerOutcome(peerId: string, txnIds: readonly string[], timeoutMs: number, done: (result: CallResult<Answered<PeerState>>) => void): void;
  /** A connection to the replica a catch-up copies from; closed when the catch-up ends. */
  fetchFrom(sourceId: string, sourceAddress: string): { fetch(request: FetchRequest, timeoutMs: number, done: (result: CallResult<FetchPage>) => void): void; close(): void };
  /**
   * Takes a snapshot of the source (its Backup stream, for a catch-up: no floor to wait for) and
   * brings it here whole; the result is ready to read.
   */
  snapshotFrom(sourceId: string, sourceAddress: string, timeoutMs: number, done: (result: CallResult<SnapshotCopy>) => void): void;
}

/** A test probe: sees every input before the core steps it, and every turn's Ready. */
export interface ReplicaProbe {
  step?(input: Input, core: ParticipantCore): void;
  turn?(inputs: readonly Input[], ready: Ready, core: ParticipantCore): void;
}

export interface ReplicaNodeOptions {
  readonly id: string;
  readonly scheduler: Scheduler;
  readonly log: NodeLog;
  /** What the log held when opened (torn tail dropped). */
  readonly replayed: { readonly records: readonly Buffer[]; readonly firstLsn: number; readonly tornBytes: number };
  readonly store: ReplicaStore;
  readonly transport: ReplicaTransport;
  /** Compact the log once log.size reaches this. */
  readonly compactLogSize: number;
  /** Scales the compaction thresholds (common/compaction.ts compactionStaggerOf; 1 when absent). */
  readonly compactionStagger?: number;
  /** Rows per catch-up Fetch page (limits.catchUpRowsPerFetchMax). */
  readonly fetchRowsMax: number;
  /**
   * A catch-up that has copied this many rows page by page and is not done, or that needs a full
   * copy, takes a snapshot of its source instead (limits.catchUpSnapshotRows, --catch-up-snapshot-rows); 0: never.
   */
  readonly catchUpSnapshotRows: number;
  /** Rows of a snapshot installed per store transaction (limits.snapshotInstallRowsMax). */
  readonly snapshotInstallRowsMax: number;
  /** Records per ReadCopy page (limits.appendRecordsMax; limits.logPartBytesMax bounds its bytes). */
  readonly copyPageRecordsMax: number;
  /** How long tombstones outlive the floor that allows their collection (limits.tombstoneRetentionMs). */
  readonly tombstoneRetentionMs: number;
  readonly logger: Logger;
  /** An injected I/O error before a log write: as after a failed fsync, the process must stop. */
  readonly exit: (reason: string) => void;
  readonly probe?: ReplicaProbe;
  /** The process's running totals, for its metrics (replica/metrics.ts); none in the simulator. */
  readonly counters?: ReplicaCounters;
}

/**
 * What the node counts as it carries out each durable turn, for the process's metrics
 * (replica/metrics.ts): the records it made durable by kind, and the votes it sent. Plain numbers
 * the node adds to, read at scrape time.
 */
export interface ReplicaCounters {
  /** Prepare records of transactions prepared here (not those a COMMIT with writes carries: commitUnprepared). */
  prepares: number;
  commits: number;
  aborts: number;
  votesYes: number;
  votesNo: number;
}

export function newReplicaCounters(): ReplicaCounters {
  return { prepares: 0, commits: 0, aborts: 0, votesYes: 0, votesNo: 0 };
}

export interface ReplicaStatus {
  readonly appliedSeq: number;
  readonly prepared: readonly { readonly txnId: string; readonly keys: readonly string[]; readonly ageMs: number }[];
  readonly keys: number;
  readonly logForces: number;
  readonly logRecordsForced: number;
  readonly collectedThrough: number;
  readonly tombstones: number;
}

type Respond<T> = (result: CallResult<T>) => void;

/** How a backup's snapshot was shown to miss no commit at or below its sequence number (snapshotMoment). */
/**
 * How a snapshot is known to miss nothing: "floor" (a backup: ReplicaNode.snapshotMoment), or
 * "catch-up" (taken for a catch-up that started before it, which is all a catch-up needs: see copyRows).
 */
export type SnapshotVerifiedBy = "floor" | "catch-up";

/** A snapshot waiting to be shown complete: any commit at or below seq applied from now on spoils it. */
interface SnapshotWatch {
  readonly seq: number;
  readonly settle: (result: CallResult<SnapshotVerifiedBy>) => void;
}

interface Pending {
  readonly reply: (reply: Reply) => void;
  /** Fails the call with UNAVAILABLE instead: its reply was lost to an injected failure. */
  readonly lose: (details: string) => void;
}

export class ReplicaNode {
  /** The core, for the simulator's checks only: nothing in this node reads it between steps. */
  readonly core: ParticipantCore;
  /** What recovery found, for logs and the simulator's counts. */
  readonly recovery: { readonly records: number; readonly tornBytes: number; readonly redone: number; readonly inDoubt: readonly string[] };
  /** A CatchUp call is being served. */
  catchingUp = false;
  private readonly loop: StepLoop<Input, Ready>;
  private readonly pending = new Map<number, Pending>();
  private nextCallId = 1;
  /** Outcome query calls in flight to the coordinator (one query, split into calls of txnIdsPerCallMax ids). */
  private queriesInFlight = 0;
  private stopTicker: (() => void) | null = null;
  /** Log size right after the last compaction (compactionDue: compact again once it has doubled). */
  private compactedSize = 0;
  private readonly collector: TombstoneCollector;
  /** Backups whose snapshot is not yet shown complete (snapshotMoment). */
  private readonly snapshotWatches = new Set<SnapshotWatch>();
  /** The highest collection floor heard since this process started (0: none): every commit up to it is applied here. */
  private floorHeardMax = 0;

  constructor(private readonly options: ReplicaNodeOptions) {
    const { log, store, replayed, logger, scheduler } = options;
    // Recovery: replay the log, redo commits the store has not applied, rebuild the core.
    const records = replayed.records.map((payload, i) => {
      const lsn = replayed.firstLsn + i;
      return { lsn, record: decodeReplicaRecord(payload, lsn) };
    });
    const recovered = recoverReplica(records, store.appliedLsn());
    if (recovered.redo.length > 0) store.apply(recovered.redo, log.endLsn - 1);
    this.collector = new TombstoneCollector(store.collectedThrough(), options.tombstoneRetentionMs);
    this.core = new ParticipantCore({
      selfId: options.id,
      prepared: recovered.prepared,
      decided: recovered.decided,
      newestForgotten: recovered.newestForgotten,
      promised: recovered.promised,
      copy: recovered.copy,
      nowMs: scheduler.nowMs(),
    });
    if (recovered.promised.epoch > 0) options.transport.followCoordinator(recovered.promised);
    this.recovery = { records: records.length, tornBytes: replayed.tornBytes, redone: recovered.redo.length, inDoubt: recovered.prepared.map((txn) => txn.txnId) };
    logger.info(
      {
        event: "recovered",
        logRecords: records.length,
        tornBytesDropped: replayed.tornBytes,
        redoneCommits: recovered.redo.length,
        inDoubt: this.recovery.inDoubt,
        appliedSeq: store.appliedSeq(),
      },
      `replica ${options.id} recovered: ${recovered.prepared.length} transaction(s) in doubt (asking the coordinator), ` +
        `${recovered.redo.length} commit(s) redone from the log`,
    );
    const core = this.core;
    const probe = options.probe;
    this.loop = new StepLoop<Input, Ready>({
      log,
      timers: scheduler,
      step: (inputs) => {
        const ready = newReady();
        for (const input of inputs) {
          probe?.step?.(input, core);
          core.step(input, ready);
        }
        probe?.turn?.(inputs, ready, core);
        return ready;
      },
      records: (ready) => {
        if (ready.persist.some((record) => record.kind === "prepare")) this.failIo("before-prepare-log");
        if (ready.persist.some((record) => record.kind === "commit")) this.failIo("before-commit-log");
        return ready.persist.map((record) => ({ payload: encodeReplicaRecord(record), force: mustForce(record), lazy: mayWait(record) }));
      },
      lazyForceMs: limits.commitForceWaitMs,
      maintain: (done) => this.maintain(done),
      afterDurable: (ready, lastLsn) => this.afterDurable(ready, lastLsn),
    });
  }

  /** Starts the tick. */
  start(): void {
    const { scheduler } = this.options;
    this.stopTicker = scheduler.every(limits.tickMs, () => {
      if (this.core.hasTimers()) this.loop.push({ kind: "tick", nowMs: scheduler.nowMs() });
      // Idle, collection goes on tick by tick; under load it runs between turns (maintain).
      if (!this.loop.busy) this.collectTombstones();
    });
  }

  stop(): void {
    this.stopTicker?.();
    this.stopTicker = null;
  }

  /** True while inputs are queued or a turn is under way. */
  get busy(): boolean {
    return this.loop.busy;
  }

  private afterDurable(ready: Ready, lastLsn: number): void {
    const { store, logger, counters } = this.options;
    if (ready.apply.length > 0) {
      store.apply(ready.apply, lastLsn);
      if (this.snapshotWatches.size > 0) this.watchApplied(ready.apply);
    }
    if (counters !== undefined) count(counters, ready);
    const votedYes = ready.replies.some((reply) => reply.kind === "votes" && reply.votes.some((vote) => vote.vote === "yes"));
    const loseVotes = votedYes && failpoint("after-prepare-log-before-vote") === "error";
    const ackedCommit = ready.replies.some((reply) => reply.kind === "acks" && reply.decision === "commit");
    const loseAcks = ackedCommit && failpoint("after-commit-before-ack") === "error";
    if (logger.isLevelEnabled("debug")) {
      for (const record of ready.persist) {
        if ("txnId" in record) logger.debug({ event: record.kind, txnId: record.txnId }, `logged ${record.kind} ${record.txnId}`);
        else logger.debug({ event: record.kind, epoch: record.epoch }, `logged ${record.kind} of epoch ${record.epoch}`);
      }
      for (const reply of ready.replies) {
        if (reply.kind === "votes") for (const vote of reply.votes) logger.debug({ event: "vote", ...vote }, `vote ${vote.vote} for ${vote.txnId}`);
      }
    }
    for (const reply of ready.replies) {
      const call = this.pending.get(reply.callId);
      assert(call !== undefined, `reply to unknown call ${reply.callId}`);
      this.pending.delete(reply.callId);
      if (loseVotes && reply.kind === "votes") call.lose("failpoint after-prepare-log-before-vote: the votes were lost");
      else if (loseAcks && reply.kind === "acks" && reply.decision === "commit") call.lose("failpoint after-commit-before-ack: the acknowledgement was lost");
      else call.reply(reply);
    }
    if (ready.promised !== null) {
      const promised = ready.promised;
      logger.info({ event: "promised", epoch: promised.epoch, coordinator: promised.coordinatorId }, `promised epoch ${promised.epoch}${promised.coordinatorId === "" ? "" : ` to coordinator ${promised.coordinatorId}`}`);
      this.options.transport.followCoordinator(promised);
    }
    if (ready.queries.length > 0) this.askCoordinator(ready.queries);
    for (const { peerId, txnIds } of ready.peerQueries) this.askPeer(peerId, txnIds);
  }

  /**
   * One batch of tombstone collection, if one is due: at most tombstonesPerCollectMax deletions in
   * one SQLite transaction, between two turns (or on an idle tick), so that the hot path waits for
   * one bounded batch at most.
   */
  private collectTombstones(): void {
    const { store, logger } = this.options;
    const through = this.collector.due(store.appliedSeq(), this.now());
    if (through === null) return;
    const deleted = store.collectTombstones(through, limits.tombstonesPerCollectMax);
    const before = this.collector.collectedThrough;
    this.collector.collected(through, deleted, limits.tombstonesPerCollectMax);
    if (logger.isLevelEnabled("debug") && (deleted > 0 || through > before)) {
      logger.debug({ event: "tombstones-collected", through, deleted }, `collected ${deleted} tombstone(s) of versions up to ${through}`);
    }
  }

  private maintain(done: () => void): void {
    const { log, store, logger } = this.options;
    this.collectTombstones();
    if (!compactionDue(log.size, this.options.compactLogSize, this.compactedSize, this.options.compactionStagger)) return done();
    const startedMs = this.now();
    // The commits about to leave the log must be durable in the store first.
    store.checkpoint();
    const before = log.size;
    log.rewrite(this.core.liveRecords().map(encodeReplicaRecord), () => {
      this.compactedSize = log.size;
      const ms = Math.round(this.now() - startedMs);
      logger.info({ event: "log-compacted", bytesBefore: before, bytesAfter: log.size, ms }, `replica log compacted: ${before} -> ${log.size} bytes in ${ms} ms (no turn meanwhile)`);
      done();
    });
  }

  private failIo(name: FailpointName): void {
    if (failpoint(name) !== "error") return;
    this.options.logger.fatal({ event: "injected-io-error", failpoint: name }, `failpoint ${name}: injected I/O error before a log write; exiting`);
    this.options.exit(`failpoint ${name}`);
  }

  /** Logs the items of an answer that could not be used (replica/decode.ts says why). */
  private logDropped(from: string, dropped: readonly string[]): void {
    if (dropped.length === 0) return;
    const shown = dropped.slice(0, 10).join("; ");
    this.options.logger.warn(
      { event: "answer-items-dropped", from, count: dropped.length, reasons: dropped.slice(0, 10) },
      `${dropped.length} unusable item(s) of the answer from ${from} dropped: ${shown}${dropped.length > 10 ? "; ..." : ""}`,
    );
  }

  private askCoordinator(txnIds: string[]): void {
    // The core re-asks with backoff, so one query at a time is enough and a failed one is dropped.
    // A long list takes several calls (the coordinator refuses more than txnIdsPerCallMax ids).
    if (this.queriesInFlight > 0) return;
    const { logger, transport, scheduler } = this.options;
    logger.debug({ event: "outcome-query", txnIds }, "asking the coordinator for outcomes");
    for (const asked of idsPerCall(txnIds)) {
      this.queriesInFlight += 1;
      transport.queryOutcome(asked, limits.replicaCallTimeoutMs, (result) => {
        this.queriesInFlight -= 1;
        if (!result.ok) {
          // The core decides whom to ask instead (cooperative termination).
          logger.debug({ event: "outcome-query-failed", err: result.reason }, "coordinator did not answer; asking the peers");
          this.loop.push({ kind: "coordinator-unreachable", txnIds: asked, nowMs: scheduler.nowMs() });
          return;
        }
        const { items, dropped } = result.value;
        this.logDropped("the coordinator", dropped);
        for (const item of items) {
          logger.info({ event: "in-doubt-settled", txnId: item.txnId, outcome: item.outcome }, `in-doubt transaction ${item.txnId} settled: ${item.outcome}`);
        }
        this.loop.push({ kind: "outcome", outcomes: items, nowMs: scheduler.nowMs() });
      });
    }
  }

  /** Cooperative termination: asks a peer what it knows; the core adopts any outcome found. */
  private askPeer(peerId: string, txnIds: readonly string[]): void {
    const { logger, transport, scheduler } = this.options;
    for (const asked of idsPerCall(txnIds)) {
      transport.peerOutcome(peerId, asked, limits.replicaCallTimeoutMs, (result) => {
        if (!result.ok) {
          logger.debug({ event: "peer-query-failed", peer: peerId, err: result.reason }, `peer ${peerId} did not answer`);
          return;
        }
        const { items: states, dropped } = result.value;
        this.logDropped(`peer ${peerId}`, dropped);
        for (const state of states) {
          if (state.state === "committed" || state.state === "aborted") {
            logger.info({ event: "in-doubt-settled-by-peer", txnId: state.txnId, peer: peerId, state: state.state }, `in-doubt transaction ${state.txnId}: peer ${peerId} says ${state.state}`);
          }
        }
        this.loop.push({ kind: "peer-answers", states, nowMs: scheduler.nowMs() });
      });
    }
  }

  /** Registers a call's continuation and steps its input. */
  private call<T>(makeInput: (callId: number) => Input, respond: Respond<T>, onReply: (reply: Reply) => void): void {
    const callId = this.nextCallId++;
    this.pending.set(callId, {
      reply: onReply,
      lose: (details) => respond({ ok: false, code: Code.UNAVAILABLE, reason: `replica ${this.options.id}: ${details}` }),
    });
    this.loop.push(makeInput(callId));
  }

  /** The continuation of a call answered with `kind`; a refusal (or a lost reply) fails the call. */
  private answer<K extends Reply["kind"], T>(method: string, kind: K, respond: Respond<T>, value: (reply: Extract<Reply, { kind: K }>) => T): (reply: Reply) => void {
    return (reply) => {
      if (reply.kind === "refused") {
        this.options.logger.warn({ event: "call-refused", method, code: reply.code, reason: reply.message }, `${method} refused: ${reply.message}`);
        respond({ ok: false, code: refusalCode(reply.code), reason: `replica ${this.options.id}: ${reply.message}` });
        return;
      }
      assert(reply.kind === kind, `${method} answered with ${reply.kind}, not ${kind}`);
      respond({ ok: true, value: value(reply as Extract<Reply, { kind: K }>) });
    };
  }

  private now(): number {
    return this.options.scheduler.nowMs();
  }

  // ---- the calls the node serves (the Participant service) ------------------------------------

  prepare(epoch: number, txns: readonly PrepareItem[], respond: Respond<VoteResult[]>): void {
    this.call((callId) => ({ kind: "prepare", callId, epoch, txns, nowMs: this.now() }), respond, this.answer("Prepare", "votes", respond, (reply) => reply.votes));
  }

  /**
   * txns: each with the writes the COMMIT carried (empty when none: see replica/core.ts, commit).
   * gcFloor: the coordinator's tombstone collection floor (0: none). Heard only if the call is
   * served (not fenced): the replica may then collect tombstones up to it.
   */
  commit(epoch: number, txns: readonly CommitItem[], gcFloor: number, urgent: boolean, respond: Respond<string[]>): void {
    this.call(
      (callId) => ({ kind: "commit", callId, epoch, txns, urgent, nowMs: this.now() }),
      respond,
      this.answer("Commit", "acks", respond, (reply) => {
        this.collector.floorHeard(gcFloor, this.now());
        this.floorHeardMax = Math.max(this.floorHeardMax, gcFloor);
        if (this.snapshotWatches.size > 0) this.watchFloor(gcFloor);
        return reply.txnIds;
      }),
    );
  }

  abort(epoch: number, txnIds: readonly string[], respond: Respond<string[]>): void {
    this.call((callId) => ({ kind: "abort", callId, epoch, txnIds, nowMs: this.now() }), respond, this.answer("Abort", "acks", respond, (reply) => reply.txnIds));
  }

  /** Failover: a coordinator taking over asks for this replica's promise of its epoch. */
  promise(epoch: number, coordinatorId: string, address: string, respond: Respond<Extract<Reply, { kind: "promised" }>>): void {
    this.call((callId) => ({ kind: "promise", callId, epoch, coordinatorId, address, nowMs: this.now() }), respond, this.answer("Promise", "promised", respond, (reply) => reply));
  }

  /** Failover: a page of the copy of the decision log, for the coordinator this replica promised epoch to. */
  readCopy(epoch: number, fromIndex: number, respond: Respond<Extract<Reply, { kind: "copy-page" }>>): void {
    const recordsMax = this.options.copyPageRecordsMax;
    this.call((callId) => ({ kind: "read-copy", callId, epoch, fromIndex, recordsMax, bytesMax: limits.logPartBytesMax, nowMs: this.now() }), respond, this.answer("ReadCopy", "copy-page", respond, (reply) => reply));
  }

  /** Failover: records of the coordinator's decision log (replica/log-copy.ts). */
  append(
    request: { epoch: number; coordinatorId: string; address: string; base: boolean; more: boolean; baseFirstIndex: number; firstIndex: number; records: readonly Buffer[] },
    respond: Respond<{ logEpoch: number; logIndex: number }>,
  ): void {
    this.call(
      (callId) => ({ kind: "append", callId, ...request, nowMs: this.now() }),
      respond,
      this.answer("Append", "appended", respond, (reply) => ({ logEpoch: reply.logEpoch, logIndex: reply.logIndex })),
    );
  }

  read(epoch: number, keys: readonly string[], respond: Respond<StoredValue[]>): void {
    this.call(
      (callId) => ({ kind: "read", callId, epoch, keys, nowMs: this.now() }),
      respond,
      (reply) => {
        switch (reply.kind) {
          case "read":
            respond({ ok: true, value: this.options.store.read(reply.keys) });
            return;
          case "read-timeout":
            respond({ ok: false, code: Code.UNAVAILABLE, reason: `replica ${this.options.id}: ${reply.message}` });
            return;
          case "refused":
            this.answer("Read", "read", respond, () => [])(reply);
            return;
          case "votes":
          case "acks":
          case "barrier":
          case "peer-states":
          case "promised":
          case "copy-page":
          case "appended":
          case "fence-ok":
            assert(false, `a read answered with ${reply.kind}`);
            return;
          default:
            assertNever(reply);
        }
      },
    );
  }

  /** After a barrier, so that it shows every decision taken here as applied to the store. */
  status(respond: Respond<ReplicaStatus>): void {
    const { store, log } = this.options;
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      respond,
      this.answer("Status", "barrier", respond, (reply) => {
        const now = this.now();
        return {
          appliedSeq: store.appliedSeq(),
          prepared: reply.prepared.map((txn: PreparedSummary) => ({ txnId: txn.txnId, keys: txn.keys, ageMs: Math.max(0, now - txn.preparedAtMs) })),
          keys: store.keyCount(),
          logForces: log.forces,
          logRecordsForced: log.recordsForced,
          collectedThrough: store.collectedThrough(),
          tombstones: store.tombstoneCount(),
        };
      }),
    );
  }

  /**
   * After a barrier, as status: the applied commit sequence number and how many transactions are
   * held prepared (the metrics' gauges; no key count, which scans the store).
   */
  figures(respond: Respond<{ appliedSeq: number; prepared: number }>): void {
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      respond,
      this.answer("Figures", "barrier", respond, (reply) => ({ appliedSeq: this.options.store.appliedSeq(), prepared: reply.prepared.length })),
    );
  }

  peerOutcome(txnIds: readonly string[], respond: Respond<PeerState[]>): void {
    this.call((callId) => ({ kind: "peer-query", callId, txnIds, nowMs: this.now() }), respond, this.answer("PeerOutcome", "peer-states", respond, (reply) => reply.states));
  }

  inspect(txnIds: readonly string[], respond: Respond<PeerState[]>): void {
    this.call((callId) => ({ kind: "inspect", callId, txnIds, nowMs: this.now() }), respond, this.answer("Inspect", "peer-states", respond, (reply) => reply.states));
  }

  /** After a barrier: every decision this replica has taken is applied before it is copied. */
  fetch(request: FetchRequest, respond: Respond<FetchPage>): void {
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      respond,
      this.answer("Fetch", "barrier", respond, () => {
        // Read together, in one synchronous step: collection runs only between turns.
        const rows = this.options.store.fetch(request.sinceSeq, request.afterKey, request.limit);
        return { rows, done: rows.length < request.limit, collectedThrough: this.options.store.collectedThrough() };
      }),
    );
  }

  dump(respond: Respond<{ entries: { key: string; value: Buffer; version: number }[]; checksum: string; appliedSeq: number }>): void {
    const { store } = this.options;
    this.call((callId) => ({ kind: "barrier", callId, nowMs: this.now() }), respond, this.answer("Dump", "barrier", respond, () => ({ ...store.dump(), appliedSeq: store.appliedSeq() })));
  }

  /**
   * Copies every row of version sinceSeq or later from an in-sync replica, page by page, each only
   * over an older version here; then checkpoints the store, since these rows are not in this
   * replica's log. If the source has collected tombstones of versions from sinceSeq on, a full copy
   * instead (replica/tombstones.ts): every row, and the rows here the copy lacks that are stale go.
   */
  catchUp(epoch: number, sourceId: string, sourceAddress: string, sinceSeq: number, respond: Respond<{ rowsCopied: number; appliedSeq: number }>): void {
    // A catch-up is ordered by the active coordinator only: check the epoch first.
    this.call(
      (callId) => ({ kind: "fence", callId, epoch, nowMs: this.now() }),
      respond,
      (reply) => {
        if (reply.kind !== "fence-ok") return this.answer("CatchUp", "fence-ok", respond, () => ({ rowsCopied: 0, appliedSeq: 0 }))(reply);
        this.copyRows(sourceId, sourceAddress, sinceSeq, respond);
      },
    );
  }

  /**
   * Before a full copy: waits until every transaction this replica holds prepared now is decided
   * (then), or fails after fullCopyDecisionsWaitMs. A transaction prepared before the catch-up may
   * be one the rest of the cluster committed while this replica was out, then overwrote or deleted,
   * and whose tombstone is gone: applied after the copy passed its keys, it would bring a deleted
   * key back (replica/DESIGN.md, "Full copy"). Settled first, its writes are in the store when the
   * copy reaches their keys, and the copy corrects them. Transactions prepared from now on are ones
   * the coordinator started with this replica as a participant that must acknowledge them.
   */
  private afterPriorDecisions(then: () => void, fail: (reason: string) => void): void {
    const { scheduler, logger } = this.options;
    this.preparedNow((before) => {
      if (before.size === 0) return then();
      logger.info({ event: "full-copy-waits", inDoubt: [...before] }, `waiting for ${before.size} prepared transaction(s) to be decided before the full copy`);
      const startMs = this.now();
      let asking = false;
      let over = false;
      const stop = scheduler.every(limits.tickMs, () => {
        if (asking || over) return;
        asking = true;
        this.preparedNow((now) => {
          asking = false;
          if (over) return;
          const left = [...before].filter((txnId) => now.has(txnId));
          if (left.length > 0 && this.now() - startMs < limits.fullCopyDecisionsWaitMs) return;
          over = true;
          stop();
          if (left.length === 0) then();
          else fail(`${left.length} transaction(s) prepared before the full copy still undecided after ${limits.fullCopyDecisionsWaitMs} ms (fullCopyDecisionsWaitMs): ${left.slice(0, 5).join(", ")}`);
        });
      });
    });
  }

  /** The transactions the core holds prepared, after a barrier (every turn before it is done). */
  private preparedNow(then: (txnIds: ReadonlySet<string>) => void): void {
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      () => undefined,
      (reply) => {
        assert(reply.kind === "barrier", `a barrier answered with ${reply.kind}`);
        then(new Set(reply.prepared.map((txn) => txn.txnId)));
      },
    );
  }

  // ---- backup (issue 14) -----------------------------------------------------------------------

  /**
   * The moment of a backup's snapshot, and the proof that it holds exactly the commits up to the
   * sequence number it reflects. `pin` runs between two turns (after a barrier: every decision taken
   * so far is applied, none half-applied), pins the store there and returns the applied_seq S it
   * holds (null: it could not). Commits do not always apply in sequence order (a transaction prepared here may get its
   * COMMIT after a later one's), so the snapshot may still miss a commit below S. `verified` says
   * when it cannot:
   * - "floor": a floor F >= S heard from the coordinator (every in-sync replica has applied every
   *   commit up to F; replica/DESIGN.md, "Tombstone collection"), either before the moment (every
   *   such commit was applied before it) or after it with no commit up to S applied here since the
   *   moment: every one of them was in the snapshot. An idle coordinator still sends a risen floor
   *   on its own (coordinator/node.ts ReplicaLink.pushFloor), so a quiet cluster answers at once.
   * Nothing less will do: "nothing was prepared here at the moment" is no proof, since with early
   * answers (coordinator/DESIGN.md) a replica may apply a commit it never prepared (it voted NO, or
   * its PREPARE was lost), after a later one.
   * It fails (ABORTED: take another) when a commit up to S is applied after the moment, or a
   * catch-up starts (this replica was out of the in-sync set), or no floor reaches S within
   * backupVerifyWaitMs; and at once (UNAVAILABLE) if a catch-up is running.
   * For a catch-up's snapshot (`purpose` "catch-up": another replica's copyRows asked for it) there
   * is nothing to wait for: it answers "catch-up" as soon as the store is pinned.
   */
  snapshotMoment(pin: () => number | null, verified: Respond<SnapshotVerifiedBy>, purpose: "backup" | "catch-up" = "backup"): void {
    const catchingUp = (): CallResult<SnapshotVerifiedBy> => ({
      ok: false,
      code: Code.UNAVAILABLE,
      reason: `replica ${this.options.id} is catching up: its store may lack rows it is copying; back up from an in-sync replica`,
    });
    if (this.catchingUp) return verified(catchingUp());
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      verified,
      (reply) => {
          assert(reply.kind === "barrier", `a barrier answered with ${reply.kind}`);
          if (this.catchingUp) return verified(catchingUp());
          const seq = pin();
          if (seq === null) return verified({ ok: false, code: Code.INTERNAL, reason: `replica ${this.options.id} could not pin its store for the snapshot` });
          if (purpose === "catch-up") return verified({ ok: true, value: "catch-up" });
          if (this.floorHeardMax >= seq || (mutation() === "backup-trusts-quiet" && reply.prepared.length === 0)) return verified({ ok: true, value: "floor" });
          let settled = false;
          const stopTimer = this.options.scheduler.after(limits.backupVerifyWaitMs, () =>
            watch.settle({
              ok: false,
              code: Code.ABORTED,
              reason: `no collection floor of at least ${seq} reached replica ${this.options.id} within ${limits.backupVerifyWaitMs} ms (backupVerifyWaitMs), so the snapshot may miss a commit up to ${seq} still to be applied here; try again`,
            }),
          );
          const watch: SnapshotWatch = {
            seq,
            settle: (result) => {
              if (settled) return;
              settled = true;
              stopTimer();
              this.snapshotWatches.delete(watch);
              verified(result);
            },
          };
          this.snapshotWatches.add(watch);
        },
    );
  }

  private watchApplied(applied: readonly Apply[]): void {
    for (const watch of [...this.snapshotWatches]) {
      const late = applied.find((txn) => txn.commitSeq <= watch.seq);
      if (late === undefined) continue;
      watch.settle({
        ok: false,
        code: Code.ABORTED,
        reason: `commit ${late.txnId} (commit sequence number ${late.commitSeq}) was applied on replica ${this.options.id} after the snapshot of commit sequence number ${watch.seq}, which misses it; try again`,
      });
    }
  }

  private watchFloor(gcFloor: number): void {
    for (const watch of [...this.snapshotWatches]) if (gcFloor >= watch.seq) watch.settle({ ok: true, value: "floor" });
  }

  private spoilSnapshots(reason: string): void {
    for (const watch of [...this.snapshotWatches]) watch.settle({ ok: false, code: Code.ABORTED, reason: `replica ${this.options.id}: ${reason}` });
  }

  /**
   * The catch-up itself. Three ways, each sound for the reason replica/DESIGN.md gives ("Full copy",
   * "Seeding from a snapshot"):
   * - rows of version sinceSeq or later, page by page over Fetch;
   * - a full copy over Fetch, when the source may have collected tombstones the copy needs;
   * - a full copy from one snapshot of the source, brought here whole (its Backup stream) and
   *   installed by the same rule (installFull), in transactions of snapshotInstallRowsMax rows: when
   *   a full copy is needed, or once catchUpSnapshotRows rows were copied page by page and more
   *   follow (a replica far behind, or new). The snapshot is taken after this catch-up started,
   *   hence after every transaction the coordinator did not send here had finished (it starts a
   *   catch-up only then), as every Fetch page is: it holds every commit this replica will not get
   *   itself. If the snapshot cannot be had (the source serves another backup, or fails), the
   *   copy goes on over Fetch where it stood.
   */
  private copyRows(sourceId: string, sourceAddress: string, sinceSeq: number, respond: Respond<{ rowsCopied: number; appliedSeq: number }>): void {
    const { logger, store, transport, id, catchUpSnapshotRows } = this.options;
    logger.info({ event: "catch-up-start", source: sourceId, sinceSeq }, `catching up from ${sourceId} (rows of version ${sinceSeq} and later)`);
    this.catchingUp = true;
    this.spoilSnapshots(`a catch-up from ${sourceId} started after the snapshot (this replica had fallen out of the in-sync set): back up again, from an in-sync replica`);
    const source = transport.fetchFrom(sourceId, sourceAddress);
    let afterKey = "";
    let rowsCopied = 0;
    /** A full copy: the horizon it takes (the source's when the copy started); null for a copy from sinceSeq. */
    let fullCopyHorizon: number | null = null;
    let staleRowsDropped = 0;
    /** A snapshot was asked for (once per catch-up). */
    let snapshotTried = false;
    const fail = (reason: string): void => {
      source.close();
      this.catchingUp = false;
      logger.warn({ event: "catch-up-failed", source: sourceId, err: reason }, `catch-up from ${sourceId} failed: ${reason}`);
      respond({ ok: false, code: Code.UNAVAILABLE, reason: `replica ${id}: catch-up from ${sourceId} failed: ${reason}` });
    };
    const done = (how: string): void => {
      store.checkpoint();
      source.close();
      this.catchingUp = false;
      const full = fullCopyHorizon !== null;
      logger.info(
        { event: "catch-up-done", source: sourceId, rowsCopied, appliedSeq: store.appliedSeq(), fullCopy: full, staleRowsDropped, how },
        `caught up from ${sourceId}: ${rowsCopied} rows${how === "fetch" ? "" : ` from a snapshot`}${full ? ` (a full copy; ${staleRowsDropped} stale rows dropped)` : ""}`,
      );
      respond({ ok: true, value: { rowsCopied, appliedSeq: store.appliedSeq() } });
    };
    /** A full copy from a snapshot of the source, after the prior decisions; `otherwise` goes on over Fetch. */
    const fromSnapshot = (why: string, otherwise: () => void): void => {
      snapshotTried = true;
      logger.info({ event: "catch-up-snapshot", source: sourceId, why }, `${why}: taking a snapshot of ${sourceId}`);
      // Planted bug (test-only): the snapshot's copy does not wait for the prior decisions.
      const wait = mutation() === "snapshot-skips-prior-decisions" ? (then: () => void): void => then() : (then: () => void, failed: (reason: string) => void): void => this.afterPriorDecisions(then, failed);
      wait(() => {
        transport.snapshotFrom(sourceId, sourceAddress, limits.catchUpSnapshotTimeoutMs, (result) => {
          if (!result.ok) {
            logger.warn({ event: "catch-up-snapshot-failed", source: sourceId, err: result.reason }, `no snapshot of ${sourceId} (${result.reason}): copying over Fetch instead`);
            return otherwise();
          }
          const snapshot = result.value;
          const horizon = snapshot.collectedThrough;
          fullCopyHorizon = horizon;
          let after = "";
          const install = (): void => {
            const step = store.installFullFrom(snapshot, after, this.options.snapshotInstallRowsMax, horizon);
            this.collector.adopted(horizon);
            rowsCopied += step.rows;
            staleRowsDropped += step.dropped;
            if (step.throughKey === null) {
              snapshot.close();
              return done("snapshot");
            }
            after = step.throughKey;
            // Between two transactions, the event loop serves this replica's other calls.
            this.options.scheduler.after(0, install);
          };
          install();
        });
      }, fail);
    };
    const page = (): void => {
      const request = { sinceSeq: fullCopyHorizon === null ? sinceSeq : 0, afterKey, limit: this.options.fetchRowsMax };
      source.fetch(request, limits.fetchTimeoutMs, (result) => {
        if (!result.ok) return fail(result.reason);
        const { collectedThrough } = result.value;
        if (fullCopyHorizon === null && needsFullCopy(sinceSeq, collectedThrough)) {
          // The source may have collected tombstones this copy needs (on any page: it collects
          // between pages too). The rows installed so far are true; start again with every row.
          logger.info(
            { event: "catch-up-full-copy", source: sourceId, sinceSeq, sourceCollectedThrough: collectedThrough },
            `${sourceId} collected tombstones up to version ${collectedThrough} (this replica needs them from ${sinceSeq}): copying every row instead`,
          );
          const overFetch = (): void => {
            fullCopyHorizon = collectedThrough;
            afterKey = "";
            page();
          };
          if (catchUpSnapshotRows > 0 && !snapshotTried) return fromSnapshot("a full copy", overFetch);
          this.afterPriorDecisions(overFetch, fail);
          return;
        }
        const all = result.value.rows;
        // Planted bug (test-only): the deletions (tombstones) are skipped.
        const rows = mutation() === "catch-up-skips-deletions" ? all.filter((row) => row.value !== null) : all;
        const last = all[all.length - 1];
        const finished = result.value.done || last === undefined;
        if (fullCopyHorizon === null) {
          store.install(rows);
        } else {
          staleRowsDropped += store.installFull({
            entries: rows,
            afterKey,
            throughKey: finished ? null : last!.key,
            sourceCollectedThrough: collectedThrough,
            horizon: fullCopyHorizon,
          });
          this.collector.adopted(fullCopyHorizon);
        }
        rowsCopied += rows.length;
        if (finished) return done("fetch");
        afterKey = last!.key;
        if (fullCopyHorizon === null && catchUpSnapshotRows > 0 && !snapshotTried && rowsCopied >= catchUpSnapshotRows) {
          // Far behind: the rest comes faster from a snapshot. The rows installed so far are true.
          return fromSnapshot(`${rowsCopied} rows copied page by page (--catch-up-snapshot-rows ${catchUpSnapshotRows}) and more to come`, page);
        }
        page();
      });
    };
    page();
  }
}

function refusalCode(code: Extract<Reply, { kind: "refused" }>["code"]): CodeValue {
  switch (code) {
    case "invalid-argument":
      return Code.INVALID_ARGUMENT;
    case "failed-precondition":
      return Code.FAILED_PRECONDITION;
    default:
      return assertNever(code);
  }
}

/** Adds a durable turn's records and votes to the counters. */
function count(counters: ReplicaCounters, ready: Ready): void {
  for (const record of ready.persist) {
    if (record.kind === "prepare" && record.participants.length > 0) counters.prepares += 1;
    else if (record.kind === "commit") counters.commits += 1;
    else if (record.kind === "abort") counters.aborts += 1;
  }
  for (const reply of ready.replies) {
    if (reply.kind !== "votes") continue;
    for (const vote of reply.votes) {
      if (vote.vote === "yes") counters.votesYes += 1;
      else counters.votesNo += 1;
    }
  }
}
