// Versions, atomic counters, compare-and-set, multi-key transactions and exactly-once retries,
// end to end through the client library and the `kv` command, on a real cluster.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import type { KvClient } from "../../client/client";
import { failure, killAllStarted, runKv, TestCluster } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

const text = async (kv: KvClient, key: string): Promise<string | null> => (await kv.get(key))?.value.toString("utf8") ?? null;

describe("operations through the client library", () => {
  let cluster: TestCluster;
  let kv: KvClient;
  beforeAll(async () => {
    cluster = await TestCluster.start({ onConflict: "wait" });
    kv = cluster.client();
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("gives every write a version: the commit sequence number, strictly increasing across the store", async () => {
    const a = await kv.put("v/a", "1");
    const b = await kv.put("v/b", "1");
    const c = await kv.del("v/a");
    expect(b.version).toBeGreaterThan(a.version);
    expect(c.version).toBeGreaterThan(b.version);
    expect((await kv.get("v/b"))?.version).toBe(b.version);
    expect(await kv.get("v/a")).toBeNull(); // a deleted key is absent
    expect(a.txnId).toMatch(/^\d+\.\d+$/);
  });

  it("increments and decrements, with bounds that refuse and write nothing", async () => {
    expect((await kv.increment("n/missing", 5)).value).toBe(5); // a missing key counts as 0
    expect((await kv.decrement("n/missing", 2)).value).toBe(3);
    const before = await kv.get("n/missing");
    const belowMin = await failure(kv.decrement("n/missing", 4, { min: 0 }));
    expect(belowMin.code).toBe(Code.FAILED_PRECONDITION);
    expect(belowMin.message).toContain("below the minimum 0");
    const aboveMax = await failure(kv.increment("n/missing", 10, { max: 10 }));
    expect(aboveMax.code).toBe(Code.FAILED_PRECONDITION);
    expect(aboveMax.message).toContain("above the maximum 10");
    expect(await kv.get("n/missing")).toEqual(before); // same value, same version: nothing written

    const mustExist = await failure(kv.increment("n/absent", 1, { mustExist: true }));
    expect(mustExist.code).toBe(Code.FAILED_PRECONDITION);
    expect(await kv.get("n/absent")).toBeNull();

    await kv.put("n/text", "hello");
    const notInteger = await failure(kv.increment("n/text", 1));
    expect(notInteger.code).toBe(Code.INVALID_ARGUMENT);
    expect(notInteger.message).toContain('"n/text"');
    expect(await text(kv, "n/text")).toBe("hello");

    const badDelta = await failure(kv.increment("n/x", 1.5));
    expect(badDelta.code).toBe(Code.INVALID_ARGUMENT);
    expect(badDelta.message).toContain("delta");
  });

  it("compare-and-set by version, by value, or if absent; FAILED_PRECONDITION names the current version", async () => {
    const created = await kv.compareAndSet("c/k", "one", { mustNotExist: true });
    const again = await failure(kv.compareAndSet("c/k", "two", { mustNotExist: true }));
    expect(again.code).toBe(Code.FAILED_PRECONDITION);
    expect(again.message).toContain(`version ${created.version}`);

    const stale = await failure(kv.compareAndSet("c/k", "two", { expectedVersion: created.version + 1000 }));
    expect(stale.code).toBe(Code.FAILED_PRECONDITION);
    expect(stale.message).toContain(`its version is ${created.version}`);
    expect(await text(kv, "c/k")).toBe("one");

    const second = await kv.compareAndSet("c/k", "two", { expectedVersion: created.version });
    expect(second.version).toBeGreaterThan(created.version);
    const wrongValue = await failure(kv.compareAndSet("c/k", "three", { expectedValue: "one" }));
    expect(wrongValue.code).toBe(Code.FAILED_PRECONDITION);
    expect(wrongValue.message).toContain('it is "two"');
    await kv.compareAndSet("c/k", "three", { expectedValue: "two" });
    expect(await text(kv, "c/k")).toBe("three");

    const badDelete = await failure(kv.compareAndDelete("c/k", { expectedValue: "two" }));
    expect(badDelete.code).toBe(Code.FAILED_PRECONDITION);
    const current = await kv.get("c/k");
    await kv.compareAndDelete("c/k", { expectedVersion: current!.version });
    expect(await kv.get("c/k")).toBeNull();
  });

  it("runs multi-key transactions: then or else, results per operation, all or nothing", async () => {
    await kv.put("t/a", "1");
    const a = await kv.get("t/a");
    const ran = await kv.txn({
      if: [{ key: "t/a", version: a!.version }, { key: "t/b", exists: false }],
      then: [
        { type: "put", key: "t/b", value: "new" },
        { type: "incr", key: "t/n", delta: 7 },
        { type: "get", key: "t/a" },
        { type: "get", key: "t/b" },
      ],
      else: [{ type: "get", key: "t/a" }],
    });
    expect(ran.branch).toBe("then");
    expect(ran.results).toEqual([
      { type: "put", key: "t/b" },
      { type: "incr", key: "t/n", value: 7 },
      { type: "get", key: "t/a", entry: { value: Buffer.from("1"), version: a!.version } },
      { type: "get", key: "t/b", entry: { value: Buffer.from("new"), version: 0 } }, // written by this transaction
    ]);
    expect((await kv.get("t/b"))?.version).toBe(ran.version);
    expect((await kv.get("t/n"))?.version).toBe(ran.version); // one commit for both keys

    const otherwise = await kv.txn({
      if: [{ key: "t/b", exists: false }],
      then: [{ type: "put", key: "t/b", value: "never" }],
      else: [{ type: "get", key: "t/b" }],
    });
    expect(otherwise.branch).toBe("else");
    expect(otherwise.version).toBe(0); // read only: nothing written
    expect(otherwise.results).toEqual([{ type: "get", key: "t/b", entry: { value: Buffer.from("new"), version: ran.version } }]);

    // A bound that fails in the middle of a branch: none of the branch is written.
    const bounded = await failure(
      kv.txn({ then: [{ type: "put", key: "t/c", value: "x" }, { type: "incr", key: "t/n", delta: -100, min: 0 }] }),
    );
    expect(bounded.code).toBe(Code.FAILED_PRECONDITION);
    expect(await kv.get("t/c")).toBeNull();
    expect(await text(kv, "t/n")).toBe("7");

    const conditionFailed = await failure(kv.txn({ if: [{ key: "t/a", value: "2" }], then: [{ type: "del", key: "t/a" }] }));
    expect(conditionFailed.code).toBe(Code.FAILED_PRECONDITION);
    expect(conditionFailed.message).toContain("condition 0");
    expect(await text(kv, "t/a")).toBe("1");

    const empty = await failure(kv.txn({ then: [] }));
    expect(empty.code).toBe(Code.INVALID_ARGUMENT);
    const tooMany = await failure(kv.txn({ then: Array.from({ length: 65 }, (_, i) => ({ type: "del" as const, key: `t/many/${i}` })) }));
    expect(tooMany.code).toBe(Code.INVALID_ARGUMENT);
    expect(tooMany.message).toContain("txnKeysMax");
  });

  it("answers txn-status by transaction id and by request id", async () => {
    const written = await kv.put("s/k", "v", { requestId: "status-test-1" });
    expect(await kv.txnStatus("status-test-1")).toMatchObject({ state: "COMMITTED", txnId: written.txnId, commitSeq: written.version });
    expect(await kv.txnStatus(written.txnId)).toMatchObject({ state: "COMMITTED", commitSeq: written.version });
    expect((await kv.txnStatus("never-sent")).state).toBe("UNKNOWN");
    await failure(kv.increment("s/k", 1, {}, { requestId: "status-test-2" })); // "v" is not an integer
    expect((await kv.txnStatus("status-test-2")).state).toBe("ABORTED");
    const status = await cluster.client().status();
    expect((await kv.txnStatus(`${status.epoch}.999999`)).state).toBe("UNKNOWN"); // not issued yet
  });

  it("returns the original result to a request retried with the same id, applying nothing again", async () => {
    const first = await kv.increment("x/once", 1, {}, { requestId: "retry-me" });
    const retry = await kv.increment("x/once", 1, {}, { requestId: "retry-me" });
    expect(retry).toEqual(first);
    expect(await text(kv, "x/once")).toBe("1");
  });
});

describe("the kv command", () => {
  it("incr, decr, cas, cad, txn and txn-status, exiting non-zero with the code and reason on a failed condition", async () => {
    const cluster = await TestCluster.start();
    try {
      const env = { KV_COORDINATOR: cluster.coordinatorAddress };
      const incr = await runKv(["incr", "stock", "10"], env);
      expect(incr.code).toBe(0);
      expect(incr.stdout).toMatch(/^10\t\(version \d+\)/);
      const decr = await runKv(["decr", "stock", "11", "--min", "0"], env);
      expect(decr.code).toBe(3);
      expect(decr.stderr).toContain("FAILED_PRECONDITION");
      expect(decr.stderr).toContain("below the minimum 0");
      expect((await runKv(["decr", "stock", "4", "--min", "0"], env)).stdout).toMatch(/^6\t/);

      const get = await runKv(["get", "stock", "--json"], env);
      const entry = JSON.parse(get.stdout) as { value: string; version: number };
      expect(Buffer.from(entry.value, "base64").toString("utf8")).toBe("6"); // --json carries the bytes in base64
      const staleCas = await runKv(["cas", "stock", "100", "--expected-version", String(entry.version + 1)], env);
      expect(staleCas.code).toBe(3);
      expect(staleCas.stderr).toContain(`its version is ${entry.version}`);
      expect((await runKv(["cas", "stock", "100", "--expected-version", String(entry.version)], env)).code).toBe(0);
      expect((await runKv(["cas", "stock", "1"], env)).code).toBe(2); // no expectation given: usage
      expect((await runKv(["cas", "fresh", "1", "--must-not-exist"], env)).code).toBe(0);
      expect((await runKv(["cad", "fresh", "--expected-value", "2"], env)).code).toBe(3);
      expect((await runKv(["cad", "fresh", "--expected-value", "1"], env)).code).toBe(0);

      const txn = await runKv(
        ["txn", '{"if":[{"key":"stock","value":"100"}],"then":[{"type":"decr","key":"stock","delta":1,"min":0},{"type":"put","key":"order/1","value":"1"}]}', "--json-output"],
        env,
      );
      expect(txn.code).toBe(0);
      expect(JSON.parse(txn.stdout)).toMatchObject({ branch: "then", results: [{ type: "incr", key: "stock", value: 99 }, { type: "put", key: "order/1" }] });
      const failedTxn = await runKv(["txn", '{"if":[{"key":"stock","value":"100"}],"then":[{"type":"del","key":"stock"}]}'], env);
      expect(failedTxn.code).toBe(3);
      expect(failedTxn.stderr).toContain("condition 0 failed");
      const badJson = await runKv(["txn", '{"then":[{"type":"explode","key":"x"}]}'], env);
      expect(badJson.code).toBe(3);
      expect(badJson.stderr).toContain("then[0].type");

      const put = await runKv(["put", "k", "v", "--request-id", "cli-1"], env);
      expect(put.code).toBe(0);
      const status = await runKv(["txn-status", "cli-1"], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^COMMITTED /);
      expect((await runKv(["txn-status", "cli-unknown"], env)).code).toBe(4);
    } finally {
      await cluster.stop();
    }
  });
});

describe("concurrency", () => {
  it("50 clients decrementing one hot key from 1,000 with floor 0: exactly 1,000 succeed, it ends at 0, never read negative", async () => {
    const cluster = await TestCluster.start({ onConflict: "wait" });
    try {
      const setup = cluster.client();
      await setup.put("hot", "1000");
      let successes = 0;
      let refusals = 0;
      let done = false;
      const reads: number[] = [];
      const reader = (async () => {
        const kv = cluster.client();
        while (!done) reads.push(Number((await kv.get("hot"))!.value.toString("utf8")));
      })();
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          const kv = cluster.client(10_000, 10_000);
          for (;;) {
            try {
              await kv.decrement("hot", 1, { min: 0 });
              successes += 1;
            } catch (error) {
              const code = (error as KvError).code;
              if (code === Code.FAILED_PRECONDITION) {
                refusals += 1;
                return; // the stock is gone
              }
              if (code !== Code.ABORTED) throw error; // waited too long for the lock: try again
            }
          }
        }),
      );
      done = true;
      await reader;
      expect(successes).toBe(1000);
      expect(refusals).toBe(50);
      expect(await text(setup, "hot")).toBe("0");
      expect(reads.length).toBeGreaterThan(0);
      expect(Math.min(...reads)).toBeGreaterThanOrEqual(0);
      // Reads are linearizable, so the values one reader sees never go up.
      for (let i = 1; i < reads.length; i++) expect(reads[i]).toBeLessThanOrEqual(reads[i - 1]!);
    } finally {
      await cluster.stop();
    }
  }, 180_000); // 1,000 transactions on one key run one after another: ~25 s alone, more on a busy machine

  it("concurrent transfers keep the sum over all accounts constant in every transactional read", async () => {
    const cluster = await TestCluster.start({ onConflict: "wait" });
    try {
      const accounts = ["acct/0", "acct/1", "acct/2", "acct/3", "acct/4"];
      const setup = cluster.client();
      await setup.txn({ then: accounts.map((key) => ({ type: "put" as const, key, value: "100" })) });
      const total = 100 * accounts.length;
      let transfers = 0;
      let done = false;
      const sums: number[] = [];
      const readers = Array.from({ length: 2 }, async () => {
        const kv = cluster.client(10_000, 10_000);
        while (!done) {
          const snapshot = await kv.txn({ then: accounts.map((key) => ({ type: "get" as const, key })) });
          sums.push(snapshot.results.reduce((sum, result) => sum + (result.type === "get" ? Number(result.entry!.value.toString("utf8")) : 0), 0));
        }
      });
      let seed = 7;
      const random = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const kv = cluster.client(10_000, 10_000);
          for (let i = 0; i < 25; i++) {
            const from = accounts[random(accounts.length)]!;
            const to = accounts.filter((key) => key !== from)[random(accounts.length - 1)]!;
            const amount = 1 + random(30);
            try {
              await kv.txn({ then: [{ type: "incr", key: from, delta: -amount, min: 0 }, { type: "incr", key: to, delta: amount }] });
              transfers += 1;
            } catch (error) {
              const code = (error as KvError).code;
              if (code !== Code.FAILED_PRECONDITION && code !== Code.ABORTED) throw error; // not enough funds, or a lock wait timed out
            }
          }
        }),
      );
      done = true;
      await Promise.all(readers);
      expect(transfers).toBeGreaterThan(50);
      expect(sums.length).toBeGreaterThan(0);
      expect(sums.filter((sum) => sum !== total)).toEqual([]);
      const final = await setup.txn({ then: accounts.map((key) => ({ type: "get" as const, key })) });
      const values = final.results.map((result) => (result.type === "get" ? Number(result.entry!.value.toString("utf8")) : NaN));
      expect(values.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      await cluster.waitSettled();
      const checksums = await cluster.checksums();
      expect(new Set(checksums).size).toBe(1);
    } finally {
      await cluster.stop();
    }
  }, 120_000);
});

describe("exactly-once retries", () => {
  it("a write whose reply is lost is retried with the same request id and applied once", async () => {
    // The coordinator loses the first successful reply it would send: the client sees UNAVAILABLE
    // and retries with the same request id.
    const cluster = await TestCluster.start({ failpoints: "coordinator:after-commit-before-reply=error@1" });
    try {
      const kv = cluster.client(5_000, 10_000);
      const result = await kv.increment("once", 1);
      expect(result.value).toBe(1); // the original result, not a second increment
      expect(await text(kv, "once")).toBe("1");
      expect((await kv.txnStatus(result.txnId)).state).toBe("COMMITTED");
      const noRetry = cluster.client(5_000, 0);
      expect((await noRetry.increment("once", 1)).value).toBe(2); // the failpoint fired once only
    } finally {
      await cluster.stop();
    }
  });

  it("the same across a coordinator restart between the two attempts", async () => {
    // The coordinator dies after its COMMIT decision is durable and applied, before it replies.
    const cluster = await TestCluster.start({ failpoints: "coordinator:after-commit-before-reply=crash@1" });
    try {
      const kv = cluster.client(3_000, 30_000);
      const pending = kv.increment("once", 5, {}, { requestId: "across-restart" });
      await cluster.coordinator.exited;
      cluster.startCoordinator();
      const result = await pending;
      expect(result.value).toBe(5);
      expect(await text(kv, "once")).toBe("5");
      expect((await kv.txnStatus("across-restart")).state).toBe("COMMITTED");
      // A retry long after still gets the original result (the coordinator remembers it durably).
      expect(await kv.increment("once", 5, {}, { requestId: "across-restart" })).toEqual(result);
      expect(await text(kv, "once")).toBe("5");
    } finally {
      await cluster.stop();
    }
  });
});
