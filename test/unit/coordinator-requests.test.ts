// Input checks on the coordinator's side (issue 10): the client's requests become programs only
// through coordinator/requests.ts, whose rejections name the field and the limit; and the batches
// the coordinator sends a replica stay under batchBytesMax however large the transactions.
import { describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { limits } from "../../common/limits";
import { Batcher } from "../../coordinator/node";
import { compareAndSetProgram, txnProgram } from "../../coordinator/requests";
import type { TxnRequest__Output } from "../../proto/gen/twopc/kv/TxnRequest";
import type { TxnOp__Output } from "../../proto/gen/twopc/kv/TxnOp";

function refusal(run: () => unknown): KvError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KvError);
    return error as KvError;
  }
  throw new Error("expected a refusal");
}

const put = (key: string, value: Buffer): TxnOp__Output => ({ type: "put", key, value, delta: 0, mustExist: false });
const txn = (onSuccess: TxnOp__Output[], conditions: TxnRequest__Output["conditions"] = []): TxnRequest__Output => ({
  conditions,
  onSuccess,
  onFailure: [],
  hasOnFailure: false,
  requestId: "",
});

describe("coordinator requests", () => {
  it("refuses a transaction carrying more than txnBytesMax bytes, naming the limit", () => {
    const value = Buffer.alloc(limits.valueBytesMax);
    const count = Math.floor(limits.txnBytesMax / limits.valueBytesMax) + 1;
    const error = refusal(() => txnProgram(txn(Array.from({ length: count }, (_, i) => put(`k${i}`, value)))));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain("txnBytesMax");
    // One fewer fits.
    expect(txnProgram(txn(Array.from({ length: count - 2 }, (_, i) => put(`k${i}`, value)))).then).toHaveLength(count - 2);
  });

  it("refuses a version condition that is not a whole number (a uint64 past 2^53 lost its precision)", () => {
    const condition = { key: "k", target: "version", op: ">", value: Buffer.alloc(0), version: 2 ** 60, exists: false };
    const error = refusal(() => txnProgram(txn([put("k", Buffer.from("v"))], [condition])));
    expect(error.code).toBe(Code.INVALID_ARGUMENT);
    expect(error.message).toContain("conditions[0].version");
  });

  it("refuses a compare-and-set expected_version past 2^53", () => {
    const error = refusal(() => compareAndSetProgram({ key: "k", newValue: Buffer.from("v"), expectedVersion: 2 ** 60, mustNotExist: false, requestId: "" }));
    expect(error.message).toContain("expected_version");
  });
});

describe("Batcher", () => {
  it("keeps each batch within batchBytesMax, and sends an item larger than that alone", async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number>((batch, done) => {
      sent.push(batch);
      done();
    }, (size) => size);
    const big = Math.floor(limits.batchBytesMax / 2) - 1;
    for (const size of [big, big, big, limits.batchBytesMax + 1, 1, 1]) batcher.push(size);
    batcher.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent).toEqual([[big, big], [big], [limits.batchBytesMax + 1], [1, 1]]);
    for (const batch of sent) if (batch.length > 1) expect(batch.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(limits.batchBytesMax);
  });

  it("keeps each batch within txnsPerBatchMax items", async () => {
    const sent: number[][] = [];
    const batcher = new Batcher<number>((batch, done) => {
      sent.push(batch);
      done();
    });
    for (let i = 0; i < limits.txnsPerBatchMax * 2 + 1; i++) batcher.push(i);
    batcher.flush();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sent.map((batch) => batch.length)).toEqual([limits.txnsPerBatchMax, limits.txnsPerBatchMax, 1]);
  });
});
