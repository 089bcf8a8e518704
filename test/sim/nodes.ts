// The simulated processes: each runs the real pure core (coordinator/core.ts, replica/core.ts) and
// the real recovery code over a simulated log and store, and plays the role of its production shell
// (coordinator/server.ts and replica-link.ts, replica/server.ts): which inputs are fed when (ticks,
// health checks, refusals, outcome queries with backoff, peer queries, catch-up, parked reads, the
// reads of a transaction's reading phase, txn-status), and how each Ready is carried out, through
// the SimExecutor's persist-before-speak turn.
import { assert, assertNever } from "../../common/assert";
import { Code, type CodeValue } from "../../common/errors";
import { limits } from "../../common/limits";
import type { PeerState, Write } from "../../common/types";
import {
  CoordinatorCore,
  newReady as newCoordinatorReady,
  type Input as CoordinatorInput,
  type Message,
  type OnConflict,
  type Ready as CoordinatorReady,
  type TxnStatus,
  type VoteItem,
  type WriteResult,
} from "../../coordinator/core";
import type { KeyState, Program } from "../../common/txn";
import { decodeCoordinatorRecord, encodeCoordinatorRecord } from "../../coordinator/records";
import { recoverCoordinator } from "../../coordinator/recovery";
import {
  ParticipantCore,
  newReady as newReplicaReady,
  type Input as ReplicaInput,
  type OutcomeItem,
  type PrepareItem,
  type Ready as ReplicaReady,
  type Reply,
  type VoteResult,
} from "../../replica/core";
import { decodeReplicaRecord, encodeReplicaRecord } from "../../replica/records";
import { peerQueries } from "../../replica/peer-queries";
import { recoverReplica } from "../../replica/recovery";
import type { Ledger } from "./checks";
import { SimLog, SimStore, type VersionedEntry } from "./disk";
import { SimExecutor, type ForceFate } from "./executor";
import type { CallResult, Proc, World } from "./world";

/** Bugs planted on purpose, each switched on only by a test (see sim.test.ts). */
export const mutations = [
  "none",
  /** A replica sends its YES vote before its prepare record is forced. */
  "vote-before-prepare-forced",
  /** The coordinator sends COMMIT before its decision record is forced. */
  "commit-before-decision-forced",
  /** Replica recovery treats a prepared transaction as aborted. */
  "recovery-prepared-as-aborted",
  /** A catching-up replica skips the deletions (tombstones) it copies. */
  "catch-up-skips-deletions",
  /**
   * The real bug the simulator found (fixed in replica/peer-queries.ts), put back: a replica in
   * doubt asks each peer about all its in-doubt transactions, including ones that peer took no
   * part in. Kept so that the regression seed can be shown to still reach that path.
   */
  "peer-query-about-all",
  /** Coordinator recovery forgets the committed requests (as if the log kept no request ids): a retry runs again. */
  "recovery-forgets-requests",
  /** A client retries a write with a new request id each time, so the coordinator cannot tell a retry. */
  "retry-with-new-request-id",
  /**
   * A transaction reads its keys from any replica, in sync or not, and keeps an answer from one
   * that left the in-sync set meanwhile.
   */
  "read-from-any-replica",
] as const;
export type Mutation = (typeof mutations)[number];

export const coordinatorId = "c";

/** Settings of one run that the nodes read. */
export interface ClusterConfig {
  readonly replicaIds: readonly string[];
  readonly onConflict: OnConflict;
  readonly minInSync: number;
  readonly mutation: Mutation;
  /** Compact a log once it grew by this many records since its last compaction (as production's --compact-log-bytes, scaled down). */
  readonly compactRecords: number;
  /** Rows per catch-up Fetch page (small, so that a catch-up takes several pages). */
  readonly fetchRowsMax: number;
  readonly forceMs: () => number;
  readonly forceFate: (node: string) => ForceFate;
  readonly tornProbability: number;
  /** Probability that SQLite checkpoints on its own after a batch. */
  readonly autoCheckpointProbability: number;
}

export interface Cluster {
  readonly world: World;
  readonly ledger: Ledger;
  readonly config: ClusterConfig;
  readonly coordinator: CoordinatorNode;
  readonly replicas: ReadonlyMap<string, ReplicaNode>;
  /** Crashes a node (if up) and schedules its restart. */
  crash(id: string, why: string): void;
}

function describeWrites(writes: readonly Write[]): string {
  return writes.map((write) => (write.value === null ? `del ${write.key}` : `${write.key}=${write.value.toString("utf8")}`)).join(",");
}

// ---- replica ---------------------------------------------------------------------------------

export interface FetchPage {
  readonly rows: VersionedEntry[];
  readonly done: boolean;
}

export class ReplicaNode {
  readonly proc: Proc;
  readonly log: SimLog;
  readonly store = new SimStore();
  core: ParticipantCore | null = null;
  private exec: SimExecutor<ReplicaInput, ReplicaReady> | null = null;
  private pending = new Map<number, (reply: Reply) => void>();
  private nextCallId = 1;
  private queryInFlight = false;
  /** A CatchUp call is being served. */
  catchingUp = false;

  constructor(
    private readonly cluster: () => Cluster,
    world: World,
    readonly id: string,
  ) {
    this.proc = world.addProc(id);
    this.log = new SimLog(`${id}.wal`);
  }

  get busy(): boolean {
    return this.exec?.busy ?? false;
  }

  start(): void {
    const { world, config } = this.cluster();
    world.start(this.proc);
    // Recovery, as replica/server.ts does it: replay, redo what the store has not applied, rebuild.
    const replayed = this.log.replay();
    const records = replayed.records.map((payload, i) => {
      const lsn = replayed.firstLsn + i;
      return { lsn, record: decodeReplicaRecord(payload, lsn) };
    });
    const recovered = recoverReplica(records, this.store.appliedLsn());
    if (recovered.redo.length > 0) {
      for (const apply of recovered.redo) this.cluster().ledger.applied(this.id, apply.txnId, apply.commitSeq);
      this.store.apply(recovered.redo, this.log.endLsn - 1);
    }
    let prepared: readonly PrepareItem[] = recovered.prepared;
    let decided = recovered.decided;
    if (config.mutation === "recovery-prepared-as-aborted" && prepared.length > 0) {
      decided = [...decided, ...prepared.map((txn) => ({ txnId: txn.txnId, decided: { outcome: "abort" as const } }))];
      prepared = [];
    }
    if (recovered.prepared.length > 0) world.count("replica-recovered-in-doubt");
    if (recovered.redo.length > 0) world.count("replica-redo");
    if (replayed.tornBytes > 0) world.count("torn-tail-dropped");
    this.core = new ParticipantCore({ prepared, decided, newestForgotten: recovered.newestForgotten, nowMs: world.nowMs });
    this.pending = new Map();
    this.queryInFlight = false;
    this.catchingUp = false;
    world.trace(
      `${this.id} recovered: ${records.length} records (${replayed.tornBytes} torn bytes dropped), ` +
        `${recovered.redo.length} redone, in doubt [${prepared.map((txn) => txn.txnId).join(" ")}], store seq ${this.store.appliedSeq()}`,
    );
    const core = this.core;
    this.exec = new SimExecutor<ReplicaInput, ReplicaReady>({
      world,
      proc: this.proc,
      log: this.log,
      step: (inputs) => {
        const ready = newReplicaReady();
        for (const input of inputs) core.step(input, ready);
        this.traceTurn(inputs, ready);
        return ready;
      },
      records: (ready) => ready.persist.map((record) => ({ payload: encodeReplicaRecord(record), force: record.kind !== "abort" })),
      afterDurable: (ready, lastLsn) => this.afterDurable(ready, lastLsn),
      maintain: () => this.maintain(),
      forceMs: config.forceMs,
      forceFate: () => config.forceFate(this.id),
      crash: (why) => this.cluster().crash(this.id, why),
      early:
        config.mutation === "vote-before-prepare-forced"
          ? (ready) => {
              // Planted bug: the votes leave before the prepare records are durable.
              if (!ready.persist.some((record) => record.kind === "prepare")) return;
              const votes = ready.replies.filter((reply) => reply.kind === "votes");
              ready.replies.splice(0, ready.replies.length, ...ready.replies.filter((reply) => reply.kind !== "votes"));
              for (const reply of votes) this.respond(reply);
            }
          : undefined,
    });
    this.proc.listening = true;
    this.tick();
  }

  crash(): void {
    const { world } = this.cluster();
    world.crash(this.proc);
    const log = this.log.crash(world.prng, this.cluster().config.tornProbability);
    const store = this.store.crash(world.prng);
    world.trace(`${this.id} CRASHED: log lost ${log.lost} unforced record(s)${log.torn ? ", last one torn" : ""}; store lost ${store.lost} transaction(s)`);
    this.core = null;
    this.exec = null;
  }

  private traceTurn(inputs: readonly ReplicaInput[], ready: ReplicaReady): void {
    const { world, ledger } = this.cluster();
    for (const record of ready.persist) {
      switch (record.kind) {
        case "commit":
          ledger.replicaDecided(this.id, record.txnId, "commit");
          break;
        case "abort":
        case "refuse":
          ledger.replicaDecided(this.id, record.txnId, "abort");
          if (record.kind === "refuse") world.count("peer-refusal");
          break;
        case "prepare":
        case "committed":
        case "forgotten":
          break;
        default:
          assertNever(record);
      }
    }
    for (const input of inputs) {
      if (input.kind === "peer-answers" && ready.persist.length > 0) world.count("settled-by-peer");
      if (input.kind === "outcome" && ready.persist.length > 0) world.count("settled-by-outcome-query");
    }
    if (!world.tracing) return;
    if (inputs.every((input) => input.kind === "tick") && ready.persist.length === 0 && ready.replies.length === 0 && ready.queries.length === 0) return;
    const what = inputs.map((input) => describeReplicaInput(input)).join(" ");
    const persist = ready.persist.map((record) => `${record.kind} ${record.txnId}`).join(", ");
    world.trace(`${this.id} turn: ${what}${persist ? ` | log ${persist}` : ""}${ready.queries.length ? ` | ask [${ready.queries.join(" ")}]` : ""}`);
  }

  private afterDurable(ready: ReplicaReady, lastLsn: number): void {
    const { ledger, world, config } = this.cluster();
    if (ready.apply.length > 0) {
      for (const apply of ready.apply) ledger.applied(this.id, apply.txnId, apply.commitSeq);
      this.store.apply(ready.apply, lastLsn);
      if (world.prng.next() < config.autoCheckpointProbability) this.store.checkpoint();
    }
    for (const reply of ready.replies) this.respond(reply);
    if (ready.queries.length > 0) this.askCoordinator(ready.queries);
  }

  private respond(reply: Reply): void {
    const respond = this.pending.get(reply.callId);
    assert(respond !== undefined, `${this.id}: reply to unknown call ${reply.callId}`);
    this.pending.delete(reply.callId);
    respond(reply);
  }

  private maintain(): void {
    if (this.log.recordCount < this.log.recordsAtRewrite + this.cluster().config.compactRecords) return;
    // As replica/server.ts: the commits about to leave the log must be durable in SQLite first.
    this.store.checkpoint();
    const before = this.log.recordCount;
    this.log.rewrite(this.core!.liveRecords().map(encodeReplicaRecord));
    this.cluster().world.count("log-compacted");
    this.cluster().world.trace(`${this.id} compacted its log: ${before} -> ${this.log.recordCount} records`);
  }

  private tick(): void {
    const { world } = this.cluster();
    world.on(this.proc, limits.tickMs, () => {
      if (this.core!.hasTimers()) this.exec!.push({ kind: "tick", nowMs: world.nowMs });
      this.tick();
    });
  }

  /** Registers a call's continuation and steps its input (replica/server.ts `call`). */
  private call(makeInput: (callId: number) => ReplicaInput, respond: (reply: Reply) => void): void {
    const callId = this.nextCallId++;
    this.pending.set(callId, respond);
    this.exec!.push(makeInput(callId));
  }

  private now(): number {
    return this.cluster().world.nowMs;
  }

  // The handlers of the Participant service.

  servePrepare(txns: readonly PrepareItem[], respond: (votes: VoteResult[]) => void): void {
    this.call(
      (callId) => ({ kind: "prepare", callId, txns, nowMs: this.now() }),
      (reply) => {
        assert(reply.kind === "votes", "a prepare is answered with votes");
        respond(reply.votes);
      },
    );
  }

  serveCommit(txns: readonly { txnId: string; commitSeq: number }[], respond: (acked: string[]) => void): void {
    this.call(
      (callId) => ({ kind: "commit", callId, txns, nowMs: this.now() }),
      (reply) => {
        assert(reply.kind === "acks", "a commit is answered with acks");
        this.checkAcked(txns);
        respond(reply.txnIds);
      },
    );
  }

  /** A replica acknowledges only a commit whose writes it holds (applied, or newer ones copied). */
  private checkAcked(txns: readonly { txnId: string; commitSeq: number }[]): void {
    const { ledger } = this.cluster();
    for (const { txnId, commitSeq } of txns) {
      for (const write of ledger.writes(txnId) ?? []) {
        const row = this.store.row(write.key);
        if (row === undefined || row.version < commitSeq) {
          ledger.ackWithoutApply(this.id, txnId, commitSeq, write.key, row?.version ?? 0);
        }
      }
    }
  }

  serveAbort(txnIds: readonly string[], respond: (acked: string[]) => void): void {
    this.call(
      (callId) => ({ kind: "abort", callId, txnIds, nowMs: this.now() }),
      (reply) => {
        assert(reply.kind === "acks", "an abort is answered with acks");
        respond(reply.txnIds);
      },
    );
  }

  serveRead(keys: readonly string[], respond: (rows: ReturnType<SimStore["read"]>) => void, fail: (code: CodeValue, reason: string) => void): void {
    if (keys.some((key) => this.core!.lockHolder(key) !== undefined)) this.cluster().world.count("read-parked");
    this.call(
      (callId) => ({ kind: "read", callId, keys, nowMs: this.now() }),
      (reply) => {
        switch (reply.kind) {
          case "read":
            respond(this.store.read(reply.keys));
            return;
          case "read-timeout":
            fail(Code.UNAVAILABLE, `replica ${this.id}: ${reply.message}`);
            return;
          case "votes":
          case "acks":
          case "barrier":
          case "peer-states":
          case "refused":
            assert(false, `a read answered with ${reply.kind}`);
            return;
          default:
            assertNever(reply);
        }
      },
    );
  }

  servePeerOutcome(txnIds: readonly string[], respond: (states: PeerState[]) => void): void {
    this.call(
      (callId) => ({ kind: "peer-query", callId, txnIds, nowMs: this.now() }),
      (reply) => {
        assert(reply.kind === "peer-states", "a peer query is answered with states");
        respond(reply.states);
      },
    );
  }

  /** After a barrier, so that every decision taken here is applied before it is copied. */
  serveFetch(sinceSeq: number, afterKey: string, limit: number, respond: (page: FetchPage) => void): void {
    this.call(
      (callId) => ({ kind: "barrier", callId, nowMs: this.now() }),
      () => {
        const rows = this.store.fetch(sinceSeq, afterKey, limit);
        respond({ rows, done: rows.length < limit });
      },
    );
  }

  /** Copies every row of version sinceSeq or later from the source, page by page, then checkpoints. */
  serveCatchUp(sourceId: string, sinceSeq: number, respond: (rowsCopied: number) => void, fail: (code: CodeValue, reason: string) => void): void {
    const cluster = this.cluster();
    const { world, config, ledger } = cluster;
    this.catchingUp = true;
    let afterKey = "";
    let rowsCopied = 0;
    const page = (): void => {
      world.call<FetchPage>(
        this.proc,
        sourceId,
        limits.fetchTimeoutMs,
        (_target, answer) => cluster.replicas.get(sourceId)!.serveFetch(sinceSeq, afterKey, config.fetchRowsMax, answer),
        (result) => {
          if (!result.ok) {
            this.catchingUp = false;
            world.trace(`${this.id} catch-up from ${sourceId} failed: ${result.reason}`);
            fail(Code.UNAVAILABLE, `replica ${this.id}: catch-up from ${sourceId} failed: ${result.reason}`);
            return;
          }
          let rows = result.value.rows;
          if (config.mutation === "catch-up-skips-deletions") rows = rows.filter((row) => row.value !== null);
          for (const row of rows) ledger.copied(this.id, row.key, row.value, row.version);
          this.store.install(rows);
          rowsCopied += rows.length;
          const last = result.value.rows[result.value.rows.length - 1];
          if (result.value.done || last === undefined) {
            this.store.checkpoint();
            this.catchingUp = false;
            world.trace(`${this.id} caught up from ${sourceId} since seq ${sinceSeq}: ${rowsCopied} rows`);
            world.count("catch-up");
            respond(rowsCopied);
            return;
          }
          afterKey = last.key;
          page();
        },
      );
    };
    page();
  }

  // What the shell does for in-doubt transactions (replica/server.ts askCoordinator, askPeers).

  private askCoordinator(txnIds: string[]): void {
    // The core re-asks with backoff, so one query at a time is enough and a failed one is dropped.
    if (this.queryInFlight) return;
    this.queryInFlight = true;
    const cluster = this.cluster();
    cluster.world.count("outcome-query");
    cluster.world.call<OutcomeItem[]>(
      this.proc,
      coordinatorId,
      limits.replicaCallTimeoutMs,
      (_target, answer) => cluster.coordinator.serveOutcomeQuery(txnIds, answer),
      (result) => {
        this.queryInFlight = false;
        if (!result.ok) {
          cluster.world.trace(`${this.id}: the coordinator did not answer the outcome query (${result.reason}); asking peers`);
          this.askPeers(txnIds);
          return;
        }
        this.exec!.push({ kind: "outcome", outcomes: result.value, nowMs: this.now() });
      },
    );
  }

  private askPeers(txnIds: string[]): void {
    const cluster = this.cluster();
    let queries = peerQueries(this.id, this.core!.preparedTxns(), txnIds);
    if (cluster.config.mutation === "peer-query-about-all") queries = new Map([...queries.keys()].map((peerId) => [peerId, txnIds]));
    for (const [peerId, peerTxnIds] of queries) {
      cluster.world.count("peer-query");
      cluster.world.call<PeerState[]>(
        this.proc,
        peerId,
        limits.replicaCallTimeoutMs,
        (_target, answer) => cluster.replicas.get(peerId)!.servePeerOutcome(peerTxnIds, answer),
        (result) => {
          if (!result.ok) return;
          this.exec!.push({ kind: "peer-answers", states: result.value, nowMs: this.now() });
        },
      );
    }
  }

  /** In doubt here: prepared, undecided. */
  inDoubt(): string[] {
    return this.core === null ? [] : this.core.preparedTxns().map((txn) => txn.txnId);
  }
}

function describeReplicaInput(input: ReplicaInput): string {
  switch (input.kind) {
    case "prepare":
      return `prepare[${input.txns.map((txn) => `${txn.txnId}(${describeWrites(txn.writes)})`).join(" ")}]`;
    case "commit":
      return `commit[${input.txns.map((txn) => `${txn.txnId}@${txn.commitSeq}`).join(" ")}]`;
    case "abort":
      return `abort[${input.txnIds.join(" ")}]`;
    case "outcome":
      return `outcome[${input.outcomes.map((item) => `${item.txnId}:${item.outcome}`).join(" ")}]`;
    case "read":
      return `read[${input.keys.join(" ")}]`;
    case "tick":
      return "tick";
    case "peer-query":
      return `peer-query[${input.txnIds.join(" ")}]`;
    case "peer-answers":
      return `peer-answers[${input.states.map((state) => `${state.txnId}:${state.state}`).join(" ")}]`;
    case "inspect":
      return `inspect[${input.txnIds.join(" ")}]`;
    case "barrier":
      return "barrier";
    default:
      return assertNever(input);
  }
}

// ---- coordinator -----------------------------------------------------------------------------

export interface ReadRow {
  readonly key: string;
  readonly found: boolean;
  readonly value: Buffer;
  readonly version: number;
}

export class CoordinatorNode {
  readonly proc: Proc;
  readonly log = new SimLog("coordinator.wal");
  core: CoordinatorCore | null = null;
  private exec: SimExecutor<CoordinatorInput, CoordinatorReady> | null = null;
  private pendingWrites = new Map<number, (result: WriteResult) => void>();
  private pendingQueries = new Map<number, (outcomes: OutcomeItem[]) => void>();
  private pendingStatuses = new Map<number, (status: TxnStatus) => void>();
  /** The replica each transaction's read was answered by (for the stale-read report). */
  private readonly readFrom = new Map<string, string>();
  private nextRequestId = 1;
  private checking = new Set<string>();
  /** The client calls that arrived in the turn being carried out (an ok answer in the same turn came from memory). */
  private turnRequests = new Set<number>();

  constructor(
    private readonly cluster: () => Cluster,
    world: World,
  ) {
    this.proc = world.addProc(coordinatorId);
  }

  get busy(): boolean {
    return this.exec?.busy ?? false;
  }

  get serving(): boolean {
    return this.proc.listening;
  }

  start(): void {
    const cluster = this.cluster();
    const { world, config } = cluster;
    world.start(this.proc);
    const replayed = this.log.replay();
    const records = replayed.records.map((payload, i) => decodeCoordinatorRecord(payload, replayed.firstLsn + i));
    let recovered = recoverCoordinator(records);
    if (config.mutation === "recovery-forgets-requests") recovered = { ...recovered, remembered: [] };
    if (recovered.remembered.length > 0) world.count("coordinator-recovered-requests");
    if (recovered.unfinished.length > 0) world.count("coordinator-recovered-unfinished");
    if (replayed.tornBytes > 0) world.count("torn-tail-dropped");
    // A record that survived the crash is durable now, forced or not.
    for (const record of records) if (record.kind === "commit") cluster.ledger.decisionDurable(record.txnId, record.commitSeq, record.remember);
    const core = new CoordinatorCore({ participants: config.replicaIds, onConflict: config.onConflict, minInSync: config.minInSync }, recovered, world.nowMs);
    this.core = core;
    this.pendingWrites = new Map();
    this.pendingQueries = new Map();
    this.pendingStatuses = new Map();
    this.checking = new Set();
    world.trace(
      `c recovered: epoch ${core.epoch}, ${records.length} records (${replayed.tornBytes} torn bytes dropped), last seq ${recovered.lastCommitSeq}, ` +
        `unfinished [${recovered.unfinished.map((txn) => `${txn.txnId}@${txn.commitSeq}`).join(" ")}], in sync ${recovered.membership?.inSync.join(",") ?? "all"}`,
    );
    this.exec = new SimExecutor<CoordinatorInput, CoordinatorReady>({
      world,
      proc: this.proc,
      log: this.log,
      step: (inputs) => {
        const ready = newCoordinatorReady();
        this.turnRequests = new Set(inputs.flatMap((input) => (input.kind === "txn" || input.kind === "write" ? [input.reqId] : [])));
        for (const input of inputs) {
          if (input.kind === "read-result" && input.states !== null) this.checkRead(core, input.txnId, input.states);
          core.step(input, ready);
        }
        this.traceTurn(inputs, ready);
        return ready;
      },
      records: (ready) => ready.persist.map(({ record, force }) => ({ payload: encodeCoordinatorRecord(record), force })),
      afterDurable: (ready) => this.afterDurable(ready),
      maintain: () => this.maintain(),
      forceMs: config.forceMs,
      forceFate: () => config.forceFate(coordinatorId),
      crash: (why) => this.cluster().crash(coordinatorId, why),
      onForced: (ready) => this.decisionsDurable(ready),
      early:
        config.mutation === "commit-before-decision-forced"
          ? (ready) => {
              // Planted bug: COMMIT leaves before the decision record is durable.
              if (!ready.persist.some(({ record }) => record.kind === "commit")) return;
              const commits = ready.send.filter((message) => message.kind === "commit");
              ready.send.splice(0, ready.send.length, ...ready.send.filter((message) => message.kind !== "commit"));
              this.sendAll(commits);
            }
          : undefined,
    });
    // The start record is forced before the coordinator serves (coordinator/server.ts).
    this.log.append(encodeCoordinatorRecord(core.startRecord()));
    const mark = this.log.forceMark();
    world.on(this.proc, config.forceMs(), () => {
      const fate = config.forceFate(coordinatorId);
      if (fate === "crash-before") {
        this.cluster().crash(coordinatorId, "while forcing its start record");
        return;
      }
      this.log.forced(mark);
      if (fate === "crash-after") {
        this.cluster().crash(coordinatorId, "after forcing its start record, before serving");
        return;
      }
      this.proc.listening = true;
      world.trace(`c serving (epoch ${core.epoch})`);
      this.exec!.push({ kind: "tick", nowMs: world.nowMs });
      this.tick();
      this.healthChecks();
    });
  }

  crash(): void {
    const { world } = this.cluster();
    world.crash(this.proc);
    const log = this.log.crash(world.prng, this.cluster().config.tornProbability);
    world.trace(`c CRASHED: log lost ${log.lost} unforced record(s)${log.torn ? ", last one torn" : ""}`);
    this.core = null;
    this.exec = null;
  }

  private decisionsDurable(ready: CoordinatorReady): void {
    for (const { record } of ready.persist) {
      if (record.kind === "commit") this.cluster().ledger.decisionDurable(record.txnId, record.commitSeq, record.remember);
    }
  }

  /** The states a transaction read must be the latest committed ones, if it is still reading (under its locks). */
  private checkRead(core: CoordinatorCore, txnId: string, states: ReadonlyMap<string, KeyState>): void {
    const txn = core.inFlight().find((t) => t.txnId === txnId);
    if (txn?.phase !== "reading") return; // aborted meanwhile: the core drops the answer
    this.cluster().ledger.txnRead(txnId, this.readFrom.get(txnId) ?? "?", states);
    this.readFrom.delete(txnId);
  }

  private traceTurn(inputs: readonly CoordinatorInput[], ready: CoordinatorReady): void {
    const { world, ledger } = this.cluster();
    if (ready.send.some((message) => message.kind === "prepare")) {
      const programs = new Map<string, Program | null>(this.core!.inFlight().map((txn) => [txn.txnId, txn.program]));
      for (const message of ready.send) if (message.kind === "prepare") ledger.prepared(message.txnId, message.writes, programs.get(message.txnId) ?? null);
    }
    for (const { record } of ready.persist) {
      if (record.kind === "membership") world.count(record.inSync.length < this.cluster().config.replicaIds.length ? "in-sync-set-shrank" : "in-sync-set-full-again");
    }
    if (!world.tracing) return;
    const what = inputs
      .map(describeCoordinatorInput)
      .filter((text) => text !== "")
      .join(" ");
    if (what === "" && ready.persist.length === 0 && ready.send.length === 0 && ready.replies.length === 0 && ready.outcomes.length === 0) return;
    const persist = ready.persist.map(({ record }) => (record.kind === "membership" ? `membership in-sync=${record.inSync.join(",")}` : record.kind === "start" ? "start" : record.kind === "remembered" ? `remembered ${record.commits.length}` : `${record.kind} ${record.txnId}`));
    const sends = ready.send.map((message) => `${message.kind}${message.kind === "catch-up" ? `(${message.sourceId}>=${message.sinceSeq})` : ` ${message.txnId}`}->${message.to}`);
    const replies = ready.replies.map(({ reqId, result }) => `req${reqId}:${result.ok ? `ok@${result.commitSeq}` : `code${result.code}`}`);
    world.trace(
      `c turn: ${what}${persist.length ? ` | log ${persist.join(", ")}` : ""}${sends.length ? ` | send ${sends.join(" ")}` : ""}${replies.length ? ` | reply ${replies.join(" ")}` : ""}`,
    );
  }

  private afterDurable(ready: CoordinatorReady): void {
    const { world } = this.cluster();
    this.sendAll(ready.send);
    for (const { reqId, result } of ready.replies) {
      const respond = this.pendingWrites.get(reqId);
      assert(respond !== undefined, `reply to unknown request ${reqId}`);
      this.pendingWrites.delete(reqId);
      // A write answered ok in the turn it arrived was answered from a remembered commit (a new one
      // needs reads or votes first; a retry that joins an attempt deciding in this very turn also counts).
      if (result.ok && result.commitSeq > 0 && this.turnRequests.has(reqId)) world.count("retry-answered-from-memory");
      respond(result);
    }
    for (const { reqId, status } of ready.statuses) {
      const respond = this.pendingStatuses.get(reqId);
      assert(respond !== undefined, `status answer to unknown request ${reqId}`);
      this.pendingStatuses.delete(reqId);
      respond(status);
    }
    for (const { txnId, keys } of ready.reads) {
      // As coordinator/server.ts: the transaction holds the locks of these keys; read their state for it.
      world.count("txn-read");
      this.readKeys(
        keys,
        true,
        (rows, replicaId) => {
          this.readFrom.set(txnId, replicaId);
          const states = new Map<string, KeyState>(rows.map((row) => [row.key, row.found ? { value: row.value, version: row.version } : null]));
          this.push({ kind: "read-result", txnId, states, reason: "", nowMs: this.now() });
        },
        (_code, reason) => this.push({ kind: "read-result", txnId, states: null, reason, nowMs: this.now() }),
      );
    }
    for (const { queryId, outcomes } of ready.outcomes) {
      const respond = this.pendingQueries.get(queryId);
      assert(respond !== undefined, `answer to unknown query ${queryId}`);
      this.pendingQueries.delete(queryId);
      respond(outcomes);
    }
  }

  private maintain(): void {
    if (this.log.recordCount < this.log.recordsAtRewrite + this.cluster().config.compactRecords) return;
    const before = this.log.recordCount;
    this.log.rewrite(this.core!.liveRecords().map(encodeCoordinatorRecord));
    this.cluster().world.count("log-compacted");
    this.cluster().world.trace(`c compacted its log: ${before} -> ${this.log.recordCount} records`);
  }

  /** As ReplicaLink: the messages of one turn to one replica go as one call per kind. */
  private sendAll(messages: readonly Message[]): void {
    const byReplica = new Map<string, Message[]>();
    for (const message of messages) {
      const list = byReplica.get(message.to) ?? [];
      list.push(message);
      byReplica.set(message.to, list);
    }
    for (const [to, list] of byReplica) {
      const prepares = list.filter((m): m is Extract<Message, { kind: "prepare" }> => m.kind === "prepare");
      const commits = list.filter((m): m is Extract<Message, { kind: "commit" }> => m.kind === "commit");
      const aborts = list.filter((m): m is Extract<Message, { kind: "abort" }> => m.kind === "abort");
      if (prepares.length > 0) this.sendPrepares(to, prepares);
      if (commits.length > 0) this.sendCommits(to, commits);
      if (aborts.length > 0) this.sendAborts(to, aborts);
      for (const message of list) if (message.kind === "catch-up") this.sendCatchUp(message);
    }
  }

  private push(input: CoordinatorInput): void {
    this.exec!.push(input);
  }

  private now(): number {
    return this.cluster().world.nowMs;
  }

  private sendPrepares(to: string, batch: readonly Extract<Message, { kind: "prepare" }>[]): void {
    const cluster = this.cluster();
    const txns: PrepareItem[] = batch.map((m) => ({ txnId: m.txnId, writes: m.writes, participants: m.participants }));
    cluster.world.call<VoteResult[]>(
      this.proc,
      to,
      limits.replicaCallTimeoutMs,
      (_target, answer) => cluster.replicas.get(to)!.servePrepare(txns, answer),
      (result) => {
        const nowMs = this.now();
        if (!result.ok) {
          this.push({ kind: "unreachable", replicaId: to, txnIds: batch.map((m) => m.txnId), reason: result.reason, down: result.code === Code.UNAVAILABLE, nowMs });
          return;
        }
        const votes: VoteItem[] = result.value;
        const answered = new Set(votes.map((vote) => vote.txnId));
        const missing = batch.filter((m) => !answered.has(m.txnId)).map((m) => m.txnId);
        this.push({ kind: "votes", replicaId: to, votes, nowMs });
        if (missing.length > 0) this.push({ kind: "unreachable", replicaId: to, txnIds: missing, reason: "the replica returned no vote", down: false, nowMs });
      },
    );
  }

  private sendCommits(to: string, batch: readonly Extract<Message, { kind: "commit" }>[]): void {
    const cluster = this.cluster();
    const txns = batch.map((m) => ({ txnId: m.txnId, commitSeq: m.commitSeq }));
    cluster.world.call<string[]>(
      this.proc,
      to,
      limits.replicaCallTimeoutMs,
      (_target, answer) => cluster.replicas.get(to)!.serveCommit(txns, answer),
      (result) => {
        if (!result.ok) {
          if (result.code === Code.UNAVAILABLE) {
            this.push({ kind: "unreachable", replicaId: to, txnIds: [], reason: `commit call failed: ${result.reason}`, down: true, nowMs: this.now() });
          }
          return;
        }
        this.push({ kind: "acks", replicaId: to, txnIds: result.value, nowMs: this.now() });
      },
    );
  }

  private sendAborts(to: string, batch: readonly Extract<Message, { kind: "abort" }>[]): void {
    const cluster = this.cluster();
    const txnIds = batch.map((m) => m.txnId);
    // Best effort (presumed abort): a replica that misses it asks for the outcome later.
    cluster.world.call<string[]>(
      this.proc,
      to,
      limits.replicaCallTimeoutMs,
      (_target, answer) => cluster.replicas.get(to)!.serveAbort(txnIds, answer),
      () => {},
    );
  }

  private sendCatchUp(message: Extract<Message, { kind: "catch-up" }>): void {
    const cluster = this.cluster();
    cluster.world.call<number>(
      this.proc,
      message.to,
      limits.catchUpTimeoutMs,
      (_target, answer, fail) => cluster.replicas.get(message.to)!.serveCatchUp(message.sourceId, message.sinceSeq, answer, fail),
      (result) => {
        this.push({
          kind: "caught-up",
          replicaId: message.to,
          incarnation: message.incarnation,
          ok: result.ok,
          reason: result.ok ? `${result.value} rows copied` : result.reason,
          nowMs: this.now(),
        });
      },
    );
  }

  private tick(): void {
    const { world } = this.cluster();
    world.on(this.proc, limits.tickMs, () => {
      this.push({ kind: "tick", nowMs: world.nowMs });
      this.tick();
    });
  }

  /** One health check per replica at a time, every healthCheckIntervalMs (coordinator/server.ts). */
  private healthChecks(): void {
    const cluster = this.cluster();
    const { world } = cluster;
    world.on(this.proc, limits.healthCheckIntervalMs, () => {
      for (const id of cluster.config.replicaIds) {
        if (this.checking.has(id)) continue;
        this.checking.add(id);
        world.call<true>(
          this.proc,
          id,
          limits.healthCheckTimeoutMs,
          (_target, answer) => answer(true),
          (result) => {
            this.checking.delete(id);
            this.push({ kind: "health", replicaId: id, ok: result.ok, refused: !result.ok && result.code === Code.UNAVAILABLE, nowMs: this.now() });
          },
        );
      }
      this.healthChecks();
    });
  }

  // The client-facing service.

  serveWrite(writes: readonly Write[], requestId: string | null, respond: (result: WriteResult) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingWrites.set(reqId, respond);
    this.push({ kind: "write", reqId, writes, requestId, nowMs: this.now() });
  }

  serveTxn(requestId: string | null, program: Program, respond: (result: WriteResult) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingWrites.set(reqId, respond);
    this.push({ kind: "txn", reqId, requestId, method: "txn", program, nowMs: this.now() });
  }

  serveStatus(id: string, respond: (status: TxnStatus) => void): void {
    const reqId = this.nextRequestId++;
    this.pendingStatuses.set(reqId, (status) => {
      this.cluster().ledger.statusAnswered(id, status);
      respond(status);
    });
    this.push({ kind: "txn-status", reqId, id, nowMs: this.now() });
  }

  /** A client's get: one key, read as every read is (readKeys). */
  serveRead(key: string, respond: (row: ReadRow) => void, fail: (code: CodeValue, reason: string) => void): void {
    this.readKeys(
      [key],
      false,
      (rows, replicaId) => {
        const row = rows[0];
        assert(row !== undefined && row.key === key, "a replica answers the key it was asked");
        this.cluster().world.trace(`c read ${key} from ${replicaId}: ${row.found ? `${row.value.toString("utf8")}@${row.version}` : "absent"}`);
        respond(row);
      },
      fail,
    );
  }

  /**
   * Reads from the healthy in-sync replicas in random order (coordinator/server.ts `read`): the
   * first that answers serves the read, unless it left the in-sync set while the read was out.
   */
  private readKeys(keys: readonly string[], forTxn: boolean, respond: (rows: ReadRow[], replicaId: string) => void, fail: (code: CodeValue, reason: string) => void): void {
    const cluster = this.cluster();
    const { world } = cluster;
    const core = this.core!;
    // Planted bug (read-from-any-replica): a transaction's read goes to any replica, and an answer
    // from one that is not (or no longer) in sync is kept. Client gets read as production does, so
    // that only the reading phase is broken.
    const anyReplica = cluster.config.mutation === "read-from-any-replica" && forTxn;
    const order = anyReplica ? cluster.config.replicaIds.map((id) => ({ id, incarnation: -1 })) : core.readable();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(world.prng.next() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    if (order.length === 0) {
      fail(Code.UNAVAILABLE, "no replica is in sync and healthy to serve the read");
      return;
    }
    const failures: string[] = [];
    const attempt = (index: number): void => {
      const target = order[index];
      if (target === undefined) {
        fail(Code.UNAVAILABLE, `no replica could serve the read: ${failures.join("; ")}`);
        return;
      }
      world.call<ReadRow[]>(
        this.proc,
        target.id,
        limits.readCallTimeoutMs,
        (_target, answer, failRead) => cluster.replicas.get(target.id)!.serveRead(keys, answer, failRead),
        (result: CallResult<ReadRow[]>) => {
          if (result.ok) {
            if (anyReplica || core.stillReadable(target.id, target.incarnation)) {
              respond(result.value, target.id);
              return;
            }
            failures.push(`replica ${target.id} left the in-sync set while it answered`);
          } else {
            if (result.code !== Code.UNAVAILABLE && result.code !== Code.DEADLINE_EXCEEDED) {
              fail(result.code, result.reason);
              return;
            }
            failures.push(result.reason);
          }
          attempt(index + 1);
        },
      );
    };
    attempt(0);
  }

  serveOutcomeQuery(txnIds: readonly string[], respond: (outcomes: OutcomeItem[]) => void): void {
    const queryId = this.nextRequestId++;
    this.pendingQueries.set(queryId, respond);
    this.push({ kind: "outcome-query", queryId, txnIds, nowMs: this.now() });
  }
}

function describeCoordinatorInput(input: CoordinatorInput): string {
  switch (input.kind) {
    case "write":
      return `write(req${input.reqId}${input.requestId == null ? "" : ` id=${input.requestId}`} ${describeWrites(input.writes)})`;
    case "votes":
      return `votes(${input.replicaId}: ${input.votes.map((vote) => `${vote.txnId}=${vote.vote}`).join(" ")})`;
    case "unreachable":
      return `unreachable(${input.replicaId}${input.down ? " down" : ""}: [${input.txnIds.join(" ")}] ${input.reason})`;
    case "health":
      return input.ok ? "" : `health(${input.replicaId} failed${input.refused === true ? ", refused" : ""})`;
    case "caught-up":
      return `caught-up(${input.replicaId} #${input.incarnation} ${input.ok ? "ok" : "FAILED"}: ${input.reason})`;
    case "acks":
      return `acks(${input.replicaId}: ${input.txnIds.join(" ")})`;
    case "outcome-query":
      return `outcome-query(${input.txnIds.join(" ")})`;
    case "resolve":
      return `resolve(${input.txnId} ${input.choice})`;
    case "txn":
      return `txn(req${input.reqId}${input.requestId === null ? "" : ` id=${input.requestId}`})`;
    case "read-result":
      return `read-result(${input.txnId}${input.states === null ? ` FAILED: ${input.reason}` : ""})`;
    case "txn-status":
      return `txn-status(req${input.reqId} ${input.id})`;
    case "tick":
      return "";
    default:
      return assertNever(input);
  }
}
