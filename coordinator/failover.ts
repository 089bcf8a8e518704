// The coordinator process's role (failover; coordinator/DESIGN.md, "Failover"): standby, taking over,
// or active with a CoordinatorNode. Over an injected environment (clock and timers, the calls to the
// replicas of a given epoch, the brief Status of the other coordinators), so that the simulator can
// run it as production does; coordinator/server.ts is its gRPC shell.
//
// - It watches the other coordinators (coordinator/election.ts decides) and takes over when the
//   active one is gone: a round of promises (coordinator/takeover.ts), then a CoordinatorNode built
//   from the newest copy of the decision log, in the promised epoch, over a ReplicatedLog
//   (coordinator/replicated-log.ts). It serves once that node forced its base on a majority.
// - Active, it stands down when a replica refuses a call as fenced (a newer coordinator took over)
//   or when it sees an active coordinator with a newer epoch: the node answers every waiting call
//   UNAVAILABLE and is dropped, and the process stands by.
import { assert } from "../common/assert";
import type { CallResult, Scheduler } from "../common/env";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { decide, type PeerSeen, type Role } from "./election";
import { CoordinatorNode, type CoordinatorNodeOptions, type ParticipantCalls } from "./node";
import { ReplicatedLog } from "./replicated-log";
import { promiseRound, readCopy, type PromiseCall } from "./takeover";

/** What another coordinator says of itself (a brief Status). */
export interface PeerRole {
  readonly role: Role;
  readonly epoch: number;
  readonly activeId: string;
  readonly activeAddress: string;
}

export interface FailoverOptions {
  readonly id: string;
  /** Where clients and replicas reach this coordinator. */
  readonly address: string;
  /** Every coordinator, this one included, in --coordinators order. */
  readonly coordinators: readonly { readonly id: string; readonly address: string }[];
  readonly replicaIds: readonly string[];
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** The calls to one replica, in one epoch. */
  readonly participant: (replicaId: string, epoch: number) => ParticipantCalls;
  readonly peerRole: (coordinatorId: string, timeoutMs: number, done: (result: CallResult<PeerRole>) => void) => void;
  /** The rest of what a node needs. */
  readonly node: Pick<CoordinatorNodeOptions, "onConflict" | "minInSync" | "valueCacheBytes" | "compactLogSize" | "exit" | "probe" | "trace" | "metrics">;
  /** Hears each node built at a takeover, and each change of role (for the simulator's counts). */
  readonly observe?: { node?(node: CoordinatorNode): void; role?(role: Role, epoch: number): void };
}

export interface ActiveView {
  readonly role: Role;
  readonly epoch: number;
  /** Why the last takeover failed, if it did and none succeeded since. */
  readonly lastFailure: string | null;
  /** The active coordinator as this one knows it (itself when active; null when unknown). */
  readonly active: { readonly id: string; readonly address: string } | null;
}

export class Failover {
  private role: Role = "standby";
  private epoch = 0;
  private node: CoordinatorNode | null = null;
  private log: ReplicatedLog | null = null;
  private readonly peers = new Map<string, { lastOkMs: number | null; role: Role | null; epoch: number; polled: boolean; inFlight: boolean }>();
  private activeSeen: { id: string; address: string } | null = null;
  /** The highest epoch this process has seen anywhere: a takeover proposes a newer one. */
  private knownEpoch = 0;
  private readonly stops: (() => void)[] = [];
  /** Why the last takeover failed (null once one succeeded), for status. */
  private lastFailure: string | null = null;
  /** After a failed takeover, the next waits until then (backing off while a majority is unreachable). */
  private nextTakeoverAtMs = 0;
  private takeoverBackoffMs = takeoverBackoffMsMin;
  private polls = 0;
  private startedMs = 0;

  constructor(private readonly options: FailoverOptions) {
    assert(options.coordinators.some((c) => c.id === options.id), "--coordinators names this coordinator");
    for (const c of options.coordinators) {
      if (c.id !== options.id) this.peers.set(c.id, { lastOkMs: null, role: null, epoch: 0, polled: false, inFlight: false });
    }
  }

  start(): void {
    const { scheduler } = this.options;
    this.startedMs = scheduler.nowMs();
    this.stops.push(scheduler.every(limits.coordinatorPollMs, () => this.poll()));
    this.poll();
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.node?.abandon("the process is stopping");
    this.node?.stop();
    this.log?.stop();
  }

  /** The node, when this coordinator is active and serving. */
  activeNode(): CoordinatorNode | null {
    return this.role === "active" && this.node !== null && !this.node.abandoned ? this.node : null;
  }

  view(): ActiveView {
    const self = { id: this.options.id, address: this.options.address };
    return { role: this.role, epoch: this.epoch, lastFailure: this.lastFailure, active: this.role === "active" ? self : this.role === "taking-over" ? self : this.activeSeen };
  }

  /** The decision log's counters, for status. */
  logCounters(): { forces: number; recordsForced: number } {
    return { forces: this.log?.forces ?? 0, recordsForced: this.log?.recordsForced ?? 0 };
  }

  private poll(): void {
    const { scheduler } = this.options;
    // A standby keeps its channels to the replicas connected (a health check now and then), so that
    // a takeover's first calls do not wait for connections.
    if (this.role === "standby" && this.polls++ % standbyReplicaCheckEvery === 0) {
      for (const replicaId of this.options.replicaIds) this.options.participant(replicaId, 0).checkHealth(limits.healthCheckTimeoutMs, () => undefined);
    }
    for (const [id, peer] of this.peers) {
      if (peer.inFlight) continue;
      peer.inFlight = true;
      this.options.peerRole(id, limits.coordinatorPollTimeoutMs, (result) => {
        peer.inFlight = false;
        peer.polled = true;
        if (result.ok) {
          peer.lastOkMs = scheduler.nowMs();
          peer.role = result.value.role;
          peer.epoch = result.value.epoch;
          this.knownEpoch = Math.max(this.knownEpoch, result.value.epoch);
        }
        this.elect();
      });
    }
    if (this.peers.size === 0) this.elect();
  }

  private elect(): void {
    const { scheduler, coordinators } = this.options;
    const seen: PeerSeen[] = [...this.peers].map(([id, peer]) => ({
      id,
      address: coordinators.find((c) => c.id === id)!.address,
      // A coordinator not heard yet counts as alive for coordinatorStartGraceMs after this one
      // started: at a cluster's start the others may not listen yet, and the first in order must not
      // be taken for dead before it had time to come up (else two take over at once: safe, but a
      // needless duel).
      lastOkMs: peer.lastOkMs ?? this.startedMs + limits.coordinatorStartGraceMs - limits.coordinatorDownAfterMs,
      role: peer.role,
      epoch: peer.epoch,
    }));
    const polledAll = [...this.peers.values()].every((peer) => peer.polled);
    const decision = decide(
      { id: this.options.id, role: this.role, epoch: this.epoch },
      coordinators.map((c) => c.id),
      seen,
      polledAll,
      scheduler.nowMs(),
      limits.coordinatorDownAfterMs,
      limits.coordinatorTakingOverDownAfterMs,
    );
    switch (decision.kind) {
      case "stay":
        return;
      case "stand-by":
        if (decision.active !== null) this.activeSeen = { id: decision.active.id, address: decision.active.address };
        else if (this.activeSeen !== null && !seen.some((p) => p.id === this.activeSeen!.id && p.lastOkMs !== null && scheduler.nowMs() - p.lastOkMs <= limits.coordinatorDownAfterMs)) this.activeSeen = null;
        if (this.role !== "standby") this.standDown(`coordinator ${decision.active?.id ?? "?"} is active with epoch ${decision.active?.epoch ?? "?"}`);
        return;
      case "take-over":
        if (scheduler.nowMs() < this.nextTakeoverAtMs) return;
        this.takeOver(this.knownEpoch + 1);
        return;
    }
  }

  /** A round of promises for `epoch`, then the node; on a lost round, back to standby (the next poll may try again). */
  private takeOver(epoch: number): void {
    const { logger, replicaIds, scheduler } = this.options;
    this.role = "taking-over";
    this.epoch = epoch;
    const startedMs = scheduler.nowMs();
    logger.info({ event: "taking-over", epoch }, `coordinator ${this.options.id} takes over: asking the replicas to promise epoch ${epoch}`);
    const calls = new Map<string, PromiseCall>(
      replicaIds.map((replicaId) => {
        const call: PromiseCall = (proposed, timeoutMs, done) => this.options.participant(replicaId, proposed).promise(timeoutMs, done);
        return [replicaId, call];
      }),
    );
    promiseRound(epoch, calls, limits.promiseTimeoutMs, (round) => {
      if (this.role !== "taking-over" || this.epoch !== epoch) return;
      if (!round.ok) {
        this.knownEpoch = Math.max(this.knownEpoch, round.retryEpoch - 1);
        return this.takeoverFailed(epoch, round.reason);
      }
      this.knownEpoch = Math.max(this.knownEpoch, epoch);
      const holders = round.copyHolders.map((replicaId) => {
        const participant = this.options.participant(replicaId, epoch);
        return { id: replicaId, call: participant.readCopy.bind(participant) };
      });
      const promisedMs = scheduler.nowMs();
      readCopy(round.copy, holders, limits.copyPageTimeoutMs, (read) => {
        if (this.role !== "taking-over" || this.epoch !== epoch) return;
        if (!read.ok) return this.takeoverFailed(epoch, read.reason);
        this.lastFailure = null;
        this.takeoverBackoffMs = takeoverBackoffMsMin;
        this.startNode(epoch, read.records, round.granted, round.inDoubt, { startedMs, promisedMs, copiedMs: scheduler.nowMs() });
      });
    });
  }

  /** A lost round, or a copy nobody served: back to standby, and the next takeover waits a while. */
  private takeoverFailed(epoch: number, reason: string): void {
    this.options.logger.warn({ event: "takeover-failed", epoch, reason }, `takeover with epoch ${epoch} failed: ${reason}`);
    this.lastFailure = `takeover with epoch ${epoch} failed: ${reason}`;
    this.nextTakeoverAtMs = this.options.scheduler.nowMs() + this.takeoverBackoffMs;
    this.takeoverBackoffMs = Math.min(this.takeoverBackoffMs * 2, takeoverBackoffMsMax);
    this.role = "standby";
  }

  /** times: when the takeover started, when a majority had promised, when the copy was read (for the log). */
  private startNode(epoch: number, records: readonly Buffer[], granted: readonly string[], inDoubt: readonly string[], times: { startedMs: number; promisedMs: number; copiedMs: number }): void {
    const { logger, replicaIds, scheduler } = this.options;
    const participants = new Map(replicaIds.map((replicaId) => [replicaId, this.options.participant(replicaId, epoch)]));
    const log = new ReplicatedLog({
      epoch,
      replicas: new Map([...participants].map(([replicaId, calls]) => [replicaId, calls.append.bind(calls)])),
      scheduler,
      logger,
      fenced: (byEpoch, replicaId) => this.fenced(epoch, byEpoch, replicaId),
    });
    this.log = log;
    const node = new CoordinatorNode({
      ...this.options.node,
      replicaIds,
      scheduler,
      log,
      replayed: { records, firstLsn: 1, tornBytes: 0 },
      replicas: (replicaId) => participants.get(replicaId)!,
      logger,
      epoch,
      fenced: (byEpoch, replicaId) => this.fenced(epoch, byEpoch, replicaId),
      inDoubt,
    });
    this.node = node;
    const recoveredMs = scheduler.nowMs();
    this.options.observe?.node?.(node);
    logger.info(
      { event: "promised", epoch, granted, recoveredRecords: records.length },
      `replicas ${granted.join(", ")} promised epoch ${epoch}; recovering from a copy of the decision log of ${records.length} records`,
    );
    node.start(() => {
      if (this.node !== node || node.abandoned) return;
      this.role = "active";
      this.options.observe?.role?.("active", epoch);
      this.activeSeen = { id: this.options.id, address: this.options.address };
      const ms = { promiseMs: times.promisedMs - times.startedMs, copyMs: times.copiedMs - times.promisedMs, recoveryMs: recoveredMs - times.copiedMs, baseMs: scheduler.nowMs() - recoveredMs };
      logger.info(
        { event: "active", epoch, takeoverMs: scheduler.nowMs() - times.startedMs, ...ms },
        `coordinator ${this.options.id} is active with epoch ${epoch}, ${scheduler.nowMs() - times.startedMs} ms after it began to take over (promises ${ms.promiseMs} ms, reading the copy ${ms.copyMs} ms, recovery ${ms.recoveryMs} ms, its base on a majority ${ms.baseMs} ms)`,
      );
    });
  }

  private fenced(epoch: number, byEpoch: number, replicaId: string): void {
    if (this.epoch !== epoch || this.role === "standby") return;
    this.knownEpoch = Math.max(this.knownEpoch, byEpoch);
    this.standDown(`replica ${replicaId} promised epoch ${byEpoch} to a newer coordinator`);
  }

  private standDown(reason: string): void {
    const { logger } = this.options;
    logger.warn({ event: "stood-down", epoch: this.epoch, reason }, `coordinator ${this.options.id} stands down from epoch ${this.epoch}: ${reason}`);
    this.node?.abandon(reason);
    this.log?.stop();
    this.node = null;
    this.log = null;
    this.role = "standby";
    this.options.observe?.role?.("standby", this.epoch);
  }
}

/** A standby checks its channels to the replicas every this many polls. */
const standbyReplicaCheckEvery = 10;
/** Backoff between failed takeovers (a majority of the replicas unreachable). */
const takeoverBackoffMsMin = 100;
const takeoverBackoffMsMax = 2_000;
