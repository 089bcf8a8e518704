// The figures of the fault benchmarks, as pure functions over timestamps (milliseconds on one
// monotonic clock): the longest time without a successful write around a fault, and the median.

export interface Gap {
  /** The longest time without a successful completion, from the last success before the fault (or the fault) to the window's end. */
  readonly gapMs: number;
  /**
   * The longest gap is still open at the window's end: writes stopped succeeding and had not resumed
   * by then, so gapMs is a lower bound.
   */
  readonly neverResumed: boolean;
}

/**
 * The longest gap between consecutive successful completions (over all writers) around a fault at
 * faultAtMs, up to windowEndMs: the first one measured from the last success before the fault (or
 * from the fault, if none came before), every one after, and the one still open at windowEndMs
 * (from the last success to the window's end), so that writes that stop for good are not missed
 * because a few answers already on their way completed just after the fault.
 */
export function longestGapAround(successesMs: readonly number[], faultAtMs: number, windowEndMs: number): Gap {
  const sorted = [...successesMs].sort((a, b) => a - b);
  let previousMs = faultAtMs;
  for (const at of sorted) if (at < faultAtMs) previousMs = at;
  let gapMs = 0;
  for (const at of sorted) {
    if (at < faultAtMs || at > windowEndMs) continue;
    gapMs = Math.max(gapMs, at - previousMs);
    previousMs = at;
  }
  const openMs = Math.max(0, windowEndMs - previousMs);
  return openMs > gapMs ? { gapMs: openMs, neverResumed: true } : { gapMs, neverResumed: false };
}

/** The median (the lower middle one of an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
