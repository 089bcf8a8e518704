// The phase breakdown `kv bench --trace` prints: where the requests of a run spent their time inside
// the active coordinator (coordinator/trace.ts, reported by Status). Pure.
import type { PhaseLatency__Output } from "../../proto/gen/twopc/kv/PhaseLatency";
import { formatTable } from "../../common/table";

const ms = (us: number | string): string => (Number(us) / 1000).toFixed(3);

/** A table of the phases, in microseconds shown as milliseconds, with each write phase's share of the write's mean. */
export function formatPhases(phases: readonly PhaseLatency__Output[]): string {
  const total = phases.find((p) => p.phase === "write-total");
  const totalMean = total === undefined ? 0 : Number(total.meanUs);
  const rows: string[][] = [["phase", "count", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms", "share of write"]];
  for (const p of phases) {
    // decision-force overlaps the prepare round (intent commits): no share of its own.
    const isWritePhase = p.phase === "admit" || p.phase === "prepare-round" || p.phase === "decide";
    const share = isWritePhase && totalMean > 0 ? `${((Number(p.meanUs) / totalMean) * 100).toFixed(0)}%` : "";
    rows.push([p.phase, String(p.count), ms(p.meanUs), ms(p.p50Us), ms(p.p90Us), ms(p.p99Us), ms(p.maxUs), share]);
  }
  return [
    "where the time went inside the active coordinator (from the request's arrival at the node to its answer):",
    formatTable(rows, { rightAligned: "all-but-first" }),
    "a write is answered once every vote is in and its COMMIT record, forced with the PREPAREs (decision-force, overlapping the prepare round), is durable (write-total);",
    "the commit round (per replica) follows the answer.",
    "the gap between the client's latency and write-total/read-round is the client's side, the network and gRPC",
  ].join("\n");
}
