// Clients that think between requests, as a locust user does (bench:shop --think-ms, issue 15): each
// of `clients` sends a request, waits for its answer, then waits a think time drawn uniformly from
// [thinkMsMin, thinkMsMax] before the next. The public stress test's users do this (its locustfile's
// `wait_time = between(1, 3)`), where autocannon's connections send the next request at once; the
// two loads differ five- to tenfold at the same count of clients.
//
// Each client starts after a think time of its own, so that the first requests are spread out; only
// requests sent after the first thinkMsMax ms are counted (the ramp is left out), for durationMs.
// Keep-alive connections (node:http), one request at a time on each.
import * as http from "node:http";
import * as hdr from "hdr-histogram-js";

export interface ThinkingResult {
  /** Requests counted (sent after the ramp, answered before the end). */
  readonly total: number;
  readonly durationMs: number;
  /** Answers by HTTP status. */
  readonly statuses: ReadonlyMap<number, number>;
  /** Requests that failed without an HTTP answer (connection errors, the timeout). */
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ThinkingOptions {
  readonly url: string;
  readonly clients: number;
  readonly thinkMsMin: number;
  readonly thinkMsMax: number;
  readonly durationMs: number;
  /** The path of each request (drawn anew for each). */
  readonly path: () => string;
  readonly method: string;
  /** A request unanswered this long counts as an error. */
  readonly timeoutMs: number;
}

export async function runThinkingClients(options: ThinkingOptions): Promise<ThinkingResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  const statuses = new Map<number, number>();
  let errors = 0;
  let total = 0;
  const start = performance.now();
  const countFrom = start + options.thinkMsMax;
  const end = countFrom + options.durationMs;
  const think = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, options.thinkMsMin + Math.random() * (options.thinkMsMax - options.thinkMsMin)));
  const send = (): Promise<number | null> =>
    new Promise((resolve) => {
      const request = http.request(`${options.url}${options.path()}`, { method: options.method, agent, timeout: options.timeoutMs }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode ?? null));
        response.on("error", () => resolve(null));
      });
      request.on("timeout", () => request.destroy(new Error("timeout")));
      request.on("error", () => resolve(null));
      request.end();
    });
  const client = async (): Promise<void> => {
    await think();
    while (performance.now() < end) {
      const sentAt = performance.now();
      const status = await send();
      const answeredAt = performance.now();
      if (sentAt >= countFrom && answeredAt <= end) {
        total += 1;
        if (status === null) errors += 1;
        else {
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          histogram.recordValue(Math.max(1, Math.round((answeredAt - sentAt) * 1000)));
        }
      }
      await think();
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, client));
  } finally {
    agent.destroy();
  }
  const ms = (percentile: number): number => Math.round(histogram.getValueAtPercentile(percentile) / 1000);
  return { total, durationMs: options.durationMs, statuses, errors, p50Ms: ms(50), p99Ms: ms(99), maxMs: Math.round(histogram.maxValue / 1000) };
}
