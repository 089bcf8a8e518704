// Proves the "acknowledged writes missing" check of kv chaos (client/chaos.ts) on small histories
// with known answers: a final read that shows the last acknowledged write, or a write that may have
// come after it (ok or info), passes; a final read that shows an older, overwritten value, or an
// absent key after an acknowledged put, is counted as missing.
import { describe, expect, it } from "vitest";
import { missingAcknowledgedWrites } from "../../client/chaos";
import type { HistoryEvent } from "../../client/history";

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
