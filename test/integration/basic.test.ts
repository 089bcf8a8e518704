// Proves the store end to end on real processes: put, get and del through the client library and
// through the `kv` command (output and exit codes), `kv status`, and that bad input is refused with
// INVALID_ARGUMENT naming the field and the limit, with nothing written anywhere.
//
// The tests share one cluster but not their data: each writes the keys it reads (no two tests use a
// key), and each refusal test checks itself that its refused requests wrote nothing, so that the
// tests pass alone (-t) and in any order (--sequence.shuffle).
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { limits } from "../../common/limits";
import { channelOptions, kvProto } from "../../proto/load";
import type { KvClient as KvStub } from "../../proto/gen/twopc/kv/Kv";
import { killAllStarted, runKv, TestCluster } from "./harness";

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start();
});

afterAll(async () => {
  await cluster?.stop();
  await killAllStarted();
});

async function expectKvError(promise: Promise<unknown>, code: number, ...fragments: string[]): Promise<KvError> {
  const error = await promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KvError);
  const kvError = error as KvError;
  expect(kvError.code).toBe(code);
  for (const fragment of fragments) expect(kvError.message).toContain(fragment);
  return kvError;
}

/**
 * Checks every replica for writes the refused requests of a test must not have made: `written`
 * names them. A put acknowledged just before (a key of the test's own) must be there, so that an
 * empty or stale dump cannot pass for "nothing written".
 */
async function expectNothingWritten(marker: string, written: (key: string, value: string) => boolean): Promise<void> {
  await cluster.client().put(marker, "acknowledged");
  await cluster.waitSettled();
  for (const [i, content] of (await cluster.contents()).entries()) {
    expect(content.get(marker)?.value, `${cluster.replicaIds[i]} holds the acknowledged ${marker}`).toBe("acknowledged");
    const wrong = [...content].filter(([key, { value }]) => written(key, value)).map(([key]) => key);
    expect(wrong, `keys on ${cluster.replicaIds[i]} that refused requests wrote`).toEqual([]);
  }
}

describe("client library", () => {
  it("puts, gets and deletes, with versions that grow", async () => {
    const kv = cluster.client();
    expect(await kv.get("greeting")).toBeNull();
    const first = await kv.put("greeting", "hello");
    expect(first.version).toBeGreaterThan(0);
    const entry = await kv.get("greeting");
    expect(entry?.value.toString()).toBe("hello");
    expect(entry?.version).toBe(first.version);
    const second = await kv.put("greeting", Buffer.from([0, 1, 2, 255]));
    expect(second.version).toBeGreaterThan(first.version);
    expect((await kv.get("greeting"))?.value).toEqual(Buffer.from([0, 1, 2, 255]));
    await kv.put("empty", "");
    expect((await kv.get("empty"))?.value.length).toBe(0);
    const deleted = await kv.del("greeting");
    expect(deleted.version).toBeGreaterThan(second.version);
    expect(await kv.get("greeting")).toBeNull();
    // Deleting a missing key succeeds.
    await kv.del("never-written");
    // Every replica holds the same content.
    await cluster.waitSettled();
    const checksums = await cluster.checksums();
    expect(new Set(checksums).size).toBe(1);
    const contents = await cluster.contents();
    for (const content of contents) {
      expect(content.has("greeting")).toBe(false);
      expect(content.get("empty")?.value).toBe("");
    }
  });

  it("accepts a key of exactly keyBytesMax bytes and a value of exactly valueBytesMax bytes", async () => {
    const kv = cluster.client();
    const key = "k".repeat(limits.keyBytesMax);
    const value = Buffer.alloc(limits.valueBytesMax, 7);
    await kv.put(key, value);
    expect((await kv.get(key))?.value.equals(value)).toBe(true);
    await kv.del(key);
  });
});

describe("bad input gets INVALID_ARGUMENT naming the field and the limit, and writes nothing", () => {
  it("empty key", async () => {
    const kv = cluster.client();
    await expectKvError(kv.put("", "empty-key value"), Code.INVALID_ARGUMENT, "key is empty");
    await expectKvError(kv.get(""), Code.INVALID_ARGUMENT, "key is empty");
    await expectKvError(kv.del(""), Code.INVALID_ARGUMENT, "key is empty");
    await expectNothingWritten("marker-empty-key", (key, value) => key === "" || value === "empty-key value");
  });

  it("key over keyBytesMax (counted in UTF-8 bytes)", async () => {
    const kv = cluster.client();
    const key = "é".repeat(limits.keyBytesMax / 2 + 1); // 2 bytes each
    await expectKvError(kv.put(key, "v"), Code.INVALID_ARGUMENT, "key is 1026 bytes", "keyBytesMax", String(limits.keyBytesMax));
    await expectKvError(kv.get(key), Code.INVALID_ARGUMENT, "keyBytesMax");
    await expectKvError(kv.del(key), Code.INVALID_ARGUMENT, "keyBytesMax");
    await expectNothingWritten("marker-long-key", (stored) => stored.startsWith("é"));
  });

  it("value over valueBytesMax", async () => {
    const kv = cluster.client();
    await expectKvError(
      kv.put("big", Buffer.alloc(limits.valueBytesMax + 1)),
      Code.INVALID_ARGUMENT,
      `value is ${limits.valueBytesMax + 1} bytes`,
      "valueBytesMax",
    );
    expect(await kv.get("big")).toBeNull();
    await expectNothingWritten("marker-big-value", (key) => key === "big");
  });

  it("missing value field", async () => {
    const stub = new kvProto.Kv(cluster.coordinatorAddress, grpc.credentials.createInsecure(), channelOptions) as unknown as KvStub;
    try {
      const error = await new Promise<grpc.ServiceError | null>((resolve) => stub.Put({ key: "no-value" }, (e) => resolve(e)));
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error?.details).toContain("value is missing");
      const missingKey = await new Promise<grpc.ServiceError | null>((resolve) => stub.Put({ value: Buffer.from("x") }, (e) => resolve(e)));
      expect(missingKey?.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(missingKey?.details).toContain("key");
    } finally {
      stub.close();
    }
    expect(await cluster.client().get("no-value")).toBeNull();
    await expectNothingWritten("marker-missing-field", (key, value) => key === "no-value" || value === "x");
  });
});

describe("the kv command", () => {
  it("put, get, del and status, with documented exit codes", async () => {
    const env = { KV_COORDINATOR: cluster.coordinatorAddress };
    const put = await runKv(["put", "cli-key", "cli value"], env);
    expect(put.stderr).toBe("");
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^OK version \d+/);

    const get = await runKv(["get", "cli-key"], env);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe("cli value\n");

    const withVersion = await runKv(["get", "cli-key", "--json", "--coordinator", cluster.coordinatorAddress]);
    expect(withVersion.code).toBe(0);
    const parsed = JSON.parse(withVersion.stdout) as { value: string; version: number; found: boolean };
    expect(parsed).toMatchObject({ found: true, value: Buffer.from("cli value").toString("base64") }); // any bytes: base64
    expect(parsed.version).toBeGreaterThan(0);

    const del = await runKv(["del", "cli-key"], env);
    expect(del.code).toBe(0);

    const missing = await runKv(["get", "cli-key"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('key "cli-key" not found');
    expect(missing.stdout).toBe("");

    const status = await runKv(["status"], env);
    expect(status.code).toBe(0);
    for (const id of cluster.replicaIds) expect(status.stdout).toMatch(new RegExp(`${id}\\s+127\\.0\\.0\\.1:\\d+\\s+up`));
  });

  it("refusals exit 3 with the gRPC code and message on stderr; usage errors exit 2", async () => {
    const env = { KV_COORDINATOR: cluster.coordinatorAddress };
    const longKey = await runKv(["put", "x".repeat(limits.keyBytesMax + 1), "v"], env);
    expect(longKey.code).toBe(3);
    expect(longKey.stderr).toContain("INVALID_ARGUMENT");
    expect(longKey.stderr).toContain("keyBytesMax");

    const usage = await runKv(["put", "only-key"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr.length).toBeGreaterThan(0);
    await expectNothingWritten("marker-cli-refusals", (key) => key.length > limits.keyBytesMax || key === "only-key");
  });

  it("an unreachable coordinator exits 4 with UNAVAILABLE", async () => {
    const down = await runKv(["get", "k", "--coordinator", "127.0.0.1:1", "--timeout", "2000"]);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/UNAVAILABLE|DEADLINE_EXCEEDED/);
  });
});
