// The figures of a run over time, for an HTML report (tools/report/html.ts): per interval (a second
// by default), the operations of each kind that succeeded, the ones that failed, and the latency
// percentiles of the successful ones; over the whole run, a histogram of latencies in log-scale
// buckets.
//
// Cheap on the hot path: one record is a division, a lookup of the operation kind, an add to a
// counter, a Math.log10 for the whole-run buckets and a recordValue into the interval's
// HdrHistogram (about 0.2 us on this machine, against operations of a millisecond or more);
// percentiles are computed once, at the end. Each interval's histogram keeps two significant
// digits (percentiles within 1%, plenty for a chart) in 32-bit counts: about 14 KB each. (A
// "packed" histogram is smaller, but records 4 times slower and adds 300 times slower.) Past
// timelineIntervalsMax intervals (about 26 MB), neighbouring intervals are merged in pairs (their
// histograms added, exactly) and the interval doubles, so memory stays bounded and the report's
// series short enough to draw.
//
// Times are given by the caller (nanoseconds since the start of the run), so that the recorder is
// a plain object over numbers and tests can drive it.
import * as hdr from "hdr-histogram-js";
import { assert } from "../../common/assert";
import type { IntervalFigures, LatencyBucket, TimelineFigures } from "./html";

/** The interval a report's series are drawn at, unless the run is long enough to need coarser ones. */
export const timelineIntervalMsDefault = 1_000;
/** Intervals kept at most; past it, intervals are merged in pairs (the interval doubles). */
export const timelineIntervalsMax = 1_800;
/** Buckets per power of ten in the whole-run latency histogram (each about 1.58 times the last). */
export const latencyBucketsPerDecade = 5;

interface Slot {
  /** Successful operations by kind index. */
  readonly ok: number[];
  failed: number;
  /** Latencies of the successful operations, in microseconds; null until the first. */
  histogram: hdr.Histogram | null;
}

function newHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: 1, // microseconds
    highestTrackableValue: 60 * 60 * 1_000_000, // an hour; autoResize covers anything longer
    numberOfSignificantValueDigits: 2,
    autoResize: true,
    useWebAssembly: false,
  });
}

export class Timeline {
  private intervalNs: number;
  private readonly slots: Slot[] = [];
  private readonly kindIndex = new Map<string, number>();
  /** Whole-run latency counts by log bucket (floor(log10(us) * latencyBucketsPerDecade)). */
  private readonly buckets = new Map<number, number>();
  private finished = false;

  /** `kinds`: the operation kinds, in the order the report lists their series. */
  constructor(
    readonly kinds: readonly string[],
    intervalMs: number = timelineIntervalMsDefault,
  ) {
    assert(kinds.length > 0, "a timeline has at least one operation kind");
    assert(Number.isInteger(intervalMs) && intervalMs > 0, "a timeline's interval is a positive whole number of ms");
    kinds.forEach((kind, index) => this.kindIndex.set(kind, index));
    assert(this.kindIndex.size === kinds.length, "a timeline's kinds are distinct");
    this.intervalNs = intervalMs * 1e6;
  }

  /** A successful operation of `kind` completed `atNs` after the start; its latency, if it counts in the latency figures. */
  recordOk(kind: string, atNs: number, latencyUs: number | null): void {
    const slot = this.slotAt(atNs);
    const index = this.kindIndex.get(kind);
    assert(index !== undefined, `the timeline knows the kind ${kind}`);
    slot.ok[index]! += 1;
    if (latencyUs === null) return;
    const us = Math.max(1, Math.round(latencyUs));
    (slot.histogram ??= newHistogram()).recordValue(us);
    const bucket = Math.floor(Math.log10(us) * latencyBucketsPerDecade);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
  }

  /** An operation completed `atNs` after the start without success. */
  recordFailure(atNs: number): void {
    this.slotAt(atNs).failed += 1;
  }

  /**
   * The figures of a run that lasted `durationNs`. The run is cut into whole intervals; a last
   * partial interval is folded into the one before it (a tail of a few milliseconds, such as the
   * operations still outstanding when a timed run ends, would otherwise draw a rate spike out of a
   * handful of operations), so there are max(1, floor(duration / interval)) of them.
   */
  finish(durationNs: number): TimelineFigures {
    assert(!this.finished, "a timeline is finished once");
    assert(Number.isFinite(durationNs) && durationNs > 0, "a run lasts some time");
    this.finished = true;
    while (Math.floor(durationNs / this.intervalNs) > timelineIntervalsMax) this.coarsen();
    const count = Math.max(1, Math.floor(durationNs / this.intervalNs));
    // Fold whatever lies past the last whole interval into it.
    while (this.slots.length > count) this.mergeInto(this.slotOrEmpty(count - 1), this.slots.pop());
    const intervalMs = this.intervalNs / 1e6;
    const durationMs = durationNs / 1e6;
    const intervals: IntervalFigures[] = [];
    for (let i = 0; i < count; i++) {
      const slot = this.slotOrEmpty(i);
      const startMs = i * intervalMs;
      const endMs = i === count - 1 ? durationMs : (i + 1) * intervalMs;
      const histogram = slot.histogram;
      let latencyMs: IntervalFigures["latencyMs"] = null;
      if (histogram !== null && histogram.totalCount > 0) {
        // HdrHistogram answers a bucket's highest value, which can exceed the largest value recorded.
        const at = (p: number): number => Math.min(histogram.getValueAtPercentile(p), histogram.maxValue) / 1000;
        latencyMs = { p50: at(50), p99: at(99), p999: at(99.9), max: histogram.maxValue / 1000 };
        histogram.destroy();
      }
      intervals.push({ startMs, endMs, ok: [...slot.ok], failed: slot.failed, latencyMs });
    }
    return { intervalMs, durationMs, kinds: [...this.kinds], intervals, latencyBuckets: this.latencyBuckets() };
  }

  private latencyBuckets(): LatencyBucket[] {
    if (this.buckets.size === 0) return [];
    const indexes = [...this.buckets.keys()];
    const first = Math.min(...indexes);
    const last = Math.max(...indexes);
    const edgeMs = (b: number): number => Math.pow(10, b / latencyBucketsPerDecade) / 1000;
    const out: LatencyBucket[] = [];
    for (let b = first; b <= last; b++) out.push({ lowMs: edgeMs(b), highMs: edgeMs(b + 1), count: this.buckets.get(b) ?? 0 });
    return out;
  }

  private slotAt(atNs: number): Slot {
    assert(!this.finished, "nothing is recorded into a finished timeline");
    let index = Math.floor(Math.max(0, atNs) / this.intervalNs);
    while (index >= timelineIntervalsMax) {
      this.coarsen();
      index = Math.floor(Math.max(0, atNs) / this.intervalNs);
    }
    return this.slotOrEmpty(index);
  }

  private slotOrEmpty(index: number): Slot {
    while (this.slots.length <= index) this.slots.push({ ok: new Array<number>(this.kinds.length).fill(0), failed: 0, histogram: null });
    return this.slots[index]!;
  }

  /** Merges intervals in pairs: exact for the counts and the histograms; the interval doubles. */
  private coarsen(): void {
    const merged: Slot[] = [];
    for (let i = 0; i < this.slots.length; i += 2) {
      const into = this.slots[i]!;
      this.mergeInto(into, this.slots[i + 1]);
      merged.push(into);
    }
    this.slots.splice(0, this.slots.length, ...merged);
    this.intervalNs *= 2;
  }

  private mergeInto(into: Slot, from: Slot | undefined): void {
    if (from === undefined) return;
    for (let k = 0; k < into.ok.length; k++) into.ok[k]! += from.ok[k]!;
    into.failed += from.failed;
    if (from.histogram !== null) {
      if (into.histogram === null) into.histogram = from.histogram;
      else {
        into.histogram.add(from.histogram);
        from.histogram.destroy();
      }
    }
  }
}
