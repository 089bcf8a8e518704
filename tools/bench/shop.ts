// `npm run bench:shop`: the web shop under the public stress test's load (issue 15). It starts a
// local cluster (2 coordinators, 3 replicas, each its own process, in a temp directory) and one
// `kv shop` process, initialises the store as the stress test does (batch_init of items, users and
// orders: 100,000 each by default, stock and credit 1,000,000, price 1) and times each batch_init,
// then, for each level of concurrency (100 and 1,000 HTTP connections by default; the orders are
// initialised again before each level after the first, so that every level starts unpaid), runs
// autocannon for --warmup seconds, not counted (on orders of its own), then for --duration seconds against POST /orders/checkout/{id} with a random pre-initialised order id
// per request, as the stress test's clients do. Once an order is paid, a checkout of it again
// answers 400 "already paid": the successful checkouts (200) and those 400s are reported apart.
// It prints checkouts/s, p50 and p99 latency for each level, and the load average of the machine
// before each phase (it is shared: figures, never assertions). With --think-ms LO-HI, each level is
// that many clients that wait LO to HI ms after each answer, as the public stress test's locust
// users do (tools/bench/thinking-clients.ts), instead of autocannon's connections, which do not.
//
//   npm run bench:shop -- [--orders 100000] [--users 100000] [--items 100000] [--duration 10] [--warmup 5] [--connections 100,1000] [--init-only] [--trace] [--value-cache-mib M] [--think-ms LO-HI]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import yargs from "yargs";
import { KvClient } from "../../client/client";
import { formatTable } from "../../common/table";
import { fullySynced, waitUntil } from "../chaos/chaos";
import { LocalCluster } from "../chaos/local-cluster";
import { kvScript } from "../cluster/process-args";
import { freePort, freePortRun } from "../ports";
import { formatPhases } from "./phases";
import { runThinkingClients, type ThinkingResult } from "./thinking-clients";

/** The part of autocannon's result this benchmark reads (autocannon ships no types). */
interface AutocannonResult {
  readonly duration: number;
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number; readonly average: number };
  readonly requests: { readonly total: number; readonly average: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly "2xx": number;
  readonly non2xx: number;
  readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
}
interface AutocannonRequest {
  method: string;
  path: string;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  pipelining: number;
  timeout: number;
  requests: { method: string; setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
}) => Promise<AutocannonResult>;

const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(" ");

async function post(url: string): Promise<string> {
  const response = await fetch(url, { method: "POST", signal: AbortSignal.timeout(600_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url}: ${response.status} ${text}`);
  return text;
}

/** Starts `kv shop` on a free port; resolves with its URL and a stop function. */
async function startShopProcess(coordinators: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [kvScript, "shop", "--listen", `127.0.0.1:${port}`, "--coordinator", coordinators, "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitUntil("kv shop answering", 20_000, async () => (await fetch(`${url}/payment/find_user/none`)).status === 400);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** What one level measured, whichever the load (autocannon's, or thinking clients'). */
type LevelResult = ThinkingResult;

// Loaded only when used: a dev dependency, needed by this benchmark alone.
const autocannon = (): Autocannon => require("autocannon") as Autocannon;

/** autocannon's connections, each sending its next request the moment it has the answer. */
async function closedLoop(run: Autocannon, url: string, connections: number, durationS: number, path: () => string): Promise<LevelResult> {
  const result = await run({ url, connections, duration: durationS, pipelining: 1, timeout: 30, requests: [{ method: "POST", setupRequest: (request) => ({ ...request, path: path() }) }] });
  return {
    total: result.requests.total,
    durationMs: result.duration * 1000,
    statuses: new Map(Object.entries(result.statusCodeStats).map(([status, stats]) => [Number(status), stats.count])),
    errors: result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
  };
}

/** Clients that think between requests (tools/bench/thinking-clients.ts). */
function thinking(url: string, clients: number, think: { min: number; max: number }, durationS: number, path: () => string): Promise<LevelResult> {
  return runThinkingClients({ url, clients, thinkMsMin: think.min, thinkMsMax: think.max, durationMs: durationS * 1000, path, method: "POST", timeoutMs: 30_000 });
}

function parseThink(text: string): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const [min, max] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
  if (!(min <= max)) throw new Error(`--think-ms ${text}: LO-HI in milliseconds, LO at most HI (e.g. 1000-3000)`);
  return { min, max };
}

async function main(): Promise<number> {
  const argv = yargs(process.argv.slice(2))
    .option("orders", { type: "number", default: 100_000 })
    .option("users", { type: "number", default: 100_000 })
    .option("items", { type: "number", default: 100_000 })
    .option("duration", { type: "number", default: 10, describe: "seconds of load per level" })
    .option("warmup", { type: "number", default: 5, describe: "seconds of the same load before each level, not counted (0: none)" })
    .option("connections", { type: "string", default: "100,1000", describe: "levels of concurrent HTTP connections" })
    .option("init-only", { type: "boolean", default: false, describe: "only time the batch_init of the stress test" })
    .option("think-ms", {
      type: "string",
      describe: "LO-HI: instead of autocannon's connections, clients that wait a think time drawn from LO to HI ms after each answer, as the public stress test's locust users do (its wait_time = between(1, 3) is 1000-3000)",
    })
    .option("value-cache-mib", { type: "number", describe: "the coordinators' --value-cache-mib (default: theirs; 0: no cache of key states)" })
    .option("trace", { type: "boolean", default: false, describe: "after each level, print where the coordinator's time went (its per-phase latencies, as kv bench --trace)" })
    .strict()
    .parseSync();
  const levels = argv.connections.split(",").map(Number);
  if (levels.some((level) => !Number.isInteger(level) || level < 1)) throw new Error(`--connections ${argv.connections}: positive integers, comma-separated`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bench-shop-"));
  console.log(`bench:shop: ${os.cpus().length} cores, load average ${loadAverage()} (1, 5, 15 min) before the start`);
  const cluster = await LocalCluster.start({ dataDir, port: await freePortRun(10), replicas: 3, coordinators: 2, proxied: false, logLevel: "warn", valueCacheMib: argv["value-cache-mib"] });
  let shop: { url: string; stop: () => Promise<void> } | null = null;
  try {
    await waitUntil("every replica up and in sync", 60_000, () => fullySynced(cluster));
    shop = await startShopProcess(cluster.coordinatorAddress);
    const init: string[][] = [["batch_init", "records", "ms", "records/s"]];
    const timed = async (what: string, records: number, url: string): Promise<void> => {
      const started = Date.now();
      await post(url);
      const ms = Date.now() - started;
      init.push([what, String(records), String(ms), String(Math.round((records * 1000) / ms))]);
      console.log(`bench:shop: ${what} of ${records} in ${ms} ms (load average ${loadAverage()})`);
    };
    await timed("stock", argv.items, `${shop.url}/stock/batch_init/${argv.items}/1000000/1`);
    await timed("payment", argv.users, `${shop.url}/payment/batch_init/${argv.users}/1000000`);
    // With a warm-up, twice the orders: the warm-up checks out orders --orders.. (2 x --orders - 1),
    // the measured load "0".. (--orders - 1), which it finds unpaid.
    const initOrders = argv.warmup > 0 ? 2 * argv.orders : argv.orders;
    const ordersUrl = `${shop.url}/orders/batch_init/${initOrders}/${argv.items}/${argv.users}/1`;
    await timed("orders", initOrders, ordersUrl);
    console.log(`\n${formatTable(init, { rightAligned: "all-but-first" })}\n`);
    if (argv["init-only"]) return 0;

    const think = argv["think-ms"] === undefined ? null : parseThink(argv["think-ms"]);
    const rows: string[][] = [[think === null ? "connections" : `clients (think ${think.min}-${think.max} ms)`, "checkouts/s", "200 paid", "400 already paid", "other", "errors+timeouts", "p50 ms", "p99 ms", "max ms", "load avg before"]];
    const probe = argv.trace ? new KvClient(cluster.coordinatorAddress, { timeoutMs: 5_000 }) : null;
    for (const [level, connections] of levels.entries()) {
      // Each level starts from unpaid orders, as the first does: a level after another would
      // otherwise find the orders the earlier one paid, and answer more of its checkouts with the
      // cheap 400 "already paid" (its figures would not compare with a level run alone).
      if (level > 0) await timed("orders again", initOrders, ordersUrl);
      const load = loadAverage();
      await probe?.status({ resetTrace: true });
      const url = shop.url;
      const run = (durationS: number, firstOrder: number): Promise<LevelResult> => {
        const checkoutPath = (): string => `/orders/checkout/${firstOrder + Math.floor(Math.random() * argv.orders)}`;
        return think === null ? closedLoop(autocannon(), url, connections, durationS, checkoutPath) : thinking(url, connections, think, durationS, checkoutPath);
      };
      // Not counted: the same load first, for --warmup seconds. Right after the initialisation's
      // hundreds of thousands of writes the replicas are still checkpointing and compacting, and a
      // level measured at once saw a p99 ten times that of the same level measured a minute later.
      if (argv.warmup > 0) await run(argv.warmup, argv.orders);
      const measured = await run(argv.duration, 0);
      const count = (status: number): number => measured.statuses.get(status) ?? 0;
      const other = [...measured.statuses]
        .filter(([status]) => status !== 200 && status !== 400)
        .map(([status, n]) => `${status}: ${n}`)
        .join(", ");
      rows.push([
        String(connections),
        String(Math.round((measured.total * 1000) / measured.durationMs)),
        String(count(200)),
        String(count(400)),
        other === "" ? "0" : other,
        String(measured.errors),
        String(measured.p50Ms),
        String(measured.p99Ms),
        String(measured.maxMs),
        load,
      ]);
      console.log(`bench:shop: ${connections} ${think === null ? "connections" : "thinking clients"} for ${argv.duration} s done`);
      if (probe !== null) console.log(`\n${connections} connections, the coordinator's phases:\n${formatPhases((await probe.status({ resetTrace: true })).phases)}\n`);
    }
    console.log(`\n${formatTable(rows, { rightAligned: "all-but-first" })}`);
    console.log(`(checkouts/s counts every answer, 200 and 400; load average after: ${loadAverage()})`);
    probe?.close();
    return 0;
  } finally {
    await shop?.stop();
    await cluster.release();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
