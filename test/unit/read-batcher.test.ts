// What this proves: coordinator/read-batcher.ts ReadBatcher batches the reads of one turn.
//   - Reads made in one turn of the event loop go in one call with the union of their keys, and
//     each read gets exactly its own rows, in its own order (a key asked twice is asked once).
//   - A call carries at most keysPerReadMax keys: more reads make more calls.
//   - A failed batch fails every read in it; one that failed UNAVAILABLE (a key held in doubt) asks
//     each of its reads again alone, so only the read of that key fails; any other failure (a
//     fenced replica: FAILED_PRECONDITION) fails them all at once.
// How: a fake call the test answers by hand, and a `soon` the test runs by hand.
import { describe, expect, it } from "vitest";
import type { CallResult } from "../../common/env";
import { Code, fencedMessage } from "../../common/errors";
import { limits } from "../../common/limits";
import { ReadBatcher, type ReadRow } from "../../coordinator/read-batcher";

interface Call {
  readonly keys: readonly string[];
  readonly done: (result: CallResult<ReadRow[]>) => void;
}

function fixture() {
  const calls: Call[] = [];
  let soon: (() => void) | null = null;
  const batcher = new ReadBatcher("r1", (keys, done) => calls.push({ keys, done }), {
    soon: (fn) => {
      expect(soon).toBeNull();
      soon = fn;
    },
  });
  const results = new Map<string, CallResult<ReadRow[]>>();
  const read = (name: string, keys: string[]): void => batcher.read(keys, (result) => results.set(name, result));
  const runSoon = (): void => {
    const fn = soon!;
    soon = null;
    fn();
  };
  return { batcher, calls, results, read, runSoon };
}

const row = (key: string, version = 1): ReadRow => ({ key, found: true, value: Buffer.from(`v-${key}`), version });
const answer = (call: Call, rows: ReadRow[]): void => call.done({ ok: true, value: rows });

describe("ReadBatcher", () => {
  it("one call for the reads of a turn; each read gets its own rows in its own order", () => {
    const { calls, results, read, runSoon } = fixture();
    read("g1", ["b", "a"]);
    read("g2", ["a"]);
    read("g3", ["c"]);
    expect(calls).toEqual([]);
    runSoon();
    expect(calls.map((call) => call.keys)).toEqual([["b", "a", "c"]]);
    answer(calls[0]!, [row("b", 2), row("a", 1), row("c", 3)]);
    expect(results.get("g1")).toEqual({ ok: true, value: [row("b", 2), row("a", 1)] });
    expect(results.get("g2")).toEqual({ ok: true, value: [row("a", 1)] });
    expect(results.get("g3")).toEqual({ ok: true, value: [row("c", 3)] });
    // The next turn's reads make a new call.
    read("g4", ["d"]);
    runSoon();
    expect(calls.map((call) => call.keys)).toEqual([["b", "a", "c"], ["d"]]);
  });

  it("splits a turn's reads into calls of at most keysPerReadMax keys", () => {
    const { calls, read, runSoon } = fixture();
    const reads = limits.keysPerReadMax + 5;
    for (let i = 0; i < reads; i++) read(`g${i}`, [`k${i}`]);
    runSoon();
    expect(calls.map((call) => call.keys.length)).toEqual([limits.keysPerReadMax, 5]);
  });

  it("an answer missing a key fails the reads of that key only", () => {
    const { calls, results, read, runSoon } = fixture();
    read("g1", ["a"]);
    read("g2", ["b"]);
    runSoon();
    answer(calls[0]!, [row("a")]);
    expect(results.get("g1")).toEqual({ ok: true, value: [row("a")] });
    expect(results.get("g2")).toMatchObject({ ok: false, code: Code.UNAVAILABLE });
  });

  it("a batch failed UNAVAILABLE asks each read again alone; only the read of the held key fails", () => {
    const { calls, results, read, runSoon } = fixture();
    read("g1", ["held"]);
    read("g2", ["free"]);
    runSoon();
    calls[0]!.done({ ok: false, code: Code.UNAVAILABLE, reason: "UNAVAILABLE: key held waited past readWaitTimeoutMs" });
    expect(results.size).toBe(0);
    expect(calls.slice(1).map((call) => call.keys)).toEqual([["held"], ["free"]]);
    calls[1]!.done({ ok: false, code: Code.UNAVAILABLE, reason: "UNAVAILABLE: still held" });
    answer(calls[2]!, [row("free")]);
    expect(results.get("g1")).toMatchObject({ ok: false, code: Code.UNAVAILABLE });
    expect(results.get("g2")).toEqual({ ok: true, value: [row("free")] });
  });

  it("any other failure (a fenced replica) fails every read of the batch at once", () => {
    const { calls, results, read, runSoon } = fixture();
    read("g1", ["a"]);
    read("g2", ["b"]);
    runSoon();
    calls[0]!.done({ ok: false, code: Code.FAILED_PRECONDITION, reason: `FAILED_PRECONDITION: ${fencedMessage(1, 2, "c2")}` });
    expect(calls).toHaveLength(1);
    expect(results.get("g1")).toMatchObject({ ok: false, code: Code.FAILED_PRECONDITION });
    expect(results.get("g2")).toMatchObject({ ok: false, code: Code.FAILED_PRECONDITION });
  });
});
