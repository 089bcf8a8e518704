// The typed client library: what other programs import to use twopc-kv.
//
//   const kv = new KvClient("127.0.0.1:50051");
//   await kv.put("greeting", "hello");
//   const entry = await kv.get("greeting"); // { value: Buffer, version: number } or null
//   await kv.del("greeting");
//   kv.close();
//
// Every call carries a deadline. Failures reject with a KvError whose code is the gRPC status code:
// INVALID_ARGUMENT (the message names the field), ABORTED (a conflicting write on the same key:
// retry), RESOURCE_EXHAUSTED (the coordinator is full: retry later), UNAVAILABLE or
// DEADLINE_EXCEEDED (for a write: the outcome is unknown; read the key to find out).
import * as grpc from "@grpc/grpc-js";
import { Unavailable, type KvError } from "../common/errors";
import { deadline, fromServiceError } from "../common/grpc-status";
import { channelOptions, kvProto } from "../proto/load";
import type { KvClient as KvStub } from "../proto/gen/twopc/kv/Kv";
import type { DeleteResponse__Output } from "../proto/gen/twopc/kv/DeleteResponse";
import type { GetResponse__Output } from "../proto/gen/twopc/kv/GetResponse";
import type { PutResponse__Output } from "../proto/gen/twopc/kv/PutResponse";
import type { ResolveResponse__Output } from "../proto/gen/twopc/kv/ResolveResponse";
import type { StatusResponse__Output } from "../proto/gen/twopc/kv/StatusResponse";

export type { KvError };
export type KvStatus = StatusResponse__Output;

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
}

export const defaultCoordinator = "127.0.0.1:50051";
const defaultTimeoutMs = 10_000;

export class KvClient {
  private readonly stub: KvStub;
  private readonly timeoutMs: number;

  constructor(
    readonly address: string = process.env.KV_COORDINATOR ?? defaultCoordinator,
    options: KvClientOptions = {},
  ) {
    this.stub = new kvProto.Kv(address, grpc.credentials.createInsecure(), { ...channelOptions, ...options.channelOptions }) as unknown as KvStub;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  }

  /** The key's value and version, or null when the key does not exist. */
  get(key: string): Promise<Entry | null> {
    return this.unary<GetResponse__Output>("get", (done) => this.stub.Get({ key }, this.callOptions(), done)).then((response) =>
      response.found ? { value: response.value, version: response.version } : null,
    );
  }

  /** Writes the value; resolves with the write's version once it is committed. */
  put(key: string, value: Buffer | string): Promise<{ version: number }> {
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    return this.unary<PutResponse__Output>("put", (done) => this.stub.Put({ key, value: bytes }, this.callOptions(), done)).then((response) => ({
      version: response.version,
    }));
  }

  /** Deletes the key (deleting a missing key succeeds). */
  del(key: string): Promise<{ version: number }> {
    return this.unary<DeleteResponse__Output>("del", (done) => this.stub.Delete({ key }, this.callOptions(), done)).then((response) => ({
      version: response.version,
    }));
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
