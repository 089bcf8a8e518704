// The replica process: a gRPC shell around the pure participant core (replica/core.ts), the
// write-ahead log (logs/) and the SQLite store (replica/store.ts).
//
// Every call is decoded and checked (replica/decode.ts) and becomes an input of the core, stepped
// through the StepLoop, which forces the log before the Ready's writes are applied and its replies
// sent. A whole batch of prepares in one call, and every call that arrives during a force, share one
// log force and one SQLite transaction. A request with a bad field, or one the core refuses, is
// answered with its error and changes nothing.
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { assert, assertNever } from "../common/assert";
import { Unavailable } from "../common/errors";
import { failpoint, type FailpointName } from "../common/failpoints";
import { deadline, shutdownServer, toStatus } from "../proto/grpc-status";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { StepLoop } from "../common/step-loop";
import { FileLog } from "../logs/file-log";
import { encodePeerState } from "../proto/convert";
import type { FetchResponse__Output } from "../proto/gen/twopc/participant/FetchResponse";
import { healthHandlers } from "../proto/health";
import { channelOptions, healthProto, participantProto, serverOptions } from "../proto/load";
import type { CoordinationClient } from "../proto/gen/twopc/participant/Coordination";
import type { ParticipantClient, ParticipantHandlers } from "../proto/gen/twopc/participant/Participant";
import { ParticipantCore, newReady, type Input, type Ready, type Reply } from "./core";
import { decodeAbort, decodeCatchUp, decodeCommit, decodeFetch, decodeFetchPage, decodeInspect, decodeOutcomeAnswer, decodePeerAnswer, decodePeerOutcome, decodePrepare, decodeRead } from "./decode";
import { decodeReplicaRecord, encodeReplicaRecord } from "./records";
import { idsPerCall, peerQueries } from "./peer-queries";
import { recoverReplica } from "./recovery";
import { Store } from "./store";

export interface ReplicaOptions {
  readonly id: string;
  /** host:port to listen on; port 0 picks a free port. */
  readonly listen: string;
  readonly dataDir: string;
  /** host:port of the coordinator, asked for the outcome of in-doubt transactions. */
  readonly coordinator: string;
  /** The other replicas, asked about in-doubt transactions when the coordinator cannot be reached. */
  readonly peers: readonly { readonly id: string; readonly address: string }[];
  /** Compact the log once it is this large (limits.logCompactBytes by default). */
  readonly compactLogBytes: number;
  readonly logger: Logger;
}

export interface RunningReplica {
  readonly port: number;
  stop(): Promise<void>;
}

interface Pending {
  readonly respond: (reply: Reply) => void;
  /** Answers the call with an error instead: its reply was lost to an injected failure. */
  readonly lose: (details: string) => void;
}

export async function startReplica(options: ReplicaOptions): Promise<RunningReplica> {
  const { logger } = options;
  fs.mkdirSync(options.dataDir, { recursive: true });
  const startedMs = Date.now();

  // Recovery: replay the log, redo commits the store has not applied, rebuild the core.
  const { log, replayed } = await FileLog.open(path.join(options.dataDir, "replica.wal"));
  const store = new Store(path.join(options.dataDir, "store.sqlite"));
  const records = replayed.records.map((payload, i) => {
    const lsn = replayed.firstLsn + i;
    return { lsn, record: decodeReplicaRecord(payload, lsn) };
  });
  const recovered = recoverReplica(records, store.appliedLsn());
  if (recovered.redo.length > 0) store.apply(recovered.redo, log.endLsn - 1);
  const core = new ParticipantCore({
    prepared: recovered.prepared,
    decided: recovered.decided,
    newestForgotten: recovered.newestForgotten,
    nowMs: Date.now(),
  });
  logger.info(
    {
      event: "recovered",
      logRecords: records.length,
      tornBytesDropped: replayed.tornBytes,
      redoneCommits: recovered.redo.length,
      inDoubt: recovered.prepared.map((txn) => txn.txnId),
      appliedSeq: store.appliedSeq(),
    },
    `replica ${options.id} recovered: ${recovered.prepared.length} transaction(s) in doubt (asking the coordinator), ` +
      `${recovered.redo.length} commit(s) redone from the log`,
  );

  const pending = new Map<number, Pending>();
  let nextCallId = 1;
  const coordination = new participantProto.Coordination(
    options.coordinator,
    grpc.credentials.createInsecure(),
    channelOptions,
  ) as unknown as CoordinationClient;
  /** Outcome query calls in flight to the coordinator (one query, split into calls of txnIdsPerCallMax ids). */
  let queriesInFlight = 0;

  const loop = new StepLoop<Input, Ready>({
    log,
    step: (inputs) => {
      const ready = newReady();
      for (const input of inputs) core.step(input, ready);
      return ready;
    },
    records: (ready) => {
      if (ready.persist.some((record) => record.kind === "prepare")) failIo("before-prepare-log");
      if (ready.persist.some((record) => record.kind === "commit")) failIo("before-commit-log");
      return ready.persist.map((record) => ({ payload: encodeReplicaRecord(record), force: record.kind !== "abort" }));
    },
    maintain: async () => {
      if (log.bytes < options.compactLogBytes) return;
      // The commits about to leave the log must be durable in SQLite first.
      store.checkpoint();
      const before = log.bytes;
      await log.rewrite(core.liveRecords().map(encodeReplicaRecord));
      logger.info({ event: "log-compacted", bytesBefore: before, bytesAfter: log.bytes }, `replica log compacted: ${before} -> ${log.bytes} bytes`);
    },
    afterDurable: (ready, lastLsn) => {
      if (ready.apply.length > 0) store.apply(ready.apply, lastLsn);
      const votedYes = ready.replies.some((reply) => reply.kind === "votes" && reply.votes.some((vote) => vote.vote === "yes"));
      const loseVotes = votedYes && failpoint("after-prepare-log-before-vote") === "error";
      const ackedCommit = ready.replies.some((reply) => reply.kind === "acks" && reply.decision === "commit");
      const loseAcks = ackedCommit && failpoint("after-commit-before-ack") === "error";
      if (logger.isLevelEnabled("debug")) {
        for (const record of ready.persist) logger.debug({ event: record.kind, txnId: record.txnId }, `logged ${record.kind} ${record.txnId}`);
        for (const reply of ready.replies) {
          if (reply.kind === "votes") for (const vote of reply.votes) logger.debug({ event: "vote", ...vote }, `vote ${vote.vote} for ${vote.txnId}`);
        }
      }
      for (const reply of ready.replies) {
        const call = pending.get(reply.callId);
        assert(call !== undefined, `reply to unknown call ${reply.callId}`);
        pending.delete(reply.callId);
        if (loseVotes && reply.kind === "votes") call.lose("failpoint after-prepare-log-before-vote: the votes were lost");
        else if (loseAcks && reply.kind === "acks" && reply.decision === "commit") call.lose("failpoint after-commit-before-ack: the acknowledgement was lost");
        else call.respond(reply);
      }
      if (ready.queries.length > 0) askCoordinator(ready.queries);
    },
  });

  /** Logs the items of an answer that could not be used (replica/decode.ts says why). */
  function logDropped(from: string, dropped: readonly string[]): void {
    if (dropped.length === 0) return;
    const shown = dropped.slice(0, 10).join("; ");
    logger.warn(
      { event: "answer-items-dropped", from, count: dropped.length, reasons: dropped.slice(0, 10) },
      `${dropped.length} unusable item(s) of the answer from ${from} dropped: ${shown}${dropped.length > 10 ? "; ..." : ""}`,
    );
  }

  function askCoordinator(txnIds: string[]): void {
    // The core re-asks with backoff, so one query at a time is enough and a failed one is dropped.
    // A long list takes several calls (the coordinator refuses more than txnIdsPerCallMax ids).
    if (queriesInFlight > 0) return;
    logger.debug({ event: "outcome-query", txnIds }, "asking the coordinator for outcomes");
    for (const asked of idsPerCall(txnIds)) {
      queriesInFlight += 1;
      coordination.QueryOutcome({ replicaId: options.id, txnIds: asked }, { deadline: deadline(limits.replicaCallTimeoutMs) }, (error, response) => {
        queriesInFlight -= 1;
        if (error || response === undefined) {
          logger.debug({ event: "outcome-query-failed", err: error?.message }, "coordinator did not answer; asking the peers");
          askPeers(asked);
          return;
        }
        const { items, dropped } = decodeOutcomeAnswer(asked, response);
        logDropped("the coordinator", dropped);
        for (const item of items) {
          logger.info({ event: "in-doubt-settled", txnId: item.txnId, outcome: item.outcome }, `in-doubt transaction ${item.txnId} settled: ${item.outcome}`);
        }
        loop.push({ kind: "outcome", outcomes: items, nowMs: Date.now() });
      });
    }
  }

  const peerClients = new Map(
    options.peers
      .filter((peer) => peer.id !== options.id)
      .map((peer) => [peer.id, new participantProto.Participant(peer.address, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient]),
  );

  /** Cooperative termination: asks the peers what they know; the core adopts any outcome found. */
  function askPeers(txnIds: string[]): void {
    // Each peer only about the transactions it took part in: a replica that took no part would refuse them.
    for (const [peerId, peerTxnIds] of peerQueries(options.id, core.preparedTxns(), txnIds)) {
      const peer = peerClients.get(peerId);
      if (peer === undefined) continue;
      for (const asked of idsPerCall(peerTxnIds)) {
        peer.PeerOutcome({ replicaId: options.id, txnIds: asked }, { deadline: deadline(limits.replicaCallTimeoutMs) }, (error, response) => {
          if (error || response === undefined) {
            logger.debug({ event: "peer-query-failed", peer: peerId, err: error?.message }, `peer ${peerId} did not answer`);
            return;
          }
          const { items: states, dropped } = decodePeerAnswer(asked, peerId, response);
          logDropped(`peer ${peerId}`, dropped);
          for (const state of states) {
            if (state.state === "committed" || state.state === "aborted") {
              logger.info({ event: "in-doubt-settled-by-peer", txnId: state.txnId, peer: peerId, state: state.state }, `in-doubt transaction ${state.txnId}: peer ${peerId} says ${state.state}`);
            }
          }
          loop.push({ kind: "peer-answers", states, nowMs: Date.now() });
        });
      }
    }
  }

  /**
   * Copies every row of version sinceSeq or later from an in-sync replica, page by page, each only
   * over an older version here; then forces SQLite, since these rows are not in this replica's log.
   */
  async function catchUp(sourceAddress: string, sinceSeq: number): Promise<number> {
    const source = new participantProto.Participant(sourceAddress, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
    try {
      let afterKey = "";
      let rowsCopied = 0;
      for (;;) {
        const request = { sinceSeq, afterKey, limit: limits.catchUpRowsPerFetchMax };
        const page = await new Promise<FetchResponse__Output>((resolve, reject) =>
          source.Fetch(request, { deadline: deadline(limits.fetchTimeoutMs) }, (error, response) =>
            error || response === undefined ? reject(error ?? new Error("empty response")) : resolve(response),
          ),
        );
        const rows = decodeFetchPage(page, request);
        store.install(rows);
        rowsCopied += rows.length;
        const last = rows[rows.length - 1];
        if (page.done || last === undefined) break;
        afterKey = last.key;
      }
      store.checkpoint();
      return rowsCopied;
    } finally {
      source.close();
    }
  }

  /** Registers a call's continuation and steps its input. */
  function call(makeInput: (callId: number) => Input, respond: Pending["respond"], callback: grpc.sendUnaryData<never>): void {
    const callId = nextCallId++;
    pending.set(callId, { respond, lose: (details) => callback({ code: grpc.status.UNAVAILABLE, details: `replica ${options.id}: ${details}` }) });
    loop.push(makeInput(callId));
  }

  /** An injected I/O error before a log write: as after a failed fsync, the process must stop. */
  function failIo(name: FailpointName): void {
    if (failpoint(name) !== "error") return;
    logger.fatal({ event: "injected-io-error", failpoint: name }, `failpoint ${name}: injected I/O error before a log write; exiting`);
    process.exit(1);
  }

  const ticker = setInterval(() => {
    if (core.hasTimers()) loop.push({ kind: "tick", nowMs: Date.now() });
  }, limits.tickMs);

  /** The status of a call the core refused (it names the code without importing gRPC). */
  function refusedStatus(method: string, reply: Extract<Reply, { kind: "refused" }>): Partial<grpc.StatusObject> {
    logger.warn({ event: "call-refused", method, code: reply.code, reason: reply.message }, `${method} refused: ${reply.message}`);
    const details = `replica ${options.id}: ${reply.message}`;
    switch (reply.code) {
      case "invalid-argument":
        return { code: grpc.status.INVALID_ARGUMENT, details };
      case "failed-precondition":
        return { code: grpc.status.FAILED_PRECONDITION, details };
      default:
        return assertNever(reply.code);
    }
  }

  /**
   * Decodes a request (replica/decode.ts); on a bad field answers the call with its error, logs
   * it, and returns undefined: nothing of the call reaches the core.
   */
  function decoded<T>(method: string, decode: () => T, callback: grpc.sendUnaryData<never>): T | undefined {
    try {
      return decode();
    } catch (error) {
      const status = toStatus(error);
      logger.warn({ event: "request-refused", method, code: status.code, reason: status.details }, `${method} refused: ${status.details}`);
      callback(status);
      return undefined;
    }
  }

  /** The continuation of a call answered with `kind`, or refused by the core. */
  function answer<K extends Reply["kind"]>(
    method: string,
    kind: K,
    callback: grpc.sendUnaryData<never>,
    respond: (reply: Extract<Reply, { kind: K }>) => void,
  ): (reply: Reply) => void {
    return (reply) => {
      if (reply.kind === "refused" && kind !== "refused") {
        callback(refusedStatus(method, reply));
        return;
      }
      assert(reply.kind === kind, `${method} answered with ${reply.kind}, not ${kind}`);
      respond(reply as Extract<Reply, { kind: K }>);
    };
  }

  const handlers: ParticipantHandlers = {
    Prepare: (callRef, callback) => {
      const request = decoded("Prepare", () => decodePrepare(callRef.request, options.id), callback);
      if (request === undefined) return;
      const { txns } = request;
      call(
        (callId) => ({ kind: "prepare", callId, txns, nowMs: Date.now() }),
        answer("Prepare", "votes", callback, (reply) => {
          callback(null, {
            replicaId: options.id,
            votes: reply.votes.map((vote) =>
              vote.vote === "yes"
                ? { txnId: vote.txnId, vote: "VOTE_YES" }
                : { txnId: vote.txnId, vote: "VOTE_NO", reason: vote.reason },
            ),
          });
        }),
        callback,
      );
    },
    Commit: (callRef, callback) => {
      const txns = decoded("Commit", () => decodeCommit(callRef.request), callback);
      if (txns === undefined) return;
      call(
        (callId) => ({ kind: "commit", callId, txns, nowMs: Date.now() }),
        answer("Commit", "acks", callback, (reply) => callback(null, { replicaId: options.id, ackedTxnIds: reply.txnIds })),
        callback,
      );
    },
    Abort: (callRef, callback) => {
      const txnIds = decoded("Abort", () => decodeAbort(callRef.request), callback);
      if (txnIds === undefined) return;
      call(
        (callId) => ({ kind: "abort", callId, txnIds, nowMs: Date.now() }),
        answer("Abort", "acks", callback, (reply) => callback(null, { replicaId: options.id, ackedTxnIds: reply.txnIds })),
        callback,
      );
    },
    Read: (callRef, callback) => {
      const keys = decoded("Read", () => decodeRead(callRef.request), callback);
      if (keys === undefined) return;
      call(
        (callId) => ({ kind: "read", callId, keys, nowMs: Date.now() }),
        (reply) => {
          switch (reply.kind) {
            case "read":
              callback(null, { replicaId: options.id, results: store.read(reply.keys) });
              return;
            case "read-timeout":
              callback(toStatus(new Unavailable(`replica ${options.id}: ${reply.message}`)));
              return;
            case "refused":
              callback(refusedStatus("Read", reply));
              return;
            case "votes":
            case "acks":
            case "barrier":
            case "peer-states":
              assert(false, `a read answered with ${reply.kind}`);
              return;
            default:
              assertNever(reply);
          }
        },
        callback,
      );
    },
    // Status and Dump wait for a barrier through the loop, so that they show every decision the core
    // has taken as applied to the store.
    Status: (_callRef, callback) => {
      call((callId) => ({ kind: "barrier", callId, nowMs: Date.now() }), answer("Status", "barrier", callback, () => {
        const now = Date.now();
        callback(null, {
          replicaId: options.id,
          appliedSeq: store.appliedSeq(),
          prepared: core.preparedTxns().map((txn) => ({
            txnId: txn.txnId,
            keys: txn.writes.map((write) => write.key),
            ageMs: Math.max(0, now - txn.preparedAtMs),
          })),
          keys: store.keyCount(),
          logForces: log.forces,
          logRecordsForced: log.recordsForced,
        });
      }), callback);
    },
    PeerOutcome: (callRef, callback) => {
      const request = decoded("PeerOutcome", () => decodePeerOutcome(callRef.request), callback);
      if (request === undefined) return;
      const { txnIds } = request;
      call(
        (callId) => ({ kind: "peer-query", callId, txnIds, nowMs: Date.now() }),
        answer("PeerOutcome", "peer-states", callback, (reply) => callback(null, { replicaId: options.id, txns: reply.states.map(encodePeerState) })),
        callback,
      );
    },
    Inspect: (callRef, callback) => {
      const request = decoded("Inspect", () => decodeInspect(callRef.request), callback);
      if (request === undefined) return;
      const { txnIds } = request;
      call(
        (callId) => ({ kind: "inspect", callId, txnIds, nowMs: Date.now() }),
        answer("Inspect", "peer-states", callback, (reply) => callback(null, { replicaId: options.id, txns: reply.states.map(encodePeerState) })),
        callback,
      );
    },
    Fetch: (callRef, callback) => {
      const request = decoded("Fetch", () => decodeFetch(callRef.request), callback);
      if (request === undefined) return;
      const { sinceSeq, afterKey, limit } = request;
      // After a barrier: every decision this replica has taken is applied before it is copied.
      call(
        (callId) => ({ kind: "barrier", callId, nowMs: Date.now() }),
        answer("Fetch", "barrier", callback, () => {
          const rows = store.fetch(sinceSeq, afterKey, limit);
          callback(null, {
            rows: rows.map((row) => ({ key: row.key, value: row.value ?? Buffer.alloc(0), deleted: row.value === null, version: row.version })),
            done: rows.length < limit,
          });
        }),
        callback,
      );
    },
    CatchUp: (callRef, callback) => {
      const request = decoded("CatchUp", () => decodeCatchUp(callRef.request), callback);
      if (request === undefined) return;
      const { sourceId, sourceAddress, sinceSeq } = request;
      logger.info({ event: "catch-up-start", source: sourceId, sinceSeq }, `catching up from ${sourceId} (rows of version ${sinceSeq} and later)`);
      catchUp(sourceAddress, sinceSeq).then(
        (rowsCopied) => {
          logger.info({ event: "catch-up-done", source: sourceId, rowsCopied, appliedSeq: store.appliedSeq() }, `caught up from ${sourceId}: ${rowsCopied} rows`);
          callback(null, { rowsCopied, appliedSeq: store.appliedSeq() });
        },
        (error: unknown) => {
          logger.warn({ event: "catch-up-failed", source: sourceId, err: String(error) }, `catch-up from ${sourceId} failed`);
          callback(toStatus(new Unavailable(`replica ${options.id}: catch-up from ${sourceId} failed: ${(error as Error).message}`)));
        },
      );
    },
    Dump: (_callRef, callback) => {
      call((callId) => ({ kind: "barrier", callId, nowMs: Date.now() }), answer("Dump", "barrier", callback, () => {
        const { entries, checksum } = store.dump();
        callback(null, { replicaId: options.id, entries, checksum, appliedSeq: store.appliedSeq() });
      }), callback);
    },
  };

  const server = new grpc.Server(serverOptions);
  server.addService(participantProto.Participant.service, handlers);
  server.addService(healthProto.Health.service, healthHandlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(new Error(`replica ${options.id} cannot listen on ${options.listen}: ${error.message}`)) : resolve(boundPort),
    );
  });
  logger.info(
    { event: "started", id: options.id, port, dataDir: options.dataDir, startupMs: Date.now() - startedMs },
    `replica ${options.id} listening on port ${port}`,
  );

  let stopped = false;
  return {
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      await shutdownServer(server);
      coordination.close();
      for (const peer of peerClients.values()) peer.close();
      await log.close();
      store.close();
      logger.info({ event: "stopped", id: options.id }, `replica ${options.id} stopped`);
    },
  };
}
