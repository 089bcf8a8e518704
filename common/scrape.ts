// Pure helpers of the processes' metrics (coordinator/metrics.ts, replica/metrics.ts): figures read
// at scrape time, not counted on the hot path.
//
// A scrape runs every metric's collect() at once (prom-client starts them in one go). Several of
// them read one answer of the node (one step of its loop, or one barrier): Coalesced lets them share
// one request per scrape. Some figures are running totals kept by an object a process may replace
// (the coordinator builds a new node and a new decision log at each takeover, whose totals start at
// 0), while a Prometheus counter must never go down: RunningTotal turns the readings of such a
// source into a counter's increments.

/** One fetch shared by every caller that asks while it is under way; the next ask fetches anew. */
export class Coalesced<T> {
  private pending: Promise<T> | null = null;

  constructor(private readonly fetch: () => Promise<T>) {}

  get(): Promise<T> {
    if (this.pending !== null) return this.pending;
    const pending = this.fetch().finally(() => {
      if (this.pending === pending) this.pending = null;
    });
    this.pending = pending;
    return pending;
  }
}

/**
 * The increments of a counter that follows running totals read from a source: a reading of the
 * source read last adds what it grew by; the first reading of a new source adds all of it (a new
 * node's totals count from 0). What an old source counted after its last reading is not seen.
 */
export class RunningTotal {
  private source: object | null = null;
  private last = 0;

  /** The increment that the reading `total` of `source` brings (0 or more). */
  read(source: object, total: number): number {
    if (source !== this.source) {
      this.source = source;
      this.last = 0;
    }
    // A source's totals only grow; one that shrank is taken as restarted from 0.
    const delta = total >= this.last ? total - this.last : total;
    this.last = total;
    return delta;
  }
}

/** Resolves with `promise`'s value, or with `fallback` once timeoutMs passed without one. */
export function within<T>(promise: Promise<T>, timeoutMs: number, fallback: T, timers: { after(ms: number, fn: () => void): () => void }): Promise<T> {
  return new Promise<T>((resolve) => {
    const cancel = timers.after(timeoutMs, () => resolve(fallback));
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      () => {
        cancel();
        resolve(fallback);
      },
    );
  });
}
