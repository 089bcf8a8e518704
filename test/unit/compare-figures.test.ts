// Proves the arithmetic the etcd comparison's verdicts rest on (tools/bench/compare-figures.ts), on
// figures with known answers: flags are parsed or refused naming the flag; CPU ticks are read from
// /proc text whose command name holds ") "; the median of an even count is the mean of the middle
// two; a run with no successful call is a failure, never a rate of 0 or a 0/0 ratio, and a goal that
// needs it is "not checked"; each of issue 13's goals is met exactly at its bound and not beyond.
import { describe, expect, it } from "vitest";
import {
  checkGoals,
  cpuUsPerOp,
  finalTable,
  formatSummary,
  goalInputs,
  machineBusyPct,
  medianOf,
  parseClientList,
  parseDurationMs,
  parseMachineTicks,
  parseProcessCpuTicks,
  parseWorkloadList,
  ratioOf,
  summarize,
  summaryOf,
  systemOrder,
  verdict,
  type LoadName,
  type RunFigures,
  type TargetName,
} from "../../tools/bench/compare-figures";

function run(target: TargetName, load: LoadName, clients: number, round: number, figures: Partial<RunFigures> = {}): RunFigures {
  return {
    target,
    load,
    clients,
    round,
    windowMs: 8_000,
    okOps: 8_000,
    errors: {},
    errorSamples: {},
    misses: 0,
    warmupErrors: 0,
    opsPerSec: 1_000,
    p50Ms: 1,
    p99Ms: 10,
    serverCpuUsPerOp: 100,
    serverCpuTicks: 80,
    serverCpuUsPerOpByProcess: null,
    machineBusyPct: 90,
    clientCpuUsPerOp: 50,
    ...figures,
  };
}

const failed = { okOps: 0, opsPerSec: 0, p50Ms: null, p99Ms: null, serverCpuUsPerOp: null } as const;

describe("flags", () => {
  it("parses durations as kv bench does, a bare number being milliseconds", () => {
    expect(parseDurationMs("8s", "duration", false)).toBe(8_000);
    expect(parseDurationMs("500ms", "duration", false)).toBe(500);
    expect(parseDurationMs("1.5s", "duration", false)).toBe(1_500);
    expect(parseDurationMs("2m", "duration", false)).toBe(120_000);
    expect(parseDurationMs("250", "duration", false)).toBe(250);
    expect(parseDurationMs("0s", "warmup", true)).toBe(0);
  });

  it("refuses a bad duration naming the flag", () => {
    expect(() => parseDurationMs("0s", "duration", false)).toThrow(/--duration/);
    expect(() => parseDurationMs("-1s", "warmup", true)).toThrow(/--warmup/);
    expect(() => parseDurationMs("8 seconds", "duration", false)).toThrow(/--duration/);
    expect(() => parseDurationMs("2h", "duration", false)).toThrow(/windowMsMax/);
  });

  it("parses client counts sorted and once each, and refuses anything else", () => {
    expect(parseClientList("64,1")).toEqual([1, 64]);
    expect(parseClientList("1, 64, 64")).toEqual([1, 64]);
    expect(() => parseClientList("0,64")).toThrow(/--clients/);
    expect(() => parseClientList("1.5")).toThrow(/--clients/);
    expect(() => parseClientList("1,,64")).toThrow(/--clients/);
    expect(() => parseClientList("2000")).toThrow(/clientsMax/);
  });

  it("parses workloads in their order and refuses unknown ones", () => {
    expect(parseWorkloadList("mix,put")).toEqual(["put", "mix"]);
    expect(() => parseWorkloadList("put,scan")).toThrow(/"scan" is none of put, get, mix/);
  });

  it("alternates which system goes first", () => {
    expect(systemOrder(1)).toEqual(["etcd", "twopc-kv"]);
    expect(systemOrder(2)).toEqual(["twopc-kv", "etcd"]);
    expect(systemOrder(3)).toEqual(["etcd", "twopc-kv"]);
  });
});

describe("/proc", () => {
  it("reads utime + stime after the last parenthesis of the command name", () => {
    // Fields: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = "4242 (a) b (c) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 11 0 100 0 0\n";
    expect(parseProcessCpuTicks(stat)).toBe(1234 + 567);
  });

  it("counts busy as everything but idle and iowait, and the share between two readings", () => {
    const before = parseMachineTicks("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n");
    expect(before).toEqual({ busy: 150, total: 1_000 });
    const after = parseMachineTicks("cpu  250 0 100 850 50 0 0 0 7 0\n");
    expect(machineBusyPct(before, after)).toBeCloseTo((100 * 200) / 250);
    expect(machineBusyPct(before, before)).toBeNull();
  });

  it("turns ticks into microseconds per call, and gives none without a call", () => {
    expect(cpuUsPerOp(100, 100, 1_000)).toBe(1_000); // 1 s of CPU over 1,000 calls
    expect(cpuUsPerOp(100, 100, 0)).toBeNull();
    expect(cpuUsPerOp(null, 100, 10)).toBeNull();
  });
});

describe("summaries", () => {
  it("takes the middle value, or the mean of the middle two", () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
  });

  it("keeps failed rounds out of the median and says how many there were", () => {
    expect(summarize([10, null, 30])).toEqual({ kind: "measured", median: 20, min: 10, max: 30, rounds: 3, missingRounds: 1 });
    expect(summarize([null, null])).toEqual({ kind: "failed", rounds: 2 });
    expect(summarize([])).toEqual({ kind: "not-run" });
    expect(formatSummary(summarize([1_000, 1_200, 1_100]), 0)).toBe("1,100 (1,000-1,200)");
    expect(formatSummary(summarize([10, null, 30]), 0)).toBe("20 (10-30); FAILED in 1 of 3 rounds");
    expect(formatSummary(summarize([null]), 0)).toBe("FAILED (no successful call)");
  });

  it("never reads a run with no successful call as a rate of 0", () => {
    const runs = [run("etcd", "put", 64, 1, failed), run("twopc-kv", "put", 64, 1)];
    const etcd = summaryOf(runs, "etcd", "put", 64, "opsPerSec");
    expect(etcd).toEqual({ kind: "failed", rounds: 1 });
    expect(ratioOf(summaryOf(runs, "twopc-kv", "put", 64, "opsPerSec"), etcd)).toBeNull();
    expect(finalTable(runs, 1, 64)).toMatch(/put, 64 clients: puts\/s\s+\|\s+FAILED \(no successful call\) \|\s+1,000 \|\s+n\/a \|/);
  });
});

describe("issue 13's goals", () => {
  /** Both systems at every figure the goals read; `store` overrides twopc-kv's runs by workload and client count. */
  function runs(store: Partial<Record<string, Partial<RunFigures>>>): RunFigures[] {
    const etcd = [
      run("etcd", "put", 1, 1, { p50Ms: 2 }),
      run("etcd", "put", 64, 1, { opsPerSec: 1_000, p99Ms: 40, serverCpuUsPerOp: 200 }),
      run("etcd", "get", 64, 1, { opsPerSec: 4_000 }),
      run("etcd", "mix", 64, 1, { opsPerSec: 2_000 }),
    ];
    const ours = [
      run("twopc-kv", "put", 1, 1, store["put/1"]),
      run("twopc-kv", "put", 64, 1, store["put/64"]),
      run("twopc-kv", "get", 64, 1, store["get/64"]),
      run("twopc-kv", "mix", 64, 1, store["mix/64"]),
    ];
    return [...etcd, ...ours];
  }

  it("are met exactly at their bounds", () => {
    const checks = checkGoals(
      goalInputs(
        runs({
          "put/1": { p50Ms: 1.4 },
          "put/64": { opsPerSec: 1_250, p99Ms: 40, serverCpuUsPerOp: 150 },
          "get/64": { opsPerSec: 5_000 },
          "mix/64": { opsPerSec: 2_500 },
        }),
        1,
        64,
      ),
    );
    expect(checks.map(verdict)).toEqual(["met", "met", "met", "met", "met"]);
  });

  it("are not met just beyond them, each on its own figure", () => {
    const checks = checkGoals(
      goalInputs(
        runs({
          "put/1": { p50Ms: 1.41 },
          "put/64": { opsPerSec: 1_300, p99Ms: 40.5, serverCpuUsPerOp: 151 },
          "get/64": { opsPerSec: 4_999 },
          "mix/64": { opsPerSec: 2_499 },
        }),
        1,
        64,
      ),
    );
    expect(checks.map(verdict)).toEqual(["not met", "not met", "not met", "not met", "not met"]);
    // The put goal holds on its rate and fails on its p99: both are shown.
    expect(checks[1]!.detail).toMatch(/puts\/s: twopc-kv 1,300 puts\/s, etcd 1,000 puts\/s: 1.30x; p99: twopc-kv 40.50 ms, etcd 40.00 ms: 1.01x/);
  });

  it("are not checked, never met, when a system completed no call or a figure was not measured", () => {
    const checks = checkGoals(goalInputs(runs({ "get/64": failed }).filter((r) => !(r.load === "mix")), 1, 64));
    expect(verdict(checks[2]!)).toBe("not checked");
    expect(checks[2]!.detail).toMatch(/twopc-kv failed/);
    expect(verdict(checks[3]!)).toBe("not checked");
    expect(checks[3]!.detail).toMatch(/not measured/);
  });
});
