// The web shop's pure model (shop/model.ts): path parameters are checked where they arrive (a
// refusal names the parameter or the limit), orders round-trip through their stored form and
// anything else under the prefix is told apart, items merge one line per item within
// shopOrderItemsMax, and a checkout is the one transaction the design says: the order's version as
// its only condition, every stock and the credit taken with a floor of 0 (and must exist), the order
// put back paid with its key, and the order read in the else branch.
import { describe, expect, it } from "vitest";
import { InvalidArgument } from "../../common/errors";
import { limits } from "../../common/limits";
import { addToOrder, batchRanges, checkoutNeeds, checkoutTxn, decodeOrder, encodeOrder, newOrder, parseAmount, parseBatchCount, parseId, ShopKeys } from "../../shop/model";

const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgument);
    return (error as Error).message;
  }
  throw new Error("expected a refusal");
};

describe("path parameters", () => {
  it("amounts are canonical non-negative integers; anything else names the parameter", () => {
    expect(parseAmount("amount", "0")).toBe(0);
    expect(parseAmount("amount", "42")).toBe(42);
    for (const bad of ["-1", "1.5", "01", "+1", "1e3", "", "abc", " 1"]) expect(refusal(() => parseAmount("amount", bad))).toContain("amount");
    expect(refusal(() => parseAmount("price", "9007199254740992"))).toContain("price is 9007199254740992");
    expect(refusal(() => parseBatchCount("n", String(limits.shopBatchInitMax + 1)))).toContain("shopBatchInitMax");
  });

  it("ids are 1 to shopIdBytesMax bytes without a slash", () => {
    expect(parseId("item_id", "a-1")).toBe("a-1");
    expect(refusal(() => parseId("item_id", ""))).toContain("item_id is missing");
    expect(refusal(() => parseId("order_id", "x".repeat(limits.shopIdBytesMax + 1)))).toContain("shopIdBytesMax");
    expect(refusal(() => parseId("user_id", "a/b"))).toContain("user_id");
  });
});

describe("orders", () => {
  it("round-trip through their stored form; other bytes are told apart", () => {
    const order = { ...addToOrder(newOrder("u1"), "i1", 2, 5), paid: true, paidBy: "key-1" };
    expect(decodeOrder(Buffer.from(encodeOrder(order)))).toEqual(order);
    expect(decodeOrder(Buffer.from("not json"))).toContain("not JSON");
    expect(decodeOrder(Buffer.from('{"user_id":"u","items":[["a",-1]],"total_cost":0,"paid":false}'))).toContain("items holds");
    expect(decodeOrder(Buffer.from('{"user_id":"u","items":[],"total_cost":1.5,"paid":false}'))).toContain("total_cost");
  });

  it("keep one line per item, grow total_cost by quantity x price, and refuse more than shopOrderItemsMax items", () => {
    let order = addToOrder(newOrder("u"), "a", 2, 3);
    order = addToOrder(order, "b", 1, 10);
    order = addToOrder(order, "a", 1, 3);
    expect(order.items).toEqual([["a", 3], ["b", 1]]);
    expect(order.totalCost).toBe(19);
    let full = newOrder("u");
    for (let i = 0; i < limits.shopOrderItemsMax; i++) full = addToOrder(full, `i${i}`, 1, 1);
    expect(refusal(() => addToOrder(full, "one-more", 1, 1))).toContain("shopOrderItemsMax");
    // An item already in the order still grows.
    expect(addToOrder(full, "i0", 1, 1).items[0]).toEqual(["i0", 2]);
    expect(refusal(() => addToOrder(newOrder("u"), "a", limits.counterAbsMax, 2))).toContain("counterAbsMax");
  });
});

describe("the checkout transaction", () => {
  it("conditions on the order's version, takes stock and credit with a floor of 0, and puts the order paid", () => {
    const keys = new ShopKeys("s/");
    const order = addToOrder(addToOrder(newOrder("u7"), "a", 2, 3), "b", 1, 4);
    const txn = checkoutTxn(keys, "o1", order, 41, "key-9");
    expect(txn.if).toEqual([{ key: "s/order/o1", version: 41 }]);
    expect(txn.then).toEqual([
      { type: "incr", key: "s/item/a/stock", delta: -2, min: 0, mustExist: true },
      { type: "incr", key: "s/item/b/stock", delta: -1, min: 0, mustExist: true },
      { type: "incr", key: "s/user/u7/credit", delta: -10, min: 0, mustExist: true },
      { type: "put", key: "s/order/o1", value: encodeOrder({ ...order, paid: true, paidBy: "key-9" }) },
    ]);
    expect(txn.else).toEqual([{ type: "get", key: "s/order/o1" }]);
    expect(checkoutNeeds(keys, order).map((need) => [need.key, need.need, need.short])).toEqual([
      ["s/item/a/stock", 2, "not enough stock for item a"],
      ["s/item/b/stock", 1, "not enough stock for item b"],
      ["s/user/u7/credit", 10, "not enough credit for user u7"],
    ]);
  });

  it("a full order fits one transaction's limits", () => {
    let order = newOrder("u");
    for (let i = 0; i < limits.shopOrderItemsMax; i++) order = addToOrder(order, `i${i}`, 1, 1);
    const txn = checkoutTxn(new ShopKeys("s/"), "o", order, 1, "k");
    const keys = new Set([...(txn.if ?? []).map((c) => c.key), ...txn.then.map((op) => op.key), ...(txn.else ?? []).map((op) => op.key)]);
    expect(keys.size).toBeLessThanOrEqual(limits.txnKeysMax);
    expect((txn.if ?? []).length + txn.then.length + (txn.else ?? []).length).toBeLessThanOrEqual(limits.txnOpsMax);
  });

  it("batch ranges cover 0..n-1 once", () => {
    expect(batchRanges(130, 64)).toEqual([{ from: 0, to: 64 }, { from: 64, to: 128 }, { from: 128, to: 130 }]);
    expect(batchRanges(0, 64)).toEqual([]);
  });
});
