// The coordinator's connection to one replica: batches the core's messages into Prepare, Commit and
// Abort calls, and turns the answers (or the failures) back into inputs of the core.
//
// Batching: while fewer than callsInFlightPerReplicaMax calls of a kind are in flight, a message
// leaves at once; otherwise it waits, and the next call carries everything that piled up (up to
// txnsPerBatchMax). Under load, one round trip and one log force on the replica serve many
// transactions; when idle, nothing waits.
import * as grpc from "@grpc/grpc-js";
import { assertNever } from "../common/assert";
import { codeName, Unavailable } from "../common/errors";
import { deadline, fromServiceError } from "../proto/grpc-status";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import type { Write } from "../common/types";
import { channelOptions, healthProto, participantProto } from "../proto/load";
import type { HealthClient } from "../proto/gen/grpc/health/v1/Health";
import type { ParticipantClient } from "../proto/gen/twopc/participant/Participant";
import type { ParticipantStatusResponse__Output } from "../proto/gen/twopc/participant/ParticipantStatusResponse";
import type { ReadResult__Output } from "../proto/gen/twopc/participant/ReadResult";
import type { PeerState } from "../common/types";
import { decodePeerState } from "../proto/convert";
import type { Input, Message, VoteItem } from "./core";

type PrepareMessage = Extract<Message, { kind: "prepare" }>;
type CommitMessage = Extract<Message, { kind: "commit" }>;
type AbortMessage = Extract<Message, { kind: "abort" }>;
type CatchUpMessage = Extract<Message, { kind: "catch-up" }>;

/**
 * Collects items and sends them in batches, with a bounded number of calls in flight. A batch holds
 * at most txnsPerBatchMax items and batchBytesMax bytes (by sizeOf), and at least one item.
 */
export class Batcher<T> {
  private queue: T[] = [];
  private inFlight = 0;
  /** Calls made and items they carried, for status and benchmarks. */
  calls = 0;
  items = 0;

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    private readonly sizeOf: (item: T) => number = () => 0,
  ) {}

  push(item: T): void {
    this.queue.push(item);
  }

  flush(): void {
    while (this.queue.length > 0 && this.inFlight < limits.callsInFlightPerReplicaMax) {
      let count = 0;
      let bytes = 0;
      while (count < this.queue.length && count < limits.txnsPerBatchMax) {
        bytes += this.sizeOf(this.queue[count]!);
        if (count > 0 && bytes > limits.batchBytesMax) break;
        count += 1;
      }
      const batch = this.queue.splice(0, count);
      this.inFlight += 1;
      this.calls += 1;
      this.items += batch.length;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.flush();
      });
    }
  }
}

export class ReplicaLink {
  private readonly client: ParticipantClient;
  private readonly health: HealthClient;
  private readonly prepares: Batcher<PrepareMessage>;
  private readonly commits: Batcher<CommitMessage>;
  private readonly aborts: Batcher<AbortMessage>;
  private commitAckHooks: { txnId: string; hook: () => void }[] = [];
  /**
   * The replica answered a call since this coordinator started. Until then its channel may still be
   * making its first connection (the coordinator may start before its replicas), and protocol calls
   * wait for it within their deadline (waitForReady) instead of failing the transaction; from then
   * on they fail fast, so that a refused connection takes a dead replica out at once.
   */
  private reached = false;

  constructor(
    readonly id: string,
    readonly address: string,
    private readonly coordinatorId: string,
    private readonly toCore: (input: Input) => void,
    private readonly logger: Logger,
    /** The address of another replica (the source of a catch-up). */
    private readonly addressOf: (replicaId: string) => string | undefined,
  ) {
    this.client = new participantProto.Participant(address, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
    // One channel for health checks and protocol calls: a good health check means the channel the
    // next PREPARE takes is connected.
    this.health = new healthProto.Health(address, grpc.credentials.createInsecure(), {
      ...channelOptions,
      channelOverride: this.client.getChannel(),
    }) as unknown as HealthClient;
    this.prepares = new Batcher((batch) => this.sendPrepares(batch), prepareBytes);
    this.commits = new Batcher((batch) => this.sendCommits(batch));
    this.aborts = new Batcher((batch) => this.sendAborts(batch));
  }

  enqueue(message: Message): void {
    switch (message.kind) {
      case "prepare":
        this.prepares.push(message);
        break;
      case "commit":
        this.commits.push(message);
        break;
      case "abort":
        this.aborts.push(message);
        break;
      case "catch-up":
        this.catchUp(message);
        break;
      default:
        assertNever(message);
    }
  }

  /** Runs hook once this replica acknowledged the commit of txnId (for failpoints). */
  afterCommitAck(txnId: string, hook: () => void): void {
    this.commitAckHooks.push({ txnId, hook });
  }

  flush(): void {
    this.prepares.flush();
    this.commits.flush();
    this.aborts.flush();
  }

  /** Reads keys from this replica; rejects with a KvError carrying the replica's status code. */
  read(keys: readonly string[]): Promise<ReadResult__Output[]> {
    return new Promise((resolve, reject) => {
      this.whenConnected(limits.readCallTimeoutMs, (options) =>
        this.client.Read({ keys: [...keys] }, options, (error, response) => {
          if (error || response === undefined) reject(fromServiceError(error ?? new Unavailable("empty response"), `replica ${this.id}`));
          else resolve(response.results);
        }),
      );
    });
  }

  /** What the replica knows of these transactions; changes nothing there. */
  inspect(txnIds: readonly string[], timeoutMs: number): Promise<PeerState[]> {
    return new Promise((resolve, reject) => {
      this.whenConnected(timeoutMs, (options) =>
        this.client.Inspect({ txnIds: [...txnIds] }, options, (error, response) => {
          if (error || response === undefined) reject(fromServiceError(error ?? new Unavailable("empty response"), `replica ${this.id}`));
          else resolve(response.txns.flatMap(decodePeerState));
        }),
      );
    });
  }

  /**
   * One health check (grpc.health.v1): ok when the replica answers SERVING in time; refused when
   * the call failed with UNAVAILABLE (nothing listens: the process is gone), not a mere timeout.
   */
  checkHealth(): Promise<{ ok: boolean; refused: boolean }> {
    return new Promise((resolve) => {
      this.health.Check({ service: "" }, { deadline: deadline(limits.healthCheckTimeoutMs) }, (error, response) =>
        {
          const ok = !error && response?.status === "SERVING";
          if (ok) this.answered();
          resolve({ ok, refused: error?.code === grpc.status.UNAVAILABLE });
        },
      );
    });
  }

  private catchUp(message: CatchUpMessage): void {
    const sourceAddress = this.addressOf(message.sourceId);
    const done = (ok: boolean, reason: string): void =>
      this.toCore({ kind: "caught-up", replicaId: this.id, incarnation: message.incarnation, ok, reason, nowMs: Date.now() });
    if (sourceAddress === undefined) return done(false, `no address for source ${message.sourceId}`);
    this.logger.info(
      { event: "catch-up", replica: this.id, source: message.sourceId, sinceSeq: message.sinceSeq },
      `replica ${this.id} catches up from ${message.sourceId} (commits from ${message.sinceSeq} on)`,
    );
    this.whenConnected(limits.catchUpTimeoutMs, (options) =>
        this.client.CatchUp(
        { sourceId: message.sourceId, sourceAddress, sinceSeq: message.sinceSeq },
        options,
        (error, response) => {
          if (error || response === undefined) done(false, error ? `${codeName(error.code)}: ${error.details}` : "empty response");
          else done(true, `${response.rowsCopied} rows copied`);
        },
    ),
      );
  }

  status(timeoutMs: number): Promise<ParticipantStatusResponse__Output> {
    return new Promise((resolve, reject) => {
      this.whenConnected(timeoutMs, (options) =>
        this.client.Status({}, options, (error, response) => {
          if (error || response === undefined) reject(fromServiceError(error ?? new Unavailable("empty response"), `replica ${this.id}`));
          else resolve(response);
        }),
      );
    });
  }

  /**
   * Makes a call with a deadline timeoutMs from now. Until the replica was reached, first waits
   * (within that deadline) for the channel to connect: a channel still in its first connection
   * backoff would fail the call at once.
   */
  private whenConnected(timeoutMs: number, call: (options: grpc.CallOptions) => void): void {
    const callDeadline = deadline(timeoutMs);
    if (this.reached) return call({ deadline: callDeadline });
    // An error here (the deadline passed) lets the call fail as it would have.
    this.client.waitForReady(callDeadline, () => call({ deadline: callDeadline }));
  }

  /** Notes an answer from the replica (any answer: it is reachable). */
  private answered(): void {
    this.reached = true;
  }

  close(): void {
    this.client.close();
    this.health.close();
  }

  private sendPrepares(batch: PrepareMessage[]): Promise<void> {
    return new Promise((resolve) => {
      const request = {
        coordinatorId: this.coordinatorId,
        txns: batch.map((message) => ({
          txnId: message.txnId,
          writes: message.writes.map(encodeWrite),
          participants: [...message.participants],
        })),
      };
      this.whenConnected(limits.replicaCallTimeoutMs, (options) =>
        this.client.Prepare(request, options, (error, response) => {
          const nowMs = Date.now();
          if (error || response === undefined) {
            const reason = error ? `${codeName(error.code)}: ${error.details}` : "empty response";
            this.logger.debug({ event: "prepare-failed", replica: this.id, reason, txns: batch.length }, "prepare call failed");
            const down = error?.code === grpc.status.UNAVAILABLE;
            this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: batch.map((m) => m.txnId), reason, down, nowMs });
          } else {
            this.answered();
            // Only votes for transactions of this batch, one each: a reply is input too.
            const asked = new Set(batch.map((m) => m.txnId));
            const votes = response.votes.flatMap((vote): VoteItem[] => {
              if (!asked.delete(vote.txnId)) return [];
              switch (vote.vote) {
                case "VOTE_YES":
                  return [{ txnId: vote.txnId, vote: "yes" }];
                case "VOTE_NO":
                  return [{ txnId: vote.txnId, vote: "no", reason: vote.reason }];
                case "VOTE_UNSPECIFIED":
                  return [];
                default:
                  // A value this version does not know arrives as a number: a reply is input, so it
                  // counts as no vote (the transaction then aborts), never as a crash.
                  return [];
              }
            });
            const answered = new Set(votes.map((vote) => vote.txnId));
            const missing = batch.filter((m) => !answered.has(m.txnId)).map((m) => m.txnId);
            this.toCore({ kind: "votes", replicaId: this.id, votes, nowMs });
            if (missing.length > 0) {
              this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: missing, reason: "the replica returned no vote", down: false, nowMs });
            }
          }
          resolve();
        }),
      );
    });
  }

  private sendCommits(batch: CommitMessage[]): Promise<void> {
    return new Promise((resolve) => {
      const txns = batch.map((message) => ({ txnId: message.txnId, commitSeq: message.commitSeq }));
      this.whenConnected(limits.replicaCallTimeoutMs, (options) =>
        this.client.Commit({ txns }, options, (error, response) => {
          if (error || response === undefined) {
            // The core re-sends unacknowledged commits with backoff; a refused connection means the
            // replica is down, which the core hears at once (it may then leave the in-sync set).
            this.logger.debug({ event: "commit-failed", replica: this.id, err: error?.details }, "commit call failed");
            if (error?.code === grpc.status.UNAVAILABLE) {
              this.toCore({ kind: "unreachable", replicaId: this.id, txnIds: [], reason: `commit call failed: ${error.details}`, down: true, nowMs: Date.now() });
            }
          } else {
            this.answered();
            // Only acknowledgements of transactions of this batch: a reply is input too.
            const sent = new Set(txns.map((txn) => txn.txnId));
            const acked = new Set(response.ackedTxnIds.filter((txnId) => sent.has(txnId)));
            this.toCore({ kind: "acks", replicaId: this.id, txnIds: [...acked], nowMs: Date.now() });
            if (this.commitAckHooks.length > 0) {
              const due = this.commitAckHooks.filter((entry) => acked.has(entry.txnId));
              this.commitAckHooks = this.commitAckHooks.filter((entry) => !acked.has(entry.txnId));
              for (const entry of due) entry.hook();
            }
          }
          resolve();
        }),
      );
    });
  }

  private sendAborts(batch: AbortMessage[]): Promise<void> {
    return new Promise((resolve) => {
      // Best effort (presumed abort): a replica that misses it asks for the outcome later.
      this.whenConnected(limits.replicaCallTimeoutMs, (options) =>
        this.client.Abort({ txnIds: batch.map((message) => message.txnId) }, options, (error) => {
          if (error) this.logger.debug({ event: "abort-failed", replica: this.id, err: error.details }, "abort call failed");
          resolve();
        }),
      );
    });
  }
}

/** Bytes of the keys and values a PREPARE carries. */
function prepareBytes(message: PrepareMessage): number {
  let bytes = 0;
  for (const write of message.writes) bytes += Buffer.byteLength(write.key, "utf8") + (write.value?.length ?? 0);
  return bytes;
}

function encodeWrite(write: Write): { key: string; value: Buffer; delete: boolean } {
  return write.value === null ? { key: write.key, value: Buffer.alloc(0), delete: true } : { key: write.key, value: write.value, delete: false };
}
