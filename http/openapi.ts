// The OpenAPI 3.1 document of the HTTP gateway (http/gateway.ts), served at GET /v1/openapi.json.
// Written by hand beside the routes it describes; the limits come from common/limits.ts, so the
// document states the ones the gateway enforces. test/integration/http-gateway.test.ts checks that
// the document lists exactly the routes of http/gateway.ts's header (kept there by hand: a new route
// needs its entry here and in that test's list) and that every one of them is served.
import { limits } from "../common/limits";

const error = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });

const errors = {
  "400": error("INVALID_ARGUMENT: bad input (the message names the field, and the limit it went over)"),
  "503": error("UNAVAILABLE: no coordinator could finish the call; for a write, the outcome is unknown (the message says how to find it)"),
  "504": error("DEADLINE_EXCEEDED: the call ran out of time; for a write, the outcome is unknown (the message says how to find it)"),
  "500": error("INTERNAL, UNKNOWN or DATA_LOSS"),
} as const;

const writeErrors = {
  ...errors,
  "409": error("ABORTED: a conflict with another transaction (a lock wait past lockWaitTimeoutMs, a replica's NO vote); nothing was written; retry as a new request"),
  "412": error("FAILED_PRECONDITION: a condition or bound did not hold; nothing was written"),
  "429": error("RESOURCE_EXHAUSTED: the coordinator runs inFlightTxnsMax transactions; retry later with the same Idempotency-Key"),
} as const;

const keyParameter = {
  name: "key",
  in: "path",
  required: true,
  description:
    `The key: the rest of the path after /v1/kv/, percent-decoded (a "/" may stay as it is or be sent as %2F; "?", "#" and "%" must be ` +
    `percent-encoded). 1 to ${limits.keyBytesMax} bytes of UTF-8 (keyBytesMax).`,
  schema: { type: "string", minLength: 1 },
} as const;

const idempotencyKey = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    `The write's request id (at most ${limits.requestIdBytesMax} bytes, requestIdBytesMax; a fresh one when absent). A retry with the same ` +
    "id is applied at most once: it gets the original result, or the same definite failure.",
  schema: { type: "string" },
} as const;

const versionHeader = { description: "The commit sequence number of the write that stored the value", schema: { type: "integer" } } as const;

const writeResult = {
  description: "Committed on every in-sync replica",
  headers: { "Kv-Version": versionHeader },
  content: { "application/json": { schema: { $ref: "#/components/schemas/WriteResult" } } },
} as const;

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "twopc-kv HTTP/JSON API",
    version: "1",
    description:
      "A replicated key/value store: every write commits on every in-sync replica by two-phase commit. This gateway calls the " +
      "store's client library; failures are JSON naming the gRPC status code, with an HTTP status that fits it.",
  },
  paths: {
    "/v1/kv/{key}": {
      get: {
        summary: "Read a key",
        parameters: [keyParameter],
        responses: {
          "200": {
            description: "The value, as the exact bytes written",
            headers: { "Kv-Version": versionHeader },
            content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
          },
          "404": error("NOT_FOUND: the key does not exist"),
          ...errors,
        },
      },
      put: {
        summary: "Write a key",
        parameters: [keyParameter, idempotencyKey],
        requestBody: {
          required: false,
          description: `The value: raw bytes, any Content-Type; no body is the empty value. At most ${limits.valueBytesMax} bytes (valueBytesMax).`,
          content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
        },
        responses: { "200": writeResult, "413": error(`the body is over valueBytesMax (${limits.valueBytesMax} bytes)`), ...writeErrors },
      },
      delete: {
        summary: "Delete a key (deleting an absent key succeeds)",
        parameters: [keyParameter, idempotencyKey],
        responses: { "200": writeResult, ...writeErrors },
      },
    },
    "/v1/txn": {
      post: {
        summary: "A multi-key transaction: conditions, then the then branch if all hold, else the else branch",
        parameters: [idempotencyKey],
        requestBody: {
          required: true,
          description:
            `The transaction as \`kv txn\` takes it, at most ${limits.httpTxnBodyBytesMax} bytes (httpTxnBodyBytesMax); at most ${limits.txnKeysMax} keys ` +
            `(txnKeysMax), ${limits.txnOpsMax} conditions and operations (txnOpsMax), ${limits.txnBytesMax} bytes of keys and values (txnBytesMax). ` +
            "Values are UTF-8 strings.",
          content: { "application/json": { schema: { $ref: "#/components/schemas/Txn" } } },
        },
        responses: {
          "200": { description: "The branch that ran and its results", content: { "application/json": { schema: { $ref: "#/components/schemas/TxnResult" } } } },
          "413": error(`the body is over httpTxnBodyBytesMax (${limits.httpTxnBodyBytesMax} bytes)`),
          ...writeErrors,
        },
      },
    },
    "/v1/txn-status/{id}": {
      get: {
        summary: "What became of a transaction id or a request id (an Idempotency-Key)",
        parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" }, description: `at most ${limits.requestIdBytesMax} bytes (requestIdBytesMax)` }],
        responses: {
          "200": {
            description: "COMMITTED, ABORTED (certain: it never commits) or UNKNOWN, with why",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["state", "txnId", "commitSeq", "message"],
                  properties: {
                    state: { enum: ["COMMITTED", "ABORTED", "UNKNOWN"] },
                    txnId: { type: "string" },
                    commitSeq: { type: "integer" },
                    message: { type: "string" },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    "/v1/status": {
      get: {
        summary: "The active coordinator's status: its epoch and role, each replica (up, in sync, applied commit), the transactions in flight",
        responses: { "200": { description: "The fields of `kv status --json` from the active coordinator", content: { "application/json": { schema: { type: "object" } } } }, ...errors },
      },
    },
    "/v1/openapi.json": {
      get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } },
    },
  },
  components: {
    schemas: {
      Error: {
        type: "object",
        required: ["code", "grpcCode", "message"],
        properties: {
          code: { type: "string", description: "The gRPC status code's name, e.g. ABORTED" },
          grpcCode: { type: "integer" },
          message: { type: "string" },
          requestId: { type: "string", description: "A write's request id: what GET /v1/txn-status/{id} and an Idempotency-Key retry take" },
        },
      },
      WriteResult: {
        type: "object",
        required: ["key", "version", "txnId"],
        properties: { key: { type: "string" }, version: { type: "integer" }, txnId: { type: "string" } },
      },
      Condition: {
        type: "object",
        required: ["key"],
        description: 'Exactly one of "version", "value" or "exists"; op (default "=") with version and value only. An absent key has version 0.',
        properties: {
          key: { type: "string" },
          version: { type: "integer" },
          value: { type: "string" },
          exists: { type: "boolean" },
          op: { enum: ["=", "!=", "<", ">"] },
        },
      },
      Operation: {
        type: "object",
        required: ["type", "key"],
        properties: {
          type: { enum: ["put", "del", "incr", "decr", "get"] },
          key: { type: "string" },
          value: { type: "string", description: "put" },
          delta: { type: "integer", description: "incr, decr" },
          min: { type: "integer", description: "incr, decr: FAILED_PRECONDITION if the result would be below" },
          max: { type: "integer" },
          mustExist: { type: "boolean" },
        },
      },
      Txn: {
        type: "object",
        additionalProperties: false,
        properties: {
          if: { type: "array", items: { $ref: "#/components/schemas/Condition" } },
          then: { type: "array", items: { $ref: "#/components/schemas/Operation" } },
          else: { type: "array", items: { $ref: "#/components/schemas/Operation" }, description: "Without it, a failed condition is 412 FAILED_PRECONDITION" },
        },
      },
      TxnResult: {
        type: "object",
        required: ["branch", "version", "txnId", "results"],
        properties: {
          branch: { enum: ["then", "else"] },
          version: { type: "integer", description: "The commit sequence number of the writes; 0 when nothing was written" },
          txnId: { type: "string" },
          results: {
            type: "array",
            items: {
              type: "object",
              required: ["type", "key"],
              properties: {
                type: { enum: ["put", "del", "incr", "get"] },
                key: { type: "string" },
                value: { type: ["string", "integer", "null"], description: "incr: the new value; get: the value as UTF-8 (null when absent)" },
                valueBase64: { type: ["string", "null"], description: "get: the value's exact bytes" },
                found: { type: "boolean", description: "get" },
                version: { type: "integer", description: "get: 0 when absent, or written earlier in this transaction" },
              },
            },
          },
        },
      },
    },
  },
} as const;
