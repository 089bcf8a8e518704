// The typed client library: what other programs import to use twopc-kv.
//
//   const kv = new KvClient("127.0.0.1:50051,127.0.0.1:50052"); // the coordinators; or an array
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
//
// Failover (issue 12): the client takes several coordinators, keeps one channel to each, and sends
// to the one it believes active (client/coordinators.ts keeps that belief). A call that fails there
// with UNAVAILABLE or DEADLINE_EXCEEDED moves on at once: to the active coordinator a standby named
// in its trailing metadata, else to the next coordinator of the list, round robin. Once every
// coordinator failed in one round, the client backs off before the next round; rounds go on for
// retryForMs. A failure where nothing ran (a standby's refusal, a connection never established) moves
// on even when retryForMs is over or 0: that is not a retry of a call whose outcome is unknown. A
// write keeps its request id on every coordinator it tries.
//
// Definite failures (issue 14): a write that fails with UNAVAILABLE has KvError.notStarted true when
// it certainly wrote nothing: every attempt of it was a standby's redirect, never had a connection,
// or was refused by the coordinator before it started (marked kv-not-started: common/errors.ts).
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { assertNever } from "../common/assert";
import { classifyCode, InvalidArgument, KvError, notStartedMetadataKey, Unavailable } from "../common/errors";
import {
  activeCoordinatorMetadataKey,
  type AttemptFailure,
  attemptRanNothing,
  callNotStarted,
  classifyFailure,
  coordinatorSessionError,
  CoordinatorRing,
  type Coordinators,
  parseCoordinators,
} from "./coordinators";
import { deadline, fromServiceError } from "../proto/grpc-status";
import { channelOptions, kvProto } from "../proto/kv-load";
import { limits } from "../common/limits";
import type { KvClient as KvStub } from "../proto/gen/twopc/kv/Kv";
import type { KvSessionRequest } from "../proto/gen/twopc/kv/KvSessionRequest";
import type { KvSessionResponse__Output } from "../proto/gen/twopc/kv/KvSessionResponse";
import { ClientSession, sessionCallError } from "../proto/session";
import type { ResolveResponse__Output } from "../proto/gen/twopc/kv/ResolveResponse";
import type { StatusResponse__Output } from "../proto/gen/twopc/kv/StatusResponse";
import type { Compare } from "../proto/gen/twopc/kv/Compare";
import type { TxnOp } from "../proto/gen/twopc/kv/TxnOp";
import { channelCredentials, tlsFromEnvironment, type Tls } from "../proto/tls";

export { clientTlsEnv, loadTls, type Tls } from "../proto/tls";

export { KvError };
export { activeCoordinatorMetadataKey, parseCoordinators, type Coordinators };
export type KvStatus = StatusResponse__Output;

/** What one coordinator answered to Status, or why it did not. */
export type CoordinatorProbe =
  | { readonly address: string; readonly reachable: true; readonly status: KvStatus }
  | { readonly address: string; readonly reachable: false; readonly error: KvError };

/**
 * Whether a coordinator's Status says it serves: role "active", or no role at all (a coordinator
 * older than failover, which is the only one).
 */
export function isActiveStatus(status: KvStatus): boolean {
  return status.role === "active" || status.role === "";
}

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
   * gRPC channel options added to (and overriding) the defaults of proto/kv-load.ts. grpc-js shares one
   * connection among clients whose target and options are equal, so a caller that needs clients on
   * independent connections (kv bench --connections) passes `"grpc.use_local_subchannel_pool": 1`.
   */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * How long a call keeps retrying UNAVAILABLE and DEADLINE_EXCEEDED (with the same request id, so
   * a write is applied once), moving among the coordinators. 0: no retry of a call whose outcome is
   * unknown (a standby's redirect, or a coordinator that refuses connections, is still followed
   * through one round of the list: nothing ran there).
   */
  readonly retryForMs?: number;
  /**
   * TLS (proto/tls.ts): the CA that signed the coordinators' certificates, and a client certificate
   * if the cluster wants one. Absent: from KV_TLS_CA, KV_TLS_CERT and KV_TLS_KEY when KV_TLS_CA is
   * set (files read at construction), else plaintext; null: plaintext. Build one from files with
   * loadTls({ ca, cert, key }, clientTlsEnv).
   */
  readonly tls?: Tls | null;
}

/** Options of one mutating call. */
export interface CallOptions {
  /** The request id (at most requestIdBytesMax bytes); a fresh one when absent. */
  readonly requestId?: string;
}

/** The first coordinator of a default local cluster (`npm start`); where a lone coordinator listens by default. */
export const defaultCoordinator = "127.0.0.1:50051";
/** The coordinators of a default local cluster (`npm start`): where clients look when told nothing. */
export const defaultCoordinators = "127.0.0.1:50051,127.0.0.1:50052";
const defaultTimeoutMs = 10_000;
export const defaultRetryForMs = 15_000;
const retryBackoffMsMin = 50;
const retryBackoffMsMax = 1_000;

const toBuffer = (value: Value): Buffer => (typeof value === "string" ? Buffer.from(value, "utf8") : value);

type Done<T> = (error: grpc.ServiceError | null, response?: T) => void;

/** One coordinator's channel: unary calls on its stub, the rest as messages of its Session stream. */
interface Channel {
  readonly stub: KvStub;
  readonly session: ClientSession<KvSessionRequest, KvSessionResponse__Output>;
}

/** Starts one call on one coordinator's channel. */
type Start<T> = (channel: Channel, options: grpc.CallOptions, done: Done<T>) => void;

type SessionAnswer = "get" | "put" | "delete" | "increment" | "compareAndSet" | "compareAndDelete" | "txn" | "txnStatus";

/**
 * A call as a message of the coordinator's Session stream (kv.proto Session): what the library
 * sends for every call but Status and Resolve. A failure comes back as the status its unary call
 * would have ended with, a standby's redirect in its metadata as a unary call carries it.
 */
function onSession<F extends SessionAnswer>(field: F, request: Omit<KvSessionRequest, "callId">): Start<NonNullable<KvSessionResponse__Output[F]>> {
  return (channel, options, done) => {
    const callDeadline = options.deadline instanceof Date ? options.deadline : new Date(options.deadline ?? Date.now() + defaultTimeoutMs);
    channel.session.call(request, callDeadline, (status, answer) => {
      if (status !== null) return done(coordinatorSessionError(status, answer));
      const value = answer?.[field];
      if (value === undefined || value === null) return done(sessionCallError(grpc.status.UNAVAILABLE, `the coordinator answered without ${field}`));
      done(null, value as NonNullable<KvSessionResponse__Output[F]>);
    });
  };
}

/**
 * One attempt at one coordinator: its response, or its error, what the error says about where to go,
 * and whether it certainly ran nothing (client/coordinators.ts attemptRanNothing).
 */
type Attempt<T> =
  | { readonly ok: true; readonly response: T }
  | { readonly ok: false; readonly error: KvError; readonly failure: AttemptFailure; readonly ranNothing: boolean };

/**
 * How a call moves among the coordinators after UNAVAILABLE or DEADLINE_EXCEEDED. "retry" (get,
 * txnStatus and every write): moves on after any such failure while retryForMs lasts, round after
 * round with backoff between them. "locate" (resolve, never retried): moves on only where nothing
 * ran, for one round.
 */
type Policy = "retry" | "locate";

export class KvClient {
  /** The configured coordinators, in order. */
  readonly coordinators: readonly string[];
  private readonly ring: CoordinatorRing;
  private readonly channels = new Map<string, Channel>();
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly credentials: grpc.ChannelCredentials;
  /** The TLS this client talks (null: plaintext), for a client made to reach more coordinators the same way. */
  readonly tls: Tls | null;
  private readonly timeoutMs: number;
  private readonly retryForMs: number;

  /**
   * coordinators: "HOST:PORT", several comma-separated, or an array of them (INVALID_ARGUMENT if
   * none or one is not HOST:PORT); KV_COORDINATOR, else defaultCoordinators, when absent.
   */
  constructor(coordinators: Coordinators = process.env.KV_COORDINATOR ?? defaultCoordinators, options: KvClientOptions = {}) {
    this.coordinators = parseCoordinators(coordinators);
    this.ring = new CoordinatorRing(this.coordinators);
    // A fast keepalive: a coordinator that stops answering (SIGSTOP, a cut network) fails the calls
    // in flight within about a second, and the client goes on to the next coordinator.
    this.channelOptions = {
      ...channelOptions,
      "grpc.keepalive_time_ms": limits.clientKeepaliveMs,
      "grpc.keepalive_timeout_ms": limits.clientKeepaliveTimeoutMs,
      ...options.channelOptions,
    };
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.retryForMs = options.retryForMs ?? defaultRetryForMs;
    this.tls = options.tls === undefined ? tlsFromEnvironment() : options.tls;
    this.credentials = channelCredentials(this.tls);
  }

  /** The coordinator calls go to now: the one this client believes active. */
  get address(): string {
    return this.ring.current;
  }

  /** The key's value and version, or null when the key does not exist. */
  get(key: string): Promise<Entry | null> {
    return this.call("get", "retry", null, onSession("get", { get: { key } })).then(
      (response) => (response.found ? { value: response.value, version: response.version } : null),
    );
  }

  /** Writes the value; resolves with the write's version once it is committed. */
  put(key: string, value: Value, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation("put", options, (requestId) => onSession("put", { put: { key, value: toBuffer(value), requestId } })).then((response) => ({ version: response.version, txnId: response.txnId }));
  }

  /** Deletes the key (deleting a missing key succeeds). */
  del(key: string, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation("del", options, (requestId) => onSession("delete", { delete: { key, requestId } })).then(
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
    return this.mutation("increment", options, (requestId) =>
      onSession("increment", { increment: { key, delta, min: bounds.min, max: bounds.max, mustExist: bounds.mustExist ?? false, requestId } }),
    ).then((response) => ({ value: response.value, version: response.version, txnId: response.txnId }));
  }

  /** increment by -amount: `decrement("stock", 2, { min: 0 })` never takes stock below zero. */
  decrement(key: string, amount: number, bounds: Bounds = {}, options: CallOptions = {}): Promise<WriteResult & { value: number }> {
    return this.increment(key, -amount, bounds, options);
  }

  /** Writes newValue if the key matches the expectation; FAILED_PRECONDITION (with the current version) if not. */
  compareAndSet(key: string, newValue: Value, expected: Expectation, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation("compare-and-set", options, (requestId) =>
      onSession("compareAndSet", { compareAndSet: { key, newValue: toBuffer(newValue), ...expectationToWire(expected), requestId } }),
    ).then((response) => ({ version: response.version, txnId: response.txnId }));
  }

  /** Deletes the key if it matches the expectation; FAILED_PRECONDITION if not. */
  compareAndDelete(key: string, expected: Exclude<Expectation, { mustNotExist: true }>, options: CallOptions = {}): Promise<WriteResult> {
    return this.mutation("compare-and-delete", options, (requestId) => onSession("compareAndDelete", { compareAndDelete: { key, ...expectationToWire(expected), requestId } })).then((response) => ({ version: response.version, txnId: response.txnId }));
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
    return this.mutation("txn", options, (requestId) => onSession("txn", { txn: { ...request, requestId } })).then(
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
    return this.call("txn-status", "retry", null, onSession("txnStatus", { txnStatus: { id } })).then((response) => {
      const state = response.state;
      if (state !== "COMMITTED" && state !== "ABORTED" && state !== "UNKNOWN") throw new Unavailable(`txn-status: unknown state ${JSON.stringify(state)}`);
      return { state, txnId: response.txnId, commitSeq: response.commitSeq, message: response.message };
    });
  }

  /**
   * Operator: settles an in-doubt transaction; refused if the choice contradicts a known decision.
   * Never retried where it may have run; a standby's refusal or a dead coordinator moves it on.
   */
  resolve(txnId: string, outcome: "commit" | "abort"): Promise<{ message: string }> {
    return this.call<ResolveResponse__Output>("resolve", "locate", null, ({ stub }, options, done) => stub.Resolve({ txnId, outcome }, options, done)).then(
      (response) => ({ message: response.message }),
    );
  }

  /**
   * The active coordinator's status: the coordinator believed active is asked first, then the one a
   * standby names, then the others in turn. When none answers as active, the first answer (a
   * standby's) is returned; when none answers at all, the last error.
   */
  async status(request: { readonly resetTrace?: boolean } = {}): Promise<KvStatus> {
    const start: Start<StatusResponse__Output> = ({ stub }, options, done) => stub.Status({ resetTrace: request.resetTrace === true }, options, done);
    let fallback: KvStatus | null = null;
    let lastError: KvError | null = null;
    const asked = new Set<string>();
    const queue = [this.ring.current, ...this.ring.known];
    for (let address = queue.shift(); address !== undefined; address = queue.shift()) {
      if (asked.has(address)) continue;
      asked.add(address);
      const attempt = await this.attempt<StatusResponse__Output>(address, "status", this.timeoutMs, start);
      if (!attempt.ok) {
        lastError = attempt.error;
        if (classifyCode(attempt.error.code) === "unavailable") this.ring.failed(address, attempt.failure);
        continue;
      }
      const status = attempt.response;
      if (isActiveStatus(status)) {
        this.ring.believe(address);
        return status;
      }
      fallback ??= status;
      // A standby: believe the coordinator it names, and ask that one next.
      this.ring.failed(address, classifyFailure(address, status.activeCoordinator, ""));
      queue.unshift(this.ring.current);
    }
    if (fallback !== null) return fallback;
    throw lastError ?? new Unavailable("status: no coordinator to ask");
  }

  /**
   * Asks every configured coordinator for its Status at once, each call with a deadline of timeoutMs
   * (this client's timeout by default); never retried. In the configured order.
   */
  probeCoordinators(timeoutMs: number = this.timeoutMs): Promise<CoordinatorProbe[]> {
    return Promise.all(
      this.coordinators.map(async (address): Promise<CoordinatorProbe> => {
        const attempt = await this.attempt<StatusResponse__Output>(address, "status", timeoutMs, statusStart);
        return attempt.ok ? { address, reachable: true, status: attempt.response } : { address, reachable: false, error: attempt.error };
      }),
    );
  }

  close(): void {
    for (const channel of this.channels.values()) {
      channel.session.close("the client was closed");
      channel.stub.close();
    }
    this.channels.clear();
  }

  /** A mutating call: one request id for all its attempts, on every coordinator. */
  private mutation<T>(what: string, options: CallOptions, start: (requestId: string) => Start<T>): Promise<T> {
    const requestId = options.requestId ?? randomUUID();
    return this.call<T>(what, "retry", requestId, start(requestId));
  }

  /**
   * Runs a call on the coordinator believed active, moving among the coordinators as the policy says
   * (see Policy and the top of this file). A redirect is followed at once; a round in which every
   * coordinator failed ends in a backoff (from retryBackoffMsMin, doubling to retryBackoffMsMax), or
   * in the last failure once retryForMs is over.
   */
  private async call<T>(what: string, policy: Policy, requestId: string | null, start: Start<T>): Promise<T> {
    const giveUpAt = Date.now() + (policy === "retry" ? this.retryForMs : 0);
    let backoffMs = retryBackoffMsMin;
    const failedThisRound = new Set<string>();
    // Whether each failed attempt so far certainly ran nothing: the call wrote nothing only if all did.
    const ranNothing: boolean[] = [];
    for (let attempts = 1; ; attempts++) {
      const address = this.ring.current;
      const attempt = await this.attempt(address, what, this.timeoutMs, start);
      if (attempt.ok) return attempt.response;
      const { error, failure } = attempt;
      ranNothing.push(attempt.ranNothing);
      if (classifyCode(error.code) !== "unavailable") throw withRequestId(error, requestId, attempts, false);
      this.ring.failed(address, failure);
      failedThisRound.add(address);
      // Where nothing ran, moving on is no retry; an unknown outcome is retried only within retryForMs.
      const mayMoveOn = failure.kind !== "unknown" || (policy === "retry" && Date.now() < giveUpAt);
      if (mayMoveOn && !failedThisRound.has(this.ring.current)) continue;
      // Every coordinator this round failed (or the one left is where this call may have run).
      if (policy === "locate" || Date.now() + backoffMs >= giveUpAt) throw withRequestId(error, requestId, attempts, callNotStarted(ranNothing));
      await new Promise((resolve) => setTimeout(resolve, backoffMs * (0.5 + Math.random() / 2)));
      backoffMs = Math.min(backoffMs * 2, retryBackoffMsMax);
      failedThisRound.clear();
    }
  }

  /** One call on one coordinator. Never rejects: a failure comes back with where it says to go. */
  private attempt<T>(address: string, what: string, timeoutMs: number, start: Start<T>): Promise<Attempt<T>> {
    // With several coordinators, a failure names the one it came from.
    const label = this.coordinators.length > 1 ? `${what} (coordinator ${address})` : what;
    return new Promise<Attempt<T>>((resolve) => {
      start(this.channelTo(address), { deadline: deadline(timeoutMs) }, (error, response) => {
        if (error) {
          const named = error.metadata?.get(activeCoordinatorMetadataKey)[0];
          const activeCoordinator = named === undefined ? null : named.toString();
          const failure = classifyFailure(address, activeCoordinator, error.details ?? "");
          // The marker counts only on UNAVAILABLE, the one code the coordinator sets it with.
          const marked = error.code === grpc.status.UNAVAILABLE && error.metadata?.get(notStartedMetadataKey)[0]?.toString() === "1";
          resolve({ ok: false, error: fromServiceError(error, label), failure, ranNothing: attemptRanNothing(failure, marked) });
        } else if (response === undefined) {
          resolve({ ok: false, error: new Unavailable(`${label}: empty response`), failure: { kind: "unknown" }, ranNothing: false });
        } else resolve({ ok: true, response });
      });
    });
  }

  /** One coordinator's channel, made on first use. */
  private channelTo(address: string): Channel {
    let channel = this.channels.get(address);
    if (channel === undefined) {
      const stub = new kvProto.Kv(address, this.credentials, this.channelOptions) as unknown as KvStub;
      const connect = { waitForReady: stub.waitForReady.bind(stub), timeoutMs: limits.clientConnectTimeoutMs };
      channel = { stub, session: new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, `coordinator ${address}`, connect) };
      this.channels.set(address, channel);
    }
    return channel;
  }
}

const statusStart: Start<StatusResponse__Output> = ({ stub }, options, done) => stub.Status({}, options, done);

/**
 * The error a call rejects with: a write's carries its request id, for txnStatus, and says whether
 * the call certainly wrote nothing (notStarted: every attempt ran nothing, and its code alone does
 * not say so).
 */
function withRequestId(error: KvError, requestId: string | null, attempts: number, notStarted: boolean): KvError {
  if (requestId === null) return error;
  const message = attempts > 1 ? `${error.message} (after ${attempts} attempts)` : error.message;
  return Object.assign(new KvError(error.code, message, { cause: error, notStarted: notStarted && classifyCode(error.code) === "unavailable" }), { requestId });
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
