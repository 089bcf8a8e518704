// Proves the HTTP/JSON gateway (http/gateway.ts) against a real cluster (a coordinator and three
// replicas, each its own process, on random free ports), with real HTTP requests (fetch): values go
// in and out as exact bytes, keys in the path are percent-decoded, writes reach the store (read back
// through the client library, not only through the gateway), a transaction takes `kv txn`'s JSON,
// failures are JSON naming the gRPC code with the HTTP status that fits, limits are refused where
// the request arrives naming the limit (and nothing is written), an Idempotency-Key makes a retried
// write apply once, the OpenAPI document lists what is served, `kv http` runs the gateway as a
// process, and, last, a write with every coordinator down is 503 with its outcome called unknown.
//
// The gateway runs in this process over a client of the cluster (no retries: a failure shows at
// once), except in the `kv http` test, which starts the command.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { limits } from "../../common/limits";
import { startHttpGateway, type HttpGateway } from "../../http/gateway";
import { openApiDocument } from "../../http/openapi";
import { killAllStarted, kvScript, Proc, runKv, TestCluster, waitFor } from "./harness";

let cluster: TestCluster;
let gateway: HttpGateway;
let store: KvClient;
const procs: Proc[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start();
  store = new KvClient(cluster.coordinatorAddress, { timeoutMs: 5_000, retryForMs: 0 });
  gateway = await startHttpGateway({ host: "127.0.0.1", port: 0, store });
});

afterAll(async () => {
  for (const proc of procs) await proc.kill("SIGKILL");
  await gateway?.stop();
  store?.close();
  await cluster?.stop();
  await killAllStarted();
});

const url = (path: string): string => `${gateway.url}${path}`;

/** The JSON error body of a failed request, after checking its HTTP status and gRPC code name. */
async function expectError(response: Response, status: number, code: string, ...fragments: string[]): Promise<{ code: string; grpcCode: number; message: string; requestId?: string }> {
  const body = (await response.json()) as { code: string; grpcCode: number; message: string; requestId?: string };
  expect({ status: response.status, code: body.code }, body.message).toEqual({ status, code });
  for (const fragment of fragments) expect(body.message).toContain(fragment);
  return body;
}

describe("values and keys", () => {
  it("stores the body's exact bytes and a GET returns them, with the version in Kv-Version", async () => {
    // Every byte value, including sequences that are not UTF-8: a text round trip would change them.
    const value = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    const put = await fetch(url("/v1/kv/bytes"), { method: "PUT", body: value, headers: { "content-type": "application/octet-stream" } });
    expect(put.status).toBe(200);
    const written = (await put.json()) as { key: string; version: number; txnId: string };
    expect(written.key).toBe("bytes");
    expect(written.version).toBeGreaterThan(0);
    expect(put.headers.get("kv-version")).toBe(String(written.version));

    const get = await fetch(url("/v1/kv/bytes"));
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("application/octet-stream");
    expect(get.headers.get("kv-version")).toBe(String(written.version));
    expect(Buffer.from(await get.arrayBuffer()).equals(value)).toBe(true);
    // The store holds those bytes, as the client library reads them.
    const entry = await store.get("bytes");
    expect(entry?.value.equals(value)).toBe(true);
    expect(entry?.version).toBe(written.version);
  });

  it("takes an empty body as the empty value", async () => {
    expect((await fetch(url("/v1/kv/empty"), { method: "PUT" })).status).toBe(200);
    const get = await fetch(url("/v1/kv/empty"));
    expect(get.status).toBe(200);
    expect((await get.arrayBuffer()).byteLength).toBe(0);
    expect((await store.get("empty"))?.value.length).toBe(0);
  });

  it("percent-decodes the key of the path, slashes included", async () => {
    const key = "dir/sub key%é?";
    const put = await fetch(url(`/v1/kv/${encodeURIComponent(key)}`), { method: "PUT", body: "decoded" });
    expect(((await put.json()) as { key: string }).key).toBe(key);
    expect((await store.get(key))?.value.toString("utf8")).toBe("decoded");
    // A "/" may also stay as it is: the rest of the path is the key.
    const get = await fetch(url("/v1/kv/dir/sub%20key%25%C3%A9%3F"));
    expect(await get.text()).toBe("decoded");
  });

  it("answers 404 NOT_FOUND for an absent key, and DELETE removes one", async () => {
    await expectError(await fetch(url("/v1/kv/never-written")), 404, "NOT_FOUND", '"never-written" not found');
    await store.put("doomed", "x");
    const del = await fetch(url("/v1/kv/doomed"), { method: "DELETE" });
    expect(del.status).toBe(200);
    const deleted = (await del.json()) as { version: number };
    expect(del.headers.get("kv-version")).toBe(String(deleted.version));
    expect(await store.get("doomed")).toBeNull();
    await expectError(await fetch(url("/v1/kv/doomed")), 404, "NOT_FOUND");
    // Deleting an absent key succeeds, as in the library.
    expect((await fetch(url("/v1/kv/doomed"), { method: "DELETE" })).status).toBe(200);
  });

  it("answers an unknown route with 404 NOT_FOUND pointing at the OpenAPI document, and a bad URL with 400", async () => {
    await expectError(await fetch(url("/v1/nowhere")), 404, "NOT_FOUND", "no route GET /v1/nowhere", "/v1/openapi.json");
    await expectError(await fetch(url("/v1/kv/%ZZ")), 400, "INVALID_ARGUMENT");
  });
});

describe("transactions", () => {
  it("runs the then branch of `kv txn`'s JSON and returns every result", async () => {
    await store.put("txn/stock", "5");
    const response = await fetch(url("/v1/txn"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        if: [{ key: "txn/stock", value: "0", op: ">" }],
        then: [{ type: "decr", key: "txn/stock", delta: 2, min: 0 }, { type: "put", key: "txn/order", value: "two" }, { type: "get", key: "txn/stock" }],
        else: [{ type: "get", key: "txn/stock" }],
      }),
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as { branch: string; version: number; txnId: string; results: unknown[] };
    expect(result.branch).toBe("then");
    expect(result.version).toBeGreaterThan(0);
    expect(result.results).toEqual([
      { type: "incr", key: "txn/stock", value: 3 },
      { type: "put", key: "txn/order" },
      { type: "get", key: "txn/stock", found: true, value: "3", valueBase64: Buffer.from("3").toString("base64"), version: 0 },
    ]);
    expect((await store.get("txn/stock"))?.value.toString()).toBe("3");
    expect((await store.get("txn/order"))?.version).toBe(result.version);
  });

  it("runs the else branch when a condition fails, and is 412 FAILED_PRECONDITION without one, writing nothing", async () => {
    const elseBranch = await fetch(url("/v1/txn"), {
      method: "POST",
      body: JSON.stringify({ if: [{ key: "txn/absent", exists: true }], then: [{ type: "put", key: "txn/absent", value: "x" }], else: [{ type: "get", key: "txn/absent" }] }),
    });
    expect(elseBranch.status).toBe(200);
    expect(await elseBranch.json()).toMatchObject({ branch: "else", version: 0, results: [{ type: "get", key: "txn/absent", found: false, value: null }] });

    const refused = await fetch(url("/v1/txn"), { method: "POST", body: JSON.stringify({ if: [{ key: "txn/absent", exists: true }], then: [{ type: "put", key: "txn/absent", value: "x" }] }) });
    await expectError(refused, 412, "FAILED_PRECONDITION", "condition 0 failed");
    expect(await store.get("txn/absent")).toBeNull();
  });

  it("refuses a transaction that is not the JSON `kv txn` takes with 400 naming the field", async () => {
    const post = (body: string) => fetch(url("/v1/txn"), { method: "POST", body });
    await expectError(await post('{"then": [{"type": "put", "key": 7}]}'), 400, "INVALID_ARGUMENT", "then[0].key must be a string");
    await expectError(await post('{"then": ['), 400, "INVALID_ARGUMENT", "not valid JSON");
    await expectError(await post('{"than": []}'), 400, "INVALID_ARGUMENT", 'unknown field "than"');
    await expectError(await post(""), 400, "INVALID_ARGUMENT", "the body is empty");
  });
});

describe("limits", () => {
  it("takes a key of keyBytesMax bytes and refuses one byte more with 400 naming keyBytesMax", async () => {
    const longest = "k".repeat(limits.keyBytesMax);
    expect((await fetch(url(`/v1/kv/${longest}`), { method: "PUT", body: "fits" })).status).toBe(200);
    const over = `${longest}k`;
    await expectError(await fetch(url(`/v1/kv/${over}`), { method: "PUT", body: "no" }), 400, "INVALID_ARGUMENT", `key is ${limits.keyBytesMax + 1} bytes`, "(keyBytesMax)");
    await expectError(await fetch(url(`/v1/kv/${over}`)), 400, "INVALID_ARGUMENT", "(keyBytesMax)");
    // Nothing was written: no replica holds a key that long (the store would refuse to read one).
    for (const content of await cluster.contents()) expect([...content.keys()].filter((key) => key.length > limits.keyBytesMax)).toEqual([]);
    // The limit is in bytes of UTF-8, not characters: 513 two-byte characters are 1026 bytes.
    await expectError(await fetch(url(`/v1/kv/${encodeURIComponent("é".repeat(513))}`)), 400, "INVALID_ARGUMENT", "key is 1026 bytes");
  });

  it("takes a value of valueBytesMax bytes and refuses a bigger body with 413 naming valueBytesMax, writing nothing", async () => {
    const fits = Buffer.alloc(limits.valueBytesMax, 1);
    expect((await fetch(url("/v1/kv/limit/fits"), { method: "PUT", body: fits })).status).toBe(200);
    expect((await store.get("limit/fits"))?.value.length).toBe(limits.valueBytesMax);

    const over = Buffer.alloc(limits.valueBytesMax + 1, 2);
    await expectError(await fetch(url("/v1/kv/limit/over"), { method: "PUT", body: over }), 413, "INVALID_ARGUMENT", `the body is ${limits.valueBytesMax + 1} bytes`, "(valueBytesMax)");
    // A chunked body declares no length: it is refused once it goes over.
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(over);
        controller.close();
      },
    });
    await expectError(await fetch(url("/v1/kv/limit/over"), { method: "PUT", body: chunked, duplex: "half" } as RequestInit), 413, "INVALID_ARGUMENT", "(valueBytesMax)");
    expect(await store.get("limit/over")).toBeNull();
  });

  it("refuses a transaction's body over httpTxnBodyBytesMax with 413 naming it", async () => {
    // Declared by its Content-Length: refused before the body is read.
    const body = Buffer.alloc(limits.httpTxnBodyBytesMax + 1, 0x20);
    await expectError(await fetch(url("/v1/txn"), { method: "POST", body }), 413, "INVALID_ARGUMENT", "(httpTxnBodyBytesMax)");
  });

  it("refuses an Idempotency-Key over requestIdBytesMax with 400 naming it", async () => {
    const key = "r".repeat(limits.requestIdBytesMax + 1);
    const response = await fetch(url("/v1/kv/limit/idem"), { method: "PUT", body: "x", headers: { "idempotency-key": key } });
    await expectError(response, 400, "INVALID_ARGUMENT", "(requestIdBytesMax)");
    expect(await store.get("limit/idem")).toBeNull();
  });
});

describe("exactly once", () => {
  it("applies a write retried with the same Idempotency-Key once, and txn-status finds it by that key", async () => {
    const headers = { "idempotency-key": "http-test-retry-1" };
    const first = (await (await fetch(url("/v1/kv/idem/counter"), { method: "PUT", body: "one", headers })).json()) as { version: number; txnId: string };
    const again = await fetch(url("/v1/kv/idem/counter"), { method: "PUT", body: "one", headers });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ key: "idem/counter", version: first.version, txnId: first.txnId });
    // A later write shows the retry wrote nothing new: the key's version is still the first write's.
    expect((await store.get("idem/counter"))?.version).toBe(first.version);

    const status = await fetch(url("/v1/txn-status/http-test-retry-1"));
    expect(await status.json()).toMatchObject({ state: "COMMITTED", txnId: first.txnId, commitSeq: first.version });
    // Another request under the same key is refused, as in the library.
    await expectError(await fetch(url("/v1/kv/idem/counter"), { method: "PUT", body: "two", headers }), 400, "INVALID_ARGUMENT", "was used for a different request");
  });
});

describe("status and the OpenAPI document", () => {
  it("serves the active coordinator's status", async () => {
    const response = await fetch(url("/v1/status"));
    expect(response.status).toBe(200);
    const status = (await response.json()) as { role: string; replicas: { id: string; up: boolean }[] };
    expect(status.role).toBe("active");
    expect(status.replicas.map((replica) => [replica.id, replica.up])).toEqual([["r1", true], ["r2", true], ["r3", true]]);
  });

  it("serves an OpenAPI 3.1 document that lists the routes, each of them served", async () => {
    const response = await fetch(url("/v1/openapi.json"));
    expect(response.status).toBe(200);
    const document = (await response.json()) as typeof openApiDocument;
    expect(document.openapi).toBe("3.1.0");
    const operations = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(
      ["GET /v1/kv/{key}", "PUT /v1/kv/{key}", "DELETE /v1/kv/{key}", "POST /v1/txn", "GET /v1/txn-status/{id}", "GET /v1/status", "GET /v1/openapi.json"].sort(),
    );
    for (const operation of operations) {
      const [method, path] = operation.split(" ") as [string, string];
      const served = await fetch(url(path.replace("{key}", "openapi-probe").replace("{id}", "openapi-probe")), { method, ...(method === "POST" ? { body: "{}" } : {}) });
      const body = served.headers.get("content-type")?.startsWith("application/json") ? ((await served.json()) as { message?: string }) : {};
      expect(body.message ?? "", operation).not.toContain("no route");
    }
  });
});

describe("kv http", () => {
  it("runs the gateway as a process until SIGTERM, then exits 0", async () => {
    const child = spawn(process.execPath, [kvScript, "http", "--listen", "127.0.0.1:0", "--coordinator", cluster.coordinatorAddress, "--retry-for", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = new Proc("http", child);
    procs.push(proc);
    // The URL from its listening line; null once it has exited without one (fails at once, not at the deadline).
    const listening = await waitFor("kv http listening", () => {
      for (const line of proc.output) {
        const match = /HTTP gateway listening on (http:\/\/\S+?)"/.exec(line);
        if (match) return match[1];
      }
      return proc.alive ? undefined : null;
    });
    if (listening === null || listening === undefined) throw new Error(`kv http exited before it listened: ${proc.output.join(" | ")}`);
    const put = await fetch(`${listening}/v1/kv/cli/greeting`, { method: "PUT", body: "hello over http" });
    expect(put.status).toBe(200);
    expect(await (await fetch(`${listening}/v1/kv/cli/greeting`)).text()).toBe("hello over http");
    expect((await store.get("cli/greeting"))?.value.toString()).toBe("hello over http");
    process.kill(proc.pid, "SIGTERM");
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(proc.output.some((line) => line.includes("HTTP gateway stopped"))).toBe(true);
  });

  it("refuses a --listen that is not HOST:PORT as a usage error (exit 2)", async () => {
    const result = await runKv(["http", "--listen", "8080"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--listen "8080" is not HOST:PORT');
  });
});

// Last: it stops the coordinator.
describe("with every coordinator down", () => {
  it("answers a write 503 UNAVAILABLE whose message calls its outcome unknown and names its request id; a read 503 without", async () => {
    await cluster.coordinator.kill("SIGKILL");
    const write = await fetch(url("/v1/kv/down/key"), { method: "PUT", body: "x", headers: { "idempotency-key": "http-test-down-1" } });
    expect(write.headers.get("retry-after")).toBe("1");
    const body = await expectError(write, 503, "UNAVAILABLE", "outcome is unknown", "GET /v1/txn-status/http-test-down-1", "Idempotency-Key: http-test-down-1");
    expect(body.requestId).toBe("http-test-down-1");

    const read = await expectError(await fetch(url("/v1/kv/down/key")), 503, "UNAVAILABLE");
    expect(read.message).not.toContain("outcome");
    expect(read.requestId).toBeUndefined();
  });
});
