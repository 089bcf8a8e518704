// Proves the coordinator's cache of committed key states (coordinator/value-cache.ts) on its own: it
// answers a lookup only when it holds every key, keeps to its bound in bytes (key, value and a fixed
// 350 bytes an entry) by dropping the entries first cached, counts a replaced entry once, keeps its
// own copy of a value that is a view of a large message, and holds nothing with a bound of 0. How the
// core uses it (what is cached when, and which evaluations may be taken from it) is proven in
// coordinator-txn.test.ts, "the cache of committed key states".
import { describe, expect, it } from "vitest";
import { ValueCache } from "../../coordinator/value-cache";

const state = (text: string, version: number): { value: Buffer; version: number } => ({ value: Buffer.from(text), version });

describe("ValueCache", () => {
  it("answers a lookup only when it holds every key; an absent key's state (null) counts as held", () => {
    const cache = new ValueCache(10_000);
    cache.set("a", state("1", 1));
    cache.set("gone", null);
    expect(cache.lookup(["a", "gone"])).toEqual(new Map([["a", state("1", 1)], ["gone", null]]));
    expect(cache.lookup(["a", "b"])).toBeNull();
  });

  it("keeps to its bound in bytes, dropping the entries first cached; a replaced entry keeps its place and is counted once", () => {
    // Each entry here costs 350 + 1 (key) + 4 (value) = 355 bytes: three fit in 1,100, not four.
    const cache = new ValueCache(1_100);
    for (const key of ["a", "b", "c"]) cache.set(key, state("1234", 1));
    expect(cache.bytes).toBe(3 * 355);
    cache.set("a", state("5678", 2)); // replaced: still three entries, still first in line
    expect(cache.size).toBe(3);
    expect(cache.bytes).toBe(3 * 355);
    cache.set("d", state("1234", 1));
    expect(cache.lookup(["a"])).toBeNull();
    expect(cache.lookup(["b", "c", "d"])).not.toBeNull();
    expect(cache.bytes).toBe(3 * 355);
    cache.delete("b");
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBe(2 * 355);
  });

  it("does not keep an entry larger than its whole bound, and forgets the key's older state then", () => {
    const cache = new ValueCache(400);
    cache.set("k", state("small", 1));
    cache.set("k", state("x".repeat(100), 2));
    expect(cache.lookup(["k"])).toBeNull();
    expect(cache.bytes).toBe(0);
  });

  it("keeps its own copy of a value that is a view of a large message", () => {
    const cache = new ValueCache(10_000);
    const message = Buffer.alloc(64 * 1024, 0x61);
    const view = message.subarray(100, 110);
    cache.set("k", { value: view, version: 3 });
    const kept = cache.lookup(["k"])!.get("k")!;
    expect(kept.value.equals(view)).toBe(true);
    expect(kept.value.buffer).not.toBe(message.buffer);
    expect(kept.version).toBe(3);
  });

  it("with a bound of 0 holds nothing", () => {
    const cache = new ValueCache(0);
    cache.set("a", state("1", 1));
    expect(cache.size).toBe(0);
    expect(cache.lookup(["a"])).toBeNull();
  });
});
