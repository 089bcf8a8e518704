// The HTML report of a run (kv bench, kv chaos, kv demo bookstore with --report FILE.html): one
// self-contained page, readable offline and safe to mail around. Charts are inline SVG written
// here by hand (no charting library, no script, no font or stylesheet fetched from anywhere):
// throughput over time, latency percentiles over time (p50, p99, p99.9 per interval), and a
// histogram of latencies in log-scale buckets; then the run's parameters and the summary the
// terminal printed.
//
// Pure: figures in, an HTML string out (renderReportHtml). Every text that comes from outside this
// file (titles, parameters, series names, marker labels, the summary) goes through escapeHtml,
// since a key prefix or a flag value can hold anything.

/** A run's figures over time, as tools/report/timeline.ts records them. */
export interface TimelineFigures {
  /** The length of every interval but the last, which runs to the end of the run. */
  readonly intervalMs: number;
  readonly durationMs: number;
  /** Operation kinds; IntervalFigures.ok is indexed like this. */
  readonly kinds: readonly string[];
  readonly intervals: readonly IntervalFigures[];
  /** Consecutive log-scale buckets of every latency recorded, from the lowest used to the highest. */
  readonly latencyBuckets: readonly LatencyBucket[];
}

export interface IntervalFigures {
  readonly startMs: number;
  readonly endMs: number;
  /** Successful operations of each kind (TimelineFigures.kinds) that completed in the interval. */
  readonly ok: readonly number[];
  /** Operations that completed without success. */
  readonly failed: number;
  /** Of the latencies recorded in the interval; null when none was. */
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly p999: number; readonly max: number } | null;
}

export interface LatencyBucket {
  readonly lowMs: number;
  readonly highMs: number;
  readonly count: number;
}

/** Something that happened at a moment of the run (a fault injected), drawn as a line across the time charts. */
export interface ReportMarker {
  readonly atMs: number;
  readonly label: string;
}

export interface ReportPage {
  /** The page's heading, e.g. "kv bench: workload A, 16 clients, 10.0 s, 1000 keys, values of 100 bytes". */
  readonly title: string;
  /** The run's parameters, as a two-column table. */
  readonly parameters: readonly (readonly [string, string])[];
  /** What the latency charts cover, e.g. "successful operations, from send to reply". */
  readonly latencyLabel: string;
  readonly timeline: TimelineFigures;
  readonly markers: readonly ReportMarker[];
  /** The summary the terminal printed, shown as it was (monospace). */
  readonly summary: string;
}

const escapes: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe for HTML and SVG, in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

/**
 * Tick values for an axis from 0 to at least `max`: steps of 1, 2 or 5 times a power of ten, about
 * `target` of them, the last one at or above `max` (so that the data stays inside the chart).
 */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const rough = max / target;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power);
  const ticks: number[] = [];
  // Multiply rather than add, so that 0.1 * 3 does not drift to 0.30000000000000004 repeatedly.
  for (let i = 0; ; i++) {
    const value = Number((i * step).toPrecision(12));
    ticks.push(value);
    if (value >= max) break;
  }
  return ticks;
}

/** A tick's label: as many decimals as its step needs, no more. */
export function tickLabel(value: number, step: number): string {
  const decimals = step >= 1 || step <= 0 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
  return value.toFixed(decimals);
}

/** A latency in milliseconds, short, for bucket edges. */
function formatMs(ms: number): string {
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  if (ms >= 1) return ms.toFixed(2);
  return ms.toPrecision(2);
}

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"] as const;
const width = 900;
const height = 320;
const margin = { left: 72, right: 24, top: 20, bottom: 48 } as const;
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;
const legendRowPx = 18;

/** A number for an SVG attribute: two decimals are finer than a pixel. */
function px(value: number): string {
  return String(Math.round(value * 100) / 100);
}

interface LineSeries {
  readonly name: string;
  /** One value per interval; null leaves a gap (nothing to show there). */
  readonly values: readonly (number | null)[];
}

interface TimeChart {
  readonly id: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
}

function legend(names: readonly string[]): { svg: string; heightPx: number } {
  const items = names.map(
    (name, i) =>
      `<g class="legend-item"><rect x="${margin.left + 8}" y="${px(margin.top + 4 + i * legendRowPx)}" width="14" height="4" fill="${palette[i % palette.length]}"/>` +
      `<text x="${margin.left + 28}" y="${px(margin.top + 10 + i * legendRowPx)}">${escapeHtml(name)}</text></g>`,
  );
  return { svg: `<g class="legend">${items.join("")}</g>`, heightPx: names.length * legendRowPx };
}

/** The y axis: gridlines and labelled ticks from 0 to the top tick. */
function yAxis(ticks: readonly number[], label: string): string {
  const top = ticks[ticks.length - 1]!;
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  const parts = ticks.map((tick) => {
    const y = margin.top + plotHeight - (tick / top) * plotHeight;
    return (
      `<line class="grid" x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${px(y)}" y2="${px(y)}"/>` +
      `<text class="tick" x="${margin.left - 6}" y="${px(y + 4)}" text-anchor="end">${tickLabel(tick, step)}</text>`
    );
  });
  const labelY = margin.top + plotHeight / 2;
  return (
    `<g class="y-axis">${parts.join("")}` +
    `<text class="axis-label" transform="translate(16 ${px(labelY)}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text></g>`
  );
}

/** The x axis of the time charts, in seconds from the start of the run. */
function timeAxis(durationS: number): { svg: string; topS: number } {
  const ticks = niceTicks(durationS, 8);
  const topS = ticks[ticks.length - 1]!;
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  const baseY = margin.top + plotHeight;
  const parts = ticks.map((tick) => {
    const x = margin.left + (tick / topS) * plotWidth;
    return `<line class="axis" x1="${px(x)}" x2="${px(x)}" y1="${baseY}" y2="${baseY + 5}"/><text class="tick" x="${px(x)}" y="${baseY + 18}" text-anchor="middle">${tickLabel(tick, step)}</text>`;
  });
  return {
    svg:
      `<g class="x-axis"><line class="axis" x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${baseY}" y2="${baseY}"/>${parts.join("")}` +
      `<text class="axis-label" x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">seconds since the start of the run</text></g>`,
    topS,
  };
}

function timeChart(chart: TimeChart, timeline: TimelineFigures, markers: readonly ReportMarker[]): string {
  const durationS = timeline.durationMs / 1000;
  const { svg: xAxisSvg, topS } = timeAxis(durationS);
  const maxY = Math.max(0, ...chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const yTicks = niceTicks(maxY);
  const topY = yTicks[yTicks.length - 1]!;
  const xOf = (ms: number): number => margin.left + (ms / 1000 / topS) * plotWidth;
  const yOf = (value: number): number => margin.top + plotHeight - (value / topY) * plotHeight;
  // Each interval's value is drawn at the interval's middle.
  const middles = timeline.intervals.map((interval) => (interval.startMs + interval.endMs) / 2);
  const lines = chart.series.map((series, i) => {
    const segments: string[][] = [[]];
    series.values.forEach((value, j) => {
      if (value === null) segments.push([]);
      else segments[segments.length - 1]!.push(`${px(xOf(middles[j]!))},${px(yOf(value))}`);
    });
    const color = palette[i % palette.length];
    const drawn = segments
      .filter((points) => points.length > 0)
      .map((points) =>
        points.length === 1
          ? `<circle cx="${points[0]!.split(",")[0]}" cy="${points[0]!.split(",")[1]}" r="2.5" fill="${color}"/>`
          : `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${points.join(" ")}"/>`,
      );
    const count = series.values.filter((value) => value !== null).length;
    // The values themselves, for a reader (or a test) who wants the numbers behind the line; "-" for a gap.
    const values = series.values.map((value) => (value === null ? "-" : String(Math.round(value * 1000) / 1000))).join(" ");
    return `<g class="series" data-series="${escapeHtml(series.name)}" data-points="${count}" data-values="${values}"><title>${escapeHtml(series.name)}</title>${drawn.join("")}</g>`;
  });
  const markerSvg = markers.map((marker) => {
    const x = px(xOf(marker.atMs));
    return (
      `<g class="marker"><title>${escapeHtml(marker.label)}</title>` +
      `<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#888" stroke-dasharray="4 3"/>` +
      `<text class="marker-label" transform="translate(${x} ${margin.top + plotHeight - 4}) rotate(-90)">${escapeHtml(marker.label)}</text></g>`
    );
  });
  const { svg: legendSvg, heightPx } = legend(chart.series.map((s) => s.name));
  return (
    `<svg class="chart" id="${escapeHtml(chart.id)}" viewBox="0 0 ${width} ${height + heightPx}" width="${width}" height="${height + heightPx}" role="img" aria-label="${escapeHtml(chart.yLabel)}">` +
    yAxis(yTicks, chart.yLabel) +
    xAxisSvg +
    markerSvg.join("") +
    lines.join("") +
    `<g transform="translate(0 ${height - margin.top})">${legendSvg}</g>` +
    `</svg>`
  );
}

function histogramChart(buckets: readonly LatencyBucket[], latencyLabel: string): string {
  if (buckets.length === 0) return `<p class="empty">No latency was recorded (no operation succeeded).</p>`;
  const maxCount = Math.max(...buckets.map((b) => b.count));
  const yTicks = niceTicks(maxCount);
  const topY = yTicks[yTicks.length - 1]!;
  const barWidth = plotWidth / buckets.length;
  const baseY = margin.top + plotHeight;
  const bars = buckets.map((bucket, i) => {
    const h = (bucket.count / topY) * plotHeight;
    const x = margin.left + i * barWidth;
    return (
      `<rect class="bar" x="${px(x + 1)}" y="${px(baseY - h)}" width="${px(Math.max(1, barWidth - 2))}" height="${px(h)}" fill="${palette[0]}" data-count="${bucket.count}">` +
      `<title>${formatMs(bucket.lowMs)} to ${formatMs(bucket.highMs)} ms: ${bucket.count}</title></rect>`
    );
  });
  // Label the left edge of every bucket and the right edge of the last: the edges are on a log scale.
  const every = Math.max(1, Math.ceil(buckets.length / 12));
  const edges = buckets.map((bucket, i) => ({ x: margin.left + i * barWidth, ms: bucket.lowMs, i }));
  edges.push({ x: margin.left + buckets.length * barWidth, ms: buckets[buckets.length - 1]!.highMs, i: buckets.length });
  const xTicks = edges
    .filter((edge) => edge.i % every === 0 || edge.i === buckets.length)
    .map(
      (edge) =>
        `<line class="axis" x1="${px(edge.x)}" x2="${px(edge.x)}" y1="${baseY}" y2="${baseY + 5}"/><text class="tick" x="${px(edge.x)}" y="${baseY + 18}" text-anchor="middle">${formatMs(edge.ms)}</text>`,
    );
  const xAxis =
    `<g class="x-axis"><line class="axis" x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${baseY}" y2="${baseY}"/>${xTicks.join("")}` +
    `<text class="axis-label" x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">latency, ms (log scale: each bucket about 1.6 times the one before)</text></g>`;
  return (
    `<svg class="chart" id="histogram" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(`latency histogram of ${latencyLabel}`)}">` +
    yAxis(yTicks, "operations") +
    xAxis +
    bars.join("") +
    `</svg>`
  );
}

const style = `
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #222; max-width: 960px; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 28px; }
table.parameters { border-collapse: collapse; } table.parameters td { padding: 2px 12px 2px 0; }
table.parameters td:first-child { color: #555; }
pre { background: #f6f6f6; padding: 12px; overflow-x: auto; font-size: 12px; }
svg.chart { display: block; max-width: 100%; height: auto; font-size: 11px; }
svg .grid { stroke: #e4e4e4; } svg .axis { stroke: #444; } svg .axis-label { fill: #444; }
svg .marker-label { fill: #666; font-size: 10px; }
p.note { color: #555; font-size: 0.9em; }
`;

/** The whole page. */
export function renderReportHtml(page: ReportPage): string {
  const { timeline } = page;
  const seconds = (interval: IntervalFigures): number => (interval.endMs - interval.startMs) / 1000;
  const rate = (count: number, interval: IntervalFigures): number => (seconds(interval) > 0 ? count / seconds(interval) : 0);
  const throughput: TimeChart = {
    id: "throughput",
    yLabel: "operations per second",
    series: [
      ...timeline.kinds.map((kind, k) => ({ name: `${kind} ok/s`, values: timeline.intervals.map((interval) => rate(interval.ok[k] ?? 0, interval)) })),
      { name: "failed/s", values: timeline.intervals.map((interval) => rate(interval.failed, interval)) },
    ],
  };
  const percentile = (pick: (l: NonNullable<IntervalFigures["latencyMs"]>) => number) => timeline.intervals.map((interval) => (interval.latencyMs === null ? null : pick(interval.latencyMs)));
  const latency: TimeChart = {
    id: "latency",
    yLabel: "latency, ms",
    series: [
      { name: "p50", values: percentile((l) => l.p50) },
      { name: "p99", values: percentile((l) => l.p99) },
      { name: "p99.9", values: percentile((l) => l.p999) },
    ],
  };
  const intervalText = `${timeline.intervals.length} intervals of ${(timeline.intervalMs / 1000).toFixed(timeline.intervalMs % 1000 === 0 ? 0 : 3)} s` +
    " (the last one runs to the end of the run)";
  const parameters = page.parameters.map(([name, value]) => `<tr><td>${escapeHtml(name)}</td><td>${escapeHtml(value)}</td></tr>`).join("");
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>${style}</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(page.title)}</h1>`,
    `<table class="parameters">${parameters}</table>`,
    `<h2>Throughput over time</h2>`,
    `<p class="note">Operations completed per interval, divided by its length; ${escapeHtml(intervalText)}.</p>`,
    timeChart(throughput, timeline, page.markers),
    `<h2>Latency percentiles over time</h2>`,
    `<p class="note">Of ${escapeHtml(page.latencyLabel)}, per interval; a gap is an interval without one.</p>`,
    timeChart(latency, timeline, page.markers),
    `<h2>Latency histogram</h2>`,
    `<p class="note">Of ${escapeHtml(page.latencyLabel)}, over the whole run.</p>`,
    histogramChart(timeline.latencyBuckets, page.latencyLabel),
    `<h2>Summary</h2>`,
    `<pre class="summary">${escapeHtml(page.summary)}</pre>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
