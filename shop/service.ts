// The web shop over twopc-kv (issue 15): the REST API of the order, stock and payment services that
// the shop's existing clients and benchmarks speak, served by one stateless process (`kv shop`) on
// fastify over ONE client of the store (one channel per coordinator, kept open: no connection set up
// per request). Several may run side by side behind any load balancer: they share nothing but the
// store. The data model and the checkout transaction are shop/model.ts (pure); this file carries
// them out and turns the outcomes into HTTP.
//
// Answers: 200 with JSON (create, find, batch_init) or a plain text line; 400 with a plain message
// for every failure of the request itself (a bad id or amount, naming the parameter; an unknown
// item, user or order; not enough stock or credit, naming what; an order already paid); 404 for an
// unknown route; 503 with Retry-After when the store could not finish in time (a checkout's outcome
// is then unknown: retry it, with the same Idempotency-Key if one was given, and it is applied at
// most once); 500 for the rest.
//
// Exactly once: a checkout pays an order only if the order's version is still the one read, and
// the paid order records the checkout's Idempotency-Key (a fresh one when absent). A second checkout
// of a paid order is 400 "already paid", except a retry carrying the key that paid it, which is 200
// again: so a client that retries after a timeout is never charged twice and learns it was charged.
import { createHash, randomUUID } from "node:crypto";
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AssertionFailure, assertNever } from "../common/assert";
import { classifyCode, Code, type CodeValue, InvalidArgument, KvError, overLimit, Unavailable, withoutStack } from "../common/errors";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { parseCounter } from "../common/txn";
import type { KvClient, TxnResult } from "../client/client";
import {
  addToOrder,
  batchRanges,
  checkoutNeeds,
  checkoutTxn,
  decodeOrder,
  encodeOrder,
  newOrder,
  type Order,
  orderJson,
  parseAmount,
  parseBatchCount,
  parseId,
  ShopKeys,
} from "./model";

/** What the shop needs of the store: these calls of the client library. */
export type ShopStore = Pick<KvClient, "get" | "put" | "txn" | "txnStatus">;

export interface ShopOptions {
  readonly host: string;
  /** 0: any free port (the shop's `port` says which). */
  readonly port: number;
  readonly store: ShopStore;
  /** The prefix of every key the shop writes (shop/model.ts defaultShopPrefix). */
  readonly prefix: string;
  readonly logger?: Logger;
}

export interface ShopServer {
  /** http://HOST:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops listening; requests under way finish first. */
  stop(): Promise<void>;
}

/** The header a checkout's idempotency key travels in (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const idempotencyKeyHeader = "idempotency-key";

/** A failure of a shop request: the HTTP status of its code and a plain message. */
export function shopStatusOf(code: CodeValue): number {
  const failure = classifyCode(code);
  switch (failure) {
    case "refused":
      // The API answers every refusal of the request with 400 (an unknown id too), except a conflict
      // or a full coordinator, which a retry may get past.
      return code === Code.ABORTED || code === Code.RESOURCE_EXHAUSTED ? 503 : 400;
    case "unavailable":
      return 503;
    case "other":
      return 500;
    default:
      return assertNever(failure);
  }
}

export async function startShop(options: ShopOptions): Promise<ShopServer> {
  const handlers = new HandlerCount();
  const app = buildShop(new Shop(options.store, options.prefix), options.logger, handlers);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error(`the shop listens on no TCP port (${String(address)})`);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.logger?.info({ event: "listening", url, prefix: options.prefix }, `shop listening on ${url} (keys under ${JSON.stringify(options.prefix)})`);
  return {
    url,
    port: address.port,
    stop: async () => {
      await app.close();
      // The server closes once every connection has: a client that gave up on its request (as a
      // load tool does at its end) leaves that request's handler still running on the store. Let it
      // finish before the caller closes the store's client, which would fail it (CANCELLED).
      const drained = await handlers.idle(limits.shopStopDrainMs);
      if (!drained) options.logger?.warn({ event: "stop-drain-timeout", handlers: handlers.count }, `shop: ${handlers.count} requests still running after ${limits.shopStopDrainMs} ms (shopStopDrainMs); stopping anyway`);
      options.logger?.info({ event: "stopped" }, "shop stopped");
    },
  };
}

type Params = Record<string, string | undefined>;

/** Route handlers running now: the shop's stop waits for them. */
export class HandlerCount {
  count = 0;
  private waiters: (() => void)[] = [];

  enter(): void {
    this.count += 1;
  }

  leave(): void {
    this.count -= 1;
    if (this.count === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves true once no handler runs, false if some still do after timeoutMs. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** The fastify app of the shop, not yet listening. */
export function buildShop(shop: Shop, logger?: Logger, handlers: HandlerCount = new HandlerCount()): FastifyInstance {
  const app = fastify({
    logger: false,
    // Long enough for every id up to shopIdBytesMax, percent-encoded, to reach its 400 rather than a 404.
    routerOptions: { maxParamLength: 3 * limits.shopIdBytesMax + 1 },
    frameworkErrors: (error, _request, reply) => sendFailure(reply, new InvalidArgument("url", error.message), logger),
  });
  // Requests carry no body the shop reads: accept any, so that a client sending one is not refused.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | KvError, _request, reply) => {
    if (error instanceof KvError) return sendFailure(reply, error, logger);
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return sendFailure(reply, new InvalidArgument("request", error.message), logger);
    return sendFailure(reply, error, logger);
  });
  // Every route's handler is counted while it runs (see HandlerCount).
  app.addHook("onRoute", (route) => {
    const handler = route.handler;
    route.handler = async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
      handlers.enter();
      try {
        return await handler.call(this, request, reply);
      } finally {
        handlers.leave();
      }
    };
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).type("text/plain; charset=utf-8").send(`no route ${request.method} ${request.url.split("?")[0]}`));

  const text = (reply: FastifyReply, line: string) => reply.type("text/plain; charset=utf-8").send(line);
  const p = (request: FastifyRequest): Params => request.params as Params;

  // Stock.
  app.post("/stock/item/create/:price", async (request) => shop.createItem(parseAmount("price", p(request).price)));
  app.get("/stock/find/:item_id", async (request) => shop.findItem(parseId("item_id", p(request).item_id)));
  app.post("/stock/add/:item_id/:amount", async (request, reply) => {
    const itemId = parseId("item_id", p(request).item_id);
    const stock = await shop.changeCounter("stock", itemId, parseAmount("amount", p(request).amount), +1, idempotencyKey(request));
    return text(reply, `Item: ${itemId} stock updated to: ${stock}`);
  });
  app.post("/stock/subtract/:item_id/:amount", async (request, reply) => {
    const itemId = parseId("item_id", p(request).item_id);
    const stock = await shop.changeCounter("stock", itemId, parseAmount("amount", p(request).amount), -1, idempotencyKey(request));
    return text(reply, `Item: ${itemId} stock updated to: ${stock}`);
  });
  app.post("/stock/batch_init/:n/:starting_stock/:item_price", async (request) => {
    const params = p(request);
    await shop.batchInitItems(parseBatchCount("n", params.n), parseAmount("starting_stock", params.starting_stock), parseAmount("item_price", params.item_price));
    return { msg: "Batch init for stock successful" };
  });

  // Payment.
  app.post("/payment/create_user", async () => shop.createUser());
  app.get("/payment/find_user/:user_id", async (request) => shop.findUser(parseId("user_id", p(request).user_id)));
  app.post("/payment/add_funds/:user_id/:amount", async (request, reply) => {
    const userId = parseId("user_id", p(request).user_id);
    const credit = await shop.changeCounter("credit", userId, parseAmount("amount", p(request).amount), +1, idempotencyKey(request));
    return text(reply, `User: ${userId} credit updated to: ${credit}`);
  });
  app.post("/payment/pay/:user_id/:amount", async (request, reply) => {
    const userId = parseId("user_id", p(request).user_id);
    const credit = await shop.changeCounter("credit", userId, parseAmount("amount", p(request).amount), -1, idempotencyKey(request));
    return text(reply, `User: ${userId} credit updated to: ${credit}`);
  });
  app.post("/payment/batch_init/:n/:starting_money", async (request) => {
    const params = p(request);
    await shop.batchInitUsers(parseBatchCount("n", params.n), parseAmount("starting_money", params.starting_money));
    return { msg: "Batch init for users successful" };
  });

  // Orders.
  app.post("/orders/create/:user_id", async (request) => shop.createOrder(parseId("user_id", p(request).user_id)));
  app.get("/orders/find/:order_id", async (request) => shop.findOrder(parseId("order_id", p(request).order_id)));
  app.post("/orders/addItem/:order_id/:item_id/:quantity", async (request, reply) => {
    const params = p(request);
    const orderId = parseId("order_id", params.order_id);
    const itemId = parseId("item_id", params.item_id);
    const total = await shop.addItem(orderId, itemId, parseAmount("quantity", params.quantity));
    return text(reply, `Item: ${itemId} added to: ${orderId} price updated to: ${total}`);
  });
  app.post("/orders/checkout/:order_id", async (request, reply) => {
    await shop.checkout(parseId("order_id", p(request).order_id), idempotencyKey(request));
    return text(reply, "Checkout successful");
  });
  app.post("/orders/batch_init/:n/:n_items/:n_users/:item_price", async (request) => {
    const params = p(request);
    const nItems = parseBatchCount("n_items", params.n_items);
    const nUsers = parseBatchCount("n_users", params.n_users);
    if (nItems === 0) throw new InvalidArgument("n_items", "n_items is 0; each order takes 2 random items of 0..n_items-1");
    if (nUsers === 0) throw new InvalidArgument("n_users", "n_users is 0; each order takes a random user of 0..n_users-1");
    await shop.batchInitOrders(parseBatchCount("n", params.n), nItems, nUsers, parseAmount("item_price", params.item_price), Math.random);
    return { msg: "Batch init for orders successful" };
  });

  return app;
}

/** The Idempotency-Key header, checked against shopIdempotencyKeyBytesMax; null when absent. */
function idempotencyKey(request: FastifyRequest): string | null {
  const header = request.headers[idempotencyKeyHeader];
  if (header === undefined) return null;
  if (Array.isArray(header)) throw new InvalidArgument("Idempotency-Key", "the Idempotency-Key header is given more than once");
  if (header.length === 0) throw new InvalidArgument("Idempotency-Key", "the Idempotency-Key header is empty");
  const bytes = Buffer.byteLength(header, "utf8");
  if (bytes > limits.shopIdempotencyKeyBytesMax) throw overLimit("the Idempotency-Key header", bytes, "shopIdempotencyKeyBytesMax", "bytes");
  return header;
}

/**
 * Answers a failure in plain text with the status of its code. An assertion failure is a bug: it is
 * thrown again outside fastify, so that it crashes the process as everywhere else.
 */
function sendFailure(reply: FastifyReply, error: unknown, logger: Logger | undefined): FastifyReply {
  if (error instanceof AssertionFailure) {
    setImmediate(() => {
      throw error;
    });
  }
  const kvError = error instanceof KvError ? error : new KvError(Code.INTERNAL, `internal error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  const status = shopStatusOf(kvError.code);
  if (status === 500) logger?.error({ err: error }, `shop: ${kvError.message}`);
  if (status === 503) void reply.header("retry-after", "1");
  return reply.code(status).type("text/plain; charset=utf-8").send(kvError.message);
}

/** A request id derived from what names one logical request (so its retries carry the same one): at most requestIdBytesMax. */
function derivedRequestId(kind: string, ...parts: (string | number)[]): string {
  const hash = createHash("sha256");
  for (const part of [kind, ...parts]) hash.update(String(part)).update("\0");
  return `shop-${kind}-${hash.digest("hex").slice(0, 40)}`;
}

// Answers, not faults: made without a stack trace (withoutStack).
const notFound = (what: string) => withoutStack(() => new KvError(Code.NOT_FOUND, `${what} not found`));
const refused = (message: string) => withoutStack(() => new KvError(Code.FAILED_PRECONDITION, message));

/** The counter stored at a key, or an INTERNAL failure naming the key when it holds something else. */
function counterAt(key: string, value: Buffer): number {
  const number = parseCounter(value);
  if (number === null) throw new KvError(Code.INTERNAL, `key ${JSON.stringify(key)} holds ${JSON.stringify(value.toString("utf8").slice(0, 64))}, not a shop counter`);
  return number;
}

function incrResult(result: TxnResult, key: string): number {
  const found = result.results.find((item) => item.type === "incr" && item.key === key);
  if (found === undefined || found.type !== "incr") throw new KvError(Code.INTERNAL, `the store answered without the increment of ${JSON.stringify(key)}`);
  return found.value;
}

/** The shop's operations over the store, each one or a few calls of the client library. */
export class Shop {
  private readonly keys: ShopKeys;
  /** Ids this process makes: a random tag of its own and a counter (no round trip per id; batch_init uses "0".."n-1"). */
  private readonly idTag = randomUUID().replace(/-/g, "").slice(0, 12);
  private idCounter = 0;
  /**
   * Orders as this process last wrote or read them, with their version (at most shopOrdersCachedMax,
   * the oldest entry going first): a checkout builds its transaction from the cached order with no
   * read first, since the transaction pays only if the order's version is still the one cached; if
   * not, its else-branch brings the order as it is. A paid order stays paid, so a cached paid one is
   * answered at once.
   */
  private readonly orders = new Map<string, { readonly order: Order; readonly version: number }>();

  constructor(
    private readonly store: ShopStore,
    prefix: string,
  ) {
    this.keys = new ShopKeys(prefix);
  }

  private newId(): string {
    this.idCounter += 1;
    return `${this.idTag}-${this.idCounter}`;
  }

  async createItem(price: number): Promise<{ item_id: string }> {
    const itemId = this.newId();
    await this.store.txn({
      then: [
        { type: "put", key: this.keys.price(itemId), value: String(price) },
        { type: "put", key: this.keys.stock(itemId), value: "0" },
      ],
    });
    return { item_id: itemId };
  }

  async findItem(itemId: string): Promise<{ stock: number; price: number }> {
    const result = await this.store.txn({ then: [{ type: "get", key: this.keys.price(itemId) }, { type: "get", key: this.keys.stock(itemId) }] });
    const [price, stock] = result.results;
    if (price?.type !== "get" || stock?.type !== "get") throw new KvError(Code.INTERNAL, "the store answered a read of two keys without two gets");
    if (price.entry === null || stock.entry === null) throw notFound(`item ${itemId}`);
    return { stock: counterAt(stock.key, stock.entry.value), price: counterAt(price.key, price.entry.value) };
  }

  async createUser(): Promise<{ user_id: string }> {
    const userId = this.newId();
    await this.store.put(this.keys.credit(userId), "0");
    return { user_id: userId };
  }

  async findUser(userId: string): Promise<{ user_id: string; credit: number }> {
    const key = this.keys.credit(userId);
    const entry = await this.store.get(key);
    if (entry === null) throw notFound(`user ${userId}`);
    return { user_id: userId, credit: counterAt(key, entry.value) };
  }

  /**
   * Adds (sign +1) or takes (sign -1) amount to an item's stock or a user's credit, never below 0;
   * one transaction that also checks the record exists. With an Idempotency-Key, a retry is applied
   * once. Resolves with the new value.
   */
  async changeCounter(what: "stock" | "credit", id: string, amount: number, sign: 1 | -1, key: string | null): Promise<number> {
    const counterKey = what === "stock" ? this.keys.stock(id) : this.keys.credit(id);
    const options = key === null ? {} : { requestId: derivedRequestId(what, counterKey, sign * amount, key) };
    let result: TxnResult;
    try {
      result = await this.store.txn(
        { if: [{ key: counterKey, exists: true }], then: [{ type: "incr", key: counterKey, delta: sign * amount, min: 0 }], else: [] },
        options,
      );
    } catch (error) {
      // The one bound of a subtraction is the floor of 0; an addition can only pass counterAbsMax,
      // which the store's message names.
      if (error instanceof KvError && error.code === Code.FAILED_PRECONDITION) {
        if (sign > 0) throw refused(`cannot add ${amount} to ${what === "stock" ? `item ${id}'s stock` : `user ${id}'s credit`}: ${error.message}`);
        throw refused(what === "stock" ? `not enough stock for item ${id}: cannot subtract ${amount}` : `not enough credit for user ${id}: cannot pay ${amount}`);
      }
      throw error;
    }
    if (result.branch === "else") throw notFound(what === "stock" ? `item ${id}` : `user ${id}`);
    return incrResult(result, counterKey);
  }

  async createOrder(userId: string): Promise<{ order_id: string }> {
    const orderId = this.newId();
    const result = await this.store.txn({
      if: [{ key: this.keys.credit(userId), exists: true }],
      then: [{ type: "put", key: this.keys.order(orderId), value: encodeOrder(newOrder(userId)) }],
      else: [],
    });
    if (result.branch === "else") throw notFound(`user ${userId}`);
    this.remember(orderId, newOrder(userId), result.version);
    return { order_id: orderId };
  }

  private remember(orderId: string, order: Order, version: number): void {
    this.orders.delete(orderId);
    this.orders.set(orderId, { order, version });
    if (this.orders.size > limits.shopOrdersCachedMax) this.orders.delete(this.orders.keys().next().value!);
  }

  async findOrder(orderId: string): Promise<object> {
    const { order } = await this.readOrder(orderId);
    return orderJson(orderId, order);
  }

  /**
   * Adds quantity of the item to the order (total_cost grows by quantity x price): read the order
   * and the price, then write the order only if its version is still the one read, so a concurrent
   * addItem or checkout cannot be lost or slip in between. Resolves with the new total_cost.
   */
  async addItem(orderId: string, itemId: string, quantity: number): Promise<number> {
    const orderKey = this.keys.order(orderId);
    for (let attempt = 1; attempt <= limits.shopOrderAttemptsMax; attempt++) {
      const read = await this.store.txn({ then: [{ type: "get", key: orderKey }, { type: "get", key: this.keys.price(itemId) }] });
      const [orderRead, priceRead] = read.results;
      if (orderRead?.type !== "get" || priceRead?.type !== "get") throw new KvError(Code.INTERNAL, "the store answered a read of two keys without two gets");
      if (orderRead.entry === null) throw notFound(`order ${orderId}`);
      if (priceRead.entry === null) throw notFound(`item ${itemId}`);
      const order = this.decode(orderId, orderRead.entry.value);
      if (order.paid) throw refused(`order ${orderId} is already paid; no item can be added`);
      const updated = addToOrder(order, itemId, quantity, counterAt(priceRead.key, priceRead.entry.value));
      const result = await this.store.txn({ if: [{ key: orderKey, version: orderRead.entry.version }], then: [{ type: "put", key: orderKey, value: encodeOrder(updated) }], else: [] });
      if (result.branch === "then") {
        this.remember(orderId, updated, result.version);
        return updated.totalCost;
      }
      // The order changed since it was read: read it again.
    }
    throw new KvError(Code.ABORTED, `order ${orderId} kept changing during addItem (${limits.shopOrderAttemptsMax} attempts, shopOrderAttemptsMax); retry`);
  }

  /**
   * Pays an order: one transaction takes every item's stock and the user's credit and marks the
   * order paid (shop/model.ts checkoutTxn), or does nothing. `key` is the client's Idempotency-Key
   * (a fresh one when null): the paid order records it, and each attempt's request id derives from
   * it, the order and the version read, so a retry of a checkout whose outcome was unknown joins or
   * finds the first rather than paying twice.
   */
  async checkout(orderId: string, key: string | null): Promise<void> {
    const paidBy = key ?? randomUUID();
    /** The order as last seen (cached, read, or brought by the else-branch); null: read it. */
    let seen = this.orders.get(orderId) ?? null;
    for (let attempt = 1; attempt <= limits.shopOrderAttemptsMax; attempt++) {
      const { order, version } = seen ?? (await this.readOrder(orderId));
      seen = null;
      if (order.paid) {
        if (order.paidBy === paidBy) return;
        throw refused(`order ${orderId} is already paid`);
      }
      const requestId = derivedRequestId("checkout", orderId, paidBy, version, attempt);
      let result: TxnResult;
      try {
        result = await this.store.txn(checkoutTxn(this.keys, orderId, order, version, paidBy), { requestId });
      } catch (error) {
        if (!(error instanceof KvError)) throw error;
        if (error.code === Code.FAILED_PRECONDITION) {
          const short = await this.shortage(order);
          if (short !== null) throw refused(`${short}; order ${orderId} was not paid and nothing was taken`);
          continue; // Short at the moment of the transaction, no longer now (stock or credit added): try again.
        }
        if (error.code === Code.ABORTED) continue; // A conflict (a lock wait that timed out): a new attempt.
        if (classifyCode(error.code) !== "unavailable") throw error;
        // The outcome is unknown: ask the store what became of this request before answering.
        const state = await this.store.txnStatus(requestId).then(
          (status) => status.state,
          () => "UNKNOWN" as const,
        );
        if (state === "COMMITTED") return; // Only the then-branch writes: a committed checkout paid.
        if (state === "ABORTED") continue;
        throw new Unavailable(
          `checkout of order ${orderId}: the store did not answer in time (${error.message}); its outcome is unknown. ` +
            `Retry it${key === null ? "" : ` with the header Idempotency-Key: ${key}`}: the order is paid at most once`,
          { cause: error },
        );
      }
      if (result.branch === "then") {
        this.remember(orderId, { ...order, paid: true, paidBy }, result.version);
        return;
      }
      // The order changed since it was read or cached (paid by another checkout, or an item added):
      // the else-branch read it as it is now.
      const now = result.results[0];
      if (now?.type !== "get") throw new KvError(Code.INTERNAL, "the store answered a checkout's else-branch without its get");
      if (now.entry === null) {
        this.orders.delete(orderId);
        throw notFound(`order ${orderId}`);
      }
      seen = { order: this.decode(orderId, now.entry.value), version: now.entry.version };
      this.remember(orderId, seen.order, seen.version);
    }
    throw new KvError(Code.ABORTED, `checkout of order ${orderId} kept meeting concurrent changes (${limits.shopOrderAttemptsMax} attempts, shopOrderAttemptsMax); retry`);
  }

  /** What a refused checkout was short of now (read in one transaction), or null when nothing is. */
  private async shortage(order: Order): Promise<string | null> {
    const needs = checkoutNeeds(this.keys, order);
    const read = await this.store.txn({ then: needs.map((need) => ({ type: "get" as const, key: need.key })) });
    for (const [i, need] of needs.entries()) {
      const item = read.results[i];
      if (item?.type !== "get") throw new KvError(Code.INTERNAL, "the store answered a read without its gets");
      if (item.entry === null) return need.missing;
      if (counterAt(need.key, item.entry.value) < need.need) return need.short;
    }
    return null;
  }

  private async readOrder(orderId: string): Promise<{ order: Order; version: number }> {
    const entry = await this.store.get(this.keys.order(orderId));
    if (entry === null) {
      this.orders.delete(orderId);
      throw notFound(`order ${orderId}`);
    }
    const order = this.decode(orderId, entry.value);
    this.remember(orderId, order, entry.version);
    return { order, version: entry.version };
  }

  private decode(orderId: string, value: Buffer): Order {
    const order = decodeOrder(value);
    if (typeof order === "string") throw new KvError(Code.INTERNAL, `key ${JSON.stringify(this.keys.order(orderId))} holds no shop order: ${order}`);
    return order;
  }

  /** Items "0".."n-1", each with this stock and price: two keys an item, txnKeysMax keys a transaction. */
  batchInitItems(n: number, stock: number, price: number): Promise<void> {
    return this.batchWrite(n, Math.floor(limits.txnKeysMax / 2), (id) => [
      [this.keys.price(id), String(price)],
      [this.keys.stock(id), String(stock)],
    ]);
  }

  /** Users "0".."n-1", each with this credit. */
  batchInitUsers(n: number, credit: number): Promise<void> {
    return this.batchWrite(n, limits.txnKeysMax, (id) => [[this.keys.credit(id), String(credit)]]);
  }

  /** Orders "0".."n-1", each of 2 random items of quantity 1 (from 0..nItems-1) and a random user (0..nUsers-1), unpaid. */
  batchInitOrders(n: number, nItems: number, nUsers: number, price: number, random: () => number): Promise<void> {
    const pick = (count: number) => String(Math.floor(random() * count));
    const orders = new Map<string, Order>();
    return this.batchWrite(
      n,
      limits.txnKeysMax,
      (id) => {
        let order = newOrder(pick(nUsers));
        order = addToOrder(order, pick(nItems), 1, price);
        order = addToOrder(order, pick(nItems), 1, price);
        orders.set(id, order);
        return [[this.keys.order(id), encodeOrder(order)]];
      },
      (ids, version) => {
        for (const id of ids) {
          this.remember(id, orders.get(id)!, version);
          orders.delete(id);
        }
      },
    );
  }

  /**
   * Writes the records of ids "0".."n-1", `perTxn` of them a transaction, with up to
   * shopBatchInitTxnsInFlightMax transactions in flight: blind puts, which the coordinator sends
   * straight to PREPARE without reading.
   */
  private async batchWrite(n: number, perTxn: number, records: (id: string) => [string, string][], written?: (ids: readonly string[], version: number) => void): Promise<void> {
    const ranges = batchRanges(n, perTxn);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < ranges.length; i = next++) {
        const { from, to } = ranges[i]!;
        const then = [];
        const ids: string[] = [];
        for (let id = from; id < to; id++) {
          ids.push(String(id));
          for (const [key, value] of records(String(id))) then.push({ type: "put" as const, key, value });
        }
        const result = await this.store.txn({ then });
        written?.(ids, result.version);
      }
    };
    await Promise.all(Array.from({ length: Math.min(limits.shopBatchInitTxnsInFlightMax, ranges.length) }, worker));
  }
}
