// The web shop's consistency scenario (issue 15), run over HTTP against a running `kv shop`: one
// item with stock S (100) and price 1, U users (1,000) with credit 1 each, U orders of that item
// (quantity 1, users picked at random with a seeded PRNG, so some have several orders), then every
// order's checkout sent at once (as many in flight as asked, 1,000 by default). Faults may run
// meanwhile (the caller's: kill -9 of a coordinator and a replica, say). A checkout that ends 503
// or without an answer has an unknown outcome: it is sent again with the same Idempotency-Key until
// it is definite, so the shop pays it at most once and says 200 again if it had paid.
//
// Then it checks, and reports: exactly S checkouts succeeded (stock is the only limit: more than S
// distinct users order); the item's stock is 0; the credits sum to U - S; the paid orders are
// exactly the successful checkouts; every refusal names stock or credit. Used by `kv demo shop` and
// test/integration/shop-consistency.test.ts.
import { Prng } from "../../common/prng";
import { formatTable } from "../../common/table";

export interface ShopScenarioOptions {
  /** The shop's base URL, http://HOST:PORT. */
  readonly url: string;
  readonly stock: number;
  readonly users: number;
  /** Checkouts in flight at once (all of them when >= users). */
  readonly inFlight: number;
  readonly seed: number;
  /** How long a checkout is retried while its outcome is unknown (503, no answer). */
  readonly retryForMs: number;
  /** Runs while the checkouts do (started with them, awaited before the checks); null: no faults. */
  readonly faults: ((progress: () => number) => Promise<void>) | null;
  readonly log?: (line: string) => void;
}

export interface ShopScenarioReport {
  readonly users: number;
  readonly orders: number;
  readonly initialStock: number;
  readonly checkoutsSucceeded: number;
  readonly refusedStock: number;
  readonly refusedCredit: number;
  /** Refusals that named neither stock nor credit (must be 0), with a sample. */
  readonly refusedOther: number;
  readonly refusedOtherSample: string[];
  /** Checkouts that never became definite within retryForMs (must be 0). */
  readonly unresolved: number;
  /** Checkouts sent again after a 503 or no answer. */
  readonly retried: number;
  /** The most checkouts in flight at once. */
  readonly inFlightMax: number;
  readonly checkoutsRanForMs: number;
  readonly finalStock: number;
  readonly creditSum: number;
  readonly paidOrders: number;
  /** Paid orders without a successful checkout, and successful checkouts whose order is not paid (both must be empty). */
  readonly paidWithoutSuccess: string[];
  readonly successWithoutPaid: string[];
  readonly passed: boolean;
}

const itemId = "0";

async function request(url: string, method: "GET" | "POST", headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method, headers });
  return { status: response.status, text: await response.text() };
}

/** A setup request that must answer 200 (retried on 503 for a while: a fresh cluster may be settling). */
async function ok(url: string, method: "GET" | "POST"): Promise<string> {
  const deadlineMs = Date.now() + 30_000;
  for (;;) {
    const answer = await request(url, method).catch((error: unknown) => ({ status: 0, text: String(error) }));
    if (answer.status === 200) return answer.text;
    if ((answer.status !== 503 && answer.status !== 0) || Date.now() > deadlineMs) throw new Error(`${method} ${url}: ${answer.status} ${answer.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `work` on each item with at most `limit` at once. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) await work(items[i]!);
    }),
  );
}

type Outcome = { readonly kind: "ok" } | { readonly kind: "refused"; readonly message: string } | { readonly kind: "unresolved"; readonly last: string };

export async function runShopScenario(options: ShopScenarioOptions): Promise<ShopScenarioReport> {
  const log = options.log ?? (() => {});
  const { url, stock, users } = options;
  const prng = new Prng(options.seed);

  log(`shop scenario: item ${itemId} with stock ${stock} and price 1, ${users} users with credit 1, ${users} orders`);
  await ok(`${url}/stock/batch_init/1/${stock}/1`, "POST");
  await ok(`${url}/payment/batch_init/${users}/1`, "POST");
  const owners = Array.from({ length: users }, () => String(prng.int(0, users - 1)));
  const orderIds: string[] = new Array<string>(users);
  await pool(
    owners.map((owner, i) => [owner, i] as const),
    64,
    async ([owner, i]) => {
      const orderId = (JSON.parse(await ok(`${url}/orders/create/${owner}`, "POST")) as { order_id: string }).order_id;
      await ok(`${url}/orders/addItem/${orderId}/${itemId}/1`, "POST");
      orderIds[i] = orderId;
    },
  );

  let inFlight = 0;
  let inFlightMax = 0;
  let answered = 0;
  let retried = 0;
  const checkout = async (orderId: string): Promise<Outcome> => {
    const headers = { "idempotency-key": `scenario-${options.seed}-${orderId}` };
    const giveUpAt = Date.now() + options.retryForMs;
    for (let sent = 0; ; sent++) {
      if (sent > 0) retried += 1;
      inFlight += 1;
      inFlightMax = Math.max(inFlightMax, inFlight);
      const answer = await request(`${url}/orders/checkout/${orderId}`, "POST", headers).catch((error: unknown) => ({ status: 0, text: String(error) }));
      inFlight -= 1;
      if (answer.status === 200) return { kind: "ok" };
      if (answer.status === 400) return { kind: "refused", message: answer.text };
      // 503 (unknown outcome, or a conflict to retry), or no answer: the same key again.
      if (Date.now() > giveUpAt) return { kind: "unresolved", last: `${answer.status} ${answer.text}` };
      await new Promise((resolve) => setTimeout(resolve, 50 + prng.int(0, 100)));
    }
  };

  log(`shop scenario: ${users} checkouts, ${Math.min(options.inFlight, users)} at once${options.faults === null ? "" : ", with faults"}`);
  const started = Date.now();
  const faults = options.faults === null ? Promise.resolve() : options.faults(() => answered);
  const outcomes = new Map<string, Outcome>();
  await pool(orderIds, options.inFlight, async (orderId) => {
    outcomes.set(orderId, await checkout(orderId));
    answered += 1;
  });
  const checkoutsRanForMs = Date.now() - started;
  await faults;

  const item = JSON.parse(await ok(`${url}/stock/find/${itemId}`, "GET")) as { stock: number };
  const credits: number[] = [];
  await pool(
    Array.from({ length: users }, (_, i) => String(i)),
    64,
    async (userId) => {
      credits.push((JSON.parse(await ok(`${url}/payment/find_user/${userId}`, "GET")) as { credit: number }).credit);
    },
  );
  const creditSum = credits.reduce((sum, credit) => sum + credit, 0);
  const paid = new Set<string>();
  await pool(orderIds, 64, async (orderId) => {
    if ((JSON.parse(await ok(`${url}/orders/find/${orderId}`, "GET")) as { paid: boolean }).paid) paid.add(orderId);
  });

  const succeeded = orderIds.filter((orderId) => outcomes.get(orderId)?.kind === "ok");
  const refusals = [...outcomes.values()].flatMap((outcome) => (outcome.kind === "refused" ? [outcome.message] : []));
  const refusedStock = refusals.filter((message) => message.includes("not enough stock")).length;
  const refusedCredit = refusals.filter((message) => message.includes("not enough credit")).length;
  const other = refusals.filter((message) => !message.includes("not enough stock") && !message.includes("not enough credit"));
  const unresolved = [...outcomes.values()].filter((outcome) => outcome.kind === "unresolved").length;
  const paidWithoutSuccess = [...paid].filter((orderId) => outcomes.get(orderId)?.kind !== "ok");
  const successWithoutPaid = succeeded.filter((orderId) => !paid.has(orderId));
  const passed =
    succeeded.length === stock &&
    item.stock === 0 &&
    creditSum === users - stock &&
    paid.size === stock &&
    paidWithoutSuccess.length === 0 &&
    successWithoutPaid.length === 0 &&
    other.length === 0 &&
    unresolved === 0;
  return {
    users,
    orders: orderIds.length,
    initialStock: stock,
    checkoutsSucceeded: succeeded.length,
    refusedStock,
    refusedCredit,
    refusedOther: other.length,
    refusedOtherSample: other.slice(0, 3),
    unresolved,
    retried,
    inFlightMax,
    checkoutsRanForMs,
    finalStock: item.stock,
    creditSum,
    paidOrders: paid.size,
    paidWithoutSuccess,
    successWithoutPaid,
    passed,
  };
}

/** The report as a table: each figure, what it must be, and whether it is. */
export function formatShopReport(title: string, report: ShopScenarioReport): string {
  const row = (what: string, actual: number, expected: number | null): string[] => [what, String(actual), expected === null ? "" : String(expected), expected === null ? "" : actual === expected ? "ok" : "WRONG"];
  const rows = [
    ["", "actual", "must be", "check"],
    row("successful checkouts", report.checkoutsSucceeded, report.initialStock),
    row("final stock", report.finalStock, 0),
    row("sum of credits", report.creditSum, report.users - report.initialStock),
    row("paid orders", report.paidOrders, report.initialStock),
    row("paid orders without a successful checkout", report.paidWithoutSuccess.length, 0),
    row("successful checkouts whose order is unpaid", report.successWithoutPaid.length, 0),
    row("refused: not enough stock", report.refusedStock, null),
    row("refused: not enough credit", report.refusedCredit, null),
    row("refused for another reason", report.refusedOther, 0),
    row("outcome still unknown at the end", report.unresolved, 0),
    row("checkouts sent again (503 or no answer)", report.retried, null),
    row("most checkouts in flight at once", report.inFlightMax, null),
  ];
  const lines = [`${title}: ${report.orders} orders by ${report.users} users of 1 item (stock ${report.initialStock}, price 1), checkouts ran ${report.checkoutsRanForMs} ms`];
  lines.push(formatTable(rows, { rightAligned: new Set([1, 2]) }));
  if (report.refusedOtherSample.length > 0) lines.push(`other refusals, e.g.: ${report.refusedOtherSample.join(" | ")}`);
  lines.push(report.passed ? "PASSED" : "FAILED");
  return lines.join("\n");
}
