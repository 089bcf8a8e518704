// The simulated processes: each runs the shipped code (coordinator/failover.ts with the nodes it
// builds, replica/node.ts), with its real core, recovery and StepLoop, over an environment the
// simulator provides (common/env.ts):
// a scheduler on the virtual clock, a log on the simulated disk (a force takes virtual time, and the
// run may crash the node before or after it completes), the simulated store, and transports over the
// simulated network (world.call), served by the other nodes' handlers. Nothing protocol-shaped lives
// here: this file is environment, plus the probes that feed the checks' ledger and the trace.
import pino from "pino";
import { assertNever } from "../../common/assert";
import type { CodeValue } from "../../common/errors";
import type { CallResult, NodeLog, Scheduler } from "../../common/env";
import { putProgram, type Program } from "../../common/txn";
import type { Outcome, Write } from "../../common/types";
import type { Input as CoordinatorInput, OnConflict, TxnStatus, WriteResult, CoordinatorCore, Ready as CoordinatorReady } from "../../coordinator/core";
import type { CoordinatorNode, ParticipantCalls, ReadRow } from "../../coordinator/node";
import { decodeCoordinatorRecord } from "../../coordinator/records";
import { Failover, type PeerRole } from "../../coordinator/failover";
import { Code } from "../../common/errors";
import type { Input as ReplicaInput, OutcomeItem, ParticipantCore, Ready as ReplicaReady } from "../../replica/core";
import { ReplicaNode, type Answered, type ReplicaStore, type ReplicaTransport, type SnapshotCopy } from "../../replica/node";
import { OutcomeTarget } from "../../replica/outcome-target";
import { decodeReplicaRecord } from "../../replica/records";
import type { Ledger } from "./checks";
import { SimLog, SimStore } from "./disk";
import type { Proc, World } from "./world";

export { mutations, type Mutation } from "../../common/mutations";
export type { ReadRow };

/** The coordinators' ids: "c1", "c2", ... in --coordinators order. */
export function coordinatorIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `c${i + 1}`);
}

/** What the run decides at a force's end: crash before it completes, just after it, or neither. */
export type ForceFate = "complete" | "crash-before" | "crash-after";

/** Settings of one run that the environment reads. */
export interface ClusterConfig {
  readonly replicaIds: readonly string[];
  readonly coordinatorIds: readonly string[];
  readonly onConflict: OnConflict;
  readonly minInSync: number;
  /** Compact a log once this many records were appended since its last compaction (production's --compact-log-bytes, in records). */
  readonly compactRecords: number;
  /** Rows per catch-up Fetch page (small, so that a catch-up takes several pages), and records per ReadCopy page. */
  readonly fetchRowsMax: number;
  /** The replicas' catchUpSnapshotRows (0: never) and snapshotInstallRowsMax: see catchUpSnapshotOf in run.ts. */
  readonly catchUpSnapshotRows: number;
  readonly snapshotInstallRowsMax: number;
  /** The coordinators' cache of committed key states, in bytes (undefined: production's default): see valueCacheOf in run.ts. */
  readonly valueCacheBytes: number | undefined;
  readonly forceMs: () => number;
  readonly forceFate: (node: string) => ForceFate;
  readonly tornProbability: number;
  /** Probability that SQLite checkpoints on its own after a batch. */
  readonly autoCheckpointProbability: number;
  /** The replicas' tombstone retention (production: tombstoneRetentionMs, a minute): see tombstoneRetentionOf in run.ts. */
  readonly tombstoneRetentionMs: number;
}

export interface Cluster {
  readonly world: World;
  readonly ledger: Ledger;
  readonly config: ClusterConfig;
  readonly coordinators: ReadonlyMap<string, CoordinatorHost>;
  readonly replicas: ReadonlyMap<string, ReplicaHost>;
  /** Crashes a node (if up) and schedules its restart. */
  crash(id: string, why: string): void;
}

/** The nodes log nothing: the simulator traces what it needs itself. */
const silent = pino({ level: "silent" });

function describeWrites(writes: readonly Write[]): string {
  return writes.map((write) => (write.value === null ? `del ${write.key}` : `${write.key}=${write.value.toString("utf8")}`)).join(",");
}

/** The node's clock and timers: virtual time, events of its process (nothing runs after a crash). */
function scheduler(world: World, proc: Proc): Scheduler {
  return {
    nowMs: () => world.nowMs,
    soon: (fn) => world.on(proc, 0, fn),
    every: (intervalMs, fn) => {
      let running = true;
      const next = (): void =>
        world.on(proc, intervalMs, () => {
          if (!running) return;
          fn();
          next();
        });
      next();
      return () => {
        running = false;
      };
    },
    after: (delayMs, fn) => {
      let running = true;
      world.on(proc, delayMs, () => {
        if (running) fn();
      });
      return () => {
        running = false;
      };
    },
    random: () => world.prng.next(),
  };
}

/**
 * The node's log on the simulated disk. A force takes virtual time; at its end the run decides the
 * node's fate: it completes, or the node crashes before it completes (unforced records may be lost)
 * or just after (durable, but nothing that depends on it has left). onDurable hears the payloads a
 * completed force made durable.
 */
function diskLog(world: World, proc: Proc, log: SimLog, config: ClusterConfig, crash: (why: string) => void, onDurable: (payloads: readonly Buffer[]) => void): NodeLog {
  let unforced: Buffer[] = [];
  let recordsForced = 0;
  return {
    append: (payload) => {
      unforced.push(payload);
      return log.append(payload);
    },
    force: (done) => {
      const mark = log.forceMark();
      const covered = unforced;
      unforced = [];
      world.on(proc, config.forceMs(), () => {
        const fate = config.forceFate(proc.id);
        if (fate === "crash-before") return crash("during a log force");
        log.forced(mark);
        recordsForced += covered.length;
        onDurable(covered);
        if (fate === "crash-after") return crash("after a log force, before the messages that depend on it");
        done();
      });
    },
    rewrite: (records, done) => {
      log.rewrite(records);
      unforced = [];
      world.count("log-compacted");
      done();
    },
    get size() {
      return log.recordCount - log.recordsAtRewrite;
    },
    get endLsn() {
      return log.endLsn;
    },
    get forces() {
      return log.forces;
    },
    get recordsForced() {
      return recordsForced;
    },
  };
}

/** Serves a call with a node's handler: its result goes back as the call's answer or failure. */
function serveWith<T>(respond: (value: T) => void, fail: (code: CodeValue, reason: string) => void): (result: CallResult<T>) => void {
  return (result) => (result.ok ? respond(result.value) : fail(result.code, result.reason));
}

// ---- replica ---------------------------------------------------------------------------------

export class ReplicaHost {
  readonly proc: Proc;
  readonly log: SimLog;
  readonly store = new SimStore();
  node: ReplicaNode | null = null;

  constructor(
    private readonly cluster: () => Cluster,
    world: World,
    readonly id: string,
  ) {
    this.proc = world.addProc(id);
    this.log = new SimLog(`${id}.wal`);
  }

  get busy(): boolean {
    return this.node?.busy ?? false;
  }

  get catchingUp(): boolean {
    return this.node?.catchingUp ?? false;
  }

  start(): void {
    const cluster = this.cluster();
    const { world, config, ledger } = cluster;
    world.start(this.proc);
    const replayed = this.log.replay();
    // A record that survived the crash is durable now, forced or not.
    this.copiesDurable(replayed.records);
    const store = this.store;
    const id = this.id;
    // The store as the node sees it; the ledger hears every write applied or copied.
    const observed: ReplicaStore = {
      appliedLsn: () => store.appliedLsn(),
      appliedSeq: () => store.appliedSeq(),
      apply: (batch, lastLsn) => {
        for (const apply of batch) ledger.applied(id, apply.txnId, apply.commitSeq);
        const late = batch.some((apply) => apply.commitSeq <= store.collectedThrough() && apply.writes.some((write) => store.row(write.key) === undefined));
        if (late) world.count("write-below-horizon-not-applied");
        store.apply(batch, lastLsn);
        if (world.prng.next() < config.autoCheckpointProbability) store.checkpoint();
      },
      install: (rows) => {
        for (const row of rows) ledger.copied(id, row.key, row.value, row.version);
        store.install(rows);
      },
      checkpoint: () => store.checkpoint(),
      collectedThrough: () => store.collectedThrough(),
      collectTombstones: (throughSeq, limit) => {
        const deleted = store.collectTombstones(throughSeq, limit);
        if (deleted > 0) world.count("tombstones-collected");
        return deleted;
      },
      installFull: (page) => {
        for (const row of page.entries) ledger.copied(id, row.key, row.value, row.version);
        world.count("full-copy-page");
        const dropped = store.installFull(page);
        if (dropped > 0) world.count("full-copy-stale-rows-dropped");
        return dropped;
      },
      installFullFrom: (snapshot, afterKey, limit, horizon) => {
        world.count("snapshot-copy-step");
        const page = store.snapshotPage(snapshot, afterKey, limit, horizon);
        return { rows: page.entries.length, throughKey: page.throughKey, dropped: observed.installFull(page) };
      },
      tombstoneCount: () => store.tombstoneCount(),
      fetch: (sinceSeq, afterKey, limit) => store.fetch(sinceSeq, afterKey, limit),
      read: (keys) => store.read(keys),
      keyCount: () => store.keyCount(),
      dump: () => store.dump(),
    };
    const node = new ReplicaNode({
      id,
      scheduler: scheduler(world, this.proc),
      log: diskLog(world, this.proc, this.log, config, (why) => cluster.crash(id, why), (payloads) => this.copiesDurable(payloads)),
      replayed,
      store: observed,
      transport: this.transport(),
      compactLogSize: config.compactRecords,
      fetchRowsMax: config.fetchRowsMax,
      catchUpSnapshotRows: config.catchUpSnapshotRows,
      snapshotInstallRowsMax: config.snapshotInstallRowsMax,
      // The copy of the decision log is read in pages of as few records as catch-up fetches rows.
      copyPageRecordsMax: config.fetchRowsMax,
      tombstoneRetentionMs: config.tombstoneRetentionMs,
      logger: silent,
      exit: (why) => cluster.crash(id, why),
      probe: { turn: (inputs, ready, core) => this.traceTurn(inputs, ready, core) },
    });
    this.node = node;
    if (node.recovery.inDoubt.length > 0) world.count("replica-recovered-in-doubt");
    if (node.recovery.redone > 0) world.count("replica-redo");
    if (replayed.tornBytes > 0) world.count("torn-tail-dropped");
    world.trace(
      `${id} recovered: ${node.recovery.records} records (${replayed.tornBytes} torn bytes dropped), ` +
        `${node.recovery.redone} redone, in doubt [${node.recovery.inDoubt.join(" ")}], store seq ${store.appliedSeq()}`,
    );
    node.start();
    this.proc.listening = true;
  }

  crash(): void {
    const { world } = this.cluster();
    world.crash(this.proc);
    const log = this.log.crash(world.prng, this.cluster().config.tornProbability);
    const store = this.store.crash(world.prng);
    world.trace(`${this.id} CRASHED: log lost ${log.lost} unforced record(s)${log.torn ? ", last one torn" : ""}; store lost ${store.lost} transaction(s)`);
    this.node = null;
  }

  /**
   * The decision log's records this replica made durable: a COMMIT decision held by a majority of the
   * replicas is durable (coordinator/replicated-log.ts), which the ledger checks everything against.
   */
  private copiesDurable(payloads: readonly Buffer[]): void {
    const { ledger, config } = this.cluster();
    for (const payload of payloads) {
      const record = decodeReplicaRecord(payload, 0);
      if (record.kind !== "copy") continue;
      for (const copied of record.records) {
        const decision = decodeCoordinatorRecord(copied, 0);
        if (decision.kind === "commit") ledger.decisionHeld(this.id, decision.txnId, decision.commitSeq, decision.remember, config.replicaIds.length);
      }
    }
  }

  /** In doubt here: prepared, undecided (for the liveness check). */
  inDoubt(): string[] {
    return this.node === null ? [] : this.node.core.preparedTxns().map((txn) => txn.txnId);
  }

  /** The replica's calls out: to the coordinator, to its peers, to a catch-up's source. */
  private transport(): ReplicaTransport {
    const cluster = this.cluster();
    const { world } = cluster;
    // Which coordinator to ask: the shipped rule (replica/outcome-target.ts), by coordinator id.
    const outcomeTarget = new OutcomeTarget(cluster.config.coordinatorIds);
    return {
      followCoordinator: (promised) => {
        outcomeTarget.follow(promised.coordinatorId);
      },
      queryOutcome: (txnIds, timeoutMs, done) => {
        world.count("outcome-query");
        const target = outcomeTarget.current;
        world.call<Answered<OutcomeItem>>(
          this.proc,
          target,
          timeoutMs,
          (_target, respond, fail) => cluster.coordinators.get(target)!.serveQueryOutcome(txnIds, (items) => respond({ items, dropped: [] }), fail),
          (result) => {
            if (!result.ok) {
              world.trace(`${this.id}: the coordinator did not answer the outcome query (${result.reason})`);
              outcomeTarget.failed(target);
            }
            done(result);
          },
        );
      },
      peerOutcome: (peerId, txnIds, timeoutMs, done) => {
        world.count("peer-query");
        world.call(
          this.proc,
          peerId,
          timeoutMs,
          (_target, respond, fail) => cluster.replicas.get(peerId)!.node!.peerOutcome(txnIds, serveWith((items) => respond({ items, dropped: [] }), fail)),
          done,
        );
      },
      fetchFrom: (sourceId) => ({
        fetch: (request, timeoutMs, done) =>
          world.call(this.proc, sourceId, timeoutMs, (_target, respond, fail) => cluster.replicas.get(sourceId)!.node!.fetch(request, serveWith(respond, fail)), done),
        close: () => {},
      }),
      snapshotFrom: (sourceId, _sourceAddress, timeoutMs, done) => {
        world.count("catch-up-snapshot");
        world.call(
          this.proc,
          sourceId,
          timeoutMs,
          (_target, respond, fail) => {
            const source = cluster.replicas.get(sourceId)!;
            let copy: SnapshotCopy | null = null;
            source.node!.snapshotMoment(
              () => {
                copy = source.store.snapshotCopy();
                return source.store.appliedSeq();
              },
              serveWith(() => respond(copy!), fail),
              "catch-up",
            );
          },
          done,
        );
      },
    };
  }

  private traceTurn(inputs: readonly ReplicaInput[], ready: ReplicaReady, _core: ParticipantCore): void {
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
        case "promise":
        case "copy":
          break;
        default:
          assertNever(record);
      }
    }
    // A COMMIT with the writes applied here without a prepare (the replica voted NO or never heard the PREPARE).
    const preparedNow = new Set(ready.persist.flatMap((record) => (record.kind === "prepare" ? [record.txnId] : [])));
    if (ready.persist.some((record) => record.kind === "commit" && preparedNow.has(record.txnId))) world.count("commit-applied-without-prepare");
    for (const input of inputs) {
      if (input.kind === "peer-answers" && ready.persist.length > 0) world.count("settled-by-peer");
      if (input.kind === "outcome" && ready.persist.length > 0) world.count("settled-by-outcome-query");
      if (input.kind === "read" && !ready.replies.some((reply) => reply.callId === input.callId)) world.count("read-parked");
    }
    if (!world.tracing) return;
    if (inputs.every((input) => input.kind === "tick") && ready.persist.length === 0 && ready.replies.length === 0 && ready.queries.length === 0) return;
    const what = inputs.map((input) => describeReplicaInput(input)).join(" ");
    const persist = ready.persist.map((record) => `${record.kind} ${"txnId" in record ? record.txnId : `epoch ${record.epoch}`}`).join(", ");
    const peers = ready.peerQueries.map((query) => `${query.peerId}:[${query.txnIds.join(" ")}]`).join(" ");
    world.trace(`${this.id} turn: ${what}${persist ? ` | log ${persist}` : ""}${ready.queries.length ? ` | ask [${ready.queries.join(" ")}]` : ""}${peers ? ` | ask peers ${peers}` : ""}`);
  }

  /** The Participant service as the coordinator calls it, over the simulated network. */
  participantCalls(from: Proc, epoch: number, coordinator: string): ParticipantCalls {
    const cluster = this.cluster();
    const { world, ledger } = cluster;
    const id = this.id;
    const node = (): ReplicaNode => cluster.replicas.get(id)!.node!;
    return {
      promise: (timeoutMs, done) =>
        world.call(from, id, timeoutMs, (_target, respond, fail) => {
          world.count("promise-asked");
          node().promise(
            epoch,
            coordinator,
            coordinator,
            serveWith((reply) => respond({ granted: reply.granted, promisedEpoch: reply.promised.epoch, promisedTo: reply.promised.coordinatorId, logEpoch: reply.logEpoch, logFirstIndex: reply.logFirstIndex, logIndex: reply.logIndex, maxTxnEpoch: reply.maxTxnEpoch, prepared: reply.prepared }), fail),
          );
        }, done),
      readCopy: (fromIndex, timeoutMs, done) =>
        world.call(from, id, timeoutMs, (_target, respond, fail) => {
          world.count("copy-page-read");
          node().readCopy(epoch, fromIndex, serveWith((page) => respond({ logEpoch: page.logEpoch, logFirstIndex: page.logFirstIndex, logIndex: page.logIndex, records: page.records }), fail));
        }, done),
      append: (request, timeoutMs, done) =>
        world.call(from, id, timeoutMs, (_target, respond, fail) => node().append({ epoch, coordinatorId: coordinator, address: coordinator, ...request }, serveWith(respond, fail)), done),
      prepare: (txns, timeoutMs, done) =>
        world.call(
          from,
          id,
          timeoutMs,
          (_target, respond, fail) => node().prepare(epoch, txns.map((m) => ({ txnId: m.txnId, writes: m.writes, participants: m.participants })), serveWith(respond, fail)),
          done,
        ),
      commit: (txns, gcFloor, urgent, timeoutMs, done) =>
        world.call(
          from,
          id,
          timeoutMs,
          (_target, respond, fail) =>
            node().commit(epoch, txns, gcFloor, urgent, (result) => {
              // A replica acknowledges only a commit whose writes it holds (applied, or newer ones copied).
              if (result.ok) this.checkAcked(txns, ledger);
              serveWith(respond, fail)(result);
            }),
          done,
        ),
      abort: (txnIds, timeoutMs, done) => world.call(from, id, timeoutMs, (_target, respond, fail) => node().abort(epoch, txnIds, serveWith(respond, fail)), done),
      read: (keys, timeoutMs, done) => world.call(from, id, timeoutMs, (_target, respond, fail) => node().read(epoch, keys, serveWith(respond, fail)), done),
      inspect: (txnIds, timeoutMs, done) => world.call(from, id, timeoutMs, (_target, respond, fail) => node().inspect(txnIds, serveWith(respond, fail)), done),
      catchUp: (sourceId, sinceSeq, timeoutMs, done) =>
        world.call(
          from,
          id,
          timeoutMs,
          (_target, respond, fail) =>
            node().catchUp(epoch, sourceId, sourceId, sinceSeq, (result) => {
              if (result.ok) {
                world.count("catch-up");
                world.trace(`${id} caught up from ${sourceId} since seq ${sinceSeq}: ${result.value.rowsCopied} rows`);
              } else {
                world.trace(`${id} catch-up from ${sourceId} failed: ${result.reason}`);
              }
              serveWith((value: { rowsCopied: number }) => respond(value.rowsCopied), fail)(result);
            }),
          done,
        ),
      status: (timeoutMs, done) => world.call(from, id, timeoutMs, (_target, respond, fail) => node().status(serveWith(respond, fail)), done),
      // The health service answers SERVING whenever the process serves.
      checkHealth: (timeoutMs, done) => world.call<boolean>(from, id, timeoutMs, (_target, respond) => respond(true), done),
    };
  }

  private checkAcked(txns: readonly { txnId: string; commitSeq: number }[], ledger: Ledger): void {
    for (const { txnId, commitSeq } of txns) {
      for (const write of ledger.writes(txnId) ?? []) {
        const row = this.store.row(write.key);
        // No row at all: fine if the key is deleted since (its tombstone collected, or dropped by a
        // full copy), or if the write came late below the collection horizon (replica/tombstones.ts,
        // appliesToAbsentKey); the end-of-run checks hold every key to its last commit.
        if (row === undefined && (ledger.deletedSince(write.key, commitSeq) || commitSeq <= this.store.collectedThrough())) continue;
        if (row === undefined || row.version < commitSeq) ledger.ackWithoutApply(this.id, txnId, commitSeq, write.key, row?.version ?? 0);
      }
    }
  }
}

function describeReplicaInput(input: ReplicaInput): string {
  switch (input.kind) {
    case "prepare":
      return `e${input.epoch} prepare[${input.txns.map((txn) => `${txn.txnId}(${describeWrites(txn.writes)})`).join(" ")}]`;
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
    case "coordinator-unreachable":
      return `coordinator-unreachable[${input.txnIds.join(" ")}]`;
    case "promise":
      return `promise(epoch ${input.epoch} to ${input.coordinatorId})`;
    case "append":
      return `append(epoch ${input.epoch}${input.base ? " base" : ""}${input.more ? " part" : ""} ${input.firstIndex}+${input.records.length})`;
    case "fence":
      return `fence(epoch ${input.epoch})`;
    case "read-copy":
      return `read-copy(epoch ${input.epoch} from ${input.fromIndex})`;
    default:
      return assertNever(input);
  }
}

// ---- coordinator -----------------------------------------------------------------------------

export class CoordinatorHost {
  readonly proc: Proc;
  failover: Failover | null = null;
  /** The client calls that arrived in the turn being stepped (an ok answer in the same turn came from memory). */
  private turnRequests = new Set<number>();
  /** The core seen last, and its count of transactions evaluated from its cache then. */
  private cacheSeen: { core: CoordinatorCore; hits: number } | null = null;
  /** An operator's Resolve requests under way: request number -> what it asks. */
  private readonly resolves = new Map<number, { readonly txnId: string; readonly choice: Outcome }>();

  constructor(
    private readonly cluster: () => Cluster,
    world: World,
    readonly id: string,
  ) {
    this.proc = world.addProc(id);
  }

  /** The node, while this coordinator is active. */
  get node(): CoordinatorNode | null {
    return this.failover?.activeNode() ?? null;
  }

  get busy(): boolean {
    return this.node?.busy ?? false;
  }

  /** Up, active, and ready to serve writes. */
  get serving(): boolean {
    const node = this.node;
    return this.proc.listening && node !== null && node.notReady === null;
  }

  /** The core, for the checks. */
  get core(): CoordinatorCore | null {
    return this.node?.core ?? null;
  }

  start(): void {
    const cluster = this.cluster();
    const { world, config } = cluster;
    world.start(this.proc);
    const crash = (why: string): void => cluster.crash(this.id, why);
    const failover = new Failover({
      id: this.id,
      address: this.id,
      coordinators: config.coordinatorIds.map((id) => ({ id, address: id })),
      replicaIds: config.replicaIds,
      scheduler: scheduler(world, this.proc),
      logger: silent,
      participant: (replicaId, epoch) => cluster.replicas.get(replicaId)!.participantCalls(this.proc, epoch, this.id),
      peerRole: (coordinatorId, timeoutMs, done) =>
        world.call<PeerRole>(this.proc, coordinatorId, timeoutMs, (_target, respond) => respond(cluster.coordinators.get(coordinatorId)!.role()), done),
      node: {
        onConflict: config.onConflict,
        minInSync: config.minInSync,
        valueCacheBytes: config.valueCacheBytes,
        compactLogSize: config.compactRecords,
        exit: crash,
        probe: {
          step: (input, core) => this.checkStep(input, core),
          turn: (inputs, ready, core) => this.traceTurn(inputs, ready, core),
        },
      },
      observe: {
        node: (node) => {
          world.count("takeover");
          cluster.ledger.epochStarted(node.epoch);
          if (node.recovery.remembered > 0) world.count("coordinator-recovered-requests");
          if (node.recovery.unfinished > 0) world.count("coordinator-recovered-unfinished");
          world.trace(`${this.id} takes over as epoch ${node.epoch}: ${node.recovery.records} records in the newest copy of the log, last seq ${node.recovery.lastCommitSeq}`);
        },
        role: (role, epoch) => {
          if (role === "standby") world.count("coordinator-stood-down");
          world.trace(`${this.id} is ${role} (epoch ${epoch})`);
        },
      },
    });
    this.failover = failover;
    failover.start();
    this.proc.listening = true;
    world.trace(`${this.id} started (standing by until elected)`);
  }

  crash(): void {
    const { world } = this.cluster();
    world.crash(this.proc);
    world.trace(`${this.id} CRASHED`);
    this.failover = null;
  }

  /** What a brief Status says (the other coordinators watch this). */
  role(): PeerRole {
    const view = this.failover!.view();
    return { role: view.role, epoch: view.epoch, activeId: view.active?.id ?? "", activeAddress: view.active?.address ?? "" };
  }

  /** Before each input is stepped: a transaction's read must be the latest committed state, if it is still reading (under its locks). */
  private checkStep(input: CoordinatorInput, core: CoordinatorCore): void {
    if (input.kind !== "read-result" || input.states === null) return;
    const txn = core.inFlight().find((t) => t.txnId === input.txnId);
    if (txn?.phase !== "reading") return; // aborted meanwhile: the core drops the answer
    if (!this.cluster().ledger.txnRead(input.txnId, "an in-sync replica", input.states, core.epoch)) this.cluster().world.count("read-answer-to-superseded-coordinator");
  }

  private traceTurn(inputs: readonly CoordinatorInput[], ready: CoordinatorReady, core: CoordinatorCore): void {
    const { world, ledger, config } = this.cluster();
    this.turnRequests = new Set(inputs.flatMap((input) => (input.kind === "txn" || input.kind === "write" ? [input.reqId] : [])));
    // At most one coordinator decides in an epoch.
    for (const { record } of ready.persist) if (record.kind === "commit") ledger.decidedBy(this.id, core.epoch, record.txnId);
    // An operator's Resolve answered "done" must agree with the transaction's outcome, checked as the
    // core decides, before anything it sends can reach a replica.
    for (const input of inputs) if (input.kind === "resolve") this.resolves.set(input.reqId, { txnId: input.txnId, choice: input.choice });
    for (const { reqId, result } of ready.replies) {
      const resolve = this.resolves.get(reqId);
      if (resolve === undefined) continue;
      this.resolves.delete(reqId);
      // An abort at once; a commit once the client hears it (its decision may be forced in this very turn).
      if (result.ok && resolve.choice === "abort") ledger.resolved(resolve.txnId, "abort");
    }
    // PREPAREs leave early (before the turn's COMMIT records are durable: intent commits).
    if (ready.early.some((message) => message.kind === "prepare")) {
      const programs = new Map<string, Program | null>(core.inFlight().map((txn) => [txn.txnId, txn.program]));
      for (const message of ready.early) if (message.kind === "prepare") ledger.prepared(message.txnId, message.writes, programs.get(message.txnId) ?? null);
    }
    for (const message of ready.send) if (message.kind === "commit" && message.writes !== null) world.count("commit-with-writes-sent");
    for (let i = 0; i < ready.reads.length; i++) world.count("txn-read");
    const hits = core.cacheFigures().hits;
    for (let i = this.cacheSeen?.core === core ? this.cacheSeen.hits : 0; i < hits; i++) world.count("txn-evaluated-from-cache");
    this.cacheSeen = { core, hits };
    for (const { record } of ready.persist) {
      if (record.kind === "membership") world.count(record.inSync.length < config.replicaIds.length ? "in-sync-set-shrank" : "in-sync-set-full-again");
    }
    // A write answered ok in the turn it arrived was answered from a remembered commit (a new one
    // needs reads or votes first; a retry that joins an attempt deciding in this very turn also counts).
    for (const { reqId, result } of ready.replies) if (result.ok && result.commitSeq > 0 && this.turnRequests.has(reqId)) world.count("retry-answered-from-memory");
    if (!world.tracing) return;
    const what = inputs
      .map(describeCoordinatorInput)
      .filter((text) => text !== "")
      .join(" ");
    if (what === "" && ready.persist.length === 0 && ready.send.length === 0 && ready.replies.length === 0 && ready.immediate.length === 0 && ready.outcomes.length === 0) return;
    const persist = ready.persist.map(({ record }) => {
      if (record.kind === "membership") return `membership in-sync=${record.inSync.join(",")}`;
      if (record.kind === "remembered") return `remembered ${record.commits.length}`;
      const named = record as { readonly kind: string; readonly txnId?: string; readonly requestId?: string };
      return [named.kind, named.txnId ?? named.requestId ?? ""].join(" ").trim();
    });
    const sends = ready.send.map((message) => `${message.kind}${message.kind === "catch-up" ? `(${message.sourceId}>=${message.sinceSeq})` : ` ${message.txnId}`}->${message.to}`);
    const replies = [...ready.replies, ...ready.immediate].map(({ reqId, result }) => `req${reqId}:${result.ok ? `ok@${result.commitSeq}` : `code${result.code}`}`);
    world.trace(
      `${this.id} e${core.epoch} turn: ${what}${persist.length ? ` | log ${persist.join(", ")}` : ""}${sends.length ? ` | send ${sends.join(" ")}` : ""}${replies.length ? ` | reply ${replies.join(" ")}` : ""}`,
    );
  }

  // The client-facing service, as the workload calls it over the simulated network. A standby (or a
  // coordinator taking over) refuses with UNAVAILABLE, nothing run, as coordinator/server.ts does.

  private standby(): string {
    const view = this.failover!.view();
    return `${standbyPrefix} coordinator ${this.id} is ${view.role}; the active coordinator is ${view.active?.id ?? "unknown"}`;
  }

  serveWrite(writes: readonly Write[], requestId: string | null, respond: (result: WriteResult) => void): void {
    const node = this.node;
    if (node === null) return respond({ ok: false, code: Code.UNAVAILABLE, message: this.standby() });
    node.submit(requestId, "put", putProgram(writes), respond);
  }

  serveTxn(requestId: string | null, program: Program, respond: (result: WriteResult) => void): void {
    const node = this.node;
    if (node === null) return respond({ ok: false, code: Code.UNAVAILABLE, message: this.standby() });
    node.submit(requestId, "txn", program, respond);
  }

  serveStatus(id: string, respond: (status: TxnStatus) => void, fail: (code: CodeValue, reason: string) => void): void {
    const node = this.node;
    if (node === null) return fail(Code.UNAVAILABLE, this.standby());
    node.txnStatus(id, (status) => {
      this.cluster().ledger.statusAnswered(id, status);
      respond(status);
    });
  }

  serveResolve(txnId: string, choice: Outcome, respond: (result: WriteResult) => void): void {
    const node = this.node;
    if (node === null) return respond({ ok: false, code: Code.UNAVAILABLE, message: this.standby() });
    node.resolve(txnId, choice, respond);
  }

  serveQueryOutcome(txnIds: readonly string[], respond: (items: OutcomeItem[]) => void, fail: (code: CodeValue, reason: string) => void): void {
    const node = this.node;
    if (node === null) return fail(Code.UNAVAILABLE, this.standby());
    node.queryOutcome(txnIds, respond);
  }

  /** A client's get of one key. */
  serveRead(key: string, respond: (row: ReadRow) => void, fail: (code: CodeValue, reason: string) => void): void {
    const node = this.node;
    if (node === null) return fail(Code.UNAVAILABLE, this.standby());
    node.get(key, (result) => {
      if (result.ok) this.cluster().world.trace(`${this.id} read ${key}: ${result.value.found ? `${result.value.value.toString("utf8")}@${result.value.version}` : "absent"}`);
      serveWith(respond, fail)(result);
    });
  }
}

/** How a standby's refusal begins: nothing ran, and a client may go to another coordinator. */
export const standbyPrefix = "standby:";

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
      return `resolve(${input.txnId} ${input.choice}${input.replicas === null ? "" : ` replicas ${input.replicas.map((r) => `${r.replicaId}:${r.state}`).join(",")}`})`;
    case "txn":
      return `txn(req${input.reqId}${input.requestId === null ? "" : ` id=${input.requestId}`})`;
    case "read-result":
      return `read-result(${input.txnId}${input.states === null ? ` FAILED: ${input.reason}` : ""})`;
    case "txn-status":
      return `txn-status(req${input.reqId} ${input.id})`;
    case "status":
      return `status(req${input.reqId})`;
    case "settle-in-doubt":
      return `settle-in-doubt(${input.txnIds.join(" ")})`;
    case "tick":
      return "";
    default:
      return assertNever(input);
  }
}

