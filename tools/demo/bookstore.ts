// The bookstore: the workload twopc-kv was first imagined for, run as a demo that checks itself.
//
// A catalog of books (stock and price per book) is seeded; then order executors place orders of one
// to three books with random quantities, each order one multi-key transaction that decrements every
// book's stock with a floor of 0 and records the order under its own key, while a restocker adds
// stock, a watcher reads all stocks in one transaction, and (with chaos) the coordinator or a
// replica is killed with SIGKILL and restarted. Every order and restock carries a request id and is
// retried with it until its outcome is certain, so each is applied exactly once. At the end the
// demo checks, per book, initial - sold + restocked = final and that no stock was ever negative,
// and that the order records are exactly the successful orders.
import { Code, codeName, KvError } from "../../common/errors";
import { KvClient, type TxnOperation } from "../../client/client";
import { Prng } from "../../common/prng";
import { formatTable } from "../../common/table";
import type { Timeline } from "../report/timeline";

/** The kinds a bookstore timeline (--report) records, in the order its series are drawn. */
export const bookstoreTimelineKinds = ["order", "order refused (out of stock)", "restock", "stock read"] as const;

export interface BookstoreOptions {
  readonly coordinator: string;
  readonly books: number;
  readonly initialStock: number;
  readonly executors: number;
  readonly orders: number;
  readonly restock: boolean;
  readonly seed: number;
  /** Key prefix of this run, so that runs never see each other's books. */
  readonly prefix: string;
  /** How long an order or restock may stay uncertain (retried) before the run gives up on it. */
  readonly settleTimeoutMs: number;
  /** Records orders (with their latency), restocks and stock reads over time, for --report; its kinds are bookstoreTimelineKinds. */
  readonly timeline?: Timeline;
}

/** Faults to inject while the orders run (kv demo bookstore --chaos). */
export interface BookstoreChaos {
  start(): void;
  /** Stops injecting, heals everything, and resolves once the cluster serves again. */
  stop(): Promise<void>;
  readonly injected: () => number;
}

export interface BookRow {
  readonly book: string;
  readonly initial: number;
  readonly sold: number;
  readonly restocked: number;
  readonly final: number;
  readonly ok: boolean;
}

export interface BookstoreReport {
  readonly rows: readonly BookRow[];
  readonly ordersPlaced: number;
  readonly ordersSucceeded: number;
  readonly ordersOutOfStock: number;
  readonly orderRecords: number;
  readonly unexpectedRecords: readonly string[];
  readonly restocks: number;
  readonly lowestStockSeen: number;
  readonly stockReads: number;
  readonly faultsInjected: number;
  /** From the first order to the last order, restock or stock read. */
  readonly ordersRanForMs: number;
  readonly retriedAttempts: number;
  readonly failures: readonly string[];
  readonly passed: boolean;
}

interface Order {
  readonly id: string;
  readonly lines: readonly { readonly book: number; readonly quantity: number }[];
  outcome: "ok" | "out-of-stock" | "unknown";
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runBookstore(options: BookstoreOptions, chaos: BookstoreChaos | null, log: (line: string) => void): Promise<BookstoreReport> {
  const prng = new Prng(options.seed);
  const stockKey = (book: number) => `${options.prefix}/book/${book}/stock`;
  const priceKey = (book: number) => `${options.prefix}/book/${book}/price`;
  const orderKey = (id: string) => `${options.prefix}/order/${id}`;
  const clients: KvClient[] = [];
  const client = (): KvClient => {
    // Each attempt has a short deadline; the library retries UNAVAILABLE and DEADLINE_EXCEEDED with
    // the same request id, and the loops below retry ABORTED (a lock conflict: nothing written) as a
    // new request, under a new request id (a request id that failed definitely stays failed).
    const kv = new KvClient(options.coordinator, { timeoutMs: 3_000, retryForMs: options.settleTimeoutMs });
    clients.push(kv);
    return kv;
  };
  const failures: string[] = [];
  let retriedAttempts = 0;

  /**
   * Runs a request until its outcome is certain: its result, or the error that says it did not
   * apply. An outcome-unknown failure is retried under the same request id (exactly once); a
   * conflict (ABORTED) or a full coordinator (RESOURCE_EXHAUSTED) wrote nothing, and is retried as a
   * new request: requestId, then requestId.2, requestId.3, ...
   */
  async function settle<T>(
    what: string,
    attempt: (requestId: string | undefined) => Promise<T>,
    requestId?: string,
  ): Promise<{ ok: true; value: T } | { ok: false; error: KvError | null }> {
    const giveUpAt = Date.now() + options.settleTimeoutMs;
    let request = 1;
    for (let backoffMs = 20; ; backoffMs = Math.min(backoffMs * 2, 500)) {
      try {
        return { ok: true, value: await attempt(requestId === undefined || request === 1 ? requestId : `${requestId}.${request}`) };
      } catch (error) {
        if (!(error instanceof KvError)) throw error;
        const nothingWritten = error.code === Code.ABORTED || error.code === Code.RESOURCE_EXHAUSTED;
        const uncertain = error.code === Code.UNAVAILABLE || error.code === Code.DEADLINE_EXCEEDED || nothingWritten;
        if (!uncertain) return { ok: false, error };
        if (nothingWritten) request += 1;
        if (Date.now() > giveUpAt) {
          failures.push(`${what}: outcome still unknown after ${options.settleTimeoutMs} ms: ${error.message}`);
          return { ok: false, error: null };
        }
        retriedAttempts += 1;
        await sleep(backoffMs * (0.5 + prng.next() / 2));
      }
    }
  }

  // 1. The catalog.
  const setup = client();
  const prices = Array.from({ length: options.books }, () => prng.int(5, 50));
  await setup.txn({
    then: prices.flatMap((price, book): TxnOperation[] => [
      { type: "put", key: stockKey(book), value: String(options.initialStock) },
      { type: "put", key: priceKey(book), value: String(price) },
    ]),
  });
  log(`bookstore: ${options.books} books with ${options.initialStock} in stock each; ${options.executors} executors place ${options.orders} orders`);

  // 2. Orders, restocks and a watcher, while chaos (if any) knocks processes out.
  const orders: Order[] = [];
  let nextOrder = 0;
  const restocked = new Array<number>(options.books).fill(0);
  let restocks = 0;
  let running = true;
  let lowestStockSeen = Number.POSITIVE_INFINITY;
  let stockReads = 0;
  const startedNs = process.hrtime.bigint();
  const sinceStartNs = (): number => Number(process.hrtime.bigint() - startedNs);
  chaos?.start();

  const executors = Array.from({ length: options.executors }, async (_, executor) => {
    const kv = client();
    while (nextOrder < options.orders) {
      const number = nextOrder++;
      const books = new Set<number>();
      const wanted = prng.int(1, 3);
      while (books.size < Math.min(wanted, options.books)) books.add(prng.int(0, options.books - 1));
      const order: Order = {
        id: `${options.seed}-${number}`,
        lines: [...books].sort((a, b) => a - b).map((book) => ({ book, quantity: prng.int(1, 3) })),
        outcome: "unknown",
      };
      orders.push(order);
      const total = order.lines.reduce((sum, line) => sum + line.quantity * prices[line.book]!, 0);
      const spec = {
        then: [
          ...order.lines.map((line): TxnOperation => ({ type: "incr", key: stockKey(line.book), delta: -line.quantity, min: 0 })),
          { type: "put" as const, key: orderKey(order.id), value: JSON.stringify({ executor, lines: order.lines, total }) },
        ],
      };
      const sentNs = sinceStartNs();
      const result = await settle(`order ${order.id}`, (requestId) => kv.txn(spec, requestId === undefined ? {} : { requestId }), `order-${options.prefix}-${order.id}`);
      const doneNs = sinceStartNs();
      if (result.ok) order.outcome = "ok";
      else if (result.error?.code === Code.FAILED_PRECONDITION) order.outcome = "out-of-stock";
      else if (result.error !== null) failures.push(`order ${order.id} failed: ${`${codeName(result.error.code)}: ${result.error.message}`}`);
      if (order.outcome === "unknown") options.timeline?.recordFailure(doneNs);
      else options.timeline?.recordOk(order.outcome === "ok" ? "order" : "order refused (out of stock)", doneNs, (doneNs - sentNs) / 1000);
    }
  });

  const restocker = (async () => {
    if (!options.restock) return;
    const kv = client();
    for (let i = 0; running; i++) {
      const book = prng.int(0, options.books - 1);
      const amount = prng.int(1, 5);
      const result = await settle(`restock ${i}`, (requestId) => kv.increment(stockKey(book), amount, {}, requestId === undefined ? {} : { requestId }), `restock-${options.prefix}-${i}`);
      if (result.ok) options.timeline?.recordOk("restock", sinceStartNs(), null);
      else options.timeline?.recordFailure(sinceStartNs());
      if (result.ok) {
        restocked[book]! += amount;
        restocks += 1;
      } else if (result.error !== null) {
        failures.push(`restock ${i} failed: ${`${codeName(result.error.code)}: ${result.error.message}`}`);
      }
      await sleep(50);
    }
  })();

  const watcher = (async () => {
    const kv = client();
    const all = Array.from({ length: options.books }, (_, book): TxnOperation => ({ type: "get", key: stockKey(book) }));
    while (running) {
      const result = await settle("stock read", () => kv.txn({ then: all }));
      if (result.ok) options.timeline?.recordOk("stock read", sinceStartNs(), null);
      else options.timeline?.recordFailure(sinceStartNs());
      if (result.ok) {
        stockReads += 1;
        for (const item of result.value.results) {
          if (item.type === "get" && item.entry !== null) lowestStockSeen = Math.min(lowestStockSeen, Number(item.entry.value.toString("utf8")));
        }
      }
      await sleep(20);
    }
  })();

  await Promise.all(executors);
  running = false;
  await Promise.all([restocker, watcher]);
  const ordersRanForMs = sinceStartNs() / 1e6;
  if (chaos !== null) {
    log("bookstore: orders done; healing the cluster");
    await chaos.stop();
  }

  // 3. The checks, on what the store holds now.
  const kv = client();
  const finalRead = await settle("final stock read", () =>
    kv.txn({ then: Array.from({ length: options.books }, (_, book): TxnOperation => ({ type: "get", key: stockKey(book) })) }),
  );
  const finals = finalRead.ok
    ? finalRead.value.results.map((item) => (item.type === "get" && item.entry !== null ? Number(item.entry.value.toString("utf8")) : Number.NaN))
    : [];
  if (!finalRead.ok) failures.push("could not read the final stock");
  const sold = new Array<number>(options.books).fill(0);
  for (const order of orders) {
    if (order.outcome !== "ok") continue;
    for (const line of order.lines) sold[line.book]! += line.quantity;
  }
  const rows: BookRow[] = Array.from({ length: options.books }, (_, book) => {
    const final = finals[book] ?? Number.NaN;
    const ok = options.initialStock - sold[book]! + restocked[book]! === final && final >= 0;
    return { book: `book ${book}`, initial: options.initialStock, sold: sold[book]!, restocked: restocked[book]!, final, ok };
  });
  for (const row of rows) {
    if (!row.ok) failures.push(`${row.book}: initial ${row.initial} - sold ${row.sold} + restocked ${row.restocked} != final ${row.final}`);
  }
  if (lowestStockSeen < 0) failures.push(`a stock was read as ${lowestStockSeen}`);

  // Every successful order has its record; no other order does.
  let orderRecords = 0;
  const unexpectedRecords: string[] = [];
  for (const order of orders) {
    const read = await settle(`read of order ${order.id}`, () => kv.get(orderKey(order.id)));
    if (!read.ok) continue;
    if (read.value !== null) orderRecords += 1;
    if ((read.value !== null) !== (order.outcome === "ok")) unexpectedRecords.push(`${order.id} (${order.outcome}, record ${read.value === null ? "absent" : "present"})`);
  }
  const ordersSucceeded = orders.filter((order) => order.outcome === "ok").length;
  if (orderRecords !== ordersSucceeded) failures.push(`${orderRecords} order records for ${ordersSucceeded} successful orders`);
  if (unexpectedRecords.length > 0) failures.push(`order records that do not match the outcome: ${unexpectedRecords.slice(0, 5).join(", ")}`);
  for (const kvClient of clients) kvClient.close();

  return {
    rows,
    ordersPlaced: orders.length,
    ordersSucceeded,
    ordersOutOfStock: orders.filter((order) => order.outcome === "out-of-stock").length,
    orderRecords,
    unexpectedRecords,
    restocks,
    lowestStockSeen: Number.isFinite(lowestStockSeen) ? lowestStockSeen : 0,
    stockReads,
    faultsInjected: chaos?.injected() ?? 0,
    ordersRanForMs,
    retriedAttempts,
    failures,
    passed: failures.length === 0,
  };
}

export function formatBookstoreReport(report: BookstoreReport): string {
  const lines: string[] = [];
  const header = ["book", "initial", "sold", "restocked", "final", "check"];
  const table = report.rows.map((row) => [row.book, String(row.initial), String(row.sold), String(row.restocked), String(row.final), row.ok ? "ok" : "FAIL"]);
  lines.push(formatTable([header, ...table], { rightAligned: "all-but-first" }));
  lines.push("");
  lines.push(`orders: ${report.ordersPlaced} placed, ${report.ordersSucceeded} succeeded, ${report.ordersOutOfStock} refused (out of stock)`);
  lines.push(`order records: ${report.orderRecords} (must equal the successful orders)${report.unexpectedRecords.length > 0 ? `; mismatched: ${report.unexpectedRecords.length}` : ""}`);
  lines.push(`restocks: ${report.restocks}; stock reads: ${report.stockReads}, lowest stock seen ${report.lowestStockSeen} (must be >= 0)`);
  lines.push(`faults injected: ${report.faultsInjected}; requests tried again after ABORTED or an exhausted client retry window: ${report.retriedAttempts}`);
  lines.push(report.passed ? "PASSED: initial - sold + restocked = final for every book, stock never negative, one record per successful order" : `FAILED:\n  ${report.failures.join("\n  ")}`);
  return lines.join("\n");
}
