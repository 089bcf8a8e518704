// Where a request's time goes inside the coordinator (issue 13): per-phase latency histograms over
// the life of each write and each read, from the moment the node takes the request to the moment it
// answers. The node (coordinator/node.ts) marks the moments it sees (the request arrives, PREPARE
// leaves, the last vote before the answer arrives, the answer leaves; and, overlapping the prepare round since intent
// commits, the COMMIT record is stepped and is durable). The COMMIT round comes after
// the answer (the client does not wait for it): it is measured per replica, from COMMIT leaving to
// that replica's acknowledgement, until the transaction is forgotten. Status reports them (kv status, kv bench --trace), and a Status call may reset
// them so that a benchmark sees only its own run.
//
// The tracer is part of the shell, not of the core: its clock is the process's high-resolution clock
// (performance.now), injected so that the simulator can leave it out. Its tables are bounded
// (limits.traceOpenMax): a transaction that never finishes is dropped from them, oldest first.
import * as hdr from "hdr-histogram-js";
import { limits } from "../common/limits";
import { FifoMap } from "../common/fifo-map";

/** The phases of a write, in order: each is the gap from one mark to the next. */
export const writePhases = [
  /** The request arrived -> its PREPARE left (the step loop's turn, lock wait, batching behind calls in flight). */
  "admit",
  /** PREPARE left -> the last vote before the answer arrived (the one that made a majority of YES, or the last of all; network, the replicas' log force). */
  "prepare-round",
  /**
   * That vote arrived -> the answer left (the step loop's turn; the COMMIT record's force if it
   * was not done yet).
   */
  "decide",
  /**
   * The COMMIT record stepped (with the PREPAREs) -> held by a majority of the replicas (the decision
   * log's Append round). It overlaps the prepare round: not part of write-total's sum.
   */
  "decision-force",
] as const;
export type WritePhase = (typeof writePhases)[number];

/** After the answer: COMMIT left -> one replica acknowledged it (once per replica). */
export const commitPhases = ["commit-round"] as const;

export const readPhases = [
  /** A get's read round: the request arrived -> a majority of the replicas answered. */
  "read-round",
] as const;

/** The phases Status reports: the write's, its total, and the read's. */
export const tracePhases = [...writePhases, "write-total", ...commitPhases, ...readPhases] as const;
export type TracePhase = (typeof tracePhases)[number];

export interface PhaseSummary {
  /** A TracePhase, or "event-loop-delay" (coordinator/server.ts adds it). */
  readonly phase: TracePhase | "event-loop-delay";
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
}

type Mark = "prepareSent" | "votesIn" | "decisionStepped" | "decisionDurable" | "commitSent" | "acksIn";

/** The marks of one transaction, in microseconds on the tracer's clock (NaN: not seen yet). */
interface TxnMarks {
  prepareSent: number;
  votesIn: number;
  decisionStepped: number;
  decisionDurable: number;
  commitSent: number;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export class PhaseTrace {
  private readonly histograms = new Map<TracePhase, hdr.Histogram>(tracePhases.map((phase) => [phase, newHistogram()]));
  /** Arrival of each request still waiting for its answer, by the node's request number. */
  private readonly arrivals = new FifoMap<number, number>();
  private readonly txns = new FifoMap<string, TxnMarks>();

  constructor(
    private readonly nowUs: () => number,
    /**
     * Sees every value recorded, as it is recorded (the process's metrics, coordinator/metrics.ts):
     * the same measurement feeds both, and a Status reset leaves the metrics' running totals alone.
     */
    private readonly observe?: (phase: TracePhase, us: number) => void,
  ) {}

  requestArrived(reqId: number): void {
    bounded(this.arrivals, reqId, this.nowUs());
  }

  /**
   * Marks the moment for each transaction (the first time only for PREPARE and COMMIT leaving, the
   * last for votes); an acknowledgement records its replica's commit round.
   */
  mark(mark: Mark, txnIds: Iterable<string>): void {
    const now = this.nowUs();
    for (const txnId of txnIds) {
      let marks = this.txns.get(txnId);
      if (marks === undefined) {
        if (mark !== "prepareSent" && mark !== "decisionStepped") continue;
        marks = { prepareSent: NaN, votesIn: NaN, decisionStepped: NaN, decisionDurable: NaN, commitSent: NaN };
        bounded(this.txns, txnId, marks);
      }
      if ((mark === "prepareSent" || mark === "commitSent") && !Number.isNaN(marks[mark])) continue;
      if (mark === "acksIn") {
        if (!Number.isNaN(marks.commitSent)) this.record("commit-round", now - marks.commitSent);
        continue;
      }
      marks[mark] = now;
    }
  }

  /** The node answered request reqId; txnId is the transaction whose commit it reports (none for a failure). */
  replied(reqId: number, txnId: string | undefined): void {
    const now = this.nowUs();
    const arrived = this.arrivals.get(reqId);
    this.arrivals.delete(reqId);
    if (txnId === undefined) return;
    const marks = this.txns.get(txnId);
    if (arrived === undefined || marks === undefined) return;
    const points = [arrived, marks.prepareSent, marks.votesIn, now];
    // A transaction rebuilt from the log, or answered as a retry of a remembered commit, misses marks.
    if (points.some((point) => Number.isNaN(point))) return;
    this.record("admit", marks.prepareSent - arrived);
    this.record("prepare-round", marks.votesIn - marks.prepareSent);
    this.record("decide", now - marks.votesIn);
    if (!Number.isNaN(marks.decisionStepped) && !Number.isNaN(marks.decisionDurable)) this.record("decision-force", marks.decisionDurable - marks.decisionStepped);
    this.record("write-total", now - arrived);
  }

  /** The transaction is over (its END): its commit round is no longer followed. */
  forget(txnId: string): void {
    this.txns.delete(txnId);
  }

  /** A get's read, from its arrival at the node (startUs, from now()) to its answer. */
  readDone(startUs: number): void {
    this.record("read-round", this.nowUs() - startUs);
  }

  now(): number {
    return this.nowUs();
  }

  private record(phase: TracePhase, us: number): void {
    const value = Math.max(0, Math.round(us));
    this.histograms.get(phase)!.recordValue(value);
    this.observe?.(phase, value);
  }

  summary(): PhaseSummary[] {
    return tracePhases.map((phase) => {
      const h = this.histograms.get(phase)!;
      return {
        phase,
        count: h.totalCount,
        meanUs: h.totalCount === 0 ? 0 : Math.round(h.mean),
        p50Us: h.getValueAtPercentile(50),
        p90Us: h.getValueAtPercentile(90),
        p99Us: h.getValueAtPercentile(99),
        maxUs: h.maxValue,
      };
    });
  }

  reset(): void {
    for (const h of this.histograms.values()) h.reset();
  }
}

/** Sets key in a map that keeps at most limits.traceOpenMax entries, dropping the oldest. */
function bounded<K, V>(map: FifoMap<K, V>, key: K, value: V): void {
  if (map.size >= limits.traceOpenMax) {
    const oldest = map.oldest();
    if (oldest !== undefined) map.delete(oldest[0]);
  }
  map.set(key, value);
}
