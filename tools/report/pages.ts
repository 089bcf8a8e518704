// The HTML report pages of kv bench, kv chaos and kv demo bookstore (--report FILE.html): each
// run's title, parameters and printed summary around the figures its Timeline recorded, rendered by
// tools/report/html.ts, and the file they go to.
import * as fs from "node:fs";
import { formatBenchReport, type BenchReport } from "../bench/bench";
import { renderReportHtml, type ReportMarker, type ReportPage, type TimelineFigures } from "./html";

/**
 * Opens the report file for writing before the run (and leaves it empty), so that a bad path fails
 * at once rather than after the whole run; the message names the flag.
 */
export function checkReportFile(file: string): void {
  try {
    fs.closeSync(fs.openSync(file, "w"));
  } catch (error) {
    throw new Error(`--report: cannot write the HTML report ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

export function writeReportFile(file: string, page: ReportPage): void {
  fs.writeFileSync(file, renderReportHtml(page));
}

function runLength(report: BenchReport): string {
  const bound = "ops" in report.requested ? `${report.requested.ops} operations` : `${(report.requested.durationMs / 1000).toFixed(1)} s`;
  return `${bound}${report.interrupted ? " (interrupted)" : ""}`;
}

/** kv bench's page: its figures, and the table it printed. */
export function benchPage(report: BenchReport, timeline: TimelineFigures): ReportPage {
  return {
    title:
      `kv bench: workload ${report.workload}, ${report.concurrency} clients, ${runLength(report)}, ` +
      `${report.keys} keys (${report.distribution}), values of ${report.valueBytes} bytes`,
    parameters: [
      ["workload", report.workload],
      ["clients", `${report.concurrency} on ${report.connections} connections`],
      ["bound", runLength(report)],
      ["ran for", `${(report.durationMs / 1000).toFixed(2)} s`],
      ["keys", `${report.keys}, ${report.distribution}`],
      ["value size", `${report.valueBytes} bytes`],
      ["seed", String(report.seed)],
    ],
    latencyLabel: "successful operations, from send to reply",
    timeline,
    markers: [],
    summary: formatBenchReport(report),
  };
}

/** kv chaos's page: the load's figures with the faults marked on the time axis, and the chaos table. */
export function chaosPage(
  run: { readonly seed: number; readonly durationMs: number; readonly faults: readonly string[]; readonly concurrency: number; readonly keys: number; readonly keyPrefix: string },
  timeline: TimelineFigures,
  markers: readonly ReportMarker[],
  summary: string,
): ReportPage {
  return {
    title: `kv chaos: seed ${run.seed}, faults ${run.faults.join(",")}, ${run.concurrency} clients, ${(run.durationMs / 1000).toFixed(1)} s, ${run.keys} keys, values of 32 bytes`,
    parameters: [
      ["workload", "mixed (50% get, 40% put, 10% del)"],
      ["clients", String(run.concurrency)],
      ["duration", `${(run.durationMs / 1000).toFixed(1)} s`],
      ["keys", `${run.keys}, uniform, under ${run.keyPrefix}`],
      ["value size", "32 bytes"],
      ["faults", run.faults.join(", ")],
      ["seed", String(run.seed)],
    ],
    latencyLabel: "the load's successful operations, from send to reply (the dashed lines are the faults)",
    timeline,
    markers,
    summary,
  };
}

/** kv demo bookstore's page: orders, restocks and stock reads over time, and the demo's table. */
export function bookstorePage(
  run: { readonly seed: number; readonly books: number; readonly initialStock: number; readonly executors: number; readonly orders: number; readonly chaos: boolean },
  timeline: TimelineFigures,
  markers: readonly ReportMarker[],
  summary: string,
): ReportPage {
  return {
    title: `kv demo bookstore: ${run.orders} orders by ${run.executors} executors, ${run.books} books of ${run.initialStock}, seed ${run.seed}${run.chaos ? ", with chaos" : ""}`,
    parameters: [
      ["workload", "orders (one transaction each), restocks, stock reads"],
      ["clients", `${run.executors} order executors, a restocker, a watcher`],
      ["orders", String(run.orders)],
      ["books", `${run.books}, ${run.initialStock} in stock each`],
      ["chaos", run.chaos ? "kill -9 and restart (the dashed lines)" : "none"],
      ["seed", String(run.seed)],
    ],
    latencyLabel: "orders, from the first attempt to a certain outcome (retries included)",
    timeline,
    markers,
    summary,
  };
}
