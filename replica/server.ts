// The replica process: a gRPC adapter around the replica node (replica/node.ts), which holds
// everything protocol-shaped. Every call is decoded and checked (replica/decode.ts) and handed to the
// node; its answer is encoded, or its failure turned into a gRPC status. A request with a bad field
// is answered with its error and never reaches the node. The node calls out through the gRPC
// transport below (the coordinator, the peers, the source of a catch-up), logs to a FileLog and keeps
// its data in SQLite (replica/store.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Code, KvError, type CodeValue } from "../common/errors";
import type { CallResult } from "../common/env";
import { deadline, shutdownServer, toStatus } from "../proto/grpc-status";
import type { Logger } from "../common/logger";
import { limits } from "../common/limits";
import { systemScheduler } from "../common/system-env";
import { FileLog, nodeLog } from "../logs/file-log";
import { encodePeerState } from "../proto/convert";
import { healthHandlers } from "../proto/health";
import { channelOptions, healthProto, participantProto, serverOptions } from "../proto/load";
import type { CoordinationClient } from "../proto/gen/twopc/participant/Coordination";
import type { ParticipantClient, ParticipantHandlers } from "../proto/gen/twopc/participant/Participant";
import type { PrepareRequest__Output } from "../proto/gen/twopc/participant/PrepareRequest";
import type { PrepareResponse } from "../proto/gen/twopc/participant/PrepareResponse";
import type { CommitRequest__Output } from "../proto/gen/twopc/participant/CommitRequest";
import type { AbortRequest__Output } from "../proto/gen/twopc/participant/AbortRequest";
import type { DecisionResponse } from "../proto/gen/twopc/participant/DecisionResponse";
import type { ReadRequest__Output } from "../proto/gen/twopc/participant/ReadRequest";
import type { ReadResponse } from "../proto/gen/twopc/participant/ReadResponse";
import type { AppendRequest__Output } from "../proto/gen/twopc/participant/AppendRequest";
import type { AppendResponse } from "../proto/gen/twopc/participant/AppendResponse";
import type { SessionRequest__Output } from "../proto/gen/twopc/participant/SessionRequest";
import type { SessionResponse } from "../proto/gen/twopc/participant/SessionResponse";
import { serveSession } from "../proto/session";
import { assertNever } from "../common/assert";
import { checkTxnEpochs, decodeAbort, decodeAppend, decodeCatchUp, decodeCommit, decodeGcFloor, decodeEpoch, decodeCollectedThrough, decodeFetch, decodeFetchPage, decodeInspect, decodeOutcomeAnswer, decodePeerAnswer, decodePeerOutcome, decodePrepare, decodePromise, decodeRead, decodeReadCopy } from "./decode";
import type { VoteResult } from "./core";
import { BackupService } from "./backup";
import { receiveBackup } from "./backup-stream";
import { ReplicaNode, type ReplicaTransport } from "./node";
import { ReplicaMetrics } from "./metrics";
import { OutcomeTarget } from "./outcome-target";
import { Store } from "./store";
import { compactionStaggerOf } from "../common/compaction";
import { channelCredentials, serverCredentials, tlsServerOptions, type ServerTls } from "../proto/tls";

export interface ReplicaOptions {
  readonly id: string;
  /** host:port to listen on; port 0 picks a free port. */
  readonly listen: string;
  readonly dataDir: string;
  /** host:port of every coordinator; the one this replica promised its epoch to is asked about in-doubt transactions. */
  readonly coordinators: readonly string[];
  /** The other replicas, asked about in-doubt transactions when the coordinator cannot be reached. */
  readonly peers: readonly { readonly id: string; readonly address: string }[];
  /** Compact the log once it is this large (limits.logCompactBytes by default). */
  readonly compactLogBytes: number;
  /** How long tombstones outlive the floor that allows their collection (limits.tombstoneRetentionMs when absent). */
  readonly tombstoneRetentionMs?: number;
  /** A catch-up takes a snapshot after copying this many rows page by page (limits.catchUpSnapshotRows when absent; 0: never). */
  readonly catchUpSnapshotRows?: number;
  readonly logger: Logger;
  /** TLS on every link (proto/tls.ts); absent: plaintext. */
  readonly tls?: ServerTls | undefined;
  /** Keep the Prometheus metrics (replica/metrics.ts), for --metrics-listen to serve. */
  readonly metrics?: boolean;
}

/** Files of catch-up snapshots in the data directory start with this. */
const catchUpSnapshotPrefix = "catch-up-snapshot-";

export interface RunningReplica {
  readonly port: number;
  /** The metrics' registry, when options.metrics asked for them. */
  readonly metrics: ReplicaMetrics | null;
  stop(): Promise<void>;
}

/** The result of a gRPC call: its answer, decoded, or the status it failed with. */
function callResult<R, T>(error: grpc.ServiceError | null, response: R | undefined, decode: (response: R) => T): CallResult<T> {
  if (error || response === undefined) {
    return { ok: false, code: (error?.code ?? Code.UNAVAILABLE) as CodeValue, reason: error ? error.details || error.message : "empty response" };
  }
  try {
    return { ok: true, value: decode(response) };
  } catch (decodeError) {
    // A bad answer is a failed call (replica/decode.ts names the field); anything else is a bug.
    if (!(decodeError instanceof KvError)) throw decodeError;
    return { ok: false, code: decodeError.code, reason: decodeError.message };
  }
}

/** The node's transport over gRPC: the Coordination service, the peers' and a source's Participant service. */
function grpcTransport(options: ReplicaOptions, store: Store): ReplicaTransport & { close(): void } {
  const tls = options.tls?.material ?? null;
  // Outcome queries go where replica/outcome-target.ts says (by address).
  const coordinationAt = (address: string): CoordinationClient =>
    new participantProto.Coordination(address, channelCredentials(tls), channelOptions) as unknown as CoordinationClient;
  const target = new OutcomeTarget(options.coordinators);
  let coordination = coordinationAt(target.current);
  const retarget = (): void => {
    coordination.close();
    coordination = coordinationAt(target.current);
  };
  const peerClients = new Map(
    options.peers
      .filter((peer) => peer.id !== options.id)
      .map((peer) => [peer.id, new participantProto.Participant(peer.address, channelCredentials(tls), channelOptions) as unknown as ParticipantClient]),
  );
  return {
    followCoordinator: (promised) => {
      if (target.follow(promised.address)) retarget();
    },
    queryOutcome: (txnIds, timeoutMs, done) => {
      const asked = target.current;
      coordination.QueryOutcome({ replicaId: options.id, txnIds: [...txnIds] }, { deadline: deadline(timeoutMs) }, (error, response) => {
        const result = callResult(error, response, (answer) => decodeOutcomeAnswer(txnIds, answer));
        if (!result.ok && target.failed(asked)) retarget();
        done(result);
      });
    },
    peerOutcome: (peerId, txnIds, timeoutMs, done) => {
      const peer = peerClients.get(peerId);
      if (peer === undefined) return done({ ok: false, code: Code.UNAVAILABLE, reason: `no address for peer ${peerId}` });
      peer.PeerOutcome({ replicaId: options.id, txnIds: [...txnIds] }, { deadline: deadline(timeoutMs) }, (error, response) =>
        done(callResult(error, response, (answer) => decodePeerAnswer(txnIds, peerId, answer))),
      );
    },
    fetchFrom: (_sourceId, sourceAddress) => {
      const source = new participantProto.Participant(sourceAddress, channelCredentials(tls), channelOptions) as unknown as ParticipantClient;
      return {
        fetch: (request, timeoutMs, done) =>
          source.Fetch(request, { deadline: deadline(timeoutMs) }, (error, response) =>
            done(callResult(error, response, (page) => ({ rows: decodeFetchPage(page, request), done: page.done, collectedThrough: decodeCollectedThrough(page) }))),
          ),
        close: () => source.close(),
      };
    },
    snapshotFrom: (sourceId, sourceAddress, timeoutMs, done) => {
      // Into the data directory (the same disk as the store), under a name startReplica clears.
      const file = path.join(options.dataDir, `${catchUpSnapshotPrefix}${sourceId}-${Date.now()}.sqlite`);
      const source = new participantProto.Participant(sourceAddress, channelCredentials(tls), channelOptions) as unknown as ParticipantClient;
      receiveBackup(source, sourceAddress, { chunkBytes: 0, forCatchUp: true }, file, timeoutMs)
        .then((received) => {
          if (received.verifiedBy !== "catch-up") throw new KvError(Code.DATA_LOSS, `${sourceId} answered a catch-up's snapshot with trailer "${received.verifiedBy}"`);
          return store.attachSnapshot(file);
        })
        .then(
          (snapshot) => done({ ok: true, value: snapshot }),
          (error: unknown) => {
            fs.rmSync(file, { force: true });
            const code = error instanceof KvError ? error.code : Code.INTERNAL;
            done({ ok: false, code, reason: error instanceof Error ? error.message : String(error) });
          },
        )
        .finally(() => source.close());
    },
    close: () => {
      coordination.close();
      for (const peer of peerClients.values()) peer.close();
    },
  };
}

export async function startReplica(options: ReplicaOptions): Promise<RunningReplica> {
  const { logger } = options;
  fs.mkdirSync(options.dataDir, { recursive: true });
  const startedMs = Date.now();
  const { log, replayed } = await FileLog.open(path.join(options.dataDir, "replica.wal"));
  // A catch-up's snapshot a crash left behind is of no use: the next catch-up takes another.
  for (const name of fs.readdirSync(options.dataDir)) if (name.startsWith(catchUpSnapshotPrefix)) fs.rmSync(path.join(options.dataDir, name), { force: true });
  const store = new Store(path.join(options.dataDir, "store.sqlite"));
  const transport = grpcTransport(options, store);
  const metrics = options.metrics === true ? new ReplicaMetrics(systemScheduler, log) : null;
  const node = new ReplicaNode({
    id: options.id,
    scheduler: systemScheduler,
    log: nodeLog(log),
    replayed,
    store,
    transport,
    compactLogSize: options.compactLogBytes,
    // The replicas compact one at a time, so that a majority always goes on (common/compaction.ts).
    compactionStagger: compactionStaggerOf(options.id, options.peers.map((peer) => peer.id)),
    fetchRowsMax: limits.catchUpRowsPerFetchMax,
    catchUpSnapshotRows: options.catchUpSnapshotRows ?? limits.catchUpSnapshotRows,
    snapshotInstallRowsMax: limits.snapshotInstallRowsMax,
    copyPageRecordsMax: limits.appendRecordsMax,
    tombstoneRetentionMs: options.tombstoneRetentionMs ?? limits.tombstoneRetentionMs,
    logger,
    exit: () => process.exit(1),
    ...(metrics === null ? {} : { counters: metrics.counters }),
  });
  metrics?.attach(node);
  node.start();

  /**
   * Decodes a request (replica/decode.ts); on a bad field answers the call with its error, logs
   * it, and returns undefined: nothing of the call reaches the node.
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

  /** Answers a call with the node's result: encoded, or as the status it failed with. */
  function reply<T, R>(callback: grpc.sendUnaryData<R>, encode: (value: T) => R): (result: CallResult<T>) => void {
    return (result) => (result.ok ? callback(null, encode(result.value)) : callback({ code: result.code as grpc.status, details: result.reason }));
  }

  const id = options.id;
  const backups = new BackupService(id, options.dataDir, node, store, logger);
  /**
   * The calls of the hot path, served alike as unary calls and as messages of a Session stream
   * (sessionHandler): the same decoding, the same node call, the same answer or status.
   */
  const hot = {
    prepare: (wire: PrepareRequest__Output, callback: grpc.sendUnaryData<PrepareResponse>): void => {
      const callRef = { request: wire };
      const request = decoded(
        "Prepare",
        () => {
          const call = { epoch: decodeEpoch(callRef.request.epoch), ...decodePrepare(callRef.request, id) };
          checkTxnEpochs(call.epoch, call.txns.map((txn) => txn.txnId), (i) => `txns[${i}].txn_id`, true);
          return call;
        },
        callback,
      );
      if (request === undefined) return;
      node.prepare(
        request.epoch,
        request.txns,
        reply(callback, (votes: VoteResult[]) => ({
          replicaId: id,
          votes: votes.map((vote) => (vote.vote === "yes" ? { txnId: vote.txnId, vote: "VOTE_YES" as const } : { txnId: vote.txnId, vote: "VOTE_NO" as const, reason: vote.reason, lockedBy: vote.lockedBy ?? "" })),
        })),
      );
    },
    commit: (wire: CommitRequest__Output, callback: grpc.sendUnaryData<DecisionResponse>): void => {
      const callRef = { request: wire };
      const call = decoded(
        "Commit",
        () => {
          const decodedCall = { epoch: decodeEpoch(callRef.request.epoch), txns: decodeCommit(callRef.request), gcFloor: decodeGcFloor(callRef.request), urgent: callRef.request.urgent === true };
          // Over the ids as sent (decodeCommit keeps a repeated id once), so that the index is the caller's.
          checkTxnEpochs(decodedCall.epoch, callRef.request.txns.map((txn) => txn.txnId), (i) => `txns[${i}].txn_id`, false);
          return decodedCall;
        },
        callback,
      );
      if (call === undefined) return;
      node.commit(call.epoch, call.txns, call.gcFloor, call.urgent, reply(callback, (ackedTxnIds) => ({ replicaId: id, ackedTxnIds })));
    },
    abort: (wire: AbortRequest__Output, callback: grpc.sendUnaryData<DecisionResponse>): void => {
      const callRef = { request: wire };
      const call = decoded(
        "Abort",
        () => {
          const decodedCall = { epoch: decodeEpoch(callRef.request.epoch), txnIds: decodeAbort(callRef.request) };
          checkTxnEpochs(decodedCall.epoch, callRef.request.txnIds, (i) => `txn_ids[${i}]`, false);
          return decodedCall;
        },
        callback,
      );
      if (call === undefined) return;
      node.abort(call.epoch, call.txnIds, reply(callback, (ackedTxnIds) => ({ replicaId: id, ackedTxnIds })));
    },
    read: (request: ReadRequest__Output, callback: grpc.sendUnaryData<ReadResponse>): void => {
      const call = decoded("Read", () => ({ epoch: decodeEpoch(request.epoch), keys: decodeRead(request) }), callback);
      if (call === undefined) return;
      node.read(call.epoch, call.keys, reply(callback, (results) => ({ replicaId: id, results })));
    },
    append: (request: AppendRequest__Output, callback: grpc.sendUnaryData<AppendResponse>): void => {
      const call = decoded("Append", () => decodeAppend(request), callback);
      if (call === undefined) return;
      node.append(call, reply(callback, (answer) => ({ replicaId: id, ...answer })));
    },
  };

  /** A coordinator's Session: each message is one call of the hot path (proto/session.ts). */
  const sessionHandler = (stream: grpc.ServerDuplexStream<SessionRequest__Output, SessionResponse>): void =>
    serveSession<SessionRequest__Output, SessionResponse>(
      stream,
      participantProto.Participant.service.Session,
      logger,
      ({ callId, code, details }) => ({ callId, code, details }),
      (message, answer) => {
        const callId = message.callId;
        switch (message.call) {
          case "prepare":
            return hot.prepare(message.prepare!, answer((prepare) => ({ callId, prepare })));
          case "commit":
            return hot.commit(message.commit!, answer((decision) => ({ callId, decision })));
          case "abort":
            return hot.abort(message.abort!, answer((decision) => ({ callId, decision })));
          case "read":
            return hot.read(message.read!, answer((read) => ({ callId, read })));
          case "append":
            return hot.append(message.append!, answer((append) => ({ callId, append })));
          case undefined:
            return answer(() => ({ callId }))({ code: grpc.status.INVALID_ARGUMENT, details: "call: a Session message must carry one of prepare, commit, abort, read or append" });
          default:
            return assertNever(message.call);
        }
      },
    );

  const handlers: ParticipantHandlers = {
    Prepare: (callRef, callback) => hot.prepare(callRef.request, callback),
    Commit: (callRef, callback) => hot.commit(callRef.request, callback),
    Abort: (callRef, callback) => hot.abort(callRef.request, callback),
    Read: (callRef, callback) => hot.read(callRef.request, callback),
    Append: (callRef, callback) => hot.append(callRef.request, callback),
    Session: sessionHandler,
    // Status and Dump wait for a barrier through the node's loop, so that they show every decision
    // the core has taken as applied to the store.
    Status: (_callRef, callback) => {
      node.status(reply(callback, (status) => ({ replicaId: id, ...status, prepared: status.prepared.map((txn) => ({ ...txn, keys: [...txn.keys] })) })));
    },
    PeerOutcome: (callRef, callback) => {
      const request = decoded("PeerOutcome", () => decodePeerOutcome(callRef.request), callback);
      if (request === undefined) return;
      node.peerOutcome(request.txnIds, reply(callback, (states) => ({ replicaId: id, txns: states.map(encodePeerState) })));
    },
    Inspect: (callRef, callback) => {
      const request = decoded("Inspect", () => decodeInspect(callRef.request), callback);
      if (request === undefined) return;
      node.inspect(request.txnIds, reply(callback, (states) => ({ replicaId: id, txns: states.map(encodePeerState) })));
    },
    Fetch: (callRef, callback) => {
      const request = decoded("Fetch", () => decodeFetch(callRef.request), callback);
      if (request === undefined) return;
      node.fetch(
        request,
        reply(callback, (page) => ({
          rows: page.rows.map((row) => ({ key: row.key, value: row.value ?? Buffer.alloc(0), deleted: row.value === null, version: row.version })),
          done: page.done,
          collectedThrough: page.collectedThrough,
        })),
      );
    },
    CatchUp: (callRef, callback) => {
      const request = decoded("CatchUp", () => ({ epoch: decodeEpoch(callRef.request.epoch), ...decodeCatchUp(callRef.request) }), callback);
      if (request === undefined) return;
      node.catchUp(request.epoch, request.sourceId, request.sourceAddress, request.sinceSeq, reply(callback, (done) => done));
    },
    Promise: (callRef, callback) => {
      const request = decoded("Promise", () => decodePromise(callRef.request), callback);
      if (request === undefined) return;
      node.promise(
        request.epoch,
        request.coordinatorId,
        request.address,
        reply(callback, (answer) => ({
          replicaId: id,
          granted: answer.granted,
          promisedEpoch: answer.promised.epoch,
          promisedTo: answer.promised.coordinatorId,
          logEpoch: answer.logEpoch,
          logFirstIndex: answer.logFirstIndex,
          logIndex: answer.logIndex,
          maxTxnEpoch: answer.maxTxnEpoch,
          prepared: [...answer.prepared],
        })),
      );
    },
    ReadCopy: (callRef, callback) => {
      const request = decoded("ReadCopy", () => decodeReadCopy(callRef.request), callback);
      if (request === undefined) return;
      node.readCopy(
        request.epoch,
        request.fromIndex,
        reply(callback, (page) => ({ replicaId: id, logEpoch: page.logEpoch, logFirstIndex: page.logFirstIndex, logIndex: page.logIndex, records: [...page.records] })),
      );
    },
    Dump: (_callRef, callback) => {
      node.dump(reply(callback, (dump) => ({ replicaId: id, ...dump })));
    },
    Backup: (call) => backups.serve(call),
  };

  // A replica serves only its peers: without a certificate the CA signed, no handshake; with one,
  // only the names --tls-peer-names lists may make protocol calls (proto/tls.ts).
  const server = new grpc.Server({ ...serverOptions, ...tlsServerOptions(options.tls) });
  server.addService(participantProto.Participant.service, handlers);
  server.addService(healthProto.Health.service, healthHandlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, serverCredentials(options.tls?.material ?? null, true), (error, boundPort) =>
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
    metrics,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      node.stop();
      await shutdownServer(server);
      transport.close();
      await log.close();
      store.close();
      logger.info({ event: "stopped", id: options.id }, `replica ${options.id} stopped`);
    },
  };
}
