// `kv demo shop`: starts a local cluster (two coordinators, three replicas, each its own process, in
// a temp directory) and the web shop over it (in this process, on a free port of 127.0.0.1), then
// runs the shop's consistency scenario (tools/demo/shop.ts) twice on fresh keys: without faults,
// and with kill -9 of the active coordinator and of replica r2 during the checkouts (the standby
// takes over; both are restarted). Prints each table; exits 1 if a check fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isActiveStatus, KvClient } from "../client/client";
import { InvalidArgument } from "../common/errors";
import { fullySynced, waitUntil } from "../tools/chaos/chaos";
import { LocalCluster } from "../tools/chaos/local-cluster";
import { formatShopReport, runShopScenario, type ShopScenarioReport } from "../tools/demo/shop";
import { startShop } from "../shop/service";

export interface ShopDemoArgv {
  readonly users: number;
  readonly "shop-stock": number;
  readonly "in-flight": number;
  readonly seed: number;
  readonly port: number;
}

const syncTimeoutMs = 60_000;
/** How long the faulted run's shop lets the library retry before it answers 503: shorter than a takeover, so that HTTP clients see unknown outcomes and retry them. */
const faultedRetryForMs = 300;

export async function runShopDemo(argv: ShopDemoArgv): Promise<number> {
  for (const field of ["users", "shop-stock", "in-flight"] as const) {
    if (!Number.isInteger(argv[field]) || argv[field] < 1) throw new InvalidArgument(`--${field}`, `--${field} must be a positive integer, not ${argv[field]}`);
  }
  if (argv["shop-stock"] > argv.users) throw new InvalidArgument("--shop-stock", `--shop-stock ${argv["shop-stock"]} is above --users ${argv.users}: every user has credit for one item`);
  const log = (line: string) => console.log(line);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-shop-"));
  log(`shop demo: starting a local cluster on ports ${argv.port}.. (2 coordinators, 3 replicas; data in ${dataDir})`);
  const cluster = await LocalCluster.start({ dataDir, port: argv.port, replicas: 3, coordinators: 2, proxied: false, logLevel: "warn" });
  const reports: ShopScenarioReport[] = [];
  try {
    await waitUntil("every replica up and in sync", syncTimeoutMs, () => fullySynced(cluster));
    for (const faulted of [false, true]) {
      const client = new KvClient(cluster.coordinatorAddress, faulted ? { retryForMs: faultedRetryForMs } : {});
      const shop = await startShop({ host: "127.0.0.1", port: 0, store: client, prefix: `demo-shop/${faulted ? "faults" : "quiet"}/${Date.now().toString(36)}/` });
      log(`shop demo: the shop listens on ${shop.url}`);
      try {
        const report = await runShopScenario({
          url: shop.url,
          stock: argv["shop-stock"],
          users: argv.users,
          inFlight: argv["in-flight"],
          seed: argv.seed + (faulted ? 1 : 0),
          retryForMs: 60_000,
          log,
          faults: faulted
            ? async (answered) => {
                await waitUntil("20 checkouts answered", 30_000, async () => answered() >= 20);
                // The coordinators' names are in the order of their addresses.
                const probes = await cluster.admin.kv().probeCoordinators();
                const index = probes.findIndex((probe) => probe.reachable && probe.status.role === "active");
                const active = cluster.coordinatorNames[Math.max(0, index)]!;
                log(`shop demo: kill -9 ${active} and r2 after ${answered()} checkouts answered`);
                await cluster.kill(active);
                await cluster.kill("r2");
                await waitUntil("another coordinator active", 30_000, async () => isActiveStatus(await cluster.admin.status()));
                log(`shop demo: a standby took over; restarting ${active} and r2`);
                await cluster.start(active);
                await cluster.start("r2");
              }
            : null,
        });
        reports.push(report);
        console.log(`\n${formatShopReport(faulted ? "with kill -9 of the active coordinator and of r2" : "without faults", report)}\n`);
      } finally {
        await shop.stop();
        client.close();
      }
    }
  } finally {
    await cluster.release();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return reports.every((report) => report.passed) ? 0 : 1;
}
