// A replica's metrics, in the Prometheus text format (prom-client), served at /metrics by
// `kv replica --metrics-listen` (cli/metrics-endpoint.ts). Part of the shell: the pure core never
// sees them. Nothing here is counted on the hot path: the node adds each durable turn's records
// and votes to plain numbers (ReplicaCounters), the write-ahead log counts its forces, and the
// applied sequence number and the transactions held prepared are read at scrape time, after a
// barrier (as Status reads them).
import * as promClient from "prom-client";
import type { Scheduler } from "../common/env";
import { limits } from "../common/limits";
import { Coalesced, RunningTotal, within } from "../common/scrape";
import { newReplicaCounters, type ReplicaCounters, type ReplicaNode } from "./node";

/** Where the metrics read the log's own counters. */
export interface ForceCounters {
  readonly forces: number;
  readonly recordsForced: number;
}

export class ReplicaMetrics {
  readonly registry = new promClient.Registry();
  /** The node adds to these (ReplicaNodeOptions.counters). */
  readonly counters: ReplicaCounters = newReplicaCounters();
  private node: ReplicaNode | null = null;

  constructor(scheduler: Pick<Scheduler, "after">, log: ForceCounters) {
    const registers = [this.registry];
    promClient.collectDefaultMetrics({ register: this.registry });
    const counters = this.counters;
    const total = (name: string, help: string, value: () => number): void => {
      const running = new RunningTotal();
      new promClient.Counter({
        name,
        help,
        registers,
        collect() {
          this.inc(running.read(counters, value()));
        },
      });
    };
    total("kv_replica_prepares_total", "Transactions prepared here (their prepare record made durable, then the YES vote sent).", () => counters.prepares);
    total("kv_replica_commits_total", "Commit records made durable here (and so commits applied to the store).", () => counters.commits);
    total("kv_replica_aborts_total", "Abort records written here.", () => counters.aborts);
    total("kv_replica_log_forces_total", "Forces (fdatasync) of the write-ahead log. Records per force: rate(kv_replica_log_records_forced_total) / rate(kv_replica_log_forces_total).", () => log.forces);
    total("kv_replica_log_records_forced_total", "Records of the write-ahead log made durable by its forces.", () => log.recordsForced);
    const yes = new RunningTotal();
    const no = new RunningTotal();
    new promClient.Counter({
      name: "kv_replica_votes_total",
      help: "Votes sent to the coordinator, by vote (yes, no).",
      labelNames: ["vote"],
      registers,
      collect() {
        this.inc({ vote: "yes" }, yes.read(counters, counters.votesYes));
        this.inc({ vote: "no" }, no.read(counters, counters.votesNo));
      },
    });

    // The applied sequence number and the prepared count come from one barrier per scrape; NaN
    // when it does not come within metricsFiguresTimeoutMs (unknown, not zero).
    const figures = new Coalesced(() => within(this.fetchFigures(), limits.metricsFiguresTimeoutMs, null, scheduler));
    new promClient.Gauge({
      name: "kv_replica_applied_seq",
      help: "The highest commit sequence number applied to this replica's store.",
      registers,
      async collect() {
        this.set((await figures.get())?.appliedSeq ?? NaN);
      },
    });
    new promClient.Gauge({
      name: "kv_replica_prepared_transactions",
      help: "Transactions held prepared here (in doubt: voted YES, no decision heard yet).",
      registers,
      async collect() {
        this.set((await figures.get())?.prepared ?? NaN);
      },
    });
  }

  /** The node, read at scrape time (it is built with the counters, after this). */
  attach(node: ReplicaNode): void {
    this.node = node;
  }

  private fetchFigures(): Promise<{ appliedSeq: number; prepared: number } | null> {
    const node = this.node;
    if (node === null) return Promise.resolve(null);
    return new Promise((resolve) => node.figures((result) => resolve(result.ok ? result.value : null)));
  }
}
