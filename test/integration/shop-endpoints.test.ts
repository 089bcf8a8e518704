// Proves every endpoint of the web shop (`kv shop`, shop/service.ts) against a real cluster (a
// coordinator and three replicas, each its own process, on random free ports) through a real
// `kv shop` process, with real HTTP requests: what each answers, that writes reach the store under
// the shop's prefix (read back through the client library, not only through the shop), and that
// every bad input is a 400 naming the parameter or the limit: bad ids, bad amounts, unknown items,
// users and orders, not enough stock or credit (nothing taken), a second checkout of a paid order
// (not charged twice), and a retried checkout carrying the Idempotency-Key that paid it (200, still
// charged once). Unknown routes are 404. `kv shop` stops on SIGTERM and refuses bad flags.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { limits } from "../../common/limits";
import { killAllStarted, Proc, runKv, TestCluster } from "./harness";
import { startShopProc } from "./shop-process";

let cluster: TestCluster;
let store: KvClient;
let shop: Proc;
let base: string;
const prefix = "shoptest/";

beforeAll(async () => {
  cluster = await TestCluster.start();
  store = cluster.client(5_000);
  // Data of another program in the same cluster: the shop must leave it alone.
  await store.put("other/greeting", "hello");
  ({ proc: shop, url: base } = await startShopProc(cluster.coordinatorAddress, prefix));
});

afterAll(async () => {
  await shop?.kill("SIGKILL");
  await cluster?.stop();
  await killAllStarted();
});

async function call(method: "GET" | "POST", path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; json: () => unknown }> {
  const response = await fetch(`${base}${path}`, { method, headers });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) as unknown };
}

/** A 400 whose plain message holds every fragment. */
async function expect400(method: "GET" | "POST", path: string, ...fragments: string[]): Promise<void> {
  const response = await call(method, path);
  expect({ status: response.status, text: response.text }).toMatchObject({ status: 400 });
  for (const fragment of fragments) expect(response.text).toContain(fragment);
}

const counter = async (key: string): Promise<number | null> => {
  const entry = await store.get(key);
  return entry === null ? null : Number(entry.value.toString("utf8"));
};

async function newItem(price: number, stock: number): Promise<string> {
  const created = await call("POST", `/stock/item/create/${price}`);
  expect(created.status).toBe(200);
  const { item_id: itemId } = created.json() as { item_id: string };
  expect(typeof itemId).toBe("string");
  if (stock > 0) expect((await call("POST", `/stock/add/${itemId}/${stock}`)).status).toBe(200);
  return itemId;
}

async function newUser(credit: number): Promise<string> {
  const created = await call("POST", "/payment/create_user");
  expect(created.status).toBe(200);
  const { user_id: userId } = created.json() as { user_id: string };
  if (credit > 0) expect((await call("POST", `/payment/add_funds/${userId}/${credit}`)).status).toBe(200);
  return userId;
}

async function newOrder(userId: string, items: [string, number][]): Promise<string> {
  const created = await call("POST", `/orders/create/${userId}`);
  expect(created.status).toBe(200);
  const { order_id: orderId } = created.json() as { order_id: string };
  for (const [itemId, quantity] of items) expect((await call("POST", `/orders/addItem/${orderId}/${itemId}/${quantity}`)).status).toBe(200);
  return orderId;
}

describe("stock", () => {
  it("creates an item, finds it, adds and subtracts stock, never below 0", async () => {
    const itemId = await newItem(7, 0);
    expect((await call("GET", `/stock/find/${itemId}`)).json()).toEqual({ stock: 0, price: 7 });
    const added = await call("POST", `/stock/add/${itemId}/10`);
    expect(added.status).toBe(200);
    expect(added.text).toContain("10");
    expect((await call("POST", `/stock/subtract/${itemId}/4`)).status).toBe(200);
    expect((await call("GET", `/stock/find/${itemId}`)).json()).toEqual({ stock: 6, price: 7 });
    await expect400("POST", `/stock/subtract/${itemId}/7`, `not enough stock for item ${itemId}`);
    // Nothing was taken, as the store itself says.
    expect(await counter(`${prefix}item/${itemId}/stock`)).toBe(6);
    expect(await counter(`${prefix}item/${itemId}/price`)).toBe(7);
  });

  it("refuses unknown items and bad amounts with 400 naming the parameter", async () => {
    await expect400("GET", "/stock/find/no-such-item", "item no-such-item not found");
    await expect400("POST", "/stock/add/no-such-item/1", "item no-such-item not found");
    await expect400("POST", "/stock/subtract/no-such-item/1", "item no-such-item not found");
    expect(await store.get(`${prefix}item/no-such-item/stock`)).toBeNull();
    for (const bad of ["-1", "1.5", "abc", "01", "1e3", "99999999999999999999"]) await expect400("POST", `/stock/item/create/${bad}`, "price");
    const itemId = await newItem(1, 0);
    await expect400("POST", `/stock/add/${itemId}/-3`, "amount", "non-negative integer");
    await expect400("POST", `/stock/subtract/${itemId}/x`, "amount");
    // Stock past counterAbsMax is refused naming that limit, not as a shortage.
    expect((await call("POST", `/stock/add/${itemId}/${limits.counterAbsMax}`)).status).toBe(200);
    await expect400("POST", `/stock/add/${itemId}/1`, `cannot add 1 to item ${itemId}'s stock`, "counterAbsMax");
    await expect400("GET", `/stock/find/${"i".repeat(limits.shopIdBytesMax + 1)}`, "item_id", "shopIdBytesMax");
    await expect400("GET", "/stock/find/a%2Fb", "item_id", '"/"');
  });

  it("batch_init makes items 0..n-1 with the stock and price given", async () => {
    const response = await call("POST", "/stock/batch_init/70/5/3");
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ msg: "Batch init for stock successful" });
    for (const id of ["0", "33", "69"]) expect((await call("GET", `/stock/find/${id}`)).json()).toEqual({ stock: 5, price: 3 });
    await expect400("GET", "/stock/find/70", "item 70 not found");
    await expect400("POST", `/stock/batch_init/${limits.shopBatchInitMax + 1}/1/1`, "n", "shopBatchInitMax");
    await expect400("POST", "/stock/batch_init/2/x/1", "starting_stock");
  });
});

describe("payment", () => {
  it("creates a user, adds funds, pays, never below 0", async () => {
    const userId = await newUser(0);
    expect((await call("GET", `/payment/find_user/${userId}`)).json()).toEqual({ user_id: userId, credit: 0 });
    expect((await call("POST", `/payment/add_funds/${userId}/50`)).status).toBe(200);
    expect((await call("POST", `/payment/pay/${userId}/20`)).status).toBe(200);
    expect((await call("GET", `/payment/find_user/${userId}`)).json()).toEqual({ user_id: userId, credit: 30 });
    await expect400("POST", `/payment/pay/${userId}/31`, `not enough credit for user ${userId}`);
    expect(await counter(`${prefix}user/${userId}/credit`)).toBe(30);
  });

  it("refuses unknown users and bad amounts; batch_init makes users 0..n-1", async () => {
    await expect400("GET", "/payment/find_user/nobody", "user nobody not found");
    await expect400("POST", "/payment/add_funds/nobody/5", "user nobody not found");
    await expect400("POST", "/payment/pay/nobody/5", "user nobody not found");
    expect(await store.get(`${prefix}user/nobody/credit`)).toBeNull();
    const userId = await newUser(0);
    await expect400("POST", `/payment/add_funds/${userId}/2.5`, "amount");
    await expect400("POST", `/payment/pay/${userId}/-1`, "amount");
    const response = await call("POST", "/payment/batch_init/130/9");
    expect(response.status).toBe(200);
    expect((await call("GET", "/payment/find_user/129")).json()).toEqual({ user_id: "129", credit: 9 });
    await expect400("GET", "/payment/find_user/130", "user 130 not found");
  });
});

describe("orders", () => {
  it("adds items (total_cost grows by quantity x price) and a checkout takes stock and credit in one go", async () => {
    const a = await newItem(3, 10);
    const b = await newItem(5, 10);
    const userId = await newUser(100);
    const orderId = await newOrder(userId, [[a, 2], [b, 1], [a, 1]]);
    expect((await call("GET", `/orders/find/${orderId}`)).json()).toEqual({ order_id: orderId, paid: false, items: [[a, 3], [b, 1]], user_id: userId, total_cost: 14 });

    const checkout = await call("POST", `/orders/checkout/${orderId}`);
    expect(checkout.status, checkout.text).toBe(200);
    expect((await call("GET", `/orders/find/${orderId}`)).json()).toMatchObject({ paid: true, total_cost: 14 });
    expect(await counter(`${prefix}item/${a}/stock`)).toBe(7);
    expect(await counter(`${prefix}item/${b}/stock`)).toBe(9);
    expect(await counter(`${prefix}user/${userId}/credit`)).toBe(86);

    // A second checkout is refused and charges nothing; so is adding to a paid order.
    await expect400("POST", `/orders/checkout/${orderId}`, `order ${orderId} is already paid`);
    await expect400("POST", `/orders/addItem/${orderId}/${a}/1`, "already paid");
    expect(await counter(`${prefix}user/${userId}/credit`)).toBe(86);
    expect(await counter(`${prefix}item/${a}/stock`)).toBe(7);
  });

  it("a checkout retried with the Idempotency-Key that paid it answers 200 again and charges once", async () => {
    const itemId = await newItem(10, 5);
    const userId = await newUser(25);
    const orderId = await newOrder(userId, [[itemId, 1]]);
    const headers = { "idempotency-key": `retry-${orderId}` };
    expect((await call("POST", `/orders/checkout/${orderId}`, headers)).status).toBe(200);
    const retried = await call("POST", `/orders/checkout/${orderId}`, headers);
    expect(retried.status, retried.text).toBe(200);
    // Another key (another client) is told it is paid.
    await expect400("POST", `/orders/checkout/${orderId}`, "already paid");
    expect(await counter(`${prefix}user/${userId}/credit`)).toBe(15);
    expect(await counter(`${prefix}item/${itemId}/stock`)).toBe(4);
  });

  it("of 20 concurrent checkouts of one order (each its own client), exactly one pays, once", async () => {
    const itemId = await newItem(1, 50);
    const userId = await newUser(50);
    const orderId = await newOrder(userId, [[itemId, 2]]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => call("POST", `/orders/checkout/${orderId}`)));
    expect(answers.filter((answer) => answer.status === 200).length).toBe(1);
    for (const answer of answers.filter((answer) => answer.status !== 200)) expect({ status: answer.status, text: answer.text }).toEqual({ status: 400, text: `order ${orderId} is already paid` });
    expect(await counter(`${prefix}user/${userId}/credit`)).toBe(48);
    expect(await counter(`${prefix}item/${itemId}/stock`)).toBe(48);
  });

  it("a checkout short of stock or credit is 400 naming what, and takes nothing", async () => {
    const plenty = await newItem(1, 100);
    const scarce = await newItem(1, 1);
    const rich = await newUser(1_000);
    const stockShort = await newOrder(rich, [[plenty, 1], [scarce, 2]]);
    await expect400("POST", `/orders/checkout/${stockShort}`, `not enough stock for item ${scarce}`);
    expect(await counter(`${prefix}item/${plenty}/stock`)).toBe(100);
    expect(await counter(`${prefix}item/${scarce}/stock`)).toBe(1);
    expect(await counter(`${prefix}user/${rich}/credit`)).toBe(1_000);
    expect((await call("GET", `/orders/find/${stockShort}`)).json()).toMatchObject({ paid: false });

    const poor = await newUser(2);
    const creditShort = await newOrder(poor, [[plenty, 3]]);
    await expect400("POST", `/orders/checkout/${creditShort}`, `not enough credit for user ${poor}`);
    expect(await counter(`${prefix}item/${plenty}/stock`)).toBe(100);
    expect(await counter(`${prefix}user/${poor}/credit`)).toBe(2);
    // Once the credit is there, the same order goes through.
    expect((await call("POST", `/payment/add_funds/${poor}/1`)).status).toBe(200);
    expect((await call("POST", `/orders/checkout/${creditShort}`)).status).toBe(200);
    expect(await counter(`${prefix}user/${poor}/credit`)).toBe(0);
    expect(await counter(`${prefix}item/${plenty}/stock`)).toBe(97);
  });

  it("refuses unknown orders, users and items, and bad quantities", async () => {
    await expect400("POST", "/orders/create/nobody", "user nobody not found");
    await expect400("GET", "/orders/find/none", "order none not found");
    await expect400("POST", "/orders/checkout/none", "order none not found");
    await expect400("POST", "/orders/addItem/none/0/1", "order none not found");
    const userId = await newUser(0);
    const orderId = await newOrder(userId, []);
    await expect400("POST", `/orders/addItem/${orderId}/no-such-item/1`, "item no-such-item not found");
    const itemId = await newItem(2, 0);
    await expect400("POST", `/orders/addItem/${orderId}/${itemId}/-1`, "quantity");
    await expect400("POST", `/orders/addItem/${orderId}/${itemId}/one`, "quantity");
    await expect400("POST", "/orders/batch_init/10/0/5/1", "n_items");
    await expect400("POST", "/orders/checkout/x", "order x not found");
    await expect400("POST", `/orders/checkout/${orderId}`.replace(orderId, "%2F"), "order_id");
  });

  it("batch_init makes orders 0..n-1 of 2 random items (quantity 1) and a random user", async () => {
    const response = await call("POST", "/orders/batch_init/100/20/10/4");
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ msg: "Batch init for orders successful" });
    for (const id of ["0", "50", "99"]) {
      const order = (await call("GET", `/orders/find/${id}`)).json() as { order_id: string; paid: boolean; items: [string, number][]; user_id: string; total_cost: number };
      expect(order).toMatchObject({ order_id: id, paid: false, total_cost: 8 });
      expect(Number(order.user_id)).toBeLessThan(10);
      // Two lines of quantity 1, or one of quantity 2 when both picks were the same item.
      expect(order.items.reduce((sum, [, quantity]) => sum + quantity, 0)).toBe(2);
      for (const [item] of order.items) expect(Number(item)).toBeLessThan(20);
    }
    await expect400("GET", "/orders/find/100", "order 100 not found");
  });
});

describe("two shop processes on one store", () => {
  it("a checkout from a process whose cached order is stale pays the order as it is now (an item another process added)", async () => {
    const second = await startShopProc(cluster.coordinatorAddress, prefix);
    try {
      const itemId = await newItem(5, 10);
      const userId = await newUser(100);
      // Through the first process, which caches the order with one item (5).
      const orderId = await newOrder(userId, [[itemId, 1]]);
      // The second adds two more (15 in all): the first's cached order is now stale.
      const added = await fetch(`${second.url}/orders/addItem/${orderId}/${itemId}/2`, { method: "POST" });
      expect(added.status).toBe(200);
      const paid = await call("POST", `/orders/checkout/${orderId}`);
      expect({ status: paid.status, text: paid.text }).toMatchObject({ status: 200 });
      expect(await counter(`${prefix}item/${itemId}/stock`)).toBe(7);
      expect(await counter(`${prefix}user/${userId}/credit`)).toBe(85);
      const found = (await (await fetch(`${second.url}/orders/find/${orderId}`)).json()) as { paid: boolean; total_cost: number };
      expect(found).toMatchObject({ paid: true, total_cost: 15 });
      // Paid now, from either process.
      expect((await fetch(`${second.url}/orders/checkout/${orderId}`, { method: "POST" })).status).toBe(400);
      expect((await call("POST", `/orders/checkout/${orderId}`)).status).toBe(400);
    } finally {
      await second.proc.kill("SIGKILL");
    }
  });
});

describe("the rest", () => {
  it("answers 404 for an unknown route", async () => {
    expect((await call("GET", "/nothing/here")).status).toBe(404);
    expect((await call("GET", "/orders/checkout/1")).status).toBe(404);
  });

  it("kv shop stops on SIGTERM with exit 0, and refuses a bad --listen or --prefix as a usage error (exit 2)", async () => {
    const { proc } = await startShopProc(cluster.coordinatorAddress, "lifecycle/");
    process.kill(proc.pid, "SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output.some((line) => line.includes("shop stopped"))).toBe(true);
    const badListen = await runKv(["shop", "--listen", "8000"]);
    expect(badListen.code).toBe(2);
    expect(badListen.stderr).toContain('--listen "8000" is not HOST:PORT');
    const badPrefix = await runKv(["shop", "--prefix", ""]);
    expect(badPrefix.code).toBe(2);
    expect(badPrefix.stderr).toContain("--prefix is empty");
  });

  it("keeps every key it writes under its prefix, and leaves other data alone", async () => {
    const contents = await cluster.contents();
    const keys = [...contents[0]!.keys()];
    expect(keys.filter((key) => !key.startsWith(prefix))).toEqual(["other/greeting"]);
    expect(keys.filter((key) => key.startsWith(prefix)).length).toBeGreaterThan(300);
    expect((await store.get("other/greeting"))?.value.toString()).toBe("hello");
  });
});
