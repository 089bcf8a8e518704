// Many seeds: run them (in this process, or spread over worker processes), and add up what they did
// (steps, faults by kind, protocol paths taken) and how they failed (by check).
import { fork } from "node:child_process";
import { assert, assertNever } from "../../common/assert";
import type { CheckName } from "./checks";
import { mutations, type Mutation } from "./nodes";
import { formatFailure, runSeed, type RunResult } from "./run";

export interface SeedSummary {
  readonly seed: number;
  readonly steps: number;
  readonly virtualMs: number;
  readonly ops: number;
  readonly commits: number;
  readonly faults: Record<string, number>;
  readonly paths: Record<string, number>;
  readonly failure: { readonly check: CheckName; readonly step: number; readonly report: string } | null;
}

export function summarizeSeed(result: RunResult): SeedSummary {
  return {
    seed: result.seed,
    steps: result.steps,
    virtualMs: result.virtualMs,
    ops: result.ops,
    commits: result.commits,
    faults: Object.fromEntries(result.faults),
    paths: Object.fromEntries(result.paths),
    failure: result.failure === null ? null : { check: result.failure.check, step: result.failure.step, report: formatFailure(result) },
  };
}

function addTo(map: Map<string, number>, record: Record<string, number>): void {
  for (const [kind, count] of Object.entries(record)) map.set(kind, (map.get(kind) ?? 0) + count);
}

function formatCounts(map: ReadonlyMap<string, number>): string {
  if (map.size === 0) return "none";
  return [...map.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind} ${count}`)
    .join(", ");
}

export class Tally {
  seeds = 0;
  steps = 0;
  virtualMs = 0;
  ops = 0;
  commits = 0;
  readonly faults = new Map<string, number>();
  readonly paths = new Map<string, number>();
  readonly failuresByCheck = new Map<string, number>();
  readonly failures: SeedSummary[] = [];

  add(summary: SeedSummary): void {
    this.seeds += 1;
    this.steps += summary.steps;
    this.virtualMs += summary.virtualMs;
    this.ops += summary.ops;
    this.commits += summary.commits;
    addTo(this.faults, summary.faults);
    addTo(this.paths, summary.paths);
    if (summary.failure !== null) {
      this.failuresByCheck.set(summary.failure.check, (this.failuresByCheck.get(summary.failure.check) ?? 0) + 1);
      this.failures.push(summary);
    }
  }

  format(elapsedMs: number): string {
    const failed = this.failures.map((f) => f.seed).sort((a, b) => a - b);
    return [
      `seeds run: ${this.seeds} in ${(elapsedMs / 1000).toFixed(1)} s (${((this.seeds * 1000) / elapsedMs).toFixed(1)} seeds/s)`,
      `steps simulated: ${this.steps} (${Math.round(this.steps / Math.max(1, this.seeds))} per seed), virtual time ${(this.virtualMs / 1000).toFixed(0)} s, ` +
        `client operations ${this.ops}, commits ${this.commits}`,
      `faults injected: ${formatCounts(this.faults)}`,
      `protocol paths taken: ${formatCounts(this.paths)}`,
      `failures by check: ${formatCounts(this.failuresByCheck)}`,
      ...(failed.length > 0 ? [`failing seeds: ${failed.slice(0, 50).join(" ")}${failed.length > 50 ? " ..." : ""}`] : []),
    ].join("\n");
  }
}

/** Runs seeds from..from+count-1 in this process. */
export function runSeedsHere(from: number, count: number, mutation: Mutation, onSeed?: (summary: SeedSummary) => void): Tally {
  const tally = new Tally();
  for (let seed = from; seed < from + count; seed++) {
    const summary = summarizeSeed(runSeed({ seed, mutation }));
    tally.add(summary);
    onSeed?.(summary);
  }
  return tally;
}

/** Messages between the campaign and its worker processes. */
export type ToWorker = { readonly kind: "run"; readonly from: number; readonly count: number; readonly mutation: Mutation } | { readonly kind: "exit" };
export type FromWorker = { readonly kind: "seed"; readonly summary: SeedSummary } | { readonly kind: "idle" };

/**
 * Spreads the seeds over `jobs` worker processes (the CLI run as a worker, with the loader flags
 * of this process), in chunks, so that a slow seed does not hold a whole share back.
 */
export function runSeedsParallel(
  workerScript: string,
  from: number,
  count: number,
  mutation: Mutation,
  jobs: number,
  onSeed: (summary: SeedSummary) => void,
): Promise<Tally> {
  const tally = new Tally();
  const chunk = Math.max(1, Math.min(100, Math.ceil(count / (jobs * 8))));
  let next = from;
  const end = from + count;
  return new Promise((resolve, reject) => {
    let live = 0;
    for (let j = 0; j < Math.min(jobs, count); j++) {
      const child = fork(workerScript, ["--worker"], { execArgv: process.execArgv, stdio: ["inherit", "inherit", "inherit", "ipc"] });
      live += 1;
      const feed = (): void => {
        if (next >= end) {
          child.send({ kind: "exit" } satisfies ToWorker);
          return;
        }
        const n = Math.min(chunk, end - next);
        child.send({ kind: "run", from: next, count: n, mutation } satisfies ToWorker);
        next += n;
      };
      child.on("message", (raw: unknown) => {
        const message = decodeFromWorker(raw);
        switch (message.kind) {
          case "seed":
            tally.add(message.summary);
            onSeed(message.summary);
            break;
          case "idle":
            feed();
            break;
          default:
            assertNever(message);
        }
      });
      child.on("exit", (code) => {
        live -= 1;
        if (code !== 0) {
          reject(new Error(`a simulator worker exited with code ${code}`));
          return;
        }
        if (live === 0) {
          assert(tally.seeds === count, `ran ${tally.seeds} of ${count} seeds`);
          resolve(tally);
        }
      });
      feed();
    }
  });
}

/** Checks a message from a worker (our own process, but a boundary all the same). */
function decodeFromWorker(raw: unknown): FromWorker {
  const message = raw as Partial<Record<string, unknown>> | null;
  if (message?.kind === "idle") return { kind: "idle" };
  const summary = message?.summary as Partial<SeedSummary> | undefined;
  assert(message?.kind === "seed" && typeof summary?.seed === "number" && typeof summary.steps === "number", `a worker sent ${JSON.stringify(raw)}`);
  return { kind: "seed", summary: summary as SeedSummary };
}

function decodeToWorker(raw: unknown): ToWorker {
  const message = raw as Partial<Record<string, unknown>> | null;
  if (message?.kind === "exit") return { kind: "exit" };
  assert(
    message?.kind === "run" && typeof message.from === "number" && typeof message.count === "number" && (mutations as readonly unknown[]).includes(message.mutation),
    `the campaign sent ${JSON.stringify(raw)}`,
  );
  return { kind: "run", from: message.from as number, count: message.count as number, mutation: message.mutation as Mutation };
}

/** The worker side: runs the chunks it is sent, one summary per seed. */
export function serveAsWorker(): void {
  process.on("message", (raw: unknown) => {
    const message = decodeToWorker(raw);
    switch (message.kind) {
      case "exit":
        process.disconnect();
        return;
      case "run":
        runSeedsHere(message.from, message.count, message.mutation, (summary) => process.send!({ kind: "seed", summary } satisfies FromWorker));
        process.send!({ kind: "idle" } satisfies FromWorker);
        return;
      default:
        assertNever(message);
    }
  });
}
