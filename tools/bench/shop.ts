// `npm run bench:shop`: the web shop under the public stress test's load (issue 15). It starts a
// local cluster (2 coordinators, 3 replicas, each its own process, in a temp directory) and one
// `kv shop` process, initialises the store as the stress test does (batch_init of items, users and
// orders: 100,000 each by default, stock and credit 1,000,000, price 1) and times each batch_init,
// then, for each level of concurrency (100 and 1,000 HTTP connections by default; the orders are
// initialised again before each level after the first, so that every level starts unpaid), runs autocannon
// for --duration seconds against POST /orders/checkout/{id} with a random pre-initialised order id
// per request, as the stress test's clients do. Once an order is paid, a checkout of it again
// answers 400 "already paid": the successful checkouts (200) and those 400s are reported apart.
// It prints checkouts/s, p50 and p99 latency for each level, and the load average of the machine
// before each phase (it is shared: figures, never assertions).
//
//   npm run bench:shop -- [--orders 100000] [--users 100000] [--items 100000] [--duration 10] [--connections 100,1000] [--init-only] [--trace] [--value-cache-mib M]
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

async function main(): Promise<number> {
  const argv = yargs(process.argv.slice(2))
    .option("orders", { type: "number", default: 100_000 })
    .option("users", { type: "number", default: 100_000 })
    .option("items", { type: "number", default: 100_000 })
    .option("duration", { type: "number", default: 10, describe: "seconds of load per level" })
    .option("connections", { type: "string", default: "100,1000", describe: "levels of concurrent HTTP connections" })
    .option("init-only", { type: "boolean", default: false, describe: "only time the batch_init of the stress test" })
    .option("value-cache-mib", { type: "number", describe: "the coordinators' --value-cache-mib (default: theirs; 0: no cache of key states)" })
    .option("trace", { type: "boolean", default: false, describe: "after each level, print where the coordinator's time went (its per-phase latencies, as kv bench --trace)" })
    .strict()
    .parseSync();
  const levels = argv.connections.split(",").map(Number);
  if (levels.some((level) => !Number.isInteger(level) || level < 1)) throw new Error(`--connections ${argv.connections}: positive integers, comma-separated`);

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bench-shop-"));
  console.log(`bench:shop: ${os.cpus().length} cores, load average ${loadAverage()} (1, 5, 15 min) before the start`);
  const cluster = await LocalCluster.start({ dataDir, port: await freePortRun(10), replicas: 3, coordinators: 2, proxied: false, logLevel: "warn", ...(argv["value-cache-mib"] === undefined ? {} : { valueCacheMib: argv["value-cache-mib"] }) });
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
    await timed("orders", argv.orders, `${shop.url}/orders/batch_init/${argv.orders}/${argv.items}/${argv.users}/1`);
    console.log(`\n${formatTable(init, { rightAligned: "all-but-first" })}\n`);
    if (argv["init-only"]) return 0;

    // Loaded only here: a dev dependency, needed by this benchmark alone.
    const autocannon = require("autocannon") as Autocannon;
    const rows: string[][] = [["connections", "checkouts/s", "200 paid", "400 already paid", "other", "errors+timeouts", "p50 ms", "p99 ms", "max ms", "load avg before"]];
    const probe = argv.trace ? new KvClient(cluster.coordinatorAddress, { timeoutMs: 5_000 }) : null;
    for (const [level, connections] of levels.entries()) {
      // Each level starts from unpaid orders, as the first does: a level after another would
      // otherwise find the orders the earlier one paid, and answer more of its checkouts with the
      // cheap 400 "already paid" (its figures would not compare with a level run alone).
      if (level > 0) await timed("orders again", argv.orders, `${shop.url}/orders/batch_init/${argv.orders}/${argv.items}/${argv.users}/1`);
      const load = loadAverage();
      await probe?.status({ resetTrace: true });
      const result = await autocannon({
        url: shop.url,
        connections,
        duration: argv.duration,
        pipelining: 1,
        timeout: 30,
        requests: [
          {
            method: "POST",
            setupRequest: (request) => ({ ...request, path: `/orders/checkout/${Math.floor(Math.random() * argv.orders)}` }),
          },
        ],
      });
      const count = (status: string): number => result.statusCodeStats[status]?.count ?? 0;
      const other = Object.entries(result.statusCodeStats)
        .filter(([status]) => status !== "200" && status !== "400")
        .map(([status, stats]) => `${status}: ${stats.count}`)
        .join(", ");
      rows.push([
        String(connections),
        String(Math.round(result.requests.total / result.duration)),
        String(count("200")),
        String(count("400")),
        other === "" ? "0" : other,
        String(result.errors + result.timeouts),
        String(result.latency.p50),
        String(result.latency.p99),
        String(result.latency.max),
        load,
      ]);
      console.log(`bench:shop: ${connections} connections for ${argv.duration} s done`);
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
