// The HTTP/JSON gateway: a stateless process that serves twopc-kv over HTTP by calling the client
// library (client/client.ts), as `kv http` runs it. Every request is one call of the library, with
// its deadline, its retries among the coordinators and its exactly-once request ids; the gateway
// keeps nothing between requests, so several gateways may serve one store side by side.
//
//   GET    /v1/kv/{key}          the value as raw bytes (application/octet-stream), its version in the
//                                Kv-Version header; 404 NOT_FOUND when the key is absent
//   PUT    /v1/kv/{key}          the body (raw bytes) is the value; {key, version, txnId}
//   DELETE /v1/kv/{key}          {key, version, txnId} (deleting an absent key succeeds)
//   POST   /v1/txn               the JSON `kv txn` takes (client/txn-spec.ts); {branch, version, txnId, results}
//   GET    /v1/txn-status/{id}   what became of a transaction id or request id
//   GET    /v1/status            the active coordinator's status, as `kv status --json` shows its fields
//   GET    /v1/openapi.json      the OpenAPI document of all this (http/openapi.ts)
//
// The key is the rest of the path after /v1/kv/, percent-decoded: /v1/kv/a%2Fb and /v1/kv/a/b both
// name "a/b". Writes take an Idempotency-Key header as their request id, so that an HTTP client
// whose write ended with an unknown outcome (503, 504) can retry it and have it applied once.
//
// Failures are JSON (http/status-codes.ts): {code, grpcCode, message, requestId?}, with an HTTP
// status that fits the gRPC code. Limits are checked here, where input arrives, and named in the
// rejection: a key over keyBytesMax is 400; a PUT body over valueBytesMax and a transaction's body
// over httpTxnBodyBytesMax are 413, refused before the whole body is read.
import fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AssertionFailure } from "../common/assert";
import { Code, classifyCode, InvalidArgument, KvError, overLimit } from "../common/errors";
import { limits, type LimitName } from "../common/limits";
import type { Logger } from "../common/logger";
import { checkKey, checkValue } from "../common/validate";
import type { KvClient, TxnOpResult, TxnResult } from "../client/client";
import { parseTxnSpec } from "../client/txn-spec";
import { openApiDocument } from "./openapi";
import { errorBody, httpStatusOf } from "./status-codes";

/** What the gateway needs of the store: the client library's calls it makes (a test may pass its own). */
export type GatewayStore = Pick<KvClient, "get" | "put" | "del" | "txn" | "txnStatus" | "status">;

export interface GatewayOptions {
  readonly host: string;
  /** 0: any free port (the gateway's `port` says which). */
  readonly port: number;
  readonly store: GatewayStore;
  readonly logger?: Logger;
}

export interface HttpGateway {
  /** The base URL it serves, http://HOST:PORT. */
  readonly url: string;
  readonly port: number;
  /** Stops listening; requests under way finish first. */
  stop(): Promise<void>;
}

/** The header a write's request id travels in (IETF draft "The Idempotency-Key HTTP Header Field"). */
export const requestIdHeader = "idempotency-key";
/** The header that carries a key's version on a GET (and a write's on PUT and DELETE). */
export const versionHeader = "kv-version";

const kvRoute = "/v1/kv/*";
const txnRoute = "/v1/txn";

/**
 * The limit a too-large body of this request went over. Every body but a transaction's is a value
 * (a GET or DELETE has none to speak of, and takes no more than a PUT).
 */
function bodyLimitOf(request: FastifyRequest): LimitName {
  return request.routeOptions.url === txnRoute ? "httpTxnBodyBytesMax" : "valueBytesMax";
}

export async function startHttpGateway(options: GatewayOptions): Promise<HttpGateway> {
  const app = buildGateway(options.store, options.logger);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error(`the HTTP gateway listens on no TCP port (${String(address)})`);
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  options.logger?.info({ event: "listening", url }, `HTTP gateway listening on ${url}`);
  return {
    url,
    port: address.port,
    stop: async () => {
      await app.close();
      options.logger?.info({ event: "stopped" }, "HTTP gateway stopped");
    },
  };
}

/** The fastify app of the gateway, not yet listening. */
export function buildGateway(store: GatewayStore, logger?: Logger): FastifyInstance {
  const app = fastify({
    logger: false,
    // A GET's body is the default limit: a PUT's body, the value, is refused over valueBytesMax.
    bodyLimit: limits.valueBytesMax,
    // A URL that does not decode (a lone %): 400, in the gateway's own error format.
    frameworkErrors: (error, request, reply) => sendError(reply, new InvalidArgument("url", `${request.method} ${request.url}: ${error.message}`), false, logger),
    // Ids in the path may be as long as requestIdBytesMax bytes, percent-encoded (3 characters a byte):
    // a longer one must get its 400 naming the limit, not a 404 from the router.
    routerOptions: { maxParamLength: 3 * Math.max(limits.requestIdBytesMax, limits.txnIdBytesMax) + 1 },
  });

  // Every body arrives as raw bytes whatever its Content-Type (curl --data-binary sends
  // application/x-www-form-urlencoded): a PUT's body is the value as it is, a transaction's is JSON
  // text that parseTxnSpec reads with errors that name the field.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | KvError, request, reply) => {
    if (error instanceof KvError) return sendError(reply, error, isWrite(request), logger);
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      const limit = bodyLimitOf(request);
      const declared = Number(request.headers["content-length"]);
      // A chunked body has no length up front: it was cut off where it went over.
      const message = Number.isSafeInteger(declared)
        ? overLimit("the body", declared, limit, "bytes").message
        : `the body is over ${limits[limit]} bytes; the limit is ${limits[limit]} (${limit})`;
      return sendError(reply, new KvError(Code.INVALID_ARGUMENT, message), false, logger, 413);
    }
    // fastify's own refusals of a malformed request (a bad Content-Length, ...) are bad input.
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new KvError(Code.INVALID_ARGUMENT, error.message), false, logger, error.statusCode);
    }
    return sendError(reply, error, isWrite(request), logger);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new KvError(Code.NOT_FOUND, `no route ${request.method} ${request.url.split("?")[0]}; the routes are in GET /v1/openapi.json`), false, logger),
  );

  app.get<{ Params: { "*": string } }>(kvRoute, async (request, reply) => {
    const key = checkKey("key", request.params["*"]);
    const entry = await store.get(key);
    if (entry === null) throw new KvError(Code.NOT_FOUND, `key ${JSON.stringify(key)} not found`);
    return reply.header("content-type", "application/octet-stream").header(versionHeader, String(entry.version)).send(entry.value);
  });

  app.put<{ Params: { "*": string } }>(kvRoute, async (request, reply) => {
    const key = checkKey("key", request.params["*"]);
    // No body at all is an empty value, as a PUT with Content-Length: 0 is.
    const value = checkValue("value", request.body === undefined ? Buffer.alloc(0) : request.body);
    const { version, txnId } = await store.put(key, value, requestOptions(request));
    return reply.header(versionHeader, String(version)).send({ key, version, txnId });
  });

  app.delete<{ Params: { "*": string } }>(kvRoute, async (request, reply) => {
    const key = checkKey("key", request.params["*"]);
    const { version, txnId } = await store.del(key, requestOptions(request));
    return reply.header(versionHeader, String(version)).send({ key, version, txnId });
  });

  app.post(txnRoute, { bodyLimit: limits.httpTxnBodyBytesMax }, async (request) => {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new InvalidArgument("body", "the body is empty; POST /v1/txn takes a transaction as JSON, as `kv txn` does");
    const spec = parseTxnSpec(body.toString("utf8"));
    return txnJson(await store.txn(spec, requestOptions(request)));
  });

  app.get<{ Params: { id: string } }>("/v1/txn-status/:id", async (request) => {
    const id = request.params.id;
    const bytes = Buffer.byteLength(id, "utf8");
    if (bytes > limits.requestIdBytesMax) throw overLimit("id", bytes, "requestIdBytesMax", "bytes");
    return store.txnStatus(id);
  });

  app.get("/v1/status", async () => store.status());

  app.get("/v1/openapi.json", async () => openApiDocument);

  return app;
}

/** PUT, DELETE and POST change the store (a transaction may): a failure that leaves it unknown must say so. */
function isWrite(request: FastifyRequest): boolean {
  return request.method === "PUT" || request.method === "DELETE" || request.method === "POST";
}

/** The request id of a write: the Idempotency-Key header, checked against requestIdBytesMax; a fresh one when absent. */
function requestOptions(request: FastifyRequest): { requestId?: string } {
  const header = request.headers[requestIdHeader];
  if (header === undefined) return {};
  if (Array.isArray(header)) throw new InvalidArgument("Idempotency-Key", "the Idempotency-Key header is given more than once");
  if (header.length === 0) throw new InvalidArgument("Idempotency-Key", "the Idempotency-Key header is empty");
  const bytes = Buffer.byteLength(header, "utf8");
  if (bytes > limits.requestIdBytesMax) throw overLimit("the Idempotency-Key header", bytes, "requestIdBytesMax", "bytes");
  return { requestId: header };
}

/** A transaction's result as JSON: `kv txn --json-output`'s shape, with each value read also in base64 (values are bytes). */
export function txnJson(result: TxnResult): object {
  return {
    branch: result.branch,
    version: result.version,
    txnId: result.txnId,
    results: result.results.map((item: TxnOpResult) => {
      if (item.type !== "get") return item;
      const entry = item.entry;
      return entry === null
        ? { type: "get", key: item.key, found: false, value: null, valueBase64: null, version: 0 }
        : { type: "get", key: item.key, found: true, value: entry.value.toString("utf8"), valueBase64: entry.value.toString("base64"), version: entry.version };
    }),
  };
}

/**
 * Answers with a failure: the HTTP status of its gRPC code (or `status`), the JSON error body. A
 * write that ended UNAVAILABLE or DEADLINE_EXCEEDED may have committed: its message says so and
 * names the request id to ask about or retry with. An assertion failure is a bug: it is thrown
 * again outside fastify, so that it crashes the process as everywhere else.
 */
function sendError(reply: FastifyReply, error: unknown, write: boolean, logger: Logger | undefined, status?: number): FastifyReply {
  if (error instanceof AssertionFailure) {
    setImmediate(() => {
      throw error;
    });
  }
  const kvError = error instanceof KvError ? error : new KvError(Code.INTERNAL, `internal error: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  const requestId = (kvError as KvError & { requestId?: string }).requestId;
  let message = kvError.message;
  if (write && classifyCode(kvError.code) === "unavailable") {
    message += requestId === undefined
      ? "; the write's outcome is unknown: it may or may not have been applied"
      : `; the write's outcome is unknown: it may or may not have been applied. GET /v1/txn-status/${encodeURIComponent(requestId)} tells, ` +
        `or retry it with the header Idempotency-Key: ${requestId} (applied at most once)`;
  }
  const httpStatus = status ?? httpStatusOf(kvError.code);
  if (httpStatus >= 500 && classifyCode(kvError.code) === "other") logger?.error({ err: error }, `HTTP gateway: ${message}`);
  if (httpStatus === 503 || httpStatus === 429) void reply.header("retry-after", "1");
  return reply.code(httpStatus).header("content-type", "application/json; charset=utf-8").send(errorBody(kvError.code, message, write ? requestId : undefined));
}
