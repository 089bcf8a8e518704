// Proves common/fifo-map.ts: FifoMap behaves as a Map (get, has, set keeping an existing key's place,
// delete, size, iteration in insertion order) and oldest() is the first entry a Map would iterate,
// under random sets, deletes (from the front, the middle and of absent keys), re-sets and
// evictions, across the queue's compactions and rebuilds.
//
// How: the same random operations on a FifoMap and on a plain Map (the model, whose oldest entry is
// map.entries().next()), compared after every operation.
import { describe, expect, it } from "vitest";
import { FifoMap } from "../../common/fifo-map";
import { Prng } from "../../common/prng";

function oldestOf<K, V>(map: Map<K, V>): [K, V] | undefined {
  const first = map.entries().next();
  return first.done === true ? undefined : first.value;
}

describe("FifoMap", () => {
  it("matches a Map under random sets, deletes and evictions, oldest() included", () => {
    for (const seed of [1, 2, 3]) {
      const prng = new Prng(seed);
      const fifo = new FifoMap<string, number>();
      const model = new Map<string, number>();
      for (let step = 0; step < 20_000; step++) {
        const key = `k${prng.int(0, 3_000)}`;
        const roll = prng.next();
        if (roll < 0.5) {
          fifo.set(key, step);
          model.set(key, step);
        } else if (roll < 0.7) {
          expect(fifo.delete(key)).toBe(model.delete(key));
        } else if (roll < 0.9) {
          // Evict the oldest, as the bounded tables do.
          const oldest = fifo.oldest();
          expect(oldest).toEqual(oldestOf(model));
          if (oldest !== undefined) {
            fifo.delete(oldest[0]);
            model.delete(oldest[0]);
          }
        } else {
          // Move to the newest place: delete, then set.
          fifo.delete(key);
          model.delete(key);
          fifo.set(key, -step);
          model.set(key, -step);
        }
        expect(fifo.size).toBe(model.size);
        expect(fifo.get(key)).toBe(model.get(key));
        expect(fifo.has(key)).toBe(model.has(key));
        expect(fifo.oldest()).toEqual(oldestOf(model));
      }
      expect([...fifo]).toEqual([...model]);
      expect([...fifo.keys()]).toEqual([...model.keys()]);
      expect([...fifo.values()]).toEqual([...model.values()]);
    }
  });

  it("keeps its queue within a bound when entries are deleted from the middle and none is evicted", () => {
    const fifo = new FifoMap<number, number>();
    for (let i = 0; i < 100_000; i++) {
      fifo.set(i, i);
      if (i >= 10) fifo.delete(i - 10);
    }
    expect(fifo.size).toBe(10);
    expect(fifo.oldest()).toEqual([99_990, 99_990]);
    // The queue is private: its bound shows as the memory a rebuild keeps (2 * size + 1024 entries).
    const queue = (fifo as unknown as { queue: unknown[]; head: number }).queue;
    expect(queue.length).toBeLessThanOrEqual(2 * 10 + 1024 + 1);
  });
});
