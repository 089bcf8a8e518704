// The coordinator's gRPC connection to one replica: the transport the coordinator node
// (coordinator/node.ts) calls out with. It encodes each call, makes it with a deadline, and decodes
// the answer; batching and what the answers mean belong to the node.
import { Code, codeName, type CodeValue } from "../common/errors";
import type { CallResult } from "../common/env";
import { deadline, fromServiceError } from "../proto/grpc-status";
import type { Write } from "../common/types";
import { channelOptions, healthProto, participantProto } from "../proto/load";
import type { HealthClient } from "../proto/gen/grpc/health/v1/Health";
import type { ParticipantClient } from "../proto/gen/twopc/participant/Participant";
import type { SessionRequest } from "../proto/gen/twopc/participant/SessionRequest";
import type { SessionResponse__Output } from "../proto/gen/twopc/participant/SessionResponse";
import { decodePeerState } from "../proto/convert";
import { ClientSession, type SessionStatus } from "../proto/session";
import { channelCredentials, type Tls } from "../proto/tls";
import type { VoteItem } from "./core";
import type { ParticipantCalls } from "./node";
import type { AppendRequest } from "./replicated-log";
import type { CopyPage, PromiseAnswer } from "./takeover";

/** A failed protocol call, its reason as "CODE: details". */
function failed<T>(error: SessionStatus | null): CallResult<T> {
  return { ok: false, code: (error?.code ?? Code.UNAVAILABLE) as CodeValue, reason: error ? `${codeName(error.code)}: ${error.details}` : "empty response" };
}

/**
 * The hot path's stream to one replica (rpc Session, proto/participant.proto): Prepare, Commit,
 * Abort, Read and Append go as messages of one long-lived stream instead of one call each, which
 * in grpc-js costs a third of the CPU and of the latency (issue 13). Messages on one stream arrive
 * in the order they were sent, so the order of the calls on one channel holds (ReplicaLink sends
 * decisions before prepares). proto/session.ts ClientSession says the rest.
 */
export type ReplicaSession = ClientSession<SessionRequest, SessionResponse__Output>;

/** The coordinator process's channel to one replica, shared by every epoch it serves in. */
export class ReplicaChannel {
  readonly client: ParticipantClient;
  readonly health: HealthClient;
  /**
   * The replica answered a call since this coordinator started. Until then its channel may still be
   * making its first connection (the coordinator may start before its replicas), and protocol calls
   * wait for it within their deadline (waitForReady) instead of failing the transaction; from then
   * on they fail fast, so that a refused connection takes a dead replica out at once.
   */
  reached = false;
  readonly session: ReplicaSession;

  constructor(
    readonly id: string,
    readonly address: string,
    tls: Tls | null = null,
  ) {
    this.client = new participantProto.Participant(address, channelCredentials(tls), channelOptions) as unknown as ParticipantClient;
    // One channel for health checks and protocol calls: a good health check means the channel the
    // next PREPARE takes is connected.
    this.health = new healthProto.Health(address, channelCredentials(tls), {
      ...channelOptions,
      channelOverride: this.client.getChannel(),
    }) as unknown as HealthClient;
    this.session = new ClientSession<SessionRequest, SessionResponse__Output>(() => this.client.Session(), participantProto.Participant.service.Session, "the replica");
  }

  close(): void {
    this.session.close("the channel to the replica was closed");
    this.client.close();
    this.health.close();
  }
}

/** The calls of one epoch to one replica: every call from a coordinator carries its epoch (the fence). */
export class GrpcParticipant implements ParticipantCalls {
  private readonly client: ParticipantClient;
  private readonly health: HealthClient;
  readonly id: string;

  constructor(
    private readonly channel: ReplicaChannel,
    private readonly epoch: number,
    private readonly coordinatorId: string,
    /** Where replicas reach this coordinator (for their outcome queries). */
    private readonly coordinatorAddress: string,
    /** The address of another replica (the source of a catch-up). */
    private readonly addressOf: (replicaId: string) => string | undefined,
  ) {
    this.client = channel.client;
    this.health = channel.health;
    this.id = channel.id;
  }

  private get reached(): boolean {
    return this.channel.reached;
  }

  private set reached(value: boolean) {
    this.channel.reached = value;
  }

  promise(timeoutMs: number, done: (result: CallResult<PromiseAnswer>) => void): void {
    const request = { epoch: this.epoch, coordinatorId: this.coordinatorId, coordinatorAddress: this.coordinatorAddress };
    this.whenConnected(timeoutMs, (options) =>
      this.client.Promise(request, options, (error, response) => {
        if (error || response === undefined) return done(failed(error));
        this.reached = true;
        done({
          ok: true,
          value: {
            granted: response.granted,
            promisedEpoch: response.promisedEpoch,
            promisedTo: response.promisedTo,
            logEpoch: response.logEpoch,
            logFirstIndex: response.logFirstIndex,
            logIndex: response.logIndex,
            maxTxnEpoch: response.maxTxnEpoch,
            prepared: response.prepared,
          },
        });
      }),
    );
  }

  readCopy(fromIndex: number, timeoutMs: number, done: (result: CallResult<CopyPage>) => void): void {
    const request = { epoch: this.epoch, coordinatorId: this.coordinatorId, fromIndex };
    this.whenConnected(timeoutMs, (options) =>
      this.client.ReadCopy(request, options, (error, response) => {
        if (error || response === undefined) return done(failed(error));
        this.reached = true;
        done({ ok: true, value: { logEpoch: response.logEpoch, logFirstIndex: response.logFirstIndex, logIndex: response.logIndex, records: response.records.map((record) => Buffer.from(record)) } });
      }),
    );
  }

  append(request: AppendRequest, timeoutMs: number, done: (result: CallResult<{ logEpoch: number; logIndex: number }>) => void): void {
    const wire = {
      epoch: this.epoch,
      coordinatorId: this.coordinatorId,
      coordinatorAddress: this.coordinatorAddress,
      base: request.base,
      more: request.more,
      baseFirstIndex: request.baseFirstIndex,
      firstIndex: request.firstIndex,
      records: [...request.records],
    };
    this.onSession(timeoutMs, { append: wire }, (error, answer) => {
      const response = answer?.append;
      if (error || !response) return done(failed(error));
      this.reached = true;
      done({ ok: true, value: { logEpoch: response.logEpoch, logIndex: response.logIndex } });
    });
  }

  prepare(txns: Parameters<ParticipantCalls["prepare"]>[0], timeoutMs: number, done: (result: CallResult<VoteItem[]>) => void): void {
    const request = {
      coordinatorId: this.coordinatorId,
      epoch: this.epoch,
      txns: txns.map((message) => ({ txnId: message.txnId, writes: message.writes.map(encodeWrite), participants: [...message.participants] })),
    };
    this.onSession(timeoutMs, { prepare: request }, (error, answer) => {
        const response = answer?.prepare;
        if (error || !response) return done(failed(error));
        this.reached = true;
        const votes = response.votes.flatMap((vote): VoteItem[] => {
          switch (vote.vote) {
            case "VOTE_YES":
              return [{ txnId: vote.txnId, vote: "yes" }];
            case "VOTE_NO":
              return [{ txnId: vote.txnId, vote: "no", reason: vote.reason, ...(vote.lockedBy === "" ? {} : { lockedBy: vote.lockedBy }) }];
            default:
              // VOTE_UNSPECIFIED, or a value this version does not know (it arrives as a number): a
              // reply is input, so it counts as no vote (the transaction then aborts), never as a crash.
              return [];
          }
        });
        done({ ok: true, value: votes });
    });
  }

  commit(txns: Parameters<ParticipantCalls["commit"]>[0], gcFloor: number, urgent: boolean, timeoutMs: number, done: (result: CallResult<string[]>) => void): void {
    const wire = txns.map((txn) => ({ txnId: txn.txnId, commitSeq: txn.commitSeq, writes: txn.writes.map(encodeWrite) }));
    this.onSession(timeoutMs, { commit: { txns: wire, epoch: this.epoch, gcFloor, urgent } }, (error, answer) => {
      const response = answer?.decision;
      if (error || !response) return done(failed(error));
      this.reached = true;
      done({ ok: true, value: response.ackedTxnIds });
    });
  }

  abort(txnIds: readonly string[], timeoutMs: number, done: (result: CallResult<string[]>) => void): void {
    this.onSession(timeoutMs, { abort: { txnIds: [...txnIds], epoch: this.epoch } }, (error, answer) => {
      const response = answer?.decision;
      if (error || !response) return done(failed(error));
      done({ ok: true, value: response.ackedTxnIds });
    });
  }

  read(keys: readonly string[], timeoutMs: number, done: (result: CallResult<{ key: string; found: boolean; value: Buffer; version: number }[]>) => void): void {
    this.onSession(timeoutMs, { read: { keys: [...keys], epoch: this.epoch } }, (error, answer) => {
      const response = answer?.read;
      if (error || !response) return done(this.failedQuery(error));
      done({ ok: true, value: response.results });
    });
  }

  inspect(txnIds: readonly string[], timeoutMs: number, done: Parameters<ParticipantCalls["inspect"]>[2]): void {
    this.whenConnected(timeoutMs, (options) =>
      this.client.Inspect({ txnIds: [...txnIds] }, options, (error, response) => {
        if (error || response === undefined) return done(this.failedQuery(error));
        done({ ok: true, value: response.txns.flatMap(decodePeerState) });
      }),
    );
  }

  catchUp(sourceId: string, sinceSeq: number, timeoutMs: number, done: (result: CallResult<number>) => void): void {
    const sourceAddress = this.addressOf(sourceId);
    if (sourceAddress === undefined) return done({ ok: false, code: Code.FAILED_PRECONDITION as CodeValue, reason: `no address for source ${sourceId}` });
    this.whenConnected(timeoutMs, (options) =>
      this.client.CatchUp({ sourceId, sourceAddress, sinceSeq, epoch: this.epoch }, options, (error, response) => {
        if (error || response === undefined) return done(failed(error));
        done({ ok: true, value: response.rowsCopied });
      }),
    );
  }

  status(timeoutMs: number, done: Parameters<ParticipantCalls["status"]>[1]): void {
    this.whenConnected(timeoutMs, (options) =>
      this.client.Status({}, options, (error, response) => {
        if (error || response === undefined) return done(this.failedQuery(error));
        done({ ok: true, value: response });
      }),
    );
  }

  /**
   * One health check (grpc.health.v1): true when the replica answers SERVING in time; a failure with
   * UNAVAILABLE means nothing listens (the process is gone), not a mere timeout.
   */
  checkHealth(timeoutMs: number, done: (result: CallResult<boolean>) => void): void {
    this.health.Check({ service: "" }, { deadline: deadline(timeoutMs) }, (error, response) => {
      if (error || response === undefined) return done(failed(error));
      const serving = response.status === "SERVING";
      if (serving) this.reached = true;
      done({ ok: true, value: serving });
    });
  }

  /**
   * Makes a call with a deadline timeoutMs from now. Until the replica was reached, first waits
   * (within that deadline) for the channel to connect: a channel still in its first connection
   * backoff would fail the call at once.
   */
  private whenConnected(timeoutMs: number, call: (options: { readonly deadline: Date }) => void): void {
    const options = { deadline: deadline(timeoutMs) };
    if (this.reached) return call(options);
    // An error here (the deadline passed) lets the call fail as it would have.
    this.client.waitForReady(options.deadline, () => call(options));
  }

  /** A call of the hot path, on the replica's Session stream, with a deadline timeoutMs from now. */
  private onSession(timeoutMs: number, request: Omit<SessionRequest, "callId">, done: (error: SessionStatus | null, answer?: SessionResponse__Output) => void): void {
    this.whenConnected(timeoutMs, (options) => this.channel.session.call(request, options.deadline, done));
  }

  /** A failed read or query, its reason as "replica ID: details" (what a client sees of it). */
  private failedQuery<T>(error: SessionStatus | null): CallResult<T> {
    const kvError = fromServiceError(error ?? new Error("empty response"), `replica ${this.id}`);
    return { ok: false, code: (error?.code ?? Code.UNAVAILABLE) as CodeValue, reason: kvError.message };
  }

}

function encodeWrite(write: Write): { key: string; value: Buffer; delete: boolean } {
  return write.value === null ? { key: write.key, value: Buffer.alloc(0), delete: true } : { key: write.key, value: write.value, delete: false };
}
