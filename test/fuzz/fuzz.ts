// A standing fuzzer (issue 10): seeded sequences of requests to every method of both services of a
// real cluster (a coordinator and three replicas as processes, test/integration/harness.ts), checked
// after every batch and at the end (run.ts). Requests come from arbitraries.ts, which also states
// the rules that keep participant-port requests from legitimately changing one replica's data.
//
// The run is one fast-check asyncProperty over an array of commands, run once (numRuns 1: the
// requests count sets its size). When it fails, fast-check shrinks the array; every candidate runs
// against a fresh cluster, so a candidate's result depends on its commands alone, and the next
// cluster starts while the current candidate runs. A candidate counts as failing only if it fails
// the same way as the original (same signature: the same process dying at the same place, the same
// method and code, ...), so shrinking does not wander to another bug. Shrinking has a budget (time
// and runs): once spent, the shortest failing sequence found so far is reported. A candidate costs
// a cluster start (about a second) and its run, so the run's arbitrary (arbitraries.ts,
// runArbitrary) offers few and good candidates: the prefix that ran before the failure, then
// chunks removed, then single commands simplified.
import fc from "fast-check";
import { noteFailedPrefix, runArbitrary } from "./arbitraries";
import type { Command } from "./model";
import { defaultRunOptions, FuzzTarget, runCommands, type CodeCounts, type Failure, type Reach, type ReachCounts, type RunOptions, type RunResult } from "./run";
import { formatTable } from "../../common/table";

export interface FuzzOptions {
  readonly requests: number;
  readonly seed: number;
  /** fast-check's replay path of a counterexample (printed with a failure). */
  readonly path?: string;
  readonly run?: Partial<RunOptions>;
  readonly shrinkBudgetMs: number;
  readonly shrinkRunsMax: number;
  /** Progress lines (the first run: every batch; shrinking: every candidate). */
  readonly log?: (line: string) => void;
  readonly onProgress?: (executed: number, total: number) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  /** Of the first run, the one with every generated request. */
  readonly counts: CodeCounts;
  /** Of the first run: how far the calls carrying an epoch got in the replicas. */
  readonly reach: ReachCounts;
  /** Of the first run: the active coordinator's epoch at its start and end, and how many calls carried a newer one. */
  readonly epochs: RunResult["epochs"];
  readonly executed: number;
  readonly historyOps: number;
  readonly elapsedMs: number;
  readonly failure: {
    readonly original: Failure;
    /** The failure of the shortest failing sequence (same signature as original). */
    readonly minimal: Failure;
    /** The shortest failing sequence found, in execution order. */
    readonly commands: readonly Command[];
    /** Those commands as the failing run sent them. */
    readonly sent: readonly string[];
    readonly shrinkRuns: number;
    readonly path: string;
  } | null;
}

/** Clusters for the runs: one at a time, the next one started ahead while the current one runs. */
class ClusterSupply {
  private next: Promise<FuzzTarget> | null = null;
  private readonly stopping: Promise<void>[] = [];

  async take(): Promise<FuzzTarget> {
    const target = await (this.next ?? FuzzTarget.start());
    this.next = null;
    return target;
  }

  prefetch(): void {
    if (this.next === null) this.next = FuzzTarget.start();
  }

  retire(target: FuzzTarget): void {
    this.stopping.push(target.stop().catch(() => undefined));
  }

  async close(): Promise<void> {
    if (this.next !== null) this.retire(await this.next.catch(() => null as never));
    await Promise.all(this.stopping);
  }
}

class FuzzFailure extends Error {
  override readonly name = "FuzzFailure";
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const startMs = Date.now();
  const runOptions: RunOptions = { ...defaultRunOptions, ...options.run };
  const log = options.log ?? (() => undefined);
  const supply = new ClusterSupply();
  let first: RunResult | null = null;
  let original: Failure | null = null;
  let minimal: RunResult | null = null;
  let shrinkDeadlineMs = Infinity;
  let shrinkRuns = 0;

  const property = fc.asyncProperty(runArbitrary(options.requests), async (commands) => {
    const shrinking = first !== null;
    if (shrinking) {
      // Out of budget: stop here; fast-check reports the shortest failure found so far.
      if (Date.now() > shrinkDeadlineMs || shrinkRuns >= options.shrinkRunsMax) throw new fc.PreconditionFailure(true);
      shrinkRuns += 1;
      supply.prefetch();
    }
    const runStartMs = Date.now();
    const target = await supply.take();
    const clusterMs = Date.now() - runStartMs;
    if (shrinking) supply.prefetch();
    let result: RunResult;
    try {
      result = await runCommands(target, commands, {
        ...runOptions,
        onBatch: shrinking ? undefined : (executed) => options.onProgress?.(executed, commands.length),
      });
    } finally {
      supply.retire(target);
    }
    if (result.failure !== null) noteFailedPrefix(commands, result.executed);
    if (!shrinking) {
      first = result;
      if (result.failure === null) return;
      original = result.failure;
      minimal = result;
      shrinkDeadlineMs = Date.now() + options.shrinkBudgetMs;
      log(`failure after ${result.executed} requests: ${result.failure.signature}; shrinking (budget ${options.shrinkBudgetMs} ms, ${options.shrinkRunsMax} runs)`);
      throw new FuzzFailure(result.failure);
    }
    const failedAlike = result.failure !== null && result.failure.signature === original?.signature;
    const verdict = failedAlike ? "fails alike" : result.failure === null ? "passes" : `fails otherwise (${result.failure.signature})`;
    log(`shrink run ${shrinkRuns}: ${commands.length} requests: ${verdict} (${Date.now() - runStartMs} ms, ${clusterMs} ms of it waiting for a cluster)`);
    if (!failedAlike) return;
    minimal = result;
    throw new FuzzFailure(result.failure!);
  });

  let details: fc.RunDetails<[Command[]]>;
  try {
    details = await fc.check(property, { seed: options.seed, numRuns: 1, path: options.path, endOnFailure: false });
  } finally {
    await supply.close();
  }
  if (details.failed && !(details.errorInstance instanceof FuzzFailure)) {
    // Not a finding: the fuzzer itself broke (a harness error, a rule assertion).
    throw details.errorInstance ?? new Error(`fast-check failed without an error (interrupted: ${details.interrupted})`);
  }
  const run = first as RunResult | null;
  if (run === null) throw new Error("the first run did not happen");
  const counterexample = details.counterexample;
  return {
    seed: options.seed,
    requests: options.requests,
    counts: run.counts,
    reach: run.reach,
    epochs: run.epochs,
    executed: run.executed,
    historyOps: run.historyOps,
    elapsedMs: Date.now() - startMs,
    failure:
      details.failed && original !== null && minimal !== null && counterexample !== null
        ? {
            original,
            minimal: (minimal as RunResult).failure ?? original,
            commands: counterexample[0],
            sent: (minimal as RunResult).sent,
            shrinkRuns,
            path: details.counterexamplePath ?? "",
          }
        : null,
  };
}

/** A table of replies: one row per method, one column per code seen. */
export function formatCounts(counts: CodeCounts): string {
  const methods = [...counts.keys()].sort();
  const codes = [...new Set([...counts.values()].flatMap((byCode) => [...byCode.keys()]))].sort((a, b) => (a === "OK" ? -1 : b === "OK" ? 1 : a.localeCompare(b)));
  const rows = [["method", ...codes, "total"]];
  const totals = new Map<string, number>();
  for (const method of methods) {
    const byCode = counts.get(method)!;
    const total = [...byCode.values()].reduce((a, b) => a + b, 0);
    rows.push([method, ...codes.map((code) => String(byCode.get(code) ?? "")), String(total)]);
    for (const code of codes) totals.set(code, (totals.get(code) ?? 0) + (byCode.get(code) ?? 0));
  }
  rows.push(["total", ...codes.map((code) => String(totals.get(code) ?? 0)), String([...totals.values()].reduce((a, b) => a + b, 0))]);
  return formatTable(rows, { rightAligned: "all-but-first" });
}

/** A table of how far the calls carrying an epoch got: one row per method. */
export function formatReach(reach: ReachCounts): string {
  const columns: readonly Reach[] = ["core", "fenced", "epoch-refused", "txn-epoch-refused", "refused", "unavailable"];
  const rows = [["method", ...columns, "total"]];
  const totals = new Map<Reach, number>();
  for (const method of [...reach.keys()].sort()) {
    const byReach = reach.get(method)!;
    rows.push([method, ...columns.map((column) => String(byReach.get(column) ?? "")), String([...byReach.values()].reduce((a, b) => a + b, 0))]);
    for (const column of columns) totals.set(column, (totals.get(column) ?? 0) + (byReach.get(column) ?? 0));
  }
  rows.push(["total", ...columns.map((column) => String(totals.get(column) ?? 0)), String([...totals.values()].reduce((a, b) => a + b, 0))]);
  return formatTable(rows, { rightAligned: "all-but-first" });
}

export function formatReport(report: FuzzReport, replay: string): string {
  const lines = [
    `seed ${report.seed}: ${report.executed} of ${report.requests} requests sent in ${(report.elapsedMs / 1000).toFixed(1)} s; ${report.historyOps} Get/Put/Delete in the linearizability history`,
    formatCounts(report.counts),
    `calls carrying an epoch, by how far they got in the replica (core: past the decoder and the fence; txn-epoch-refused: ` +
      `for a transaction id's epoch); the coordinator's epoch went from ${report.epochs.first} to ${report.epochs.last}, ` +
      `${report.epochs.newerSent} calls carried a newer one, ${report.epochs.misfitsSent} a transaction id of an epoch the call may not carry ` +
      `(${report.epochs.misfitsRefused} of them refused for it, the others for the call's own epoch or lost in transport):`,
    formatReach(report.reach),
  ];
  const failure = report.failure;
  if (failure === null) {
    lines.push("no failure");
    return lines.join("\n");
  }
  lines.push(
    `FAILED: ${failure.original.message}`,
    `shortest failing sequence found (${failure.sent.length} requests, after ${failure.shrinkRuns} shrink runs; lanes run concurrently, a lane in order; "seen" txn ids are the ones replies carried):`,
    failure.sent.map((line, i) => `  ${String(i + 1).padStart(3)}. ${line}`).join("\n"),
    `its failure: ${failure.minimal.message}`,
    `replay: ${replay} --path ${failure.path}`,
  );
  return lines.join("\n");
}

