// Proves the figures of the failover benchmark (tools/bench/gap.ts): the longest gap between
// successful write completions around a fault, counted from the last success before it, including
// the gap still open at the end of the window (writes that stopped for good), and the median of runs.
import { describe, expect, it } from "vitest";
import { longestGapAround, median } from "../../tools/bench/gap";

describe("the longest gap around a fault (tools/bench/gap.ts)", () => {
  it("measures from the last success before the fault to the first after it, and every gap after", () => {
    // Successes at 0..100 every 10 ms, the fault at 105, nothing until 1300, then every 10 ms.
    const before = Array.from({ length: 11 }, (_, i) => i * 10);
    const after = [1300, 1310, 1320, 2000];
    expect(longestGapAround([...after, ...before], 105, 2500)).toEqual({ gapMs: 1200, neverResumed: false });
    expect(longestGapAround([...before, 1300, 1310, 1320, 3500], 105, 5000)).toEqual({ gapMs: 2180, neverResumed: false });
  });

  it("ignores gaps wholly before the fault, and runs to the window's end when writes stopped succeeding", () => {
    expect(longestGapAround([0, 900, 1000, 1010, 1020], 1005, 1025)).toEqual({ gapMs: 10, neverResumed: false });
    // A few answers already on their way complete just after the fault, then nothing: the open gap counts.
    expect(longestGapAround([0, 10, 20, 52, 55], 50, 3055)).toEqual({ gapMs: 3000, neverResumed: true });
    expect(longestGapAround([0, 10, 20], 50, 4020)).toEqual({ gapMs: 4000, neverResumed: true });
    expect(longestGapAround([], 50, 450)).toEqual({ gapMs: 400, neverResumed: true });
  });

  it("takes the median of the runs (the lower middle one of an even count)", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([])).toBeNaN();
  });
});
