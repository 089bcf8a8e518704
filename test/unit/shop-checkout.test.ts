// The shop's checkout when the store's answer is lost (shop/service.ts Shop.checkout): a fake store
// whose transaction fails with UNAVAILABLE (outcome unknown) and whose txnStatus says what became
// of the request. The consistency test (shop-consistency.test.ts) kills real processes, but cannot
// make a lost answer whose transaction committed happen on demand: here it happens every time.
import { describe, expect, it } from "vitest";
import { Code, KvError, Unavailable } from "../../common/errors";
import type { Entry, TxnResult, TxnSpec, TxnStatusResult } from "../../client/client";
import { encodeOrder, newOrder, type Order } from "../../shop/model";
import { Shop, type ShopStore } from "../../shop/service";

const prefix = "t/";
const orderKey = `${prefix}order/7`;
const unpaid: Order = { ...newOrder("u1"), items: [["i1", 1]], totalCost: 3 };

/** A store holding order 7 (version 5), whose transactions answer as `answers` says, one per call. */
function fakeStore(answers: ("lost" | "then")[], states: TxnStatusResult["state"][]): { store: ShopStore; requestIds: string[]; asked: string[] } {
  const requestIds: string[] = [];
  const asked: string[] = [];
  const entry: Entry = { value: Buffer.from(encodeOrder(unpaid)), version: 5 };
  const store: ShopStore = {
    get: async (key: string) => (key === orderKey ? entry : null),
    put: async () => {
      throw new Error("the checkout puts nothing outside its transaction");
    },
    txn: async (_spec: TxnSpec, options?: { requestId?: string }): Promise<TxnResult> => {
      requestIds.push(options?.requestId ?? "");
      const answer = answers.shift();
      if (answer === "lost") throw new Unavailable("the coordinator was killed before it answered");
      if (answer === "then") return { branch: "then", results: [], version: 9, txnId: "1.9" };
      throw new Error("an unexpected transaction");
    },
    txnStatus: async (id: string): Promise<TxnStatusResult> => {
      asked.push(id);
      const state = states.shift() ?? "UNKNOWN";
      return { state, txnId: state === "UNKNOWN" ? "" : "1.9", commitSeq: state === "COMMITTED" ? 9 : 0, message: "" };
    },
  } as unknown as ShopStore;
  return { store, requestIds, asked };
}

describe("a checkout whose answer is lost", () => {
  it("answers success when txnStatus says its request committed (nothing sent again)", async () => {
    const { store, requestIds, asked } = fakeStore(["lost"], ["COMMITTED"]);
    await expect(new Shop(store, prefix).checkout("7", "key-1")).resolves.toBeUndefined();
    expect(requestIds).toHaveLength(1);
    expect(asked).toEqual(requestIds);
  });

  it("tries again under a new request id when txnStatus says it aborted", async () => {
    const { store, requestIds } = fakeStore(["lost", "then"], ["ABORTED"]);
    await expect(new Shop(store, prefix).checkout("7", "key-1")).resolves.toBeUndefined();
    expect(requestIds).toHaveLength(2);
    expect(requestIds[0]).not.toBe(requestIds[1]);
  });

  it("answers UNAVAILABLE naming the Idempotency-Key when the outcome stays unknown, and the same key's retry asks about the same request", async () => {
    const first = fakeStore(["lost"], ["UNKNOWN"]);
    const error = await new Shop(first.store, prefix).checkout("7", "key-1").then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(KvError);
    expect((error as KvError).code).toBe(Code.UNAVAILABLE);
    expect((error as KvError).message).toContain("Idempotency-Key: key-1");
    // The client sends it again with the same key: the same request id, so the store joins or finds the first.
    const again = fakeStore(["lost"], ["COMMITTED"]);
    await new Shop(again.store, prefix).checkout("7", "key-1");
    expect(again.requestIds).toEqual(first.requestIds);
  });
});
