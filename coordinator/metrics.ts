// The coordinator's metrics, in the Prometheus text format (prom-client), served at /metrics by
// `kv coordinator --metrics-listen` (cli/metrics-endpoint.ts). Part of the shell: the pure core never
// sees them.
//
// Nothing is measured twice. The per-phase latencies are the phase trace's own measurements
// (coordinator/trace.ts hands each value it records to observePhase); answers and batch sizes are
// counted where the node has them at hand (NodeMetrics); everything else is read at scrape time:
// the core's report (one step of the node's loop, as Status asks it, without asking the replicas),
// the view the core published last, and the decision log's force counters. A standby has no node:
// its scrape holds its role, its process figures and the totals it counted while it was active.
import * as promClient from "prom-client";
import { codeName } from "../common/errors";
import { limits } from "../common/limits";
import { Coalesced, RunningTotal, within } from "../common/scrape";
import type { Scheduler } from "../common/env";
import { requestIdTables, type CoreReport, type CoreView, type Phase, type WriteResult } from "./core";
import type { Failover } from "./failover";
import type { BatchKind, CoordinatorNode, NodeMetrics } from "./node";
import { tracePhases, type TracePhase } from "./trace";

/** Phase latencies, in seconds: from 50 us to 10 s, about three buckets per factor of ten. */
const phaseBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Messages per batched call: powers of two up to txnsPerBatchMax. */
const batchBuckets = Array.from({ length: Math.log2(limits.txnsPerBatchMax) + 1 }, (_, i) => 2 ** i);

const phases: readonly Phase[] = ["reading", "preparing", "committing", "owed"];
const batchKinds: readonly BatchKind[] = ["prepare", "commit", "abort"];

interface Figures {
  readonly node: CoordinatorNode;
  readonly report: CoreReport;
  readonly view: CoreView;
  readonly log: { readonly forces: number; readonly recordsForced: number };
}

export class CoordinatorMetrics implements NodeMetrics {
  readonly registry = new promClient.Registry();
  private readonly answers: promClient.Counter<"outcome">;
  private readonly phaseSeconds: promClient.Histogram<"phase">;
  private readonly batchMessages: promClient.Histogram<"kind">;
  private failover: Failover | null = null;
  private readonly figures: Coalesced<Figures | null>;

  constructor(scheduler: Pick<Scheduler, "after">) {
    const registers = [this.registry];
    promClient.collectDefaultMetrics({ register: this.registry });
    this.figures = new Coalesced(() => within(this.fetchFigures(), limits.metricsFiguresTimeoutMs, null, scheduler));
    this.answers = new promClient.Counter({
      name: "kv_coordinator_transactions_total",
      help: 'Writes and transactions answered by this coordinator, by outcome: "committed", or the gRPC code of the failure in lower case (aborted, failed_precondition, unavailable, resource_exhausted, ...). A retry that joins a running request is one more answer.',
      labelNames: ["outcome"],
      registers,
    });
    // Present from the start, so that a rate over the first answers sees them.
    for (const outcome of ["committed", "aborted", "failed_precondition", "unavailable"]) this.answers.inc({ outcome }, 0);
    this.phaseSeconds = new promClient.Histogram({
      name: "kv_coordinator_phase_seconds",
      help: "Latency of each phase of a request inside the active coordinator (kv bench --trace; coordinator/trace.ts): admit (arrival to PREPARE leaving: lock wait, batching), prepare-round, decide, decision-force, write-total, commit-round (per replica), read-round (a get).",
      labelNames: ["phase"],
      buckets: phaseBuckets,
      registers,
    });
    for (const phase of tracePhases) this.phaseSeconds.zero({ phase });
    this.batchMessages = new promClient.Histogram({
      name: "kv_coordinator_batch_messages",
      help: "Messages each batched call to a replica carried, by kind (prepare, commit, abort).",
      labelNames: ["kind"],
      buckets: batchBuckets,
      registers,
    });
    for (const kind of batchKinds) this.batchMessages.zero({ kind });

    const self = this;
    new promClient.Gauge({
      name: "kv_coordinator_active",
      help: "1 while this coordinator is the active one and serving, else 0 (a standby, or taking over).",
      registers,
      collect() {
        this.set(self.failover?.activeNode() != null ? 1 : 0);
      },
    });
    new promClient.Gauge({
      name: "kv_coordinator_epoch",
      help: "The epoch this coordinator last knew (its own while active).",
      registers,
      collect() {
        this.set(self.failover?.view().epoch ?? 0);
      },
    });
    const forces = new RunningTotal();
    new promClient.Counter({
      name: "kv_coordinator_log_forces_total",
      help: "Forces of the decision log (each one Append round to the replicas that a majority must hold). Records per force: rate(kv_coordinator_log_records_forced_total) / rate(kv_coordinator_log_forces_total).",
      registers,
      async collect() {
        const f = await self.figures.get();
        if (f !== null) this.inc(forces.read(f.node, f.log.forces));
      },
    });
    const recordsForced = new RunningTotal();
    new promClient.Counter({
      name: "kv_coordinator_log_records_forced_total",
      help: "Records of the decision log made durable by its forces.",
      registers,
      async collect() {
        const f = await self.figures.get();
        if (f !== null) this.inc(recordsForced.read(f.node, f.log.recordsForced));
      },
    });
    const lockWaits = new RunningTotal();
    new promClient.Counter({
      name: "kv_coordinator_lock_waits_total",
      help: "Writes that queued behind a key another transaction held (--on-conflict wait); their wait is part of the admit phase.",
      registers,
      async collect() {
        const f = await self.figures.get();
        if (f !== null) this.inc(lockWaits.read(f.node, f.report.lockWaits));
      },
    });
    const cacheLookups = { hit: new RunningTotal(), miss: new RunningTotal() };
    new promClient.Counter({
      name: "kv_coordinator_value_cache_lookups_total",
      help: "Transactions that read keys, by whether the cache of committed key states held them all and the evaluation wrote (hit: no read round) or not (miss: read from a replica).",
      labelNames: ["result"],
      registers,
      async collect() {
        const f = await self.figures.get();
        if (f === null) return;
        this.inc({ result: "hit" }, cacheLookups.hit.read(f.node, f.report.valueCache.hits));
        this.inc({ result: "miss" }, cacheLookups.miss.read(f.node, f.report.valueCache.misses));
      },
    });
    this.gauge("kv_coordinator_value_cache_bytes", "Bytes the cache of committed key states holds now, as counted against --value-cache-mib (key, value and 350 bytes an entry).", (f) => f.report.valueCache.bytes);
    this.gauge("kv_coordinator_value_cache_entries", "Keys in the cache of committed key states now.", (f) => f.report.valueCache.entries);
    this.gauge("kv_coordinator_lock_waiters", "Writes queued behind a held key now.", (f) => f.report.lockWaiters);
    this.gauge("kv_coordinator_locked_keys", "Keys locked by transactions in flight now.", (f) => f.report.lockedKeys);
    this.gauge("kv_coordinator_in_sync_replicas", "Replicas in the in-sync set (in the view the core published last).", (f) => f.view.members.filter((m) => m.state === "in-sync").length);
    this.gauge(
      "kv_coordinator_in_doubt_transactions",
      "Transactions prepared and undecided: PREPARE sent (with the COMMIT record, intent commits), votes not all in.",
      (f) => f.report.inFlight.filter((txn) => txn.phase === "preparing").length,
    );
    new promClient.Gauge({
      name: "kv_coordinator_transactions_in_flight",
      help: "Transactions in the coordinator's table now, by phase (reading, preparing, committing, owed).",
      labelNames: ["phase"],
      registers,
      async collect() {
        const f = await self.figures.get();
        this.reset();
        if (f === null) return;
        for (const phase of phases) this.set({ phase }, f.report.inFlight.filter((txn) => txn.phase === phase).length);
      },
    });
    new promClient.Gauge({
      name: "kv_coordinator_request_ids",
      help: "Entries of the tables the coordinator keeps request ids in (exactly-once): active, remembered (commits), failures (definite), fingerprints, recent-failures, read-only.",
      labelNames: ["table"],
      registers,
      async collect() {
        const f = await self.figures.get();
        this.reset();
        if (f === null) return;
        for (const table of requestIdTables) this.set({ table }, f.report.requestIdEntries[table]);
      },
    });
  }

  /** The process's failover, read at scrape time (it is built after the trace, which needs this). */
  attach(failover: Failover): void {
    this.failover = failover;
  }

  /** The phase trace's observer: one value it recorded, in microseconds. */
  readonly observePhase = (phase: TracePhase, us: number): void => {
    this.phaseSeconds.observe({ phase }, us / 1e6);
  };

  answered(result: WriteResult): void {
    this.answers.inc({ outcome: result.ok ? "committed" : codeName(result.code).toLowerCase() });
  }

  batchSent(kind: BatchKind, size: number): void {
    this.batchMessages.observe({ kind }, size);
  }

  /**
   * A gauge of the active node's figures; NaN while there are none (a standby, or figures that did
   * not come within metricsFiguresTimeoutMs): unknown, not zero.
   */
  private gauge(name: string, help: string, value: (figures: Figures) => number): void {
    const figures = this.figures;
    new promClient.Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        const f = await figures.get();
        this.set(f === null ? NaN : value(f));
      },
    });
  }

  private fetchFigures(): Promise<Figures | null> {
    const failover = this.failover;
    const node = failover?.activeNode() ?? null;
    if (failover === null || node === null) return Promise.resolve(null);
    return new Promise((resolve) => node.figures(({ report, view }) => resolve({ node, report, view, log: failover.logCounters() })));
  }
}
