// Proves the scrape-time helpers of the metrics (common/scrape.ts): RunningTotal turns readings of
// running totals into a counter's increments that never go negative, also across a source replaced
// by a new one counting from 0 (a coordinator's takeover builds a new node and decision log);
// Coalesced makes the collect()s of one scrape share one fetch; within answers the fallback when
// the fetch does not come in time.
import { describe, expect, it } from "vitest";
import { Coalesced, RunningTotal, within } from "../../common/scrape";

describe("RunningTotal", () => {
  it("adds what one source grew by, and all of a new source's total", () => {
    const total = new RunningTotal();
    const first = {};
    const second = {};
    expect(total.read(first, 5)).toBe(5);
    expect(total.read(first, 5)).toBe(0);
    expect(total.read(first, 12)).toBe(7);
    // A new node whose total is already above the old one's last reading: all of it is new.
    expect(total.read(second, 20)).toBe(20);
    expect(total.read(second, 21)).toBe(1);
    // A total that went down is a restart from 0.
    expect(total.read(second, 3)).toBe(3);
  });
});

describe("Coalesced", () => {
  it("shares one fetch among the asks made while it runs, and fetches anew after", async () => {
    let fetches = 0;
    let release: (value: number) => void = () => undefined;
    const shared = new Coalesced(() => {
      fetches += 1;
      return new Promise<number>((resolve) => (release = resolve));
    });
    const a = shared.get();
    const b = shared.get();
    release(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(fetches).toBe(1);
    const c = shared.get();
    release(8);
    expect(await c).toBe(8);
    expect(fetches).toBe(2);
  });
});

describe("within", () => {
  it("answers the fallback when the promise is late, and the value when it is not", async () => {
    let fire: () => void = () => undefined;
    const timers = { after: (_ms: number, fn: () => void) => ((fire = fn), () => undefined) };
    const late = within(new Promise<number>(() => undefined), 1_000, -1, timers);
    fire();
    expect(await late).toBe(-1);
    expect(await within(Promise.resolve(4), 1_000, -1, timers)).toBe(4);
  });
});
