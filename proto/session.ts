// Session streams (participant.proto and kv.proto): each message is one call, answered by a message
// with its call id as soon as its answer is ready, in whatever order. A message costs grpc-js about a
// third of a unary call (issue 13). Both sides are shared: the replica serves its coordinators' hot
// path and the coordinator its clients' (serveSession); the coordinator calls its replicas and the
// client library its coordinators (ClientSession).
import * as grpc from "@grpc/grpc-js";
import { assert } from "../common/assert";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";

/** How a call that failed travels: the status its unary call would have ended with. */
export interface SessionFailure {
  readonly callId: number;
  readonly code: number;
  readonly details: string;
  /** The status's metadata (the coordinator's redirect travels there in a unary call). */
  readonly metadata: grpc.Metadata | undefined;
}

/** Makes the callback of one call: its answer, wrapped into the stream's response message. */
export type Answer<Res> = <V>(wrap: (value: V) => Res) => grpc.sendUnaryData<V>;

/**
 * Serves one Session stream: hands each message to `serve` with the callback that answers it.
 * More than sessionCallsInFlightMax calls waiting for their answers on one stream are refused with
 * RESOURCE_EXHAUSTED. An answer for a stream that has closed meanwhile is dropped (the caller failed
 * the call when the stream broke).
 */
export function serveSession<Req extends { readonly callId: number }, Res>(
  stream: grpc.ServerDuplexStream<Req, Res>,
  logger: Logger,
  failed: (failure: SessionFailure) => Res,
  serve: (message: Req, answer: Answer<Res>) => void,
): void {
  let inFlight = 0;
  stream.on("data", (message: Req) => {
    const callId = message.callId;
    inFlight += 1;
    let answered = false;
    const answer: Answer<Res> = (wrap) => (error, value) => {
      assert(!answered, `Session call ${callId} answered twice`);
      answered = true;
      inFlight -= 1;
      if (stream.destroyed || !stream.writable) return;
      if (error) stream.write(failed({ callId, code: error.code ?? grpc.status.UNKNOWN, details: error.details ?? ("message" in error ? error.message : ""), metadata: error.metadata }));
      else stream.write(wrap(value!));
    };
    if (inFlight > limits.sessionCallsInFlightMax) {
      const details = `more than ${limits.sessionCallsInFlightMax} calls in flight on one session (sessionCallsInFlightMax): wait for answers`;
      logger.warn({ event: "request-refused", method: "Session", code: grpc.status.RESOURCE_EXHAUSTED, reason: details }, `Session call refused: ${details}`);
      return answer(() => undefined as never)({ code: grpc.status.RESOURCE_EXHAUSTED, details });
    }
    serve(message, answer);
  });
  stream.on("end", () => stream.end());
  // The caller went away: nothing to answer.
  stream.on("error", () => undefined);
}

/** A call's status on a session: OK, or the code and details its unary call would have failed with. */
export interface SessionStatus {
  readonly code: number;
  readonly details: string;
}

/** A failed Session call as the ServiceError its unary call would have rejected with (metadata: its trailing metadata). */
export function sessionCallError(code: number, details: string, metadata: Readonly<Record<string, string>> = {}): grpc.ServiceError {
  const trailers = new grpc.Metadata();
  for (const [key, value] of Object.entries(metadata)) if (value !== "") trailers.set(key, value);
  return Object.assign(new Error(`${code} ${grpc.status[code] ?? "UNKNOWN"}: ${details}`), { code: code as grpc.status, details, metadata: trailers });
}

type Waiting<Res> = { readonly done: (error: SessionStatus | null, answer?: Res) => void; readonly timer: NodeJS.Timeout };

/**
 * The calling side of a Session stream: each call goes as a message with a call id and its own
 * deadline. The stream is opened at the first call and again at the first call after it broke; when
 * it breaks, every call waiting on it fails with the stream's status (UNAVAILABLE when the server
 * went away), as its unary call would have. Messages on one stream arrive in the order they were
 * sent. A failed call's answer (when the server sent one) comes with its status.
 */
export class ClientSession<Req extends { callId?: unknown }, Res extends { readonly callId: number; readonly code: number; readonly details: string }> {
  private stream: grpc.ClientDuplexStream<Req, Res> | null = null;
  private readonly pending = new Map<number, Waiting<Res>>();
  private nextCallId = 1;
  /** Calls made, for tests. */
  calls = 0;

  /**
   * open: starts the stream (the stub's Session call); server: who answers, for messages ("the
   * replica"). connect: when given, a new stream whose connection is not up within timeoutMs fails
   * every call on it with UNAVAILABLE (waitForReady: the stub's). A stopped process still accepts TCP
   * connections (the kernel does) and never answers: without this, calls would wait for their
   * deadlines on a connection that never comes up.
   */
  constructor(
    private readonly open: () => grpc.ClientDuplexStream<Req, Res>,
    private readonly server: string,
    private readonly connect?: { readonly waitForReady: (deadline: Date, done: (error?: Error) => void) => void; readonly timeoutMs: number },
  ) {}

  call(request: Omit<Req, "callId">, callDeadline: Date, done: (error: SessionStatus | null, answer?: Res) => void): void {
    const stream = this.stream ?? this.start();
    const callId = this.nextCallId++;
    this.calls += 1;
    const timer = setTimeout(() => {
      if (!this.pending.delete(callId)) return;
      done({ code: grpc.status.DEADLINE_EXCEEDED, details: "Deadline exceeded (no answer on the session in time)" });
    }, Math.max(0, callDeadline.getTime() - Date.now()));
    this.pending.set(callId, { done, timer });
    stream.write({ ...request, callId } as Req);
  }

  close(why: string): void {
    this.stream?.cancel();
    this.fail({ code: grpc.status.CANCELLED, details: why });
  }

  private start(): grpc.ClientDuplexStream<Req, Res> {
    const stream = this.open();
    this.stream = stream;
    stream.on("data", (answer: Res) => {
      const waiting = this.pending.get(answer.callId);
      if (waiting === undefined) return; // timed out meanwhile
      this.pending.delete(answer.callId);
      clearTimeout(waiting.timer);
      if (answer.code !== grpc.status.OK) waiting.done({ code: answer.code, details: answer.details }, answer);
      else waiting.done(null, answer);
    });
    const broken = (status: SessionStatus): void => {
      if (this.stream !== stream) return;
      this.stream = null;
      this.fail(status);
    };
    stream.on("error", (error: grpc.ServiceError) => broken({ code: error.code, details: error.details || error.message }));
    stream.on("end", () => broken({ code: grpc.status.UNAVAILABLE, details: `${this.server} ended the session` }));
    stream.on("close", () => broken({ code: grpc.status.UNAVAILABLE, details: "the session closed" }));
    const connect = this.connect;
    if (connect !== undefined) {
      connect.waitForReady(new Date(Date.now() + connect.timeoutMs), (error) => {
        if (error === undefined || this.stream !== stream) return;
        broken({ code: grpc.status.UNAVAILABLE, details: `no connection to ${this.server} within ${connect.timeoutMs} ms` });
        stream.cancel();
      });
    }
    return stream;
  }

  private fail(status: SessionStatus): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { done, timer } of waiting) {
      clearTimeout(timer);
      done(status);
    }
  }
}
