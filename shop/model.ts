// The web shop's data model (issue 15): where each record lives under the shop's prefix, how an
// order is stored, how the path parameters are checked, and the one transaction a checkout is.
// Pure: no I/O, no clock, no randomness; shop/service.ts carries these out over the client library.
//
// Keys, under the prefix (default "shop/"), so that a shop shares a cluster with other data:
//   PREFIX item/ID/price    the item's price, a decimal integer (written once, at creation)
//   PREFIX item/ID/stock    its stock, a counter (incr with a floor of 0)
//   PREFIX user/ID/credit   the user's credit, a counter (incr with a floor of 0)
//   PREFIX order/ID         the order, JSON: {"user_id","items":[[item_id,quantity],...],"total_cost","paid","paid_by"?}
//
// A checkout is ONE transaction over the order, the user's credit and every item's stock:
//   if   the order's version is the one read  (so nothing changed it since: not paid meanwhile, no item added)
//   then incr each stock by -quantity (min 0, must exist); incr the credit by -total_cost (min 0, must
//        exist); put the order with paid = true and paid_by = the checkout's idempotency key
//   else get the order                     (it changed: the shop reads it again and decides)
// A bound that fails anywhere fails the whole transaction (FAILED_PRECONDITION, nothing written):
// nothing to compensate, nothing oversold, no credit below 0.
import { InvalidArgument, overLimit } from "../common/errors";
import { limits } from "../common/limits";
import type { TxnOperation, TxnSpec } from "../client/client";

/** The prefix of the shop's keys when none is given (`kv shop --prefix`). */
export const defaultShopPrefix = "shop/";

/** Where the shop's records live: every key is the prefix and a path of the record. */
export class ShopKeys {
  constructor(readonly prefix: string) {}
  price(itemId: string): string {
    return `${this.prefix}item/${itemId}/price`;
  }
  stock(itemId: string): string {
    return `${this.prefix}item/${itemId}/stock`;
  }
  credit(userId: string): string {
    return `${this.prefix}user/${userId}/credit`;
  }
  order(orderId: string): string {
    return `${this.prefix}order/${orderId}`;
  }
}

/**
 * An id from the path (item, user or order): 1 to shopIdBytesMax bytes, without "/" (a percent-
 * encoded slash would otherwise reach into another record's key).
 */
export function parseId(field: string, raw: string | undefined): string {
  if (raw === undefined || raw.length === 0) throw new InvalidArgument(field, `${field} is missing`);
  const bytes = Buffer.byteLength(raw, "utf8");
  if (bytes > limits.shopIdBytesMax) throw overLimit(field, bytes, "shopIdBytesMax", "bytes");
  if (raw.includes("/")) throw new InvalidArgument(field, `${field} ${JSON.stringify(raw)} contains "/"; an id may not`);
  return raw;
}

/**
 * An amount, price, quantity or count from the path: a non-negative decimal integer in canonical
 * form (no sign, no leading zero, no fraction), at most max (counterAbsMax by default).
 */
export function parseAmount(field: string, raw: string | undefined, max: number = limits.counterAbsMax): number {
  if (raw === undefined || raw.length === 0) throw new InvalidArgument(field, `${field} is missing`);
  if (!/^(0|[1-9][0-9]*)$/.test(raw)) throw new InvalidArgument(field, `${field} is ${JSON.stringify(raw)}; it must be a non-negative integer`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value > max) throw new InvalidArgument(field, `${field} is ${raw}; it must be at most ${max}`);
  return value;
}

/** A count of a batch_init: at most shopBatchInitMax, named in the refusal. */
export function parseBatchCount(field: string, raw: string | undefined): number {
  const value = parseAmount(field, raw);
  if (value > limits.shopBatchInitMax) throw overLimit(field, value, "shopBatchInitMax", "records");
  return value;
}

/** One line of an order: an item and how many of it. */
export type OrderLine = readonly [itemId: string, quantity: number];

export interface Order {
  readonly userId: string;
  /** One line per distinct item, in the order first added; at most shopOrderItemsMax. */
  readonly items: readonly OrderLine[];
  readonly totalCost: number;
  readonly paid: boolean;
  /** The idempotency key of the checkout that paid it (a retry of that checkout answers 200 again). */
  readonly paidBy: string | null;
}

/** The order as stored (the API's field names: find answers them as they are). */
export function encodeOrder(order: Order): string {
  const stored: Record<string, unknown> = { user_id: order.userId, items: order.items, total_cost: order.totalCost, paid: order.paid };
  if (order.paidBy !== null) stored.paid_by = order.paidBy;
  return JSON.stringify(stored);
}

/** The stored order, or a message saying why these bytes are not one (another program wrote under the prefix). */
export function decodeOrder(bytes: Buffer): Order | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    return `not JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof parsed !== "object" || parsed === null) return "not a JSON object";
  const record = parsed as Record<string, unknown>;
  const { user_id: userId, items, total_cost: totalCost, paid, paid_by: paidBy } = record;
  if (typeof userId !== "string") return "user_id is not a string";
  if (!Number.isSafeInteger(totalCost) || (totalCost as number) < 0) return "total_cost is not a non-negative integer";
  if (typeof paid !== "boolean") return "paid is not a boolean";
  if (paidBy !== undefined && typeof paidBy !== "string") return "paid_by is not a string";
  if (!Array.isArray(items)) return "items is not an array";
  const lines: OrderLine[] = [];
  for (const item of items as unknown[]) {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string" || !Number.isSafeInteger(item[1]) || (item[1] as number) < 0) {
      return `items holds ${JSON.stringify(item)}, not [item_id, quantity]`;
    }
    lines.push([item[0], item[1] as number]);
  }
  return { userId, items: lines, totalCost: totalCost as number, paid, paidBy: paidBy ?? null };
}

/** What GET /orders/find answers. */
export function orderJson(orderId: string, order: Order): object {
  return { order_id: orderId, paid: order.paid, items: order.items, user_id: order.userId, total_cost: order.totalCost };
}

export function newOrder(userId: string): Order {
  return { userId, items: [], totalCost: 0, paid: false, paidBy: null };
}

/**
 * The order with quantity more of the item at this price: the line of the item grows (one line per
 * distinct item, so a checkout's transaction names each stock once), total_cost grows by quantity
 * x price. INVALID_ARGUMENT naming the limit when the order would hold more than shopOrderItemsMax
 * distinct items, or a cost beyond counterAbsMax.
 */
export function addToOrder(order: Order, itemId: string, quantity: number, price: number): Order {
  const cost = quantity * price;
  const totalCost = order.totalCost + cost;
  if (!Number.isSafeInteger(cost) || !Number.isSafeInteger(totalCost) || totalCost > limits.counterAbsMax) {
    throw new InvalidArgument("quantity", `quantity ${quantity} x price ${price} would take the order's total_cost beyond ${limits.counterAbsMax} (counterAbsMax)`);
  }
  const index = order.items.findIndex(([id]) => id === itemId);
  let items: OrderLine[];
  if (index >= 0) {
    items = order.items.map((line, i): OrderLine => (i === index ? [line[0], line[1] + quantity] : line));
  } else {
    if (order.items.length >= limits.shopOrderItemsMax) {
      throw new InvalidArgument("item_id", `the order holds ${order.items.length} distinct items; the limit is ${limits.shopOrderItemsMax} (shopOrderItemsMax)`);
    }
    items = [...order.items, [itemId, quantity]];
  }
  return { ...order, items, totalCost };
}

/**
 * The checkout of an order read at `version`, as one transaction (see the top of this file).
 * `paidBy` is the checkout's idempotency key, stored in the paid order.
 */
export function checkoutTxn(keys: ShopKeys, orderId: string, order: Order, version: number, paidBy: string): TxnSpec {
  const then: TxnOperation[] = [];
  for (const [itemId, quantity] of order.items) {
    if (quantity > 0) then.push({ type: "incr", key: keys.stock(itemId), delta: -quantity, min: 0, mustExist: true });
  }
  if (order.totalCost > 0) then.push({ type: "incr", key: keys.credit(order.userId), delta: -order.totalCost, min: 0, mustExist: true });
  then.push({ type: "put", key: keys.order(orderId), value: encodeOrder({ ...order, paid: true, paidBy }) });
  return { if: [{ key: keys.order(orderId), version }], then, else: [{ type: "get", key: keys.order(orderId) }] };
}

/** A bound of a checkout: a key, how much it must hold, and how to name its shortage or absence. */
export interface CheckoutNeed {
  readonly key: string;
  readonly need: number;
  readonly short: string;
  readonly missing: string;
}

/** The keys a checkout's bounds are on, with what each needs: for naming what was short after a refusal. */
export function checkoutNeeds(keys: ShopKeys, order: Order): CheckoutNeed[] {
  const needs: CheckoutNeed[] = order.items
    .filter(([, quantity]) => quantity > 0)
    .map(([itemId, quantity]) => ({ key: keys.stock(itemId), need: quantity, short: `not enough stock for item ${itemId}`, missing: `item ${itemId} not found` }));
  if (order.totalCost > 0) {
    needs.push({ key: keys.credit(order.userId), need: order.totalCost, short: `not enough credit for user ${order.userId}`, missing: `user ${order.userId} not found` });
  }
  return needs;
}

/** Splits 0..n-1 into consecutive ranges of at most `size` (the records of one batch_init transaction). */
export function batchRanges(n: number, size: number): { readonly from: number; readonly to: number }[] {
  const ranges: { from: number; to: number }[] = [];
  for (let from = 0; from < n; from += size) ranges.push({ from, to: Math.min(n, from + size) });
  return ranges;
}
