// Session streams (participant.proto and kv.proto): each call is a message with a call id, answered by
// a message with its call id as soon as its answer is ready, in whatever order. A message costs
// grpc-js about a third of a unary call (issue 13). Both sides are shared: the replica serves its
// coordinators' hot path and the coordinator its clients' (serveSession); the coordinator calls its
// replicas and the client library its coordinators (ClientSession).
//
// Batches: the calls (or answers) written to one stream in one go (one turn of a node, one run of
// callbacks: until the microtask queue drains) travel together, as encoded items of one envelope
// message (`more`, at most sessionBatchBytesMax of them; a larger one goes alone). An item inside an
// envelope costs about a quarter of the CPU of a message of its own on each side (measured with a
// grpc-js echo: 17-18 us per message against 4-5 us per item, at 64 calls in flight). Order on the
// stream is kept: items are written, and read, in the order they were sent.
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

/** A message of a Session stream: a call or an answer, or an envelope of encoded ones (`more`). */
interface Batchable {
  more?: (Buffer | Uint8Array | string)[];
}

/** The Session method's definition (its service's `Session`): the encoders of its messages. */
export interface SessionMethod<Req, ReqOut, Res, ResOut> {
  requestSerialize(value: Req): Buffer;
  requestDeserialize(bytes: Buffer): ReqOut;
  responseSerialize(value: Res): Buffer;
  responseDeserialize(bytes: Buffer): ResOut;
}

/** Stream messages written (or read), and the calls or answers they carried. */
export interface WriteCounts {
  messages: number;
  items: number;
}

/**
 * Gathers the messages written to one stream until the microtask queue drains, and writes them as
 * envelopes of at most sessionBatchBytesMax of encoded items, in order; one message alone, or one
 * larger than that, goes as it is.
 */
class Outbox<M extends Batchable> {
  private queue: M[] = [];
  private scheduled = false;

  constructor(
    /** Counts stream messages written and the calls or answers they carried (for tests). */
    private readonly counts: WriteCounts,
    private readonly write: (message: M) => void,
    private readonly encode: (message: M) => Buffer,
    private readonly envelope: (more: Buffer[]) => M,
  ) {}

  push(message: M): void {
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    const queue = this.queue;
    this.queue = [];
    this.counts.items += queue.length;
    if (queue.length === 1) return this.send(queue[0]!);
    let batch: Buffer[] = [];
    let bytes = 0;
    const sendBatch = (): void => {
      if (batch.length > 0) this.send(this.envelope(batch));
      batch = [];
      bytes = 0;
    };
    for (const message of queue) {
      let encoded: Buffer;
      try {
        encoded = this.encode(message);
      } catch {
        // It goes alone: the stream's own serializer fails it as a single message always failed.
        sendBatch();
        this.send(message);
        continue;
      }
      if (encoded.length > limits.sessionBatchBytesMax) {
        sendBatch();
        this.send(message);
        continue;
      }
      if (bytes + encoded.length > limits.sessionBatchBytesMax) sendBatch();
      batch.push(encoded);
      bytes += encoded.length;
    }
    sendBatch();
  }

  private send(message: M): void {
    this.counts.messages += 1;
    this.write(message);
  }
}

/**
 * The messages a stream message stands for: itself, or an envelope's items, decoded. An item that is
 * itself an envelope, or does not decode, is a protocol error: `refuse` hears why, and the item is
 * dropped (never a crash: the bytes come from the network).
 */
function unpack<M extends { readonly more: readonly Buffer[] }>(message: M, decode: (bytes: Buffer) => M, refuse: (why: string) => void): M[] {
  if (message.more.length === 0) return [message];
  const items: M[] = [];
  for (const bytes of message.more) {
    let item: M;
    try {
      item = decode(bytes);
    } catch (error) {
      refuse(`more: an item does not decode (${error instanceof Error ? error.message : String(error)})`);
      continue;
    }
    if (item.more.length > 0) refuse("more: an item of an envelope may not be an envelope");
    else items.push(item);
  }
  return items;
}

/**
 * Serves one Session stream: hands each message to `serve` with the callback that answers it.
 * More than sessionCallsInFlightMax calls waiting for their answers on one stream are refused with
 * RESOURCE_EXHAUSTED. An answer for a stream that has closed meanwhile is dropped (the caller failed
 * the call when the stream broke).
 */
export function serveSession<Req extends { readonly callId: number; readonly more: readonly Buffer[] }, Res extends Batchable>(
  stream: grpc.ServerDuplexStream<Req, Res>,
  method: Pick<SessionMethod<unknown, Req, Res, unknown>, "requestDeserialize" | "responseSerialize">,
  logger: Logger,
  failed: (failure: SessionFailure) => Res,
  serve: (message: Req, answer: Answer<Res>) => void,
): void {
  let inFlight = 0;
  const outbox = new Outbox<Res>(
    { messages: 0, items: 0 },
    // Answers queued on a stream that closed meanwhile are dropped (the caller failed those calls).
    (message) => {
      if (!stream.destroyed && stream.writable) stream.write(message);
    },
    (message) => method.responseSerialize(message),
    (more) => ({ more }) as Res,
  );
  const refuse = (why: string): void => {
    logger.warn({ event: "request-refused", method: "Session", code: grpc.status.INVALID_ARGUMENT, reason: why }, `Session message refused: ${why}`);
  };
  stream.on("data", (message: Req) => {
    for (const item of unpack(message, (bytes) => method.requestDeserialize(bytes), refuse)) serveOne(item);
  });
  const serveOne = (message: Req): void => {
    const callId = message.callId;
    inFlight += 1;
    let answered = false;
    const answer: Answer<Res> = (wrap) => (error, value) => {
      assert(!answered, `Session call ${callId} answered twice`);
      answered = true;
      inFlight -= 1;
      if (stream.destroyed || !stream.writable) return;
      if (error) outbox.push(failed({ callId, code: error.code ?? grpc.status.UNKNOWN, details: error.details ?? ("message" in error ? error.message : ""), metadata: error.metadata }));
      else outbox.push(wrap(value!));
    };
    if (inFlight > limits.sessionCallsInFlightMax) {
      const details = `more than ${limits.sessionCallsInFlightMax} calls in flight on one session (sessionCallsInFlightMax): wait for answers`;
      logger.warn({ event: "request-refused", method: "Session", code: grpc.status.RESOURCE_EXHAUSTED, reason: details }, `Session call refused: ${details}`);
      return answer(() => undefined as never)({ code: grpc.status.RESOURCE_EXHAUSTED, details });
    }
    serve(message, answer);
  };
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
export class ClientSession<
  Req extends { callId?: unknown } & Batchable,
  Res extends { readonly callId: number; readonly code: number; readonly details: string; readonly more: readonly Buffer[] },
> {
  private current: { readonly stream: grpc.ClientDuplexStream<Req, Res>; readonly outbox: Outbox<Req> } | null = null;
  private readonly pending = new Map<number, Waiting<Res>>();
  private nextCallId = 1;
  /** Calls made, for tests. */
  calls = 0;
  /** Stream messages written and the calls they carried, for tests. */
  readonly written: WriteCounts = { messages: 0, items: 0 };
  /** Stream messages read and the answers they carried, for tests. */
  readonly received: WriteCounts = { messages: 0, items: 0 };

  /**
   * open: starts the stream (the stub's Session call); server: who answers, for messages ("the
   * replica"). connect: when given, a new stream whose connection is not up within timeoutMs fails
   * every call on it with UNAVAILABLE (waitForReady: the stub's). A stopped process still accepts TCP
   * connections (the kernel does) and never answers: without this, calls would wait for their
   * deadlines on a connection that never comes up.
   */
  constructor(
    private readonly open: () => grpc.ClientDuplexStream<Req, Res>,
    private readonly method: Pick<SessionMethod<Req, unknown, unknown, Res>, "requestSerialize" | "responseDeserialize">,
    private readonly server: string,
    private readonly connect?: { readonly waitForReady: (deadline: Date, done: (error?: Error) => void) => void; readonly timeoutMs: number },
  ) {}

  call(request: Omit<Req, "callId">, callDeadline: Date, done: (error: SessionStatus | null, answer?: Res) => void): void {
    const { outbox } = this.current ?? this.start();
    const callId = this.nextCallId++;
    this.calls += 1;
    const timer = setTimeout(() => {
      if (!this.pending.delete(callId)) return;
      done({ code: grpc.status.DEADLINE_EXCEEDED, details: "Deadline exceeded (no answer on the session in time)" });
    }, Math.max(0, callDeadline.getTime() - Date.now()));
    this.pending.set(callId, { done, timer });
    outbox.push({ ...request, callId } as Req);
  }

  close(why: string): void {
    this.current?.stream.cancel();
    this.fail({ code: grpc.status.CANCELLED, details: why });
  }

  private start(): { readonly stream: grpc.ClientDuplexStream<Req, Res>; readonly outbox: Outbox<Req> } {
    const stream = this.open();
    const live = (): boolean => this.current?.stream === stream;
    const outbox = new Outbox<Req>(
      this.written,
      // Calls queued on a stream that broke meanwhile were failed with it.
      (message) => {
        if (live()) stream.write(message);
      },
      (message) => this.method.requestSerialize(message),
      (more) => ({ more }) as Req,
    );
    const current = { stream, outbox };
    this.current = current;
    const answered = (answer: Res): void => {
      const waiting = this.pending.get(answer.callId);
      if (waiting === undefined) return; // timed out meanwhile
      this.pending.delete(answer.callId);
      clearTimeout(waiting.timer);
      if (answer.code !== grpc.status.OK) waiting.done({ code: answer.code, details: answer.details }, answer);
      else waiting.done(null, answer);
    };
    // An answer that does not decode leaves its call to its deadline: nothing else names it.
    stream.on("data", (answer: Res) => {
      this.received.messages += 1;
      for (const item of unpack(answer, (bytes) => this.method.responseDeserialize(bytes), () => undefined)) {
        this.received.items += 1;
        answered(item);
      }
    });
    const broken = (status: SessionStatus): void => {
      if (!live()) return;
      this.current = null;
      this.fail(status);
    };
    stream.on("error", (error: grpc.ServiceError) => broken({ code: error.code, details: error.details || error.message }));
    stream.on("end", () => broken({ code: grpc.status.UNAVAILABLE, details: `${this.server} ended the session` }));
    stream.on("close", () => broken({ code: grpc.status.UNAVAILABLE, details: "the session closed" }));
    const connect = this.connect;
    if (connect !== undefined) {
      connect.waitForReady(new Date(Date.now() + connect.timeoutMs), (error) => {
        if (error === undefined || !live()) return;
        broken({ code: grpc.status.UNAVAILABLE, details: `no connection to ${this.server} within ${connect.timeoutMs} ms` });
        stream.cancel();
      });
    }
    return current;
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
