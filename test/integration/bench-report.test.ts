// Proves that `kv bench --report FILE.html`, run as the real command against a real cluster, writes
// a self-contained page (three inline SVG charts, no URL, no src=, no script) whose series have one
// point per whole second of the run (the run's length read from the page's own "ran for" line and
// the printed summary), whose throughput series add up to the operations the printed table counts
// (rate times interval length, per kind), and that embeds the printed table; and that a report path
// that cannot be written is refused before the run, naming the flag.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killAllStarted, runKv, TestCluster } from "./harness";

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bench-report-"));
  cluster = await TestCluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  await killAllStarted();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

/** Each series' values from its data-values attribute (null for a gap), by series name. */
function seriesValues(html: string): Map<string, (number | null)[]> {
  const out = new Map<string, (number | null)[]>();
  for (const m of html.matchAll(/<g class="series" data-series="([^"]*)" data-points="(\d+)" data-values="([^"]*)">/g)) {
    const values = m[3]!.split(" ").map((v) => (v === "-" ? null : Number(v)));
    expect(values.filter((v) => v !== null)).toHaveLength(Number(m[2]));
    // The latency chart's series come after the throughput chart's; both charts have each name once.
    out.set(m[1]!, values);
  }
  return out;
}

describe("kv bench --report", () => {
  it("writes a self-contained page with one point per second of the run, adding up to the table", async () => {
    const file = path.join(dir, "bench.html");
    const run = await runKv(["bench", "--coordinator", cluster.coordinatorAddress, "--duration", "3500ms", "--concurrency", "4", "--connections", "2", "--workload", "A", "--keys", "50", "--report", file]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[lines.length - 1]).toBe(`html report: ${file}`);

    const html = fs.readFileSync(file, "utf8");
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html.match(/<svg\b/g)).toHaveLength(3);
    expect(html).not.toMatch(/http/i);
    expect(html).not.toMatch(/src=/i);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain("<h1>kv bench: workload A, 4 clients, 3.5 s, 50 keys (uniform), values of 100 bytes</h1>");

    // The printed table is in the page, escaped as HTML (the table has no & < > " ').
    const table = run.stdout.slice(0, run.stdout.indexOf("latency: successful operations only"));
    expect(html).toContain(table.trim());

    // The run lasted a little over 3.5 s: three whole seconds, the last interval to the end.
    const ranFor = Number(/<td>ran for<\/td><td>([\d.]+) s<\/td>/.exec(html)?.[1]);
    expect(ranFor).toBeGreaterThanOrEqual(3.5);
    const printed = Number(/operations in ([\d.]+) s/.exec(run.stdout)?.[1]);
    expect(printed).toBeCloseTo(ranFor, 2);
    const intervals = Math.floor(ranFor);
    const series = seriesValues(html);
    for (const name of ["get ok/s", "put ok/s", "failed/s"]) expect(series.get(name), name).toHaveLength(intervals);
    for (const name of ["p50", "p99", "p99.9"]) {
      const values = series.get(name)!;
      expect(values, name).toHaveLength(intervals);
      // Four clients never stop for a whole second: every interval has latencies.
      for (const value of values) expect(value).toBeGreaterThan(0);
    }
    const p50 = series.get("p50")!;
    const p999 = series.get("p99.9")!;
    for (let i = 0; i < intervals; i++) expect(p50[i]!).toBeLessThanOrEqual(p999[i]!);

    // Rate times length, summed over the intervals, is the count of successful operations of each kind.
    const lengthsS = Array.from({ length: intervals }, (_, i) => (i === intervals - 1 ? ranFor - i : 1));
    for (const kind of ["get", "put"] as const) {
      const ok = Number(new RegExp(`^${kind}\\s+\\d+\\s+(\\d+)`, "m").exec(run.stdout)?.[1]);
      expect(ok).toBeGreaterThan(0);
      const total = series.get(`${kind} ok/s`)!.reduce<number>((sum, rate, i) => sum + rate! * lengthsS[i]!, 0);
      // ranFor is printed to 10 ms: the last interval's length is known to 0.5%.
      expect(Math.abs(total - ok)).toBeLessThanOrEqual(Math.max(2, ok * 0.01));
    }
    // The histogram counts every successful operation.
    const bars = [...html.matchAll(/<rect class="bar"[^>]*data-count="(\d+)"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    const okAll = Number(/^all\s+\d+\s+(\d+)/m.exec(run.stdout)?.[1]);
    expect(bars).toBe(okAll);
  });

  it("refuses a report file it cannot write before running, naming the flag", async () => {
    const file = path.join(dir, "no-such-dir", "bench.html");
    const run = await runKv(["bench", "--coordinator", cluster.coordinatorAddress, "--duration", "30s", "--report", file]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("--report");
    expect(run.stdout).not.toContain("operations in");
  });
});
