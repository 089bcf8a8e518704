// The coordinator process: a gRPC adapter around the coordinator node (coordinator/node.ts), which
// holds everything protocol-shaped. It serves the client-facing Kv service, the Coordination service
// replicas ask about in-doubt transactions, and grpc.health.v1; each request is decoded and checked
// (INVALID_ARGUMENT names the field), handed to the active node, and its answer encoded. Which node,
// if any, is Failover's (coordinator/failover.ts): a standby answers UNAVAILABLE naming the active
// coordinator (message and trailing metadata kv-active-coordinator). The node calls the replicas
// through GrpcParticipant (coordinator/replica-link.ts), and its decision log is on the replicas.
import * as fs from "node:fs";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import { assert, assertNever } from "../common/assert";
import { Code, InvalidArgument, notStartedMetadataKey, overLimit } from "../common/errors";
import type { RequestMethod } from "../common/fingerprint";
import { shutdownServer, toStatus } from "../proto/grpc-status";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { systemScheduler } from "../common/system-env";
import { putProgram, type Program } from "../common/txn";
import { checkCount, checkKey, checkMemberId, checkTxnIdFormat, checkValue } from "../common/validate";
import { channelOptions, healthProto, kvProto, participantProto, serverOptions } from "../proto/load";
import type { KvClient } from "../proto/gen/twopc/kv/Kv";
import { deadline } from "../proto/grpc-status";
import type { HealthHandlers } from "../proto/gen/grpc/health/v1/Health";
import type { KvHandlers } from "../proto/gen/twopc/kv/Kv";
import type { GetRequest__Output } from "../proto/gen/twopc/kv/GetRequest";
import type { GetResponse } from "../proto/gen/twopc/kv/GetResponse";
import type { PutRequest__Output } from "../proto/gen/twopc/kv/PutRequest";
import type { PutResponse } from "../proto/gen/twopc/kv/PutResponse";
import type { DeleteRequest__Output } from "../proto/gen/twopc/kv/DeleteRequest";
import type { DeleteResponse } from "../proto/gen/twopc/kv/DeleteResponse";
import type { IncrementRequest__Output } from "../proto/gen/twopc/kv/IncrementRequest";
import type { IncrementResponse } from "../proto/gen/twopc/kv/IncrementResponse";
import type { CompareAndSetRequest__Output } from "../proto/gen/twopc/kv/CompareAndSetRequest";
import type { CompareAndSetResponse } from "../proto/gen/twopc/kv/CompareAndSetResponse";
import type { CompareAndDeleteRequest__Output } from "../proto/gen/twopc/kv/CompareAndDeleteRequest";
import type { CompareAndDeleteResponse } from "../proto/gen/twopc/kv/CompareAndDeleteResponse";
import type { TxnRequest__Output } from "../proto/gen/twopc/kv/TxnRequest";
import type { TxnResponse } from "../proto/gen/twopc/kv/TxnResponse";
import type { TxnStatusRequest__Output } from "../proto/gen/twopc/kv/TxnStatusRequest";
import type { TxnStatusResponse } from "../proto/gen/twopc/kv/TxnStatusResponse";
import type { KvSessionRequest, KvSessionRequest__Output } from "../proto/gen/twopc/kv/KvSessionRequest";
import type { KvSessionResponse, KvSessionResponse__Output } from "../proto/gen/twopc/kv/KvSessionResponse";
import type { StatusRequest__Output } from "../proto/gen/twopc/kv/StatusRequest";
import type { StatusResponse } from "../proto/gen/twopc/kv/StatusResponse";
import { ClientSession, serveSession } from "../proto/session";
import type { ReplicaStatus } from "../proto/gen/twopc/kv/ReplicaStatus";
import type { CoordinationHandlers } from "../proto/gen/twopc/participant/Coordination";
import type { OnConflict, WriteResult } from "./core";
import { Failover } from "./failover";
import { PhaseTrace, type PhaseSummary } from "./trace";
import type { CoordinatorNode } from "./node";
import { checkRequestId, compareAndDeleteProgram, compareAndSetProgram, incrementProgram, resultToWire, txnProgram } from "./requests";
import { GrpcParticipant, ReplicaChannel } from "./replica-link";
import { channelCredentials, serverCredentials, tlsServerOptions, type ServerTls } from "../proto/tls";
import { CoordinatorMetrics } from "./metrics";

/** A unary call as a handler of the hot path reads it: only its request. */
type Unary<Req, Res> = (callRef: { readonly request: Req }, callback: grpc.sendUnaryData<Res>) => void;

interface HotHandlers {
  readonly Get: Unary<GetRequest__Output, GetResponse>;
  readonly Put: Unary<PutRequest__Output, PutResponse>;
  readonly Delete: Unary<DeleteRequest__Output, DeleteResponse>;
  readonly Increment: Unary<IncrementRequest__Output, IncrementResponse>;
  readonly CompareAndSet: Unary<CompareAndSetRequest__Output, CompareAndSetResponse>;
  readonly CompareAndDelete: Unary<CompareAndDeleteRequest__Output, CompareAndDeleteResponse>;
  readonly Txn: Unary<TxnRequest__Output, TxnResponse>;
  readonly TxnStatus: Unary<TxnStatusRequest__Output, TxnStatusResponse>;
}

/** Trailing metadata of a standby's refusal: where the active coordinator is (HOST:PORT). */
export const activeCoordinatorHeader = "kv-active-coordinator";

export interface ReplicaAddress {
  readonly id: string;
  readonly address: string;
}

export interface CoordinatorOptions {
  readonly id: string;
  /** host:port to listen on; port 0 picks a free port. */
  readonly listen: string;
  readonly dataDir: string;
  readonly replicas: readonly ReplicaAddress[];
  /** Every coordinator of the cluster, this one included (failover). */
  readonly coordinators: readonly ReplicaAddress[];
  readonly onConflict: OnConflict;
  /** Writes need at least this many replicas in sync. */
  readonly minInSync: number;
  /** Compact the decision log once it is this large (limits.logCompactBytes by default). */
  readonly compactLogBytes: number;
  /** The cache of committed key states, in bytes (--value-cache-mib); absent: limits.valueCacheBytesMax. */
  readonly valueCacheBytes?: number | undefined;
  readonly logger: Logger;
  /** TLS on every link (proto/tls.ts); absent: plaintext. */
  readonly tls?: ServerTls | undefined;
  /** Keep the Prometheus metrics (coordinator/metrics.ts), for --metrics-listen to serve. */
  readonly metrics?: boolean;
}

export interface RunningCoordinator {
  readonly port: number;
  /** The metrics' registry, when options.metrics asked for them. */
  readonly metrics: CoordinatorMetrics | null;
  stop(): Promise<void>;
}

export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const { logger } = options;
  assert(options.replicas.length > 0, "the coordinator needs replicas");
  // The decision log lives on the replicas (coordinator/replicated-log.ts); the data directory only
  // has to exist (kv cluster and operators keep the coordinator's files there).
  fs.mkdirSync(options.dataDir, { recursive: true });
  const addresses = new Map(options.replicas.map((replica) => [replica.id, replica.address]));
  const tls = options.tls?.material ?? null;
  const channels = new Map(options.replicas.map((replica) => [replica.id, new ReplicaChannel(replica.id, replica.address, tls)]));
  // The other coordinators, polled with brief Status calls on one Session stream each: a message on
  // a stream costs about a third of a unary call, and the polls go ten times a second each way.
  const peerClients = new Map(
    options.coordinators
      .filter((c) => c.id !== options.id)
      .map((c) => {
        const client = new kvProto.Kv(c.address, channelCredentials(tls), channelOptions) as unknown as KvClient;
        const session = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => client.Session(), kvProto.Kv.service.Session, `coordinator ${c.id}`);
        return [c.id, { client, session }];
      }),
  );

  // Clients need no certificate; the replicas' outcome queries (the participant protocol) do.
  const server = new grpc.Server({ ...serverOptions, ...tlsServerOptions(options.tls) });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, serverCredentials(tls, false), (error, boundPort) =>
      error ? reject(new Error(`coordinator cannot listen on ${options.listen}: ${error.message}`)) : resolve(boundPort),
    );
  });
  const listenHost = options.listen.slice(0, options.listen.lastIndexOf(":"));
  const self = options.coordinators.find((c) => c.id === options.id);
  const ownAddress = self !== undefined && !self.address.endsWith(":0") ? self.address : `${listenHost}:${port}`;
  const coordinators = options.coordinators.map((c) => (c.id === options.id ? { id: c.id, address: ownAddress } : c));

  const metrics = options.metrics === true ? new CoordinatorMetrics(systemScheduler) : null;
  const trace = new PhaseTrace(() => performance.now() * 1000, metrics?.observePhase);
  // How late this process's event loop ran (busy turns, GC pauses): reported beside the phases, since
  // a standby takes a coordinator that cannot answer its polls for coordinatorDownAfterMs for dead.
  const loopDelay = monitorEventLoopDelay({ resolution: loopDelayResolutionMs });
  loopDelay.enable();
  const failover = new Failover({
    id: options.id,
    address: ownAddress,
    coordinators,
    replicaIds: options.replicas.map((replica) => replica.id),
    scheduler: systemScheduler,
    logger,
    participant: (replicaId, epoch) => new GrpcParticipant(channels.get(replicaId)!, epoch, options.id, ownAddress, (id) => addresses.get(id)),
    peerRole: (coordinatorId, timeoutMs, done) => {
      const { session } = peerClients.get(coordinatorId)!;
      session.call({ status: { brief: true } }, deadline(timeoutMs), (error, answer) => {
        const response = answer?.status ?? undefined;
        if (error !== null || response === undefined) return done({ ok: false, code: Code.UNAVAILABLE, reason: error?.details ?? "empty response" });
        const role = response.role;
        if (role !== "active" && role !== "standby" && role !== "taking-over") return done({ ok: false, code: Code.UNAVAILABLE, reason: `unknown role ${JSON.stringify(role)}` });
        done({ ok: true, value: { role, epoch: response.epoch, activeId: response.activeCoordinatorId, activeAddress: response.activeCoordinator } });
      });
    },
    node: { onConflict: options.onConflict, minInSync: options.minInSync, valueCacheBytes: options.valueCacheBytes, compactLogSize: options.compactLogBytes, exit: () => process.exit(1), trace, ...(metrics === null ? {} : { metrics }) },
  });
  metrics?.attach(failover);

  /**
   * The active node, or null after answering the call UNAVAILABLE: this coordinator stands by (or is
   * taking over). The refusal names the active coordinator, in the message and in the trailing
   * metadata kv-active-coordinator, so that a client goes there; nothing ran here, and the
   * metadata says so too (kv-not-started, common/errors.ts).
   */
  function activeNode(callback: (error: Partial<grpc.StatusObject>) => void): CoordinatorNode | null {
    const node = failover.activeNode();
    if (node !== null) return node;
    const view = failover.view();
    const metadata = new grpc.Metadata();
    if (view.active !== null) metadata.set(activeCoordinatorHeader, view.active.address);
    metadata.set(notStartedMetadataKey, "1");
    const where =
      view.role === "taking-over"
        ? `coordinator ${options.id} is taking over (epoch ${view.epoch}); retry in a moment`
        : view.active === null
          ? `coordinator ${options.id} is a standby and knows no active coordinator yet (one is being elected); retry`
          : `coordinator ${options.id} is a standby; the active coordinator is ${view.active.id} at ${view.active.address}`;
    callback({ code: grpc.status.UNAVAILABLE, details: `${where}. Nothing was applied`, metadata });
    return null;
  }

  type Committed = Extract<WriteResult, { ok: true }>;

  /** A failed write's status: one refused before it started says so in its metadata (kv-not-started). */
  function writeFailure(result: Extract<WriteResult, { ok: false }>): Partial<grpc.StatusObject> {
    const status = { code: result.code as grpc.status, details: result.message };
    if (result.notStarted !== true) return status;
    const metadata = new grpc.Metadata();
    metadata.set(notStartedMetadataKey, "1");
    return { ...status, metadata };
  }

  /** Checks a request with `parse` (INVALID_ARGUMENT names the field), then submits it to the node. */
  function mutate<Response>(
    request: { requestId: string },
    method: RequestMethod,
    parse: () => Program,
    respond: (result: Committed) => Response,
    callback: (error: Partial<grpc.StatusObject> | null, response?: Response) => void,
  ): void {
    let program: Program;
    let requestId: string | null;
    try {
      requestId = checkRequestId("request_id", request.requestId);
      program = parse();
    } catch (error) {
      callback(toStatus(error));
      return;
    }
    const node = activeNode(callback);
    if (node === null) return;
    node.submit(requestId, method, program, (result) => {
      if (result.ok) callback(null, respond(result));
      else callback(writeFailure(result));
    });
  }

  /**
   * The calls a client sends, served alike as unary calls and as messages of a Session stream
   * (sessionHandler): the same checks, the same node call, the same answer or status.
   */
  const hot: HotHandlers = {
    Get: (callRef, callback) => {
      let key: string;
      try {
        key = checkKey("key", callRef.request.key);
      } catch (error) {
        callback(toStatus(error));
        return;
      }
      const node = activeNode(callback);
      if (node === null) return;
      node.get(key, (result) => {
        if (!result.ok) return callback({ code: result.code as grpc.status, details: result.reason });
        callback(null, { found: result.value.found, value: result.value.value, version: result.value.version });
      });
    },
    Put: (callRef, callback) => {
      const request = callRef.request;
      const parse = (): Program => {
        const key = checkKey("key", request.key);
        if (request.value === undefined) throw new InvalidArgument("value", "value is missing (an empty value must be sent as empty bytes)");
        return putProgram([{ key, value: checkValue("value", request.value) }]);
      };
      mutate(request, "put", parse, (result) => ({ version: result.commitSeq, txnId: result.txnId ?? "" }), callback);
    },
    Delete: (callRef, callback) => {
      const request = callRef.request;
      const parse = (): Program => putProgram([{ key: checkKey("key", request.key), value: null }]);
      mutate(request, "delete", parse, (result) => ({ version: result.commitSeq, txnId: result.txnId ?? "" }), callback);
    },
    Increment: (callRef, callback) => {
      const request = callRef.request;
      mutate(
        request,
        "increment",
        () => incrementProgram(request),
        (result) => {
          const incr = result.outcome?.results[0];
          assert(incr?.kind === "incr", "an increment's result is its new value");
          return { value: incr.value, version: result.commitSeq, txnId: result.txnId ?? "" };
        },
        callback,
      );
    },
    CompareAndSet: (callRef, callback) => {
      const request = callRef.request;
      mutate(request, "compare-and-set", () => compareAndSetProgram(request), (result) => ({ version: result.commitSeq, txnId: result.txnId ?? "" }), callback);
    },
    CompareAndDelete: (callRef, callback) => {
      const request = callRef.request;
      mutate(request, "compare-and-delete", () => compareAndDeleteProgram(request), (result) => ({ version: result.commitSeq, txnId: result.txnId ?? "" }), callback);
    },
    Txn: (callRef, callback) => {
      const request = callRef.request;
      mutate(
        request,
        "txn",
        () => txnProgram(request),
        (result) => ({
          succeeded: result.outcome?.branch !== "else",
          results: (result.outcome?.results ?? []).map(resultToWire),
          version: result.commitSeq,
          txnId: result.txnId ?? "",
        }),
        callback,
      );
    },
    TxnStatus: (callRef, callback) => {
      const id = callRef.request.id;
      if (id.length === 0) return callback(toStatus(new InvalidArgument("id", "id is missing: give a transaction id or a request id")));
      const idBytes = Buffer.byteLength(id, "utf8");
      if (idBytes > Math.max(limits.requestIdBytesMax, limits.txnIdBytesMax)) return callback(toStatus(overLimit("id", idBytes, "requestIdBytesMax", "bytes")));
      const node = activeNode(callback);
      if (node === null) return;
      node.txnStatus(id, (status) =>
        callback(null, { state: status.state.toUpperCase(), txnId: status.txnId, commitSeq: status.commitSeq, message: status.message }),
      );
    },
  };

  /** Status, unary or on a Session (a coordinator polls its peers with brief ones over a Session). */
  const status: Unary<StatusRequest__Output, StatusResponse> = (callRef, callback) => {
    const failoverView = failover.view();
    const who = {
      role: failoverView.role,
      activeCoordinatorId: failoverView.active?.id ?? "",
      activeCoordinator: failoverView.active?.address ?? "",
      coordinators: coordinators.map((c) => ({ id: c.id, address: c.address })),
    };
    const node = failover.activeNode();
    if (callRef.request.brief || node === null) {
      // Brief: what this process knows at once, without asking the replicas (polls use it).
      const role = failoverView.role === "standby" ? "a standby" : failoverView.role === "taking-over" ? "taking over" : "active and starting";
      const notReady = node !== null ? node.notReady : `coordinator ${options.id} is ${role}${failoverView.lastFailure === null ? "" : ` (${failoverView.lastFailure})`}`;
      return callback(null, { coordinatorId: options.id, epoch: failoverView.epoch, minInSync: options.minInSync, onConflict: options.onConflict, ready: notReady === null, notReadyReason: notReady ?? "", ...who });
    }
    node.status(({ report, view, replicas }) => {
      const phases = [...trace.summary(), loopDelaySummary(loopDelay)];
      if (callRef.request.resetTrace) {
        trace.reset();
        loopDelay.reset();
      }
      const now = Date.now();
      const members = new Map(view.members.map((member) => [member.id, member]));
      const replicaStatuses = replicas.map(({ id, status }): ReplicaStatus => {
        const member = members.get(id)!;
        const membership = { state: member.state, healthy: member.healthy };
        const address = addresses.get(id)!;
        if (!status.ok) return { id, address, up: false, error: status.reason, ...membership };
        return {
          id,
          address,
          up: true,
          appliedSeq: status.value.appliedSeq,
          prepared: status.value.prepared.length,
          keys: status.value.keys,
          inDoubt: status.value.prepared.map((txn) => ({ txnId: txn.txnId, keys: [...txn.keys], ageMs: txn.ageMs })),
          ...membership,
        };
      });
      callback(null, {
        coordinatorId: options.id,
        epoch: report.epoch,
        lastCommitSeq: report.lastCommitSeq,
        replicas: replicaStatuses,
        inFlight: report.inFlight.map((txn) => ({
          txnId: txn.txnId,
          phase: txn.phase,
          keys: [...txn.keys],
          ageMs: Math.max(0, now - txn.startedMs),
          waitingFor: [...txn.waitingFor],
        })),
        lockedKeys: report.lockedKeys,
        minInSync: options.minInSync,
        onConflict: options.onConflict,
        ready: view.notReady === null,
        notReadyReason: view.notReady ?? "",
        logForces: failover.logCounters().forces,
        logRecordsForced: failover.logCounters().recordsForced,
        phases,
        ...who,
      });
    });
  };

  /**
   * A client's Session: each message is one call (proto/session.ts); a standby's redirect travels in
   * active_coordinator, a refusal before anything started (kv-not-started) in not_started.
   */
  const sessionHandler = (stream: grpc.ServerDuplexStream<KvSessionRequest__Output, KvSessionResponse>): void =>
    serveSession<KvSessionRequest__Output, KvSessionResponse>(
      stream,
      kvProto.Kv.service.Session,
      logger,
      ({ callId, code, details, metadata }) => ({
        callId,
        code,
        details,
        activeCoordinator: metadata?.get(activeCoordinatorHeader)[0]?.toString() ?? "",
        notStarted: metadata?.get(notStartedMetadataKey)[0]?.toString() === "1",
      }),
      (message, answer) => {
        const callId = message.callId;
        switch (message.call) {
          case "get":
            return hot.Get({ request: message.get! }, answer((get) => ({ callId, get })));
          case "put":
            return hot.Put({ request: message.put! }, answer((put) => ({ callId, put })));
          case "delete":
            return hot.Delete({ request: message.delete! }, answer((del) => ({ callId, delete: del })));
          case "increment":
            return hot.Increment({ request: message.increment! }, answer((increment) => ({ callId, increment })));
          case "compareAndSet":
            return hot.CompareAndSet({ request: message.compareAndSet! }, answer((compareAndSet) => ({ callId, compareAndSet })));
          case "compareAndDelete":
            return hot.CompareAndDelete({ request: message.compareAndDelete! }, answer((compareAndDelete) => ({ callId, compareAndDelete })));
          case "txn":
            return hot.Txn({ request: message.txn! }, answer((txn) => ({ callId, txn })));
          case "txnStatus":
            return hot.TxnStatus({ request: message.txnStatus! }, answer((txnStatus) => ({ callId, txnStatus })));
          case "status":
            return status({ request: message.status! }, answer((statusResponse) => ({ callId, status: statusResponse })));
          case undefined:
            return answer(() => ({ callId }))({ code: grpc.status.INVALID_ARGUMENT, details: "call: a Session message must carry one of get, put, delete, increment, compare_and_set, compare_and_delete, txn, txn_status or status" });
          default:
            return assertNever(message.call);
        }
      },
    );

  const kvHandlers: KvHandlers = {
    ...hot,
    Session: sessionHandler,
    Resolve: (callRef, callback) => {
      const { outcome } = callRef.request;
      let txnId: string;
      try {
        txnId = checkTxnIdFormat("txn_id", callRef.request.txnId);
      } catch (error) {
        return callback(toStatus(error));
      }
      if (outcome !== "commit" && outcome !== "abort") {
        return callback(toStatus(new InvalidArgument("outcome", `outcome must be "commit" or "abort", not ${JSON.stringify(outcome)}`)));
      }
      // The node decides in the step whether the replicas must be asked (coordinator/core.ts).
      const node = activeNode(callback);
      if (node === null) return;
      node.resolve(txnId, outcome, (result) => {
        if (result.ok) callback(null, { message: result.message ?? "done" });
        else callback({ code: result.code as grpc.status, details: result.message });
      });
    },
    Status: status,
  };

  const coordinationHandlers: CoordinationHandlers = {
    QueryOutcome: (callRef, callback) => {
      let txnIds: string[];
      try {
        checkMemberId("replica_id", callRef.request.replicaId);
        checkCount("txn_ids", callRef.request.txnIds.length, "txnIdsPerCallMax", "ids");
        txnIds = callRef.request.txnIds.map((txnId, i) => checkTxnIdFormat(`txn_ids[${i}]`, txnId));
      } catch (error) {
        return callback(toStatus(error));
      }
      logger.debug({ event: "outcome-query", replica: callRef.request.replicaId, txnIds: callRef.request.txnIds }, "outcome query");
      // Only the active coordinator knows outcomes: a standby's presumed abort could contradict a commit.
      const node = activeNode(callback);
      if (node === null) return;
      node.queryOutcome(txnIds, (outcomes) => {
        callback(null, {
          outcomes: outcomes.map((item) => {
            switch (item.outcome) {
              case "commit":
                return { txnId: item.txnId, outcome: "OUTCOME_COMMIT", commitSeq: item.commitSeq };
              case "abort":
                return { txnId: item.txnId, outcome: "OUTCOME_ABORT" };
              default:
                return assertNever(item);
            }
          }),
        });
      });
    },
  };

  // Ready means ready: SERVING only while a write sent now goes ahead at once (core.readiness()).
  const health: HealthHandlers = {
    Check: (_callRef, callback) => callback(null, { status: failover.activeNode()?.notReady === null ? "SERVING" : "NOT_SERVING" }),
  };

  server.addService(kvProto.Kv.service, kvHandlers);
  server.addService(healthProto.Health.service, health);
  server.addService(participantProto.Coordination.service, coordinationHandlers);
  failover.start();
  logger.info(
    { event: "started", id: options.id, port, replicas: options.replicas, coordinators, onConflict: options.onConflict },
    `coordinator ${options.id} listening on port ${port} with ${options.replicas.length} replicas and ${coordinators.length} coordinator(s); standing by until elected`,
  );

  let stopped = false;
  return {
    port,
    metrics,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      failover.stop();
      await shutdownServer(server);
      for (const channel of channels.values()) channel.close();
      for (const { client, session } of peerClients.values()) {
        session.close("the coordinator stopped");
        client.close();
      }
      logger.info({ event: "stopped", id: options.id }, `coordinator ${options.id} stopped`);
    },
  };
}

/** How often the event loop's delay is sampled (a timer of this period; its lateness is the delay). */
const loopDelayResolutionMs = 10;

/**
 * The event loop's delay as a phase of Status: how late the sampling timer ran (Node measures the
 * time between its runs, nanoseconds; the period is taken off, microseconds reported).
 */
function loopDelaySummary(h: IntervalHistogram): PhaseSummary {
  const us = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, Math.round(ns / 1000) - loopDelayResolutionMs * 1000) : 0);
  return { phase: "event-loop-delay", count: h.count, meanUs: us(h.mean), p50Us: us(h.percentile(50)), p90Us: us(h.percentile(90)), p99Us: us(h.percentile(99)), maxUs: us(h.max) };
}
