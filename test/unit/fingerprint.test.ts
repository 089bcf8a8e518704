// Request fingerprints (common/fingerprint.ts) are durable: commit and failed records carry them, and
// a retry after a restart or an upgrade is compared against them. Proves that the encoding has not
// changed (values computed by the first implementation, a hash update per field) and that requests
// that differ in method, a key, a value's bytes, a condition or a branch get different fingerprints.
import { describe, expect, it } from "vitest";
import { requestFingerprint } from "../../common/fingerprint";
import { putProgram, type Program } from "../../common/txn";

const b = (text: string): Buffer => Buffer.from(text, "utf8");
const txn: Program = {
  conditions: [
    { key: "a", target: "value", op: "=", value: b("x") },
    { key: "b", target: "version", op: ">", version: 3 },
    { key: "c", target: "exists", exists: false },
  ],
  then: [
    { kind: "put", key: "a", value: Buffer.from([0, 255]) },
    { kind: "get", key: "b" },
    { kind: "incr", key: "n", delta: -2, min: 0, max: null, mustExist: true },
  ],
  otherwise: [{ kind: "del", key: "ключ" }],
};

describe("request fingerprints", () => {
  it("are what they always were (they are durable)", () => {
    expect(requestFingerprint("put", putProgram([{ key: "k", value: b("v") }]))).toBe("ZnzNrxyy3IZmxSFWo3iRxA");
    expect(requestFingerprint("delete", putProgram([{ key: "k", value: null }]))).toBe("OQiNMZkBGURYDnyduJFv6q");
    expect(requestFingerprint("txn", txn)).toBe("YzBFJD-wVHYKfuttMmn9QZ");
  });

  it("differ when the method, a key, a value, a condition or a branch differs", () => {
    const variants = [
      requestFingerprint("txn", txn),
      requestFingerprint("put", txn),
      requestFingerprint("txn", { ...txn, otherwise: null }),
      requestFingerprint("txn", { ...txn, conditions: txn.conditions.slice(1) }),
      requestFingerprint("txn", { ...txn, then: [{ kind: "put", key: "a", value: Buffer.from([0, 254]) }, ...txn.then.slice(1)] }),
      requestFingerprint("txn", { ...txn, then: [{ kind: "put", key: "b", value: Buffer.from([0, 255]) }, ...txn.then.slice(1)] }),
      // Field boundaries count: "ab" + "c" is not "a" + "bc".
      requestFingerprint("put", putProgram([{ key: "ab", value: b("c") }])),
      requestFingerprint("put", putProgram([{ key: "a", value: b("bc") }])),
    ];
    expect(new Set(variants).size).toBe(variants.length);
  });
});
