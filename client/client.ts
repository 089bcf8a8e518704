// The typed client library: what other programs import to use twopc-kv.
//
//   const kv = new KvClient("127.0.0.1:50051");
//   await kv.put("greeting", "hello");
//   const entry = await kv.get("greeting"); // { value: Buffer, version: number } or null
//   await kv.del("greeting");
//   await kv.increment("stock", -2, { min: 0 }); // { value, version, txnId }
//   await kv.compareAndSet("greeting", "hi", { expectedVersion: entry.version });
//   await kv.txn({ if: [{ key: "a", version: 3 }], then: [{ type: "put", key: "a", value: "x" }] });
//   kv.close();
//
// Every call carries a deadline. Failures reject with a KvError whose code is the gRPC status code:
// INVALID_ARGUMENT (the message names the field), ABORTED (a conflicting write on the same key:
// retry), FAILED_PRECONDITION (a condition or bound did not hold; nothing was written),
// RESOURCE_EXHAUSTED (the coordinator is full: retry later), UNAVAILABLE or DEADLINE_EXCEEDED (for a
// write: the outcome is unknown).
//
// Exactly-once: every mutating call carries a request id, made once per call and reused on its
// retries. UNAVAILABLE and DEADLINE_EXCEEDED are retried with backoff for retryForMs; the
// coordinator returns the original result of a request that had committed, so a retry never
// applies a write twice. A call that still fails after retryForMs has an unknown outcome:
// txnStatus(requestId) (the id is on the error as `requestId`) tells what happened.
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { assertNever } from "../common/assert";
import { classifyCode, InvalidArgument, KvError, Unavailable } from "../common/errors";
import { deadline, fromServiceError } from "../proto/grpc-status";
import { channelOptions, kvProto } from "../proto/load";
import type { KvClient as KvStub } from "../proto/gen/twopc/kv/Kv";
import type { DeleteResponse__Output } from "../proto/gen/twopc/kv/DeleteResponse";
import type { GetResponse__Output } from "../proto/gen/twopc/kv/GetResponse";
import type { PutResponse__Output } from "../proto/gen/twopc/kv/PutResponse";
import type { ResolveResponse__Output } from "../proto/gen/twopc/kv/ResolveResponse";
import type { StatusResponse__Output } from "../proto/gen/twopc/kv/StatusResponse";
import type { CompareAndSetResponse__Output } from "../proto/gen/twopc/kv/CompareAndSetResponse";
import type { IncrementResponse__Output } from "../proto/gen/twopc/kv/IncrementResponse";
import type { TxnResponse__Output } from "../proto/gen/twopc/kv/TxnResponse";
import type { TxnStatusResponse__Output } from "../proto/gen/twopc/kv/TxnStatusResponse";
import type { Compare } from "../proto/gen/twopc/kv/Compare";
import type { TxnOp } from "../proto/gen/twopc/kv/TxnOp";

export { KvError };
export type KvStatus = StatusResponse__Output;

/** A value as the library takes it: bytes, or a string sent as UTF-8. */
export type Value = Buffer | string;

export interface Bounds {
  /** Fail (FAILED_PRECONDITION, nothing written) if the result would be below min. */
  readonly min?: number;
  readonly max?: number;
  /** Fail if the key does not exist (otherwise a missing key counts as 0). */
  readonly mustExist?: boolean;
}

export type Expectation = { readonly expectedVersion: number } | { readonly expectedValue: Value } | { readonly mustNotExist: true };

/**
 * A condition of a transaction, on the key's state before it: its version (an absent key has
 * version 0), its value (bytewise), or whether it exists. op defaults to "=".
 */
export type TxnCondition =
  | { readonly key: string; readonly version: number; readonly op?: "=" | "!=" | "<" | ">" }
  | { readonly key: string; readonly value: Value; readonly op?: "=" | "!=" | "<" | ">" }
  | { readonly key: string; readonly exists: boolean };

export type TxnOperation =
  | { readonly type: "put"; readonly key: string; readonly value: Value }
  | { readonly type: "del"; readonly key: string }
  | ({ readonly type: "incr"; readonly key: string; readonly delta: number } & Bounds)
  | { readonly type: "get"; readonly key: string };

export interface TxnSpec {
  readonly if?: readonly TxnCondition[];
  readonly then: readonly TxnOperation[];
  /** Runs when a condition fails. Without it, a failed condition fails the call (FAILED_PRECONDITION). */
  readonly else?: readonly TxnOperation[];
}

export type TxnOpResult =
  | { readonly type: "put" | "del"; readonly key: string }
  | { readonly type: "incr"; readonly key: string; readonly value: number }
  /** entry null: absent. A value written earlier in the same transaction reads with version 0. */
  | { readonly type: "get"; readonly key: string; readonly entry: Entry | null };

export interface TxnResult {
  /** Which branch ran: "then" when every condition held. */
  readonly branch: "then" | "else";
  readonly results: readonly TxnOpResult[];
  /** Commit sequence number of the writes; 0 when the transaction wrote nothing. */
  readonly version: number;
  readonly txnId: string;
}

export interface TxnStatusResult {
  readonly state: "COMMITTED" | "ABORTED" | "UNKNOWN";
  readonly txnId: string;
  readonly commitSeq: number;
  readonly message: string;
}

export interface WriteResult {
  readonly version: number;
  /** The transaction that wrote it ("" for a retry answered from memory by an older coordinator). */
  readonly txnId: string;
}

export interface Entry {
  readonly value: Buffer;
  /** Commit sequence number of the write that stored this value. */
  readonly version: number;
}

export interface KvClientOptions {
  /** Deadline of each call, in milliseconds. */
  readonly timeoutMs?: number;
  /**
   * gRPC channel options added to (and overriding) the defaults of proto/load.ts. grpc-js shares one
   * connection among clients whose target and options are equal, so a caller that needs clients on
   * independent connections (kv bench --connections) passes `"grpc.use_local_subchannel_pool": 1`.
   */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * How long a call keeps retrying UNAVAILABLE and DEADLINE_EXCEEDED (with the same request id, so
   * a write is applied once). 0: no retry.
   */
  readonly retryForMs?: number;
}

/** Options of one mutating call. */
export interface CallOptions {
  /** The request id (at most requestIdBytesMax bytes); a fresh one when absent. */
  readonly requestId?: string;
}

export const defaultCoordinator = "127.0.0.1:50051";
const defaultTimeoutMs = 10_000;
export const defaultRetryForMs = 15_000;
const retryBackoffMsMin = 50;
const retryBackoffMsMax = 1_000;

const toBuffer = (value: Value): Buffer => (typeof value === "string" ? Buffer.from(value, "utf8") : value);

export class KvClient {
  private readonly stub: KvStub;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;

  constructor(
    readonly address: string = process.env.KV_COORDINATOR ?? defaultCoordinator,
    options: KvClientOptions = {},
  ) {
    this.stub = new kvProto.Kv(address, grpc.credentials.createInsecure(), { ...channelOptions, ...options.channelOptions }) as unknown as KvStub;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.retryForMs = options.retryForMs ?? defaultRetryForMs;
  }

  /** The key's value and version, or null when the key does not exist. */
  get(key: string): Promise<Entry | null> {
    return this.retrying(null, () => this.unary<GetResponse__Output>("get", (done) => this.stub.Get({ key }, this.callOptions(), done))).then(
      (response) => (response.found ? { value: response.value, version: response.version } : null),
    );
  }

  /** Writes the value; resolves with the write's version once it is committed. */
  put(key: string, value: Value, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation<PutResponse__Output>("put", options, (requestId, done) =>
      this.stub.Put({ key, value: toBuffer(value), requestId }, this.callOptions(), done),
    ).then((response) => ({ version: response.version, txnId: response.txnId }));
  }

  /** Deletes the key (deleting a missing key succeeds). */
  del(key: string, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation<DeleteResponse__Output>("del", options, (requestId, done) => this.stub.Delete({ key, requestId }, this.callOptions(), done)).then(
      (response) => ({ version: response.version, txnId: response.txnId }),
    );
  }

  /**
   * Adds delta to the key's integer value (a missing key counts as 0 unless mustExist) and resolves
   * with the new value. FAILED_PRECONDITION, nothing written, if the result would leave [min, max];
   * INVALID_ARGUMENT if the key holds something other than a decimal integer.
   */
  increment(key: string, delta: number, bounds: Bounds = {}, options: CallOptions = {}): Promise<WriteResult & { value: number }> {
    // The wire carries int64: a fraction would be cut off on the way, so refuse it here.
    for (const [field, value] of [["delta", delta], ["min", bounds.min], ["max", bounds.max]] as const) {
      if (value !== undefined && !Number.isSafeInteger(value)) return Promise.reject(new InvalidArgument(field, `${field} must be an integer, not ${value}`));
    }
    return this.mutation<IncrementResponse__Output>("increment", options, (requestId, done) =>
      this.stub.Increment({ key, delta, min: bounds.min, max: bounds.max, mustExist: bounds.mustExist ?? false, requestId }, this.callOptions(), done),
    ).then((response) => ({ value: response.value, version: response.version, txnId: response.txnId }));
  }

  /** increment by -amount: `decrement("stock", 2, { min: 0 })` never takes stock below zero. */
  decrement(key: string, amount: number, bounds: Bounds = {}, options: CallOptions = {}): Promise<WriteResult & { value: number }> {
    return this.increment(key, -amount, bounds, options);
  }

  /** Writes newValue if the key matches the expectation; FAILED_PRECONDITION (with the current version) if not. */
  compareAndSet(key: string, newValue: Value, expected: Expectation, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation<CompareAndSetResponse__Output>("compare-and-set", options, (requestId, done) =>
      this.stub.CompareAndSet({ key, newValue: toBuffer(newValue), ...expectationToWire(expected), requestId }, this.callOptions(), done),
    ).then((response) => ({ version: response.version, txnId: response.txnId }));
  }

  /** Deletes the key if it matches the expectation; FAILED_PRECONDITION if not. */
  compareAndDelete(key: string, expected: Exclude<Expectation, { mustNotExist: true }>, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation<CompareAndSetResponse__Output>("compare-and-delete", options, (requestId, done) =>
      this.stub.CompareAndDelete({ key, ...expectationToWire(expected), requestId }, this.callOptions(), done),
    ).then((response) => ({ version: response.version, txnId: response.txnId }));
  }

  /**
   * A multi-key transaction: every key it names is locked (in one fixed order), the conditions are
   * checked against the current state, and the chosen branch's writes commit on every replica in
   * one 2PC round, or none do.
   */
  txn(spec: TxnSpec, options: CallOptions = {}): Promise<TxnResult> {
    const request = {
      conditions: (spec.if ?? []).map(conditionToWire),
      onSuccess: spec.then.map(operationToWire),
      onFailure: (spec.else ?? []).map(operationToWire),
      hasOnFailure: spec.else !== undefined,
    };
    return this.mutation<TxnResponse__Output>("txn", options, (requestId, done) => this.stub.Txn({ ...request, requestId }, this.callOptions(), done)).then(
      (response) => ({
        branch: response.succeeded ? "then" : "else",
        results: response.results.map((result): TxnOpResult => {
          switch (result.type) {
            case "incr":
              return { type: "incr", key: result.key, value: result.number };
            case "get":
              return { type: "get", key: result.key, entry: result.found ? { value: result.value, version: result.version } : null };
            case "put":
            case "del":
              return { type: result.type, key: result.key };
            default:
              throw new Unavailable(`txn: the coordinator answered an unknown result type ${JSON.stringify(result.type)}`);
          }
        }),
        version: response.version,
        txnId: response.txnId,
      }),
    );
  }

  /** What became of a transaction id or a request id: COMMITTED, ABORTED or UNKNOWN (with why). */
  txnStatus(id: string): Promise<TxnStatusResult> {
    return this.retrying(null, () =>
      this.unary<TxnStatusResponse__Output>("txn-status", (done) => this.stub.TxnStatus({ id }, this.callOptions(), done)),
    ).then((response) => {
      const state = response.state;
      if (state !== "COMMITTED" && state !== "ABORTED" && state !== "UNKNOWN") throw new Unavailable(`txn-status: unknown state ${JSON.stringify(state)}`);
      return { state, txnId: response.txnId, commitSeq: response.commitSeq, message: response.message };
    });
  }

  /** Operator: settles an in-doubt transaction; refused if the choice contradicts a known decision. */
  resolve(txnId: string, outcome: "commit" | "abort"): Promise<{ message: string }> {
    return this.unary<ResolveResponse__Output>("resolve", (done) => this.stub.Resolve({ txnId, outcome }, this.callOptions(), done)).then((response) => ({
      message: response.message,
    }));
  }

  status(): Promise<KvStatus> {
    return this.unary<StatusResponse__Output>("status", (done) => this.stub.Status({}, this.callOptions(), done));
  }

  close(): void {
    this.stub.close();
  }

  /** A mutating call: one request id for all its attempts. */
  private mutation<T>(what: string, options: CallOptions, call: (requestId: string, done: (error: grpc.ServiceError | null, response?: T) => void) => void): Promise<T> {
    const requestId = options.requestId ?? randomUUID();
    return this.retrying(requestId, () => this.unary<T>(what, (done) => call(requestId, done)));
  }

  /** Runs attempt, retrying UNAVAILABLE and DEADLINE_EXCEEDED with backoff for retryForMs. */
  private async retrying<T>(requestId: string | null, attempt: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.retryForMs;
    let backoffMs = retryBackoffMsMin;
    for (let attempts = 1; ; attempts++) {
      try {
        return await attempt();
      } catch (error) {
        const retryable = error instanceof KvError && classifyCode(error.code) === "unavailable";
        if (!retryable || Date.now() + backoffMs >= giveUpAt) {
          if (error instanceof KvError && requestId !== null) {
            throw Object.assign(new KvError(error.code, attempts > 1 ? `${error.message} (after ${attempts} attempts)` : error.message, { cause: error }), { requestId });
          }
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, backoffMs * (0.5 + Math.random() / 2)));
        backoffMs = Math.min(backoffMs * 2, retryBackoffMsMax);
      }
    }
  }

  private callOptions(): grpc.CallOptions {
    return { deadline: deadline(this.timeoutMs) };
  }

  private unary<T>(what: string, start: (done: (error: grpc.ServiceError | null, response?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      start((error, response) => {
        if (error) reject(fromServiceError(error, what));
        else if (response === undefined) reject(new Unavailable(`${what}: empty response`));
        else resolve(response);
      });
    });
  }
}

function expectationToWire(expected: Expectation): { expectedVersion?: number; expectedValue?: Buffer; mustNotExist?: boolean } {
  if ("expectedVersion" in expected) return { expectedVersion: expected.expectedVersion };
  if ("expectedValue" in expected) return { expectedValue: toBuffer(expected.expectedValue) };
  return { mustNotExist: true };
}

function conditionToWire(condition: TxnCondition): Compare {
  if ("exists" in condition) return { key: condition.key, target: "exists", exists: condition.exists };
  if ("version" in condition) return { key: condition.key, target: "version", op: condition.op ?? "=", version: condition.version };
  return { key: condition.key, target: "value", op: condition.op ?? "=", value: toBuffer(condition.value) };
}

function operationToWire(op: TxnOperation): TxnOp {
  switch (op.type) {
    case "put":
      return { type: "put", key: op.key, value: toBuffer(op.value) };
    case "del":
    case "get":
      return { type: op.type, key: op.key };
    case "incr":
      return { type: "incr", key: op.key, delta: op.delta, min: op.min, max: op.max, mustExist: op.mustExist ?? false };
    default:
      return assertNever(op);
  }
}
