// `kv demo bookstore`: the command around client/bookstore.ts. It runs the demo against a cluster
// given by --coordinator, or one given by --cluster DIR (a running `kv cluster`), or (by default) a
// local cluster it starts in a temp directory and stops at the end. With --chaos it kills the
// coordinator or a replica with SIGKILL and restarts it, on a seeded schedule, while the orders run
// (this needs a cluster it can restart: its own, or --cluster).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Argv } from "yargs";
import { InvalidArgument } from "../common/errors";
import { defaultCoordinators } from "../client/client";
import { bookstoreTimelineKinds, formatBookstoreReport, runBookstore, type BookstoreChaos } from "../tools/demo/bookstore";
import { bookstorePage, checkReportFile, writeReportFile } from "../tools/report/pages";
import { Timeline } from "../tools/report/timeline";
import { parseDuration } from "./bench-command";
import { fullySynced, waitUntil, type ChaosCluster } from "../tools/chaos/chaos";
import { AttachedCluster } from "../tools/chaos/attached";
import { LocalCluster } from "../tools/chaos/local-cluster";
import { Prng } from "../common/prng";
import { fail } from "./exit";
import { subcommand } from "./subcommand";

/** Each demo's default --port: apart, so that both demos can run at once. */
const demoPorts = { bookstore: 53051, shop: 53151 } as const;

/** The flags of `kv demo bookstore` only (`kv demo --help` groups them; the shop demo refuses them). */
const bookstoreOnly = ["books", "stock", "executors", "orders", "restock", "chaos", "interval", "coordinator", "cluster", "json", "report"] as const;
/** The flags of `kv demo shop` only (the bookstore demo refuses them). */
const shopOnly = ["users", "shop-stock", "in-flight"] as const;

/**
 * The defaults of the flags one demo alone takes. yargs leaves them unset, so that a flag given
 * to the other demo can be told from a default and refused (a silently ignored --chaos would
 * mislead).
 */
const bookstoreDefaults = { books: 10, stock: 40, executors: 8, orders: 300, restock: true, chaos: false, interval: "2s" } as const;
const shopDefaults = { users: 1_000, "shop-stock": 100, "in-flight": 1_000 } as const;

export function bookstoreCommandOptions<T>(y: Argv<T>) {
  return y
    .option("books", { type: "number", describe: `books in the catalog (default ${bookstoreDefaults.books})` })
    .option("stock", { type: "number", describe: `initial stock of each book (default ${bookstoreDefaults.stock})` })
    .option("executors", { type: "number", describe: `concurrent order executors (default ${bookstoreDefaults.executors})` })
    .option("orders", { type: "number", describe: `orders to place in all (default ${bookstoreDefaults.orders})` })
    .option("restock", { type: "boolean", describe: "restock random books while the orders run (the default; --no-restock: never)" })
    .option("chaos", { type: "boolean", describe: "kill -9 and restart the coordinator or a replica while the orders run (default: no)" })
    .option("interval", { type: "string", describe: `with --chaos: mean time between kills (default ${bookstoreDefaults.interval})` })
    .option("seed", { type: "number", default: 1, describe: "decides the catalog, the orders and the chaos schedule" })
    .option("coordinator", { type: "string", describe: `use the running store whose coordinators are HOST:PORT,... (e.g. ${defaultCoordinators}) instead of starting one` })
    .option("cluster", { type: "string", describe: "use the running kv cluster whose --data-dir is DIR (with --chaos, its processes are killed and restarted)" })
    .option("port", { type: "number", describe: `the port of the cluster the demo starts (replicas take the next ones; default: ${demoPorts.bookstore} for bookstore, ${demoPorts.shop} for shop, so that both can run at once)` })
    .option("json", { type: "string", describe: "write the report here as JSON" })
    .option("report", { type: "string", describe: "write a self-contained HTML report here: orders, restocks and stock reads per second, order latency per second and as a histogram, the table" });
}

type BookstoreArgv = {
  books: number;
  stock: number;
  executors: number;
  orders: number;
  restock: boolean;
  chaos: boolean;
  interval: string;
  seed: number;
  coordinator?: string | undefined;
  cluster?: string | undefined;
  port?: number | undefined;
  json?: string | undefined;
  report?: string | undefined;
};

const settleTimeoutMs = 60_000;
const syncTimeoutMs = 60_000;

function positive(field: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgument(field, `${field} must be a positive integer, not ${value}`);
}

/** Kills one member at a time and restarts it, on a seeded schedule, until stopped. */
function killAndRestart(cluster: ChaosCluster, seed: number, intervalMs: number, log: (line: string) => void): BookstoreChaos {
  const prng = new Prng(seed ^ 0x5eed);
  const names = ["coordinator", ...cluster.replicaIds];
  let stopping = false;
  let injected = 0;
  let loop: Promise<void> = Promise.resolve();
  let wake: () => void = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  return {
    start() {
      loop = (async () => {
        while (!stopping) {
          await pause(intervalMs * (0.5 + prng.next()));
          if (stopping) return;
          const name = prng.pick(names);
          log(`bookstore chaos: kill -9 ${name}`);
          await cluster.kill(name);
          injected += 1;
          await pause(prng.int(200, 800));
          log(`bookstore chaos: restart ${name}`);
          await cluster.start(name);
        }
      })();
    },
    async stop() {
      stopping = true;
      wake();
      await loop;
      await cluster.heal();
      await waitUntil("the cluster fully in sync", syncTimeoutMs, () => fullySynced(cluster));
    },
    injected: () => injected,
  };
}

export async function runBookstoreCommand(argv: BookstoreArgv): Promise<number> {
  for (const field of ["books", "stock", "executors", "orders"] as const) positive(`--${field}`, argv[field]);
  if (argv.coordinator !== undefined && argv.cluster !== undefined) throw new InvalidArgument("--coordinator", "give --coordinator or --cluster, not both");
  if (argv.chaos && argv.coordinator !== undefined) {
    throw new InvalidArgument("--chaos", "--chaos kills and restarts processes: it needs the cluster the demo starts, or one given by --cluster DIR, not --coordinator");
  }
  const intervalMs = parseDuration("--interval", argv.interval);
  if (argv.report !== undefined) {
    if (argv.report.trim() === "") throw new InvalidArgument("--report", "--report needs a file name");
    checkReportFile(argv.report);
  }
  const timeline = argv.report === undefined ? undefined : new Timeline(bookstoreTimelineKinds);
  const log = (line: string) => console.log(line);

  let cluster: ChaosCluster | null = null;
  let tempDir: string | null = null;
  let coordinator = argv.coordinator;
  if (argv.cluster !== undefined) {
    cluster = await AttachedCluster.open(argv.cluster);
  } else if (coordinator === undefined) {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bookstore-"));
    const port = argv.port ?? demoPorts.bookstore;
    log(`bookstore: starting a local cluster on port ${port} (data in ${tempDir})`);
    cluster = await LocalCluster.start({ dataDir: tempDir, port, replicas: 3, proxied: false, logLevel: "warn" });
  }
  try {
    if (cluster !== null) {
      coordinator = cluster.coordinatorAddress;
      await waitUntil("every replica up and in sync", syncTimeoutMs, () => fullySynced(cluster!));
    }
    const chaos = argv.chaos && cluster !== null ? killAndRestart(cluster, argv.seed, intervalMs, log) : null;
    const report = await runBookstore(
      {
        coordinator: coordinator!,
        books: argv.books,
        initialStock: argv.stock,
        executors: argv.executors,
        orders: argv.orders,
        restock: argv.restock,
        seed: argv.seed,
        prefix: `bookstore/${argv.seed}/${Date.now().toString(36)}`,
        settleTimeoutMs,
        ...(timeline === undefined ? {} : { timeline }),
      },
      chaos,
      log,
    );
    console.log(formatBookstoreReport(report));
    if (argv.json !== undefined) fs.writeFileSync(argv.json, `${JSON.stringify(report, null, 2)}\n`);
    if (argv.report !== undefined && timeline !== undefined) {
      const run = { seed: argv.seed, books: argv.books, initialStock: argv.stock, executors: argv.executors, orders: argv.orders, chaos: argv.chaos };
      writeReportFile(argv.report, bookstorePage(run, timeline.finish(report.ordersRanForMs * 1e6), [], formatBookstoreReport(report)));
      console.log(`html report: ${argv.report}`);
    }
    return report.passed ? 0 : 1;
  } finally {
    await cluster?.release();
    if (tempDir !== null) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

export const demoCommand = subcommand({
  builder: (y) =>
    bookstoreCommandOptions(y.positional("name", { choices: ["bookstore", "shop"] as const, demandOption: true }))
      .option("users", { type: "number", describe: `users with credit 1, and as many orders of the one item (default ${shopDefaults.users})` })
      .option("shop-stock", { type: "number", describe: `the item's stock: the checkouts that can succeed (default ${shopDefaults["shop-stock"]})` })
      .option("in-flight", { type: "number", describe: `checkouts sent at once (default ${shopDefaults["in-flight"]})` })
      .group(bookstoreOnly, "kv demo bookstore:")
      .group(shopOnly, "kv demo shop:")
      .group(["port", "seed"], "both:"),
  run: async (argv) => {
    try {
      const other = argv.name === "shop" ? bookstoreOnly : shopOnly;
      const given = other.find((flag) => argv[flag] !== undefined);
      if (given !== undefined) {
        throw new InvalidArgument(`--${given}`, `--${given} is a flag of kv demo ${argv.name === "shop" ? "bookstore" : "shop"}, not of kv demo ${argv.name} (kv demo --help lists each demo's flags)`);
      }
      if (argv.name === "shop") {
        // Loaded here: fastify and the shop are needed by this demo alone.
        const { runShopDemo } = require("./shop-demo-command") as typeof import("./shop-demo-command");
        return await runShopDemo({
          seed: argv.seed,
          port: argv.port ?? demoPorts.shop,
          users: argv.users ?? shopDefaults.users,
          "shop-stock": argv["shop-stock"] ?? shopDefaults["shop-stock"],
          "in-flight": argv["in-flight"] ?? shopDefaults["in-flight"],
        });
      }
      return await runBookstoreCommand({
        ...argv,
        books: argv.books ?? bookstoreDefaults.books,
        stock: argv.stock ?? bookstoreDefaults.stock,
        executors: argv.executors ?? bookstoreDefaults.executors,
        orders: argv.orders ?? bookstoreDefaults.orders,
        restock: argv.restock ?? bookstoreDefaults.restock,
        chaos: argv.chaos ?? bookstoreDefaults.chaos,
        interval: argv.interval ?? bookstoreDefaults.interval,
      });
    } catch (error) {
      return fail(error);
    }
  },
});
