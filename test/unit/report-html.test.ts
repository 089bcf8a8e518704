// Proves that the HTML report (tools/report/html.ts) is one self-contained page whose charts show
// the data they are given: one <svg> per chart, nothing fetched from anywhere (no URL, no src=, no
// external script), every outside text escaped (a "<script>" planted in the title, a parameter, a
// series' kind, a marker and the summary comes out as text), the axes' tick labels spanning the
// data's range (the top tick at or above the largest value, the one below it under it), one point
// per interval in every throughput series. Then that the Timeline recorder (tools/report/timeline.ts)
// puts each completion in its interval, folds a short tail into the last whole interval, merges
// intervals in pairs past timelineIntervalsMax, and buckets latencies on a log scale.
import { describe, expect, it } from "vitest";
import { escapeHtml, niceTicks, renderReportHtml, type IntervalFigures, type ReportPage, type TimelineFigures } from "../../tools/report/html";
import { latencyBucketsPerDecade, Timeline, timelineIntervalsMax } from "../../tools/report/timeline";

function interval(i: number, ok: number[], failed: number, latencyMs: IntervalFigures["latencyMs"]): IntervalFigures {
  return { startMs: i * 1000, endMs: (i + 1) * 1000, ok, failed, latencyMs };
}

/** Ten one-second intervals: get peaks at 950/s, put at 400/s, p99.9 at 87 ms; interval 4 has no latency. */
const timeline: TimelineFigures = {
  intervalMs: 1000,
  durationMs: 10_000,
  kinds: ["get", "put"],
  intervals: Array.from({ length: 10 }, (_, i) =>
    interval(i, [500 + i * 50, 400 - i * 10], i === 3 ? 7 : 0, i === 4 ? null : { p50: 2 + i / 10, p99: 20 + i, p999: 78 + i, max: 90 }),
  ),
  latencyBuckets: [
    { lowMs: 1, highMs: 1.58, count: 120 },
    { lowMs: 1.58, highMs: 2.51, count: 3_400 },
    { lowMs: 2.51, highMs: 3.98, count: 260 },
  ],
};

const planted = '<script>alert("x")</script>';
const page: ReportPage = {
  title: `kv bench: workload A ${planted}`,
  parameters: [["workload", `A ${planted}`]],
  latencyLabel: "successful operations",
  timeline: { ...timeline, kinds: ["get", `put${planted}`] },
  markers: [{ atMs: 3_500, label: `kill -9 r1 ${planted}` }],
  summary: `op  count\nget 7000 ${planted}`,
};

/** The text of every tick label of the given axis class inside the chart with this id. */
function ticks(html: string, chartId: string, axis: "x-axis" | "y-axis"): number[] {
  const svg = new RegExp(`<svg class="chart" id="${chartId}"[\\s\\S]*?</svg>`).exec(html)?.[0];
  expect(svg, `chart ${chartId}`).toBeDefined();
  const group = new RegExp(`<g class="${axis}">([\\s\\S]*?)</g>`).exec(svg!)?.[1];
  expect(group, `${axis} of ${chartId}`).toBeDefined();
  return [...group!.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => Number(m[1]));
}

describe("the HTML report", () => {
  const html = renderReportHtml(page);

  it("is one page with one <svg> per chart and nothing external", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html.match(/<html\b/g)).toHaveLength(1);
    expect(html.match(/<svg\b/g)).toHaveLength(3);
    expect(html.match(/<\/svg>/g)).toHaveLength(3);
    for (const id of ["throughput", "latency", "histogram"]) expect(html).toContain(`<svg class="chart" id="${id}"`);
    expect(html).not.toMatch(/http/i);
    expect(html).not.toMatch(/src=/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<link\b|@import|url\(/i);
  });

  it("escapes every text it was given", () => {
    expect(html).not.toContain(planted);
    const escaped = escapeHtml(planted);
    expect(escaped).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain(`<title>kv bench: workload A ${escaped}</title>`);
    expect(html).toContain(`<h1>kv bench: workload A ${escaped}</h1>`);
    expect(html).toContain(`<td>A ${escaped}</td>`);
    expect(html).toContain(`put${escaped} ok/s`);
    expect(html).toContain(`kill -9 r1 ${escaped}`);
    expect(html).toContain(`get 7000 ${escaped}</pre>`);
  });

  it("labels the axes over the data's range", () => {
    // Time: 0 to 10 s.
    const x = ticks(html, "throughput", "x-axis");
    expect(x[0]).toBe(0);
    expect(x[x.length - 1]).toBe(10);
    // Throughput: get reaches 950/s, so the top tick is 1000, the one below it under 950.
    const y = ticks(html, "throughput", "y-axis");
    expect(y[0]).toBe(0);
    expect(y[y.length - 1]).toBeGreaterThanOrEqual(950);
    expect(y[y.length - 2]).toBeLessThan(950);
    expect(y[y.length - 1]).toBe(1000);
    // Latency: p99.9 reaches 87 ms.
    const latency = ticks(html, "latency", "y-axis");
    expect(latency[latency.length - 1]).toBeGreaterThanOrEqual(87);
    expect(latency[latency.length - 2]).toBeLessThan(87);
    // Histogram: 3,400 operations in the fullest bucket; bucket edges from 1 ms to 3.98 ms.
    const counts = ticks(html, "histogram", "y-axis");
    expect(counts[counts.length - 1]).toBeGreaterThanOrEqual(3_400);
    expect(counts[counts.length - 2]).toBeLessThan(3_400);
    const edges = ticks(html, "histogram", "x-axis");
    expect(edges).toEqual([1, 1.58, 2.51, 3.98]);
    expect(html.match(/<rect class="bar"/g)).toHaveLength(3);
  });

  it("draws one point per interval in each throughput series, and leaves gaps where latency is missing", () => {
    const series = [...html.matchAll(/<g class="series" data-series="([^"]*)" data-points="(\d+)" data-values="[^"]*">([\s\S]*?)<\/g>/g)];
    const byName = new Map(series.map((m) => [m[1]!, { declared: Number(m[2]), drawn: [...m[3]!.matchAll(/(-?[\d.]+),(-?[\d.]+)/g)].length + (m[3]!.match(/<circle/g)?.length ?? 0) }]));
    for (const name of ["get ok/s", `put${escapeHtml(planted)} ok/s`, "failed/s"]) {
      expect(byName.get(name), name).toEqual({ declared: 10, drawn: 10 });
    }
    for (const name of ["p50", "p99", "p99.9"]) expect(byName.get(name), name).toEqual({ declared: 9, drawn: 9 });
    // The interval without latency splits each percentile line in two.
    const p50 = series.find((m) => m[1] === "p50")![3]!;
    expect(p50.match(/<polyline/g)).toHaveLength(2);
  });

  it("chooses round ticks", () => {
    expect(niceTicks(950)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(10, 8)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
});

describe("the Timeline recorder", () => {
  it("puts each completion in its interval and folds the tail into the last whole one", () => {
    const recorder = new Timeline(["get", "put"], 1000);
    recorder.recordOk("get", 0.2e9, 1_000); // 1 ms
    recorder.recordOk("put", 0.9e9, 10_000);
    recorder.recordOk("get", 1.5e9, 2_000);
    recorder.recordFailure(1.6e9);
    recorder.recordOk("get", 2.01e9, 100_000); // in the 10 ms tail of a 2.01 s run
    const figures = recorder.finish(2.01e9);
    expect(figures.intervals).toHaveLength(2);
    expect(figures.intervals.map((i) => i.ok)).toEqual([[1, 1], [2, 0]]);
    expect(figures.intervals.map((i) => i.failed)).toEqual([0, 1]);
    expect(figures.intervals[1]!.endMs).toBeCloseTo(2010);
    // Two significant digits: within 1%.
    expect(figures.intervals[0]!.latencyMs!.max).toBeCloseTo(10, 1);
    expect(figures.intervals[0]!.latencyMs!.p50).toBeLessThan(1.01);
    expect(figures.intervals[1]!.latencyMs!.max).toBeGreaterThan(99);
    expect(figures.intervals[1]!.latencyMs!.max).toBeLessThan(101);
    expect(Math.abs(figures.intervals[1]!.latencyMs!.p50 - 2)).toBeLessThan(0.02);
    // Buckets from 1 ms (log10(1000 us) * 5 = 15) to 100 ms, consecutive, counting every latency.
    const buckets = figures.latencyBuckets;
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(4);
    expect(buckets[0]!.lowMs).toBeLessThanOrEqual(1);
    expect(buckets[buckets.length - 1]!.highMs).toBeGreaterThan(100);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.lowMs).toBeCloseTo(buckets[i - 1]!.highMs, 9);
      expect(buckets[i]!.highMs / buckets[i]!.lowMs).toBeCloseTo(Math.pow(10, 1 / latencyBucketsPerDecade), 9);
    }
  });

  it("merges intervals in pairs past timelineIntervalsMax, keeping every count", () => {
    const recorder = new Timeline(["put"], 1000);
    const seconds = timelineIntervalsMax * 2 + 10;
    for (let s = 0; s < seconds; s++) recorder.recordOk("put", s * 1e9 + 5e8, 1_000 + s);
    const figures = recorder.finish(seconds * 1e9);
    expect(figures.intervalMs).toBe(4000);
    expect(figures.intervals.length).toBeLessThanOrEqual(timelineIntervalsMax);
    expect(figures.intervals.reduce((sum, i) => sum + i.ok[0]!, 0)).toBe(seconds);
    expect(figures.intervals[0]!.ok[0]).toBe(4);
    // The first merged interval holds the latencies of seconds 0 to 3: 1.000 to 1.003 ms.
    expect(Math.abs(figures.intervals[0]!.latencyMs!.max - 1.003)).toBeLessThan(0.011);
    expect(Math.abs(figures.intervals[1]!.latencyMs!.max - 1.007)).toBeLessThan(0.011);
  });
});
