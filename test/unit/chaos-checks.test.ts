// Proves the "acknowledged writes missing" check of kv chaos (client/chaos.ts) on small histories
// with known answers: a final read that shows the last acknowledged write, or a write that may have
// come after it (ok or info), passes; a final read that shows an older, overwritten value, or an
// absent key after an acknowledged put, is counted as missing. And proves the "successful reads" and
// "successful writes" checks: a run passes only when its load completed reads and writes at the
// named minimum rates; failed and unknown operations do not count.
import { describe, expect, it } from "vitest";
import { checkProgress, missingAcknowledgedWrites, readsOkPerSecondMin, writesOkPerSecondMin } from "../../tools/chaos/chaos";
import type { HistoryEvent } from "../../tools/check/history";

type Op = [process: number, f: HistoryEvent["f"], key: string, value: string | null, invoke: number, complete: number | null, type: HistoryEvent["type"]];

/** Builds a history from operations (complete null: never completed). */
function history(ops: Op[]): HistoryEvent[] {
  const events: Omit<HistoryEvent, "index">[] = [];
  for (const [process, f, key, value, invoke, complete, type] of ops) {
    events.push({ type: "invoke", process, f, key, value: f === "get" ? null : value, time: invoke });
    if (complete !== null) events.push({ type, process, f, key, value, time: complete });
  }
  events.sort((a, b) => a.time - b.time);
  return events.map((event, index) => ({ ...event, index }));
}

describe("missingAcknowledgedWrites", () => {
  it("passes when the final read shows the last acknowledged write", () => {
    const h = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [1, "put", "k", "b", 3, 4, "ok"],
      [9, "get", "k", "b", 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(h)).toEqual([]);
  });

  it("counts a final read of an overwritten value", () => {
    const h = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [1, "put", "k", "b", 3, 4, "ok"],
      [9, "get", "k", "a", 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(h)).toHaveLength(1);
  });

  it("passes when a later write of unknown outcome (info) is what remains", () => {
    const h = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [1, "put", "k", "c", 3, 5, "info"],
      [9, "get", "k", "c", 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(h)).toEqual([]);
  });

  it("passes a concurrent write, and counts a missing key after an acknowledged put", () => {
    const concurrent = history([
      [0, "put", "k", "a", 3, 6, "ok"],
      [1, "put", "k", "z", 1, 4, "ok"], // overlaps the last acknowledged one
      [9, "get", "k", "z", 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(concurrent)).toEqual([]);
    const lost = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [9, "get", "k", null, 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(lost)).toHaveLength(1);
    const deleted = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [1, "del", "k", null, 3, 4, "ok"],
      [9, "get", "k", null, 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(deleted)).toEqual([]);
  });

  it("ignores writes that failed (they did not happen)", () => {
    const h = history([
      [0, "put", "k", "a", 1, 2, "ok"],
      [1, "put", "k", "f", 3, 4, "fail"],
      [9, "get", "k", "f", 10, 11, "ok"],
    ]);
    expect(missingAcknowledgedWrites(h)).toHaveLength(1);
  });
});

describe("checkProgress: a run must complete real work", () => {
  /** `reads` ok gets and `writes` ok puts and dels, plus a failed and an unknown write that do not count. */
  function load(reads: number, writes: number): HistoryEvent[] {
    const ops: Op[] = [];
    for (let i = 0; i < reads; i++) ops.push([0, "get", "k", null, 10 * i, 10 * i + 1, "ok"]);
    for (let i = 0; i < writes; i++) ops.push([1, i % 2 === 0 ? "put" : "del", "k", i % 2 === 0 ? `v${i}` : null, 10 * i + 2, 10 * i + 3, "ok"]);
    ops.push([2, "put", "k", "failed", 1, 2, "fail"], [3, "put", "k", "unknown", 1, null, "info"]);
    return history(ops);
  }

  it("passes at the minimum rates of successful reads and writes", () => {
    const progress = checkProgress(load(readsOkPerSecondMin * 10, writesOkPerSecondMin * 10), 10);
    expect(progress).toMatchObject({ readsOk: readsOkPerSecondMin * 10, writesOk: writesOkPerSecondMin * 10, problems: [] });
  });

  it("fails a load that did nothing, naming both minimums and what was seen", () => {
    const progress = checkProgress([], 55);
    expect(progress.problems).toEqual([
      `0 successful reads in 55.0 s is 0.0/s; the minimum is ${readsOkPerSecondMin}/s (readsOkPerSecondMin)`,
      `0 successful writes in 55.0 s is 0.0/s; the minimum is ${writesOkPerSecondMin}/s (writesOkPerSecondMin)`,
    ]);
  });

  it("fails reads and writes separately, and does not count failed or unknown writes", () => {
    const fewReads = checkProgress(load(readsOkPerSecondMin * 10 - 1, writesOkPerSecondMin * 10), 10);
    expect(fewReads.problems).toHaveLength(1);
    expect(fewReads.problems[0]).toContain("readsOkPerSecondMin");
    const fewWrites = checkProgress(load(readsOkPerSecondMin * 10, writesOkPerSecondMin * 10 - 1), 10);
    expect(fewWrites.writesOk).toBe(writesOkPerSecondMin * 10 - 1);
    expect(fewWrites.problems).toHaveLength(1);
    expect(fewWrites.problems[0]).toContain("writesOkPerSecondMin");
  });
});
