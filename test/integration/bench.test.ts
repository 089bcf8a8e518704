// Proves that `kv bench` reports and records what its clients saw, faithfully enough for `kv check`
// to rely on: on a real cluster, a small mixed run's JSON report adds up (outcomes, error codes and
// per-kind counts all sum to the total; percentiles are ordered), and its history file is
// well-formed Jepsen history (indexes in order, times non-decreasing, one completion per invoke
// from the same process with the same f, key and written value, no process with two outstanding
// operations, no process seen again after an `info`). A second run of writes to one hot key shows
// that ABORTED conflicts are counted and recorded as `fail`. The pure parts (seeded PRNG, zipfian
// keys, outcome classification) are checked first, without a cluster.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chooseOp,
  classifyFailure,
  clientSeed,
  keyChooser,
  mulberry32,
  ordersInitialStock,
  runBench,
  uniqueValue,
  ZipfianGenerator,
  type BenchReport,
  type OpKind,
} from "../../tools/bench/bench";
import { parseEvent, type HistoryEvent } from "../../tools/check/history";
import { Code } from "../../common/errors";
import { killAllStarted, TestCluster } from "./harness";

describe("bench's pure parts", () => {
  it("draws the same keys and operations from the same seed", () => {
    const draw = (seed: number) => {
      const random = mulberry32(clientSeed(seed, 3));
      const chooseKey = keyChooser("zipfian", 100);
      return Array.from({ length: 50 }, () => `${chooseOp("mixed", random())}:${chooseKey(random())}`);
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it("zipfian keys are skewed toward k0 and stay in range", () => {
    const zipfian = new ZipfianGenerator(1000);
    const random = mulberry32(1);
    const counts = new Array<number>(1000).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const item = zipfian.next(random());
      if (!Number.isInteger(item) || item < 0 || item >= 1000) outOfRange += 1;
      else counts[item]! += 1;
    }
    expect(outOfRange).toBe(0);
    // With theta 0.99 over 1000 items, P(item 0) = 1/zeta(1000) ≈ 0.133 and P(item 1) ≈ 0.067.
    expect(counts[0]! / 100_000).toBeGreaterThan(0.12);
    expect(counts[0]! / 100_000).toBeLessThan(0.15);
    expect(counts[0]!).toBeGreaterThan(counts[1]!);
    expect(counts[1]!).toBeGreaterThan(counts[10]!);
    expect(counts[10]!).toBeGreaterThan(counts[500]!);
    expect(zipfian.next(0.999_999_999)).toBeLessThan(1000);
    expect(new ZipfianGenerator(1).next(0.5)).toBe(0);
  });

  it("a failed read or a refused write is fail; a write with an unknown outcome is info", () => {
    expect(classifyFailure("get", Code.UNAVAILABLE)).toBe("fail");
    expect(classifyFailure("get", Code.DEADLINE_EXCEEDED)).toBe("fail");
    for (const code of [Code.INVALID_ARGUMENT, Code.ABORTED, Code.FAILED_PRECONDITION, Code.RESOURCE_EXHAUSTED, Code.NOT_FOUND, Code.OUT_OF_RANGE, Code.ALREADY_EXISTS]) {
      expect(classifyFailure("put", code)).toBe("fail");
      expect(classifyFailure("del", code)).toBe("fail");
    }
    for (const code of [Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL, Code.UNKNOWN, Code.CANCELLED]) {
      expect(classifyFailure("put", code)).toBe("info");
      expect(classifyFailure("del", code)).toBe("info");
    }
    expect(uniqueValue(3, 17, 12)).toBe("p3-17-xxxxxx");
    expect(uniqueValue(3, 17, 2)).toBe("p3-17-");
  });
});

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bench-test-"));
  cluster = await TestCluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  await killAllStarted();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

/** Checks that the report's counts add up, that it has exactly the expected kinds, and that its percentiles are ordered. */
function checkReport(report: BenchReport, expectedKinds: readonly OpKind[]): void {
  expect(Object.keys(report.perOp).sort()).toEqual([...expectedKinds].sort());
  const perOp = expectedKinds.map((f) => report.perOp[f]!);
  expect(report.okOps + sum(Object.values(report.failedOps))).toBe(report.totalOps);
  expect(report.outcomes.ok + report.outcomes.fail + report.outcomes.info).toBe(report.totalOps);
  expect(report.outcomes.ok).toBe(report.okOps);
  expect(sum(perOp.map((op) => op.count))).toBe(report.totalOps);
  expect(sum(perOp.map((op) => op.ok))).toBe(report.okOps);
  expect(sum(perOp.map((op) => op.fail))).toBe(report.outcomes.fail);
  expect(sum(perOp.map((op) => op.info))).toBe(report.outcomes.info);
  // Per-kind error counts merge into the overall ones.
  const merged: Record<string, number> = {};
  for (const op of perOp) for (const [code, count] of Object.entries(op.errors)) merged[code] = (merged[code] ?? 0) + count;
  expect(merged).toEqual(report.failedOps);
  expect(report.durationMs).toBeGreaterThan(0);
  expect(report.opsPerSec).toBeGreaterThan(0);
  expect(report.processes).toBe(report.concurrency + report.outcomes.info);
  for (const op of perOp) {
    expect(op.ok + op.fail + op.info).toBe(op.count);
    expect(sum(Object.values(op.errors))).toBe(op.fail + op.info);
    expect(op.count).toBeGreaterThan(0);
    expect(op.opsPerSec).toBeGreaterThan(0);
    if (op.latencyMs !== null) {
      const { p50, p90, p99, p999, max } = op.latencyMs;
      expect(p50).toBeGreaterThan(0);
      expect(p50).toBeLessThanOrEqual(p90);
      expect(p90).toBeLessThanOrEqual(p99);
      expect(p99).toBeLessThanOrEqual(p999);
      expect(p999).toBeLessThanOrEqual(max);
    } else {
      expect(op.ok).toBe(0);
    }
  }
}

/** Reads the history file and checks it is a well-formed Jepsen history matching the report. */
function checkHistory(file: string, report: BenchReport): HistoryEvent[] {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  expect(lines.pop()).toBe(""); // ends with a newline, nothing after it
  const events = lines.map((line, i) => parseEvent(line, i + 1));
  const outstanding = new Map<number, HistoryEvent>();
  const retired = new Set<number>();
  const counts = { invoke: 0, ok: 0, fail: 0, info: 0 };
  let lastTime = -1;
  for (const [i, event] of events.entries()) {
    expect(event.index).toBe(i);
    expect(event.time).toBeGreaterThanOrEqual(lastTime);
    lastTime = event.time;
    expect(retired.has(event.process), `process ${event.process} appears after its info, at index ${i}`).toBe(false);
    expect(event.process).toBeLessThan(report.processes);
    counts[event.type] += 1;
    const invoke = outstanding.get(event.process);
    if (event.type === "invoke") {
      expect(invoke, `process ${event.process} has two outstanding invokes, at index ${i}`).toBeUndefined();
      expect(event.value === null).toBe(event.f !== "put");
      outstanding.set(event.process, event);
      continue;
    }
    expect(invoke, `a ${event.type} without an invoke, at index ${i}`).toBeDefined();
    expect(event.f).toBe(invoke!.f);
    expect(event.key).toBe(invoke!.key);
    if (event.f === "put") expect(event.value).toBe(invoke!.value);
    if (event.f === "del" || (event.f === "get" && event.type !== "ok")) expect(event.value).toBeNull();
    if (event.type === "info") {
      expect(event.f).not.toBe("get"); // a failed read is always fail
      retired.add(event.process);
    }
    outstanding.delete(event.process);
  }
  expect([...outstanding.values()]).toEqual([]); // every invoke completed
  expect(counts).toEqual({ invoke: report.totalOps, ...report.outcomes });
  return events;
}

describe("kv bench against a cluster", () => {
  it("a mixed run: the JSON report adds up and the history is well-formed", async () => {
    const jsonFile = path.join(dir, "mixed.json");
    const historyFile = path.join(dir, "mixed.jsonl");
    const logged: string[] = [];
    const report = await runBench(
      {
        coordinator: cluster.coordinatorAddress,
        concurrency: 8,
        connections: 3,
        ops: 400,
        workload: "mixed",
        keys: 20,
        distribution: "uniform",
        valueBytes: 32,
        seed: 42,
        historyFile,
        jsonFile,
      },
      { progress: false, log: (line) => logged.push(line) },
    );
    expect(logged[0]).toContain("workload mixed");
    const fromFile = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as BenchReport;
    expect(fromFile).toEqual(report);
    expect(report.totalOps).toBe(400);
    checkReport(fromFile, ["get", "put", "del"]);
    // Eight clients over 20 keys: some writes lose races, but most operations succeed.
    expect(report.okOps).toBeGreaterThan(report.totalOps / 2);

    const events = checkHistory(historyFile, report);
    // Every put's value is unique and at least valueBytes long, and every value read was written
    // by some put of this run (the cluster's keys k0..k19 were fresh).
    const written = events.filter((e) => e.type === "invoke" && e.f === "put").map((e) => e.value!);
    expect(new Set(written).size).toBe(written.length);
    for (const value of written) expect(value.length).toBeGreaterThanOrEqual(32);
    const writtenSet = new Set(written);
    for (const read of events.filter((e) => e.type === "ok" && e.f === "get")) {
      if (read.value !== null) expect(writtenSet.has(read.value), `read of ${read.value}`).toBe(true);
    }
    for (const key of new Set(events.map((e) => e.key))) expect(key).toMatch(/^k(1?[0-9])$/);
  });

  it("writes to one hot key: ABORTED conflicts are counted and recorded as fail", async () => {
    // A cluster of its own with --on-conflict abort: under the default (wait) writes to one key
    // queue for it and hardly ever conflict, and this test needs conflicts to count.
    const abortCluster = await TestCluster.start({ onConflict: "abort" });
    try {
      await hotKey(abortCluster);
    } finally {
      await abortCluster.stop();
    }
  });

  async function hotKey(cluster: TestCluster): Promise<void> {
    const jsonFile = path.join(dir, "hot.json");
    const historyFile = path.join(dir, "hot.jsonl");
    const report = await runBench(
      {
        coordinator: cluster.coordinatorAddress,
        concurrency: 8,
        connections: 2,
        ops: 200,
        workload: "write",
        keys: 20,
        distribution: "hot",
        valueBytes: 16,
        seed: 1,
        historyFile,
        jsonFile,
      },
      { progress: false, log: () => undefined },
    );
    const fromFile = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as BenchReport;
    expect(fromFile).toEqual(report);
    checkReport(fromFile, ["put"]);
    expect(report.totalOps).toBe(200);
    const aborted = report.perOp.put!.errors.ABORTED ?? 0;
    expect(aborted).toBeGreaterThan(0);
    expect(report.failedOps.ABORTED).toBe(aborted);
    // This coordinator refuses a write to a key another write holds (--on-conflict abort): a
    // conflict certainly wrote nothing, so each ABORTED is a `fail`, never an `info`.
    expect(report.outcomes.fail).toBeGreaterThanOrEqual(aborted);
    expect(report.perOp.put!.ok).toBeGreaterThan(0);
    const events = checkHistory(historyFile, report);
    expect(new Set(events.map((e) => e.key))).toEqual(new Set(["k0"]));
    expect(events.filter((e) => e.type === "fail").length).toBe(report.outcomes.fail);
  }

  it("the orders workload: seeded stock, every order one transaction, the stock sold adds up", async () => {
    const keyPrefix = "orders-test/";
    const report = await runBench(
      { coordinator: cluster.coordinatorAddress, concurrency: 4, connections: 2, ops: 60, workload: "orders", keys: 5, distribution: "uniform", valueBytes: 16, seed: 3, keyPrefix },
      { progress: false, log: () => undefined },
    );
    checkReport(report, ["order"]);
    expect(report.totalOps).toBe(60);
    const ok = report.perOp.order!.ok;
    expect(ok).toBeGreaterThan(0);
    const kv = cluster.client();
    const stock = await kv.txn({ then: [0, 1, 2, 3, 4].map((i) => ({ type: "get" as const, key: `${keyPrefix}k${i}` })) });
    const sold = stock.results.reduce((sum, result) => sum + (result.type === "get" ? ordersInitialStock - Number(result.entry!.value.toString("utf8")) : 0), 0);
    // Each successful order takes 1 to 3 units of 1 to 3 books.
    expect(sold).toBeGreaterThanOrEqual(ok);
    expect(sold).toBeLessThanOrEqual(9 * ok);
    await expect(
      runBench(
        { coordinator: cluster.coordinatorAddress, concurrency: 1, connections: 1, ops: 1, workload: "orders", keys: 5, distribution: "uniform", valueBytes: 16, seed: 3, historyFile: path.join(dir, "orders.jsonl") },
        { progress: false, log: () => undefined },
      ),
    ).rejects.toThrow(/cannot record a history/);
  });
});
