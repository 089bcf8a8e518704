// The coordinator process: the client-facing gRPC server (twopc.kv.Kv), the Coordination service
// replicas ask about in-doubt transactions, and a shell around the pure core (coordinator/core.ts)
// and its decision log.
//
// Writes go through the core via the StepLoop, which forces COMMIT decisions before any COMMIT or
// reply leaves. Reads do not touch the core: they go to one replica picked at random, which holds a
// read while a prepared transaction locks the key, so a read never misses a write already
// acknowledged (every replica voted YES, and so holds the lock, before any write is acknowledged).
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { assert, assertNever } from "../common/assert";
import { Code, InvalidArgument, KvError, overLimit, Unavailable } from "../common/errors";
import { failpoint, fire, hit } from "../common/failpoints";
import type { RequestMethod } from "../common/fingerprint";
import { shutdownServer, toStatus } from "../proto/grpc-status";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { StepLoop } from "../common/step-loop";
import { putProgram, type KeyState, type Program } from "../common/txn";
import { checkCount, checkKey, checkMemberId, checkTxnIdFormat, checkValue } from "../common/validate";
import { FileLog } from "../logs/file-log";
import { healthProto, kvProto, participantProto, serverOptions } from "../proto/load";
import type { HealthHandlers } from "../proto/gen/grpc/health/v1/Health";
import type { KvHandlers } from "../proto/gen/twopc/kv/Kv";
import type { ReplicaStatus } from "../proto/gen/twopc/kv/ReplicaStatus";
import type { CoordinationHandlers } from "../proto/gen/twopc/participant/Coordination";
import type { ReadResult__Output } from "../proto/gen/twopc/participant/ReadResult";
import { CoordinatorCore, newReady, type Input, type OnConflict, type Ready, type TxnStatus, type WriteResult } from "./core";
import { checkRequestId, compareAndDeleteProgram, compareAndSetProgram, incrementProgram, resultToWire, txnProgram } from "./requests";
import { decodeCoordinatorRecord, encodeCoordinatorRecord } from "./records";
import { recoverCoordinator } from "./recovery";
import { ReplicaLink } from "./replica-link";

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
  readonly onConflict: OnConflict;
  /** Writes need at least this many replicas in sync. */
  readonly minInSync: number;
  /** Compact the decision log once it is this large (limits.logCompactBytes by default). */
  readonly compactLogBytes: number;
  readonly logger: Logger;
}

export interface RunningCoordinator {
  readonly port: number;
  stop(): Promise<void>;
}

const statusCallTimeoutMs = 1_000;

export async function startCoordinator(options: CoordinatorOptions): Promise<RunningCoordinator> {
  const { logger } = options;
  assert(options.replicas.length > 0, "the coordinator needs replicas");
  fs.mkdirSync(options.dataDir, { recursive: true });

  // Recovery: every COMMIT decision not acknowledged by all replicas is re-sent; any transaction
  // without a decision record is aborted (presumed abort: replicas asking about it hear ABORT).
  const { log, replayed } = await FileLog.open(path.join(options.dataDir, "coordinator.wal"));
  const records = replayed.records.map((payload, i) => decodeCoordinatorRecord(payload, replayed.firstLsn + i));
  const recovered = recoverCoordinator(records);
  const core = new CoordinatorCore(
    { participants: options.replicas.map((replica) => replica.id), onConflict: options.onConflict, minInSync: options.minInSync },
    recovered,
    Date.now(),
  );
  log.append(encodeCoordinatorRecord(core.startRecord()));
  await log.force();
  const unsettled = new Set(recovered.unfinished.map((txn) => txn.txnId));
  logger.info(
    {
      event: "recovered",
      epoch: core.epoch,
      logRecords: records.length,
      tornBytesDropped: replayed.tornBytes,
      lastCommitSeq: recovered.lastCommitSeq,
      unfinishedCommits: [...unsettled],
    },
    `coordinator recovered: epoch ${core.epoch}, ${unsettled.size} committed transaction(s) not yet acknowledged by every ` +
      `replica (re-sending COMMIT); transactions of earlier epochs without a decision are aborted (presumed abort)`,
  );

  const pendingWrites = new Map<number, (result: WriteResult) => void>();
  const pendingQueries = new Map<number, (outcomes: Ready["outcomes"][number]["outcomes"]) => void>();
  const pendingStatuses = new Map<number, (status: TxnStatus) => void>();
  let nextRequestId = 1;

  const links = new Map<string, ReplicaLink>();
  let compactedBytes = 0;
  /** Failpoint mid-commit-fanout: COMMITs held back from every replica but one. */
  let fanoutHold: { txnIds: Set<string>; to: string } | null = null;
  const loop: StepLoop<Input, Ready> = new StepLoop<Input, Ready>({
    log,
    step: (inputs) => {
      const ready = newReady();
      for (const input of inputs) core.step(input, ready);
      return ready;
    },
    records: (ready) => {
      if (ready.persist.some(({ record }) => record.kind === "commit") && failpoint("before-decision-log") === "error") {
        logger.fatal({ event: "injected-io-error", failpoint: "before-decision-log" }, "failpoint before-decision-log: injected I/O error; exiting");
        process.exit(1);
      }
      return ready.persist.map(({ record, force }) => ({ payload: encodeCoordinatorRecord(record), force }));
    },
    maintain: async () => {
      // The live records include the remembered requests: compact again only once the log has
      // doubled since, so that a large remembered set cannot make every turn a compaction.
      if (log.bytes < Math.max(options.compactLogBytes, 2 * compactedBytes)) return;
      const before = log.bytes;
      await log.rewrite(core.liveRecords().map(encodeCoordinatorRecord));
      compactedBytes = log.bytes;
      logger.info({ event: "log-compacted", bytesBefore: before, bytesAfter: log.bytes }, `decision log compacted: ${before} -> ${log.bytes} bytes`);
    },
    afterDurable: (ready) => {
      if (logger.isLevelEnabled("debug")) logTurn(logger, ready);
      for (const { record } of ready.persist) {
        if (record.kind === "membership") logger.info({ event: "membership", ...record }, `in-sync set: ${record.inSync.join(", ")}`);
      }
      // Failpoints between the durable decision and the messages that carry it.
      const decided = ready.persist.some(({ record }) => record.kind === "commit");
      const dropCommits = decided && failpoint("after-decision-log") === "error";
      const fanout = decided ? hit("mid-commit-fanout") : null;
      if (fanout !== null) {
        // COMMIT of this turn's decisions goes to one replica only (re-sends included) until it
        // acknowledged them; then the failpoint fires. With "error" the others hear COMMIT only when
        // the core re-sends it after that.
        const txnIds = new Set(ready.persist.flatMap(({ record }) => (record.kind === "commit" ? [record.txnId] : [])));
        const first = ready.send.find((message) => message.kind === "commit" && txnIds.has(message.txnId));
        if (first !== undefined && first.kind === "commit") {
          const hold = { txnIds, to: first.to };
          fanoutHold = hold;
          links.get(first.to)?.afterCommitAck(first.txnId, () => {
            fire("mid-commit-fanout", fanout);
            if (fanoutHold === hold) fanoutHold = null;
          });
        }
      }
      for (const message of ready.send) {
        if (message.kind === "commit" && dropCommits) continue;
        if (message.kind === "commit" && fanoutHold !== null && fanoutHold.txnIds.has(message.txnId) && message.to !== fanoutHold.to) continue;
        const link = links.get(message.to);
        if (link === undefined) {
          logger.error({ event: "unknown-replica", replica: message.to }, `no address for replica ${message.to}`);
          continue;
        }
        link.enqueue(message);
      }
      for (const link of links.values()) link.flush();
      const loseReplies = ready.replies.some(({ result }) => result.ok) && failpoint("after-commit-before-reply") === "error";
      for (const { reqId, result } of ready.replies) {
        const respond = pendingWrites.get(reqId);
        assert(respond !== undefined, `reply to unknown request ${reqId}`);
        pendingWrites.delete(reqId);
        if (loseReplies && result.ok) {
          respond({ ok: false, code: Code.UNAVAILABLE, message: "failpoint after-commit-before-reply: the reply was lost (the write committed)" });
        } else {
          respond(result);
        }
      }
      for (const { reqId, status } of ready.statuses) {
        const respond = pendingStatuses.get(reqId);
        assert(respond !== undefined, `status answer to unknown request ${reqId}`);
        pendingStatuses.delete(reqId);
        respond(status);
      }
      for (const { txnId, keys } of ready.reads) {
        // The transaction holds the locks of these keys: read their current state for it.
        read([...keys]).then(
          (results) => {
            const states = new Map<string, KeyState>(results.map((result) => [result.key, result.found ? { value: result.value, version: result.version } : null]));
            loop.push({ kind: "read-result", txnId, states, reason: "", nowMs: Date.now() });
          },
          (error: unknown) => loop.push({ kind: "read-result", txnId, states: null, reason: (error as Error).message, nowMs: Date.now() }),
        );
      }
      for (const { queryId, outcomes } of ready.outcomes) {
        const respond = pendingQueries.get(queryId);
        assert(respond !== undefined, `answer to unknown query ${queryId}`);
        pendingQueries.delete(queryId);
        respond(outcomes);
      }
      if (unsettled.size > 0) {
        const inFlight = new Set(core.inFlight().map((txn) => txn.txnId));
        for (const txnId of unsettled) {
          if (inFlight.has(txnId)) continue;
          unsettled.delete(txnId);
          logger.info({ event: "recovered-txn-settled", txnId }, `recovered transaction ${txnId} settled: committed on every replica`);
        }
      }
    },
  });
  for (const replica of options.replicas) {
    links.set(
      replica.id,
      new ReplicaLink(replica.id, replica.address, options.id, (input) => loop.push(input), logger, (id) => links.get(id)?.address),
    );
  }

  const ticker = setInterval(() => loop.push({ kind: "tick", nowMs: Date.now() }), limits.tickMs);
  loop.push({ kind: "tick", nowMs: Date.now() });
  // Health checks: one at a time per replica; the core removes a replica that stops answering.
  const checking = new Set<string>();
  const healthTimer = setInterval(() => {
    for (const link of links.values()) {
      if (checking.has(link.id)) continue;
      checking.add(link.id);
      void link.checkHealth().then(({ ok, refused }) => {
        checking.delete(link.id);
        loop.push({ kind: "health", replicaId: link.id, ok, refused, nowMs: Date.now() });
      });
    }
  }, limits.healthCheckIntervalMs);

  /** What every replica knows of a transaction (unreachable ones count as unknown). */
  async function inspectReplicas(txnId: string): Promise<Extract<Input, { kind: "resolve" }>["replicas"]> {
    return Promise.all(
      [...links.values()].map(async (link) => {
        const states = await link.inspect([txnId], statusCallTimeoutMs).catch(() => []);
        const state = states.find((item) => item.txnId === txnId);
        return {
          replicaId: link.id,
          state: state?.state ?? ("unknown" as const),
          commitSeq: state?.state === "committed" ? state.commitSeq : 0,
        };
      }),
    );
  }

  type Committed = Extract<WriteResult, { ok: true }>;

  /** Runs a client's transaction through the core; calls back with its result or its error. */
  function submit(
    requestId: string | null,
    method: RequestMethod,
    program: Program,
    callback: (error: Partial<grpc.StatusObject> | null, result?: Committed) => void,
  ): void {
    const reqId = nextRequestId++;
    pendingWrites.set(reqId, (result) => {
      if (result.ok) callback(null, result);
      else callback({ code: result.code as grpc.status, details: result.message });
    });
    loop.push({ kind: "txn", reqId, requestId, method, program, nowMs: Date.now() });
  }

  /** Checks a request with `parse` (INVALID_ARGUMENT names the field), then submits it. */
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
    submit(requestId, method, program, (error, result) => (error ? callback(error) : callback(null, respond(result!))));
  }

  /**
   * Reads from the healthy in-sync replicas in random order: the first that answers serves the
   * read, unless it left the in-sync set while the read was out (its answer may then be stale).
   */
  async function read(keys: string[]): Promise<ReadResult__Output[]> {
    const order = core.readable();
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const failures: string[] = [];
    for (const { id, incarnation } of order) {
      const link = links.get(id)!;
      try {
        const results = await link.read(keys);
        if (core.stillReadable(id, incarnation)) return results;
        failures.push(`replica ${id} left the in-sync set while it answered`);
      } catch (error) {
        const kvError = error as KvError;
        if (kvError.code !== Code.UNAVAILABLE && kvError.code !== Code.DEADLINE_EXCEEDED) throw kvError;
        failures.push(kvError.message);
      }
    }
    if (order.length === 0) throw new Unavailable("no replica is in sync and healthy to serve the read");
    throw new Unavailable(`no replica could serve the read: ${failures.join("; ")}`);
  }

  const kvHandlers: KvHandlers = {
    Get: (callRef, callback) => {
      let key: string;
      try {
        key = checkKey("key", callRef.request.key);
      } catch (error) {
        callback(toStatus(error));
        return;
      }
      read([key]).then(
        ([result]) => {
          assert(result !== undefined && result.key === key, "a replica answers the key it was asked");
          callback(null, { found: result.found, value: result.value, version: result.version });
        },
        (error: unknown) => callback(toStatus(error)),
      );
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
      const reqId = nextRequestId++;
      pendingStatuses.set(reqId, (status) =>
        callback(null, { state: status.state.toUpperCase(), txnId: status.txnId, commitSeq: status.commitSeq, message: status.message }),
      );
      loop.push({ kind: "txn-status", reqId, id, nowMs: Date.now() });
    },
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
      // The replicas' knowledge matters only for a transaction the coordinator no longer tracks. (One
      // that finishes between this look and the step is refused by the core if it committed: the
      // core remembers its commits.)
      const tracked = core.inFlight().some((txn) => txn.txnId === txnId);
      void (tracked ? Promise.resolve([]) : inspectReplicas(txnId)).then((replicas) => {
        const reqId = nextRequestId++;
        pendingWrites.set(reqId, (result) => {
          if (result.ok) callback(null, { message: result.message ?? "done" });
          else callback({ code: result.code as grpc.status, details: result.message });
        });
        logger.info({ event: "resolve", txnId, outcome, replicas }, `operator asks to ${outcome} ${txnId}`);
        loop.push({ kind: "resolve", reqId, txnId, choice: outcome, replicas, nowMs: Date.now() });
      });
    },
    Status: (_callRef, callback) => {
      const members = new Map(core.memberList().map((member) => [member.id, member]));
      const replicas = [...links.values()].map(
        async (link): Promise<ReplicaStatus> => {
          const member = members.get(link.id)!;
          const membership = { state: member.state, healthy: member.healthy };
          try {
            const status = await link.status(statusCallTimeoutMs);
            return {
              id: link.id,
              address: link.address,
              up: true,
              appliedSeq: status.appliedSeq,
              prepared: status.prepared.length,
              keys: status.keys,
              inDoubt: status.prepared.map((txn) => ({ txnId: txn.txnId, keys: txn.keys, ageMs: txn.ageMs })),
              ...membership,
            };
          } catch (error) {
            return { id: link.id, address: link.address, up: false, error: (error as Error).message, ...membership };
          }
        },
      );
      void Promise.all(replicas).then((replicaStatuses) => {
        const now = Date.now();
        const notReady = core.readiness();
        callback(null, {
          coordinatorId: options.id,
          epoch: core.epoch,
          lastCommitSeq: core.lastSeq(),
          replicas: replicaStatuses,
          inFlight: core.inFlight().map((txn) => ({
            txnId: txn.txnId,
            phase: txn.phase,
            keys: [...txn.keys],
            ageMs: Math.max(0, now - txn.startedMs),
            waitingFor: txn.participants.filter((id) => !(txn.phase === "preparing" ? txn.votedYes : txn.acked).has(id)),
          })),
          lockedKeys: core.lockedKeyCount(),
          minInSync: options.minInSync,
          onConflict: options.onConflict,
          ready: notReady === null,
          notReadyReason: notReady ?? "",
          logForces: log.forces,
          logRecordsForced: log.recordsForced,
        });
      });
    },
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
      const queryId = nextRequestId++;
      pendingQueries.set(queryId, (outcomes) => {
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
      logger.debug({ event: "outcome-query", replica: callRef.request.replicaId, txnIds: callRef.request.txnIds }, "outcome query");
      loop.push({ kind: "outcome-query", queryId, txnIds, nowMs: Date.now() });
    },
  };

  // Ready means ready: SERVING only while a write sent now goes ahead at once (core.readiness()).
  const health: HealthHandlers = {
    Check: (_callRef, callback) => callback(null, { status: core.readiness() === null ? "SERVING" : "NOT_SERVING" }),
  };

  const server = new grpc.Server(serverOptions);
  server.addService(kvProto.Kv.service, kvHandlers);
  server.addService(healthProto.Health.service, health);
  server.addService(participantProto.Coordination.service, coordinationHandlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(new Error(`coordinator cannot listen on ${options.listen}: ${error.message}`)) : resolve(boundPort),
    );
  });
  logger.info(
    { event: "started", id: options.id, port, epoch: core.epoch, replicas: options.replicas, onConflict: options.onConflict },
    `coordinator ${options.id} listening on port ${port} with ${options.replicas.length} replicas`,
  );

  let stopped = false;
  return {
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      clearInterval(healthTimer);
      await shutdownServer(server);
      for (const link of links.values()) link.close();
      await log.close();
      logger.info({ event: "stopped", id: options.id }, `coordinator ${options.id} stopped`);
    },
  };
}

/** Protocol steps of one turn, at debug level. */
function logTurn(logger: Logger, ready: Ready): void {
  for (const { record } of ready.persist) {
    if (record.kind === "commit") logger.debug({ event: "decision", txnId: record.txnId, commitSeq: record.commitSeq }, `decided COMMIT ${record.txnId}`);
  }
  for (const message of ready.send) {
    const what = message.kind === "catch-up" ? `from ${message.sourceId} since ${message.sinceSeq}` : message.txnId;
    logger.debug({ event: "send", kind: message.kind, to: message.to, what }, `${message.kind} ${what} -> ${message.to}`);
  }
  for (const { reqId, result } of ready.replies) {
    if (result.ok) logger.debug({ event: "reply", reqId, commitSeq: result.commitSeq }, `request ${reqId} committed`);
    else logger.debug({ event: "reply", reqId, code: result.code, reason: result.message }, `request ${reqId} failed`);
  }
}
