// How fast `kv check` (client/check.ts) checks, by concurrency: generates synthetic linearizable
// histories of 100,000 operations over 1,000 keys with 4, 16 and 64 concurrent clients (2% of the
// operations end in info, 1% fail), checks each, and prints operations checked per second. Three
// more rows put the load on 10 keys and on 1 key, where each key's sub-history is far more
// concurrent (up to 256 operations in flight on the one key): that is what the search's cost
// depends on, since keys are checked one by one.
//
//   npm run bench:check -- [--operations 100000] [--repeat 3] [--seed 1] [--clients C --keys K]
//
// Figures, never assertions: this machine is shared and noisy. Each row prints the median of
// --repeat runs.
import { performance } from "node:perf_hooks";
import yargs from "yargs";
import { checkHistory } from "../check/check";
import type { HistoryEvent, HistoryFunction, HistoryType } from "../check/history";

interface Shape {
  readonly clients: number;
  readonly keys: number;
}

/** mulberry32: a small seeded PRNG, so a run reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimulatedOp {
  readonly f: HistoryFunction;
  readonly key: string;
  readonly process: number;
  readonly callNs: number;
  readonly returnNs: number;
  readonly outcome: Exclude<HistoryType, "invoke">;
  /** When the operation takes effect; Infinity: never. */
  readonly effectNs: number;
  readonly written: string | null;
  read: string | null;
}

/**
 * A linearizable history by construction: clients run operations back to back (50% get, 40% put,
 * 10% del, keys uniform), each taking effect at a random instant inside its interval; an info write
 * takes effect at some instant after its call or never, a failed write never; every get reads what
 * the register held at its instant. A client whose operation ended in info is retired and replaced
 * by a new process number.
 */
function generateHistory(seed: number, operations: number, shape: Shape): HistoryEvent[] {
  const random = prng(seed);
  const clockNs = new Array<number>(shape.clients).fill(0);
  const process = Array.from({ length: shape.clients }, (_, c) => c);
  let nextProcess = shape.clients;
  const ops: SimulatedOp[] = [];
  for (let n = 0; n < operations; n++) {
    // The client that is free first goes next, so `clients` operations are always in flight.
    let c = 0;
    for (let other = 1; other < shape.clients; other++) if (clockNs[other]! < clockNs[c]!) c = other;
    const callNs = clockNs[c]! + Math.floor(random() * 50_000);
    const returnNs = callNs + 200_000 + Math.floor(random() * 2_000_000);
    clockNs[c] = returnNs;
    const dice = random();
    const f: HistoryFunction = dice < 0.5 ? "get" : dice < 0.9 ? "put" : "del";
    const fate = random();
    const outcome = fate < 0.02 ? "info" : fate < 0.03 ? "fail" : "ok";
    let effectNs = callNs + random() * (returnNs - callNs);
    if (outcome === "fail") effectNs = Infinity;
    if (outcome === "info" && f !== "get") effectNs = random() < 0.5 ? Infinity : callNs + random() * 5 * (returnNs - callNs);
    ops.push({
      f,
      key: `key-${Math.floor(random() * shape.keys)}`,
      process: process[c]!,
      callNs,
      returnNs,
      outcome,
      effectNs,
      written: f === "put" ? `value-${n}` : null,
      read: null,
    });
    if (outcome === "info") process[c] = nextProcess++;
  }
  const register = new Map<string, string | null>();
  for (const op of ops.filter((o) => o.effectNs !== Infinity).sort((a, b) => a.effectNs - b.effectNs)) {
    if (op.f === "get") op.read = register.get(op.key) ?? null;
    else register.set(op.key, op.written);
  }
  const events: Omit<HistoryEvent, "index">[] = [];
  for (const op of ops) {
    events.push({ type: "invoke", process: op.process, f: op.f, key: op.key, value: op.written, time: op.callNs });
    const value = op.f === "get" ? (op.outcome === "ok" ? op.read : null) : op.written;
    events.push({ type: op.outcome, process: op.process, f: op.f, key: op.key, value, time: op.returnNs });
  }
  // At equal times completions sort first: a client may invoke again the instant its last op returned.
  return events
    .sort((a, b) => a.time - b.time || (a.type === "invoke" ? 1 : 0) - (b.type === "invoke" ? 1 : 0))
    .map((event, index) => ({ ...event, index }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function main(): void {
  const argv = yargs(process.argv.slice(2))
    .option("operations", { type: "number", default: 100_000 })
    .option("repeat", { type: "number", default: 3 })
    .option("seed", { type: "number", default: 1 })
    .option("timeout-ms", { type: "number", default: 120_000, describe: "the checker's timeout per run" })
    .option("clients", { type: "number", describe: "run only this shape (with --keys)" })
    .option("keys", { type: "number", describe: "run only this shape (with --clients)" })
    .strict()
    .parseSync();
  const shapes: Shape[] =
    argv.clients !== undefined && argv.keys !== undefined
      ? [{ clients: argv.clients, keys: argv.keys }]
      : [
          { clients: 4, keys: 1000 },
          { clients: 16, keys: 1000 },
          { clients: 64, keys: 1000 },
          { clients: 64, keys: 10 },
          { clients: 64, keys: 1 },
          { clients: 256, keys: 1 },
        ];
  console.log(`checking ${argv.operations} operations per history; median of ${argv.repeat} runs (Node ${process.version})`);
  console.log("clients   keys   ops/key   info    verdict        check ms     ops/s");
  for (const shape of shapes) {
    const events = generateHistory(argv.seed, argv.operations, shape);
    const infos = events.filter((event) => event.type === "info").length;
    const timesMs: number[] = [];
    let verdict = "";
    for (let r = 0; r < argv.repeat; r++) {
      const result = checkHistory(events, { timeoutMs: argv["timeout-ms"], nowMs: () => performance.now() });
      verdict = result.verdict;
      timesMs.push(result.elapsedMs);
    }
    const ms = median(timesMs);
    console.log(
      `${String(shape.clients).padStart(7)}  ${String(shape.keys).padStart(5)}  ${String(Math.round(argv.operations / shape.keys)).padStart(8)}  ` +
        `${String(infos).padStart(5)}    ${verdict.padEnd(13)}  ${ms.toFixed(0).padStart(9)}  ${Math.round((argv.operations / ms) * 1000).toLocaleString("en-US").padStart(9)}`,
    );
  }
}

main();
