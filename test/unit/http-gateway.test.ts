// Proves how the HTTP gateway (http/gateway.ts) answers failures a live cluster cannot be made to
// give on demand (DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED, a bug): the gateway runs over a
// store that fails every call with the error a test chooses, and real HTTP requests (fetch) check
// the status, the JSON body, and that a write's unknown outcome is said with its request id while
// a read's is not. Also the whole table from gRPC code to HTTP status.
import { afterEach, describe, expect, it } from "vitest";
import { Code, type CodeValue, KvError } from "../../common/errors";
import { startHttpGateway, type GatewayStore, type HttpGateway } from "../../http/gateway";
import { httpStatusOf } from "../../http/status-codes";

let gateway: HttpGateway | null = null;

afterEach(async () => {
  await gateway?.stop();
  gateway = null;
});

/** A store whose every call rejects with `error`, as the client library's calls reject. */
function failingStore(error: unknown): GatewayStore {
  const fail = (): Promise<never> => Promise.reject(error);
  return { get: fail, put: fail, del: fail, txn: fail, txnStatus: fail, status: fail };
}

/** A KvError as the library rejects a write with: carrying the request id of all its attempts. */
function writeError(code: CodeValue, message: string, requestId: string): KvError {
  return Object.assign(new KvError(code, message), { requestId });
}

async function serve(store: GatewayStore): Promise<string> {
  gateway = await startHttpGateway({ host: "127.0.0.1", port: 0, store });
  return gateway.url;
}

type ErrorJson = { code: string; grpcCode: number; message: string; requestId?: string };

describe("HTTP status of each gRPC code", () => {
  it("maps every code, FAILED_PRECONDITION to 412 and ABORTED to 409", () => {
    const expected: Record<keyof typeof Code, number> = {
      OK: 200,
      CANCELLED: 499,
      UNKNOWN: 500,
      INVALID_ARGUMENT: 400,
      DEADLINE_EXCEEDED: 504,
      NOT_FOUND: 404,
      ALREADY_EXISTS: 409,
      PERMISSION_DENIED: 403,
      RESOURCE_EXHAUSTED: 429,
      FAILED_PRECONDITION: 412,
      ABORTED: 409,
      OUT_OF_RANGE: 400,
      UNIMPLEMENTED: 501,
      INTERNAL: 500,
      UNAVAILABLE: 503,
      DATA_LOSS: 500,
      UNAUTHENTICATED: 401,
    };
    for (const [name, code] of Object.entries(Code)) expect([name, httpStatusOf(code)]).toEqual([name, expected[name as keyof typeof Code]]);
  });
});

describe("failures over HTTP", () => {
  it("answers a write that ran out of time 504 DEADLINE_EXCEEDED, its outcome unknown, with its request id", async () => {
    const base = await serve(failingStore(writeError(Code.DEADLINE_EXCEEDED, "put: deadline exceeded", "req-504")));
    for (const [method, path, body] of [["PUT", "/v1/kv/a", "x"], ["DELETE", "/v1/kv/a", undefined], ["POST", "/v1/txn", '{"then":[{"type":"del","key":"a"}]}']] as const) {
      const response = await fetch(`${base}${path}`, { method, ...(body === undefined ? {} : { body }) });
      expect(response.status, `${method} ${path}`).toBe(504);
      const json = (await response.json()) as ErrorJson;
      expect(json).toMatchObject({ code: "DEADLINE_EXCEEDED", grpcCode: Code.DEADLINE_EXCEEDED, requestId: "req-504" });
      expect(json.message).toContain("put: deadline exceeded");
      expect(json.message).toContain("the write's outcome is unknown");
      expect(json.message).toContain("GET /v1/txn-status/req-504");
    }
  });

  it("answers a read that ran out of time 504 without speaking of an outcome", async () => {
    const base = await serve(failingStore(new KvError(Code.DEADLINE_EXCEEDED, "get: deadline exceeded")));
    const response = await fetch(`${base}/v1/kv/a`);
    expect(response.status).toBe(504);
    const json = (await response.json()) as ErrorJson;
    expect(json.code).toBe("DEADLINE_EXCEEDED");
    expect(json.message).toBe("get: deadline exceeded");
    expect(json.requestId).toBeUndefined();
  });

  it("answers ABORTED 409, RESOURCE_EXHAUSTED 429 with Retry-After, and keeps a definite failure's message as it is", async () => {
    let base = await serve(failingStore(writeError(Code.ABORTED, "txn: conflict on key \"a\"", "req-409")));
    let response = await fetch(`${base}/v1/txn`, { method: "POST", body: '{"then":[{"type":"put","key":"a","value":"1"}]}' });
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ code: "ABORTED", grpcCode: Code.ABORTED, message: 'txn: conflict on key "a"', requestId: "req-409" });
    await gateway?.stop();

    base = await serve(failingStore(writeError(Code.RESOURCE_EXHAUSTED, "put: too many transactions in flight", "req-429")));
    response = await fetch(`${base}/v1/kv/a`, { method: "PUT", body: "x" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(((await response.json()) as ErrorJson).code).toBe("RESOURCE_EXHAUSTED");
  });

  it("answers an error that is no KvError 500 INTERNAL", async () => {
    const base = await serve(failingStore(new TypeError("something broke")));
    const response = await fetch(`${base}/v1/status`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ code: "INTERNAL", grpcCode: Code.INTERNAL, message: "internal error: something broke" });
  });

  it("passes the Idempotency-Key header on as the write's request id", async () => {
    const seen: (string | undefined)[] = [];
    const store: GatewayStore = {
      ...failingStore(new KvError(Code.INTERNAL, "unused")),
      put: (_key, _value, options) => {
        seen.push(options?.requestId);
        return Promise.resolve({ version: 7, txnId: "1.7" });
      },
    };
    const base = await serve(store);
    expect((await fetch(`${base}/v1/kv/a`, { method: "PUT", body: "x", headers: { "idempotency-key": "mine" } })).status).toBe(200);
    expect((await fetch(`${base}/v1/kv/a`, { method: "PUT", body: "x" })).status).toBe(200);
    expect(seen).toEqual(["mine", undefined]);
  });
});
