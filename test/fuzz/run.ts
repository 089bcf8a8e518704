// One fuzz run against a real cluster: the commands in batches, each batch's lanes concurrently
// (a lane's commands one after another), and after every batch the checks that a crash cannot
// pass: no process exited (by pid), every reply's code is documented for its method (codes.ts),
// and the coordinator's Status answers with every replica up. At the end, once the cluster has
// settled (no transaction in flight or prepared anywhere, within a deadline), every replica's Dump
// checksum must be equal and the history of the lin keys' Get/Put/Delete must be linearizable
// (client/check.ts, the checker of `kv check`).
//
// Failover (issue 12): a run starts past epoch 1 (FuzzTarget.start), and every call a coordinator
// would make carries an epoch, resolved when it is sent against the active coordinator's epoch as
// Kv.Status last gave it (EpochTracker: read at the start, and again after an answer that says the
// coordinator moved on: fenced, or UNAVAILABLE). A call of a newer epoch fences the coordinator,
// which takes over again: after each batch the checks wait (a bounded time) for an active
// coordinator that reaches every replica, and the end of the run for one that has settled.
//
// Transaction ids of the participant port are of the epoch of the call that carries them (model.ts
// fakeCounterBase), resolved when it is sent, as the replica will decode the call's epoch. A call
// with a misfit (an id of an epoch the call may not carry, model.ts Misfit) must be refused
// INVALID_ARGUMENT naming that id, and no other call may be refused for an id's epoch: either
// answer is a wrong answer, a failure of the batch.
import * as grpc from "@grpc/grpc-js";
import { assert, assertNever } from "../../common/assert";
import { Code, codeName, fencedBy } from "../../common/errors";
import { parseTxnId } from "../../common/txn-id";
import { classifyFailure } from "../../tools/bench/bench";
import { checkHistory, formatViolation } from "../../tools/check/check";
import type { HistoryEvent, HistoryType } from "../../tools/check/history";
import { channelOptions, kvProto, participantProto } from "../../proto/load";
import type { StatusResponse__Output } from "../../proto/gen/twopc/kv/StatusResponse";
import type { PromiseResponse__Output } from "../../proto/gen/twopc/participant/PromiseResponse";
import { TestCluster, waitFor, type Proc } from "../integration/harness";
import { isDocumented } from "./codes";
import {
  describeEpoch,
  describeRequest,
  epochValue,
  isFakeCounter,
  lanesMax,
  materialize,
  methodName,
  replicaIds,
  RunNames,
  type Command,
  type EpochRef,
  type Materialized,
  type MethodName,
  type Misfit,
  type Wide,
} from "./model";

export interface Reply {
  readonly code: number;
  readonly details: string;
  readonly response: unknown;
}

/** The cluster of one run and a raw gRPC client per port: requests go out exactly as built. */
export class FuzzTarget {
  private readonly coordinator: grpc.Client;
  private readonly replicas: grpc.Client[];

  private constructor(readonly cluster: TestCluster) {
    this.coordinator = new grpc.Client(cluster.coordinatorAddress, grpc.credentials.createInsecure(), channelOptions);
    this.replicas = cluster.replicaPorts.map((port) => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions));
  }

  /** A fresh cluster, past epoch 1 (see passEpochOne). */
  static async start(): Promise<FuzzTarget> {
    const target = new FuzzTarget(await TestCluster.start({ replicas: replicaIds.length, logLevel: "warn" }));
    try {
      await target.passEpochOne();
    } catch (error) {
      await target.stop();
      throw error;
    }
    return target;
  }

  /** The coordinator's Kv.Status, or why it failed. */
  async status(timeoutMs: number): Promise<StatusResponse__Output | string> {
    const reply = await this.call("Kv.Status", 0, {}, timeoutMs);
    return reply.code === Code.OK ? (reply.response as StatusResponse__Output) : `${codeName(reply.code)}: ${reply.details}`;
  }

  /** The active coordinator's epoch; fails if no coordinator is active. */
  async epoch(timeoutMs = 2_000): Promise<number> {
    const status = await this.status(timeoutMs);
    if (typeof status === "string" || status.role !== "active") throw new Error(`no active coordinator: ${typeof status === "string" ? status : status.notReadyReason}`);
    return status.epoch;
  }

  /**
   * Moves the cluster past epoch 1 before a run: every replica promises the next epoch (an empty
   * batch of prepares carrying it), a write makes the coordinator hear that it is fenced, and it
   * takes over with a newer epoch. A replica never promises an older epoch than it did, so from
   * then on epoch 1 is older than every replica's promise: the fuzzer's stale epoch, the only one
   * besides refused ones that it gives an Append (arbitraries.ts rule f). Checked: a Promise of
   * epoch 1, which no replica grants now, is answered with each replica's promise.
   */
  private async passEpochOne(): Promise<void> {
    const timeoutMs = 2_000;
    const first = await this.epoch();
    for (const [replica, id] of replicaIds.entries()) {
      const reply = await this.call("Participant.Prepare", replica, { coordinatorId: "fuzz-start", txns: [], epoch: first + 1 }, timeoutMs);
      if (reply.code !== Code.OK) throw new Error(`${id} did not take epoch ${first + 1}: ${codeName(reply.code)} ${reply.details}`);
    }
    // Refused by every replica (fenced), so it writes nothing; the coordinator stands down.
    await this.call("Kv.Put", 0, { key: "fuzz/start", value: Buffer.from("fenced") }, timeoutMs);
    await waitFor(
      `a coordinator active past epoch ${first + 1}, reaching every replica`,
      async () => {
        const status = await this.status(timeoutMs);
        return typeof status !== "string" && isServing(status) && status.epoch > first + 1;
      },
      30_000,
    );
    const epoch = await this.epoch();
    await waitFor(`every replica to promise epoch ${epoch}`, async () => {
      const answers = await Promise.all(replicaIds.map((_, replica) => this.call("Participant.Promise", replica, { epoch: 1, coordinatorId: "fuzz-probe", coordinatorAddress: "127.0.0.1:1" }, timeoutMs)));
      return answers.every((answer) => answer.code === Code.OK && !(answer.response as PromiseResponse__Output).granted && (answer.response as PromiseResponse__Output).promisedEpoch >= epoch);
    });
  }

  /** Sends one request of `method` (service.method) to the coordinator, or to replica `replica`. */
  call(method: MethodName, replica: number, request: object, timeoutMs: number): Promise<Reply> {
    const [service, name] = method.split(".") as [string, string];
    const definitions: grpc.ServiceDefinition =
      service === "Kv" ? kvProto.Kv.service : service === "Participant" ? participantProto.Participant.service : participantProto.Coordination.service;
    const definition = definitions[name];
    if (definition === undefined) throw new Error(`no method ${method}`);
    const client = service === "Participant" ? this.replicas[replica]! : this.coordinator;
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        { deadline: new Date(Date.now() + timeoutMs) },
        (error, response) => {
          if (error) resolve({ code: error.code, details: error.details, response: undefined });
          else resolve({ code: Code.OK, details: "", response });
        },
      );
    });
  }

  get processes(): Proc[] {
    return [this.cluster.coordinator, ...this.cluster.replicas].filter((proc): proc is Proc => proc !== null && proc !== undefined);
  }

  async stop(): Promise<void> {
    this.coordinator.close();
    for (const client of this.replicas) client.close();
    await this.cluster.stop();
  }
}

/** An active coordinator whose Status lists every replica up. */
function isServing(status: StatusResponse__Output): boolean {
  return status.role === "active" && status.replicas.length === replicaIds.length && status.replicas.every((replica) => replica.up);
}

/**
 * The active coordinator's epoch as the fuzzer knows it: from Kv.Status at the start of a run, and
 * again after an answer that says the coordinator may have moved on (fenced, or UNAVAILABLE: it may
 * have stood down). Epochs only grow: the highest one heard is kept. Concurrent refreshes share one
 * Status call.
 */
class EpochTracker {
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly target: FuzzTarget,
    public current: number,
  ) {}

  refresh(): Promise<void> {
    this.refreshing ??= this.target
      .status(2_000)
      .then((status) => {
        if (typeof status !== "string") this.current = Math.max(this.current, status.epoch);
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }
}

/**
 * How far a call carrying an epoch got in a replica: refused for its epoch, refused for the epoch
 * of a transaction id it carries (replica/decode.ts checkTxnEpochs), refused for another field,
 * fenced (an older epoch than the replica promised), into the replica's core (OK, or a refusal of
 * the core: a commit of what it aborted, ...), or unavailable (a read that waited too long on a
 * locked key, a catch-up whose source is unreachable, a transport failure).
 */
export type Reach = "core" | "fenced" | "epoch-refused" | "txn-epoch-refused" | "refused" | "unavailable";
/** By method, then Reach. */
export type ReachCounts = Map<string, Map<Reach, number>>;

/** The refusal of replica/decode.ts checkTxnEpochs: "txns[1].txn_id 5.7 is of epoch 5, but the call is of epoch 4: ...". */
const txnEpochRefusal = /^(txns\[\d+\]\.txn_id|txn_ids\[\d+\]) \S+ is of epoch \d+, but the call is of epoch \d+:/;

export function reachOf(reply: Reply): Reach {
  if (reply.code === Code.INVALID_ARGUMENT) return reply.details.startsWith("epoch ") ? "epoch-refused" : txnEpochRefusal.test(reply.details) ? "txn-epoch-refused" : "refused";
  if (reply.code === Code.FAILED_PRECONDITION && fencedBy(reply.details) !== null) return "fenced";
  if (reply.code === Code.OK || reply.code === Code.FAILED_PRECONDITION) return "core";
  return "unavailable";
}

/**
 * An epoch field as the replica will decode it (gRPC turns -1 into 0, 1.5 into 1, "-1" into
 * 2^64 - 1, ...): the request with that field alone, through the method's own serializer.
 */
function decodedEpoch(method: MethodName, epoch: Wide | undefined): number {
  const definition = (participantProto.Participant.service as grpc.ServiceDefinition)[method.split(".")[1]!];
  assert(definition !== undefined, `${method} is a Participant method`);
  const decoded = definition.requestDeserialize(definition.requestSerialize({ epoch })) as { epoch?: unknown };
  assert(typeof decoded.epoch === "number", `${method} has a numeric epoch field`);
  return decoded.epoch;
}

/**
 * Rule (f) of arbitraries.ts, and the garbage epochs, checked on the epoch as it will arrive: an
 * Append's epoch, and a garbage one, decode to 0 (missing), 1 (older than every replica's promise)
 * or a number no replica takes (past MAX_SAFE_INTEGER). Never one a replica would promise.
 */
function checkEpochSent(method: MethodName, epoch: EpochRef, decoded: number): void {
  if (method !== "Participant.Append" && epoch.kind !== "garbage") return;
  assert(decoded === 0 || decoded === 1 || !Number.isSafeInteger(decoded), `the fuzzer sends ${method} with epoch ${describeEpoch(epoch)}, which a replica decodes as ${decoded}`);
}

/** A decoded epoch field that a replica takes as an epoch (replica/decode.ts decodeEpoch), or null. */
function asEpoch(decoded: number): number | null {
  return Number.isSafeInteger(decoded) && decoded >= 1 ? decoded : null;
}

/**
 * What is wrong with the answer to a call that carries transaction ids (null: nothing, or the
 * answer says nothing, being a transport's): a call with a misfit must be refused INVALID_ARGUMENT,
 * naming the misfit's field if the call's own epoch is one (else naming the epoch); a call without
 * one must not be refused for an id's epoch.
 */
export function wrongAnswer(reply: Reply, misfit: Misfit | null, callEpoch: number | null): string | null {
  if (reply.code === Code.UNAVAILABLE || reply.code === Code.DEADLINE_EXCEEDED || reply.code === Code.RESOURCE_EXHAUSTED) return null;
  if (misfit === null) {
    return reachOf(reply) === "txn-epoch-refused" ? `refused for the epoch of a transaction id, though each is of the call's epoch${callEpoch === null ? "" : ` (${callEpoch})`} or, in a decision, an earlier one` : null;
  }
  assert(callEpoch === null || callEpoch === misfit.callEpoch, "a misfit is against the epoch the call carries");
  const expected =
    callEpoch === null ? "epoch " : `${misfit.field} ${misfit.txnId} is of epoch ${misfit.txnEpoch}, but the call is of epoch ${callEpoch}:`;
  if (reply.code === Code.INVALID_ARGUMENT && reply.details.startsWith(expected)) return null;
  return `${misfit.field} is ${misfit.txnId}, of epoch ${misfit.txnEpoch}, which a call of epoch ${misfit.callEpoch} may not carry; expected INVALID_ARGUMENT "${expected}...", got ${codeName(reply.code)} (${reply.details})`;
}

export interface RunOptions {
  /** Commands between two rounds of checks. */
  readonly batchSize: number;
  readonly callTimeoutMs: number;
  /** How long the end of the run waits for the cluster to settle and the replicas to agree. */
  readonly settleTimeoutMs: number;
  /** Called after each batch with the commands run so far. */
  readonly onBatch?: (executed: number) => void;
}

export const defaultRunOptions: RunOptions = { batchSize: 16, callTimeoutMs: 10_000, settleTimeoutMs: 30_000 };

export type FailureKind =
  | "process-exited"
  | "undocumented-code"
  | "wrong-answer"
  | "replica-down"
  | "no-active-coordinator"
  | "not-settled"
  | "checksums-differ"
  | "not-linearizable";

export interface Failure {
  readonly kind: FailureKind;
  /** The same bug gives the same signature: shrinking keeps only candidates that fail alike. */
  readonly signature: string;
  readonly message: string;
}

/** Replies by method (cleanup calls under their own name) and code name. */
export type CodeCounts = Map<string, Map<string, number>>;

export interface RunResult {
  readonly counts: CodeCounts;
  /** Commands sent (a failed batch counts whole). */
  readonly executed: number;
  readonly failure: Failure | null;
  /** Operations in the linearizability history. */
  readonly historyOps: number;
  /** Each command, in command order, as a person reads it: the request as sent, transaction ids included. */
  readonly sent: readonly string[];
  /** Of the calls that carry an epoch (not the cleanup aborts), how far each got. */
  readonly reach: ReachCounts;
  /**
   * The active coordinator's epoch at the start and at the end, how many calls carried a newer one,
   * and how many carried a misfit (model.ts Misfit) and how many of those were refused for it.
   */
  readonly epochs: { readonly first: number; readonly last: number; readonly newerSent: number; readonly misfitsSent: number; readonly misfitsRefused: number };
}

function count(counts: CodeCounts, method: string, code: number): void {
  const byCode = counts.get(method) ?? new Map<string, number>();
  const name = codeName(code);
  byCode.set(name, (byCode.get(name) ?? 0) + 1);
  counts.set(method, byCode);
}

function tail(proc: Proc, lines = 20): string {
  return proc.output.slice(-lines).map((line) => `    ${line}`).join("\n");
}

/** Runs `commands` (in execution order) against `target`; stops at the first failed check. */
export async function runCommands(target: FuzzTarget, commands: readonly Command[], options: RunOptions = defaultRunOptions): Promise<RunResult> {
  const names = new RunNames();
  const counts: CodeCounts = new Map();
  const history: HistoryEvent[] = [];
  const startNs = process.hrtime.bigint();
  const nowNs = (): number => Number(process.hrtime.bigint() - startNs);
  // History processes: one per lane, replaced after an `info` completion (Jepsen's rule).
  const processOfLane = Array.from({ length: lanesMax }, (_, lane) => lane);
  let nextProcess = processOfLane.length;
  const record = (type: HistoryType, process: number, op: NonNullable<Materialized["recorded"]>, value: string | null): void => {
    history.push({ index: history.length, type, process, f: op.f, key: op.key, value, time: nowNs() });
  };
  let executed = 0;
  const sent: string[] = [];
  const reach: ReachCounts = new Map();
  const epochs = new EpochTracker(target, await target.epoch());
  const firstEpoch = epochs.current;
  let newerSent = 0;
  let misfitsSent = 0;
  let misfitsRefused = 0;
  const result = (failure: Failure | null): RunResult => ({
    counts,
    executed,
    failure,
    historyOps: countOps(history),
    sent,
    reach,
    epochs: { first: firstEpoch, last: epochs.current, newerSent, misfitsSent, misfitsRefused },
  });

  for (let start = 0; start < commands.length; start += options.batchSize) {
    const batch = commands.slice(start, start + options.batchSize);
    // Materialized in command order before any is sent, so names do not depend on timing; the
    // transaction ids, which take the epoch of their call, are built when each is sent. Each
    // command's line in `sent` is kept in command order, and filled in as it is sent.
    const items = batch.map((command, i) => ({ command, built: materialize(command.call, names), slot: sent.length + i }));
    for (const { command, built } of items) sent.push(describeCommand(command, built.epoch, null));
    const undocumented: { readonly method: MethodName; readonly code: number; readonly text: string }[] = [];
    const wrong: { readonly method: MethodName; readonly code: number; readonly text: string }[] = [];
    /** What each Prepare of the batch may have prepared, and on which replica. */
    const prepared: { readonly txnId: string; readonly replica: number }[] = [];
    const lanes = new Map<number, typeof items>();
    for (const item of items) lanes.set(item.command.lane, [...(lanes.get(item.command.lane) ?? []), item]);

    const send = async (method: MethodName, replica: number, request: object, label: string = method): Promise<Reply> => {
      const reply = await target.call(method, replica, request, options.callTimeoutMs);
      if (reply.code === Code.INTERNAL && reply.details.includes("serialization failure")) {
        throw new Error(`the fuzzer built a request gRPC cannot encode: ${method} ${describeRequest(request)}: ${reply.details}`);
      }
      count(counts, label, reply.code);
      if (!isDocumented(method, reply.code, reply.details)) {
        const to = method.startsWith("Participant") ? replicaIds[replica] : "the coordinator";
        undocumented.push({ method, code: reply.code, text: `${method} to ${to} answered ${codeName(reply.code)} (${reply.details})\n    request: ${describeRequest(request)}` });
      }
      return reply;
    };

    await Promise.all(
      [...lanes.entries()].map(async ([lane, laneItems]) => {
        for (const { command, built, slot } of laneItems) {
          const method = methodName(command.call);
          const replica = command.call.service === "Participant" ? command.call.replica : 0;
          const op = built.recorded;
          const process = processOfLane[lane]!;
          if (op !== null) record("invoke", process, op, op.f === "get" ? null : op.value);
          // The epoch the call carries, and the one its transaction ids are of: the same, when the
          // replica takes the call's as an epoch; else the active coordinator's as last seen.
          const epochField = built.epoch === null ? undefined : epochValue(built.epoch, epochs.current);
          let callEpoch: number | null = null;
          if (built.epoch !== null) {
            const decoded = decodedEpoch(method, epochField);
            checkEpochSent(method, built.epoch, decoded);
            callEpoch = asEpoch(decoded);
            if (built.epoch.kind === "newer") newerSent += 1;
          }
          const { request: body, prepared: preparing, misfit } = built.build(callEpoch ?? epochs.current);
          const request = built.epoch === null ? body : { ...body, epoch: epochField };
          sent[slot] = describeCommand(command, built.epoch, request);
          for (const txnId of preparing) prepared.push({ txnId, replica });
          if (misfit !== null) misfitsSent += 1;
          const reply = await send(method, replica, request);
          if (built.epoch !== null) {
            const byReach = reach.get(method) ?? new Map<Reach, number>();
            const how = reachOf(reply);
            byReach.set(how, (byReach.get(how) ?? 0) + 1);
            reach.set(method, byReach);
          }
          if (method === "Participant.Prepare" || method === "Participant.Commit" || method === "Participant.Abort") {
            const wrongness = wrongAnswer(reply, misfit, callEpoch);
            if (wrongness !== null) wrong.push({ method, code: reply.code, text: `${method} to ${replicaIds[replica]}: ${wrongness}\n    request: ${describeRequest(request)}` });
            else if (misfit !== null && reachOf(reply) === "txn-epoch-refused") misfitsRefused += 1;
          }
          if (reply.code === Code.UNAVAILABLE || fencedBy(reply.details) !== null) await epochs.refresh();
          if (reply.code === Code.OK) {
            const txnId = (reply.response as { txnId?: unknown } | undefined)?.txnId;
            if (isWrite(method) && typeof txnId === "string") {
              // Rule (a) of arbitraries.ts: the coordinator's counters stay below the fake ones.
              const parsed = parseTxnId(txnId);
              assert(parsed === null || !isFakeCounter(parsed.counter), `the coordinator issued ${txnId}, a counter in the fuzzer's fake range`);
            }
            names.noteTxnId(txnId);
          }
          if (op === null) continue;
          if (reply.code === Code.OK) {
            const read = reply.response as { found?: boolean; value?: Buffer } | undefined;
            record("ok", process, op, op.f === "get" ? (read?.found === true ? (read.value ?? Buffer.alloc(0)).toString("utf8") : null) : op.value);
          } else {
            const outcome = classifyFailure(op.f, reply.code);
            record(outcome, process, op, op.f === "get" ? null : op.value);
            if (outcome === "info") processOfLane[lane] = nextProcess++;
          }
        }
      }),
    );
    executed += batch.length;

    // Rule (d): what this batch prepared is aborted everywhere, well-formed ids in one call each
    // epoch. In the current epoch (ids of it or an earlier one); a replica that promised a newer one
    // (the fuzzer's, which the coordinator may not have heard of yet, or the coordinator's next) is
    // asked again in the epoch it names: the same as its promise, so that changes nothing but the
    // aborts. An id of a later epoch than the current (a Prepare of the fuzzer's newer epoch) is
    // aborted in its own epoch, and only on the replica it was sent to, which promised that epoch
    // with it: the others would be made to promise it.
    if (prepared.length > 0) {
      const isWellFormed = (id: string): boolean => {
        const parsed = /^[1-9]\d*\.[1-9]\d*$/.test(id) ? parseTxnId(id) : null;
        return parsed !== null && Number.isSafeInteger(parsed.epoch) && Number.isSafeInteger(parsed.counter);
      };
      const everywhere = (txnIds: readonly string[]): { replica: number; txnIds: readonly string[]; epoch: number }[] =>
        txnIds.length === 0 ? [] : replicaIds.map((_, replica) => ({ replica, txnIds, epoch: epochs.current }));
      const ids = [...new Set(prepared.map((item) => item.txnId))];
      const wellFormed = ids.filter(isWellFormed);
      const later = prepared.filter((item) => isWellFormed(item.txnId) && parseTxnId(item.txnId)!.epoch > epochs.current);
      const calls = [
        ...everywhere(wellFormed.filter((id) => parseTxnId(id)!.epoch <= epochs.current)),
        ...ids.filter((id) => !isWellFormed(id)).flatMap((id) => everywhere([id])),
        ...[...new Set(later.map((item) => `${item.replica} ${parseTxnId(item.txnId)!.epoch}`))].map((key) => {
          const [replica, epoch] = key.split(" ").map(Number) as [number, number];
          assert(epoch <= epochs.current + 1, `the fuzzer prepared an id of epoch ${epoch}, past the next one after ${epochs.current}`);
          return { replica, epoch, txnIds: [...new Set(later.filter((item) => item.replica === replica && parseTxnId(item.txnId)!.epoch === epoch).map((item) => item.txnId))] };
        }),
      ];
      const cleanup = async ({ replica, txnIds, epoch }: { replica: number; txnIds: readonly string[]; epoch: number }): Promise<void> => {
        const label = "Participant.Abort (cleanup)";
        const reply = await send("Participant.Abort", replica, { txnIds, epoch }, label);
        const promised = fencedBy(reply.details);
        if (promised !== null) await send("Participant.Abort", replica, { txnIds, epoch: promised }, label);
      };
      await Promise.all(calls.map(cleanup));
    }

    // Status is asked first: a process that just crashed may not have been reaped yet, and by the
    // time Status has failed for a few seconds it has, so a crash is reported as one.
    const down = await replicasDown(target, options);
    const failure = (await deadProcess(target)) ?? undocumentedFailure(undocumented) ?? wrongAnswerFailure(wrong) ?? down;
    options.onBatch?.(executed);
    if (failure !== null) return result(failure);
  }

  const failure = (await settled(target, options)) ?? (await deadProcess(target)) ?? linearizability(history);
  await epochs.refresh();
  return result(failure);
}

/** A command for a person: with the request as sent (null: not sent, so its transaction ids are not built). */
export function describeCommand(command: Command, epoch: EpochRef | null, request: object | null): string {
  const to = command.call.service === "Participant" ? ` to ${replicaIds[command.call.replica]}` : "";
  const epochText = epoch === null ? "" : ` epoch ${describeEpoch(epoch)}`;
  return `[lane ${command.lane}] ${methodName(command.call)}${to}${epochText} ${request === null ? "(not sent)" : describeRequest(request)}`;
}

/** The Kv methods whose answer carries the id of a transaction the coordinator started for it. */
function isWrite(method: MethodName): boolean {
  switch (method) {
    case "Kv.Put":
    case "Kv.Delete":
    case "Kv.Increment":
    case "Kv.CompareAndSet":
    case "Kv.CompareAndDelete":
    case "Kv.Txn":
      return true;
    default:
      return false;
  }
}

function countOps(history: readonly HistoryEvent[]): number {
  return history.filter((event) => event.type === "invoke").length;
}

async function deadProcess(target: FuzzTarget): Promise<Failure | null> {
  for (const proc of target.processes) {
    let alive = proc.alive;
    if (alive) {
      try {
        process.kill(proc.pid, 0);
      } catch {
        alive = false;
      }
    }
    if (!alive) {
      // Let the last lines of its output arrive.
      await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 500))]);
      return {
        kind: "process-exited",
        signature: `process-exited:${proc.name === "coordinator" ? "coordinator" : "replica"}:${crashSite(proc.output)}`,
        message: `${proc.name} (pid ${proc.pid}) exited; its last output:\n${tail(proc)}`,
      };
    }
  }
  return null;
}

/**
 * Where a process died, from its last words: the error's class and the first frame of its stack
 * ("AssertionFailure@replica/core.js:222"), or "" if it printed none. The same bug dies at the same
 * place whatever the ids in its message.
 */
export function crashSite(output: readonly string[]): string {
  const lines = output.slice(-60);
  const errorAt = lines.findIndex((line) => /^\s*\w*(Error|Failure)\b/.test(line));
  if (errorAt < 0) return "";
  const name = /^\s*(\w*(?:Error|Failure))\b/.exec(lines[errorAt]!)![1]!;
  for (const line of lines.slice(errorAt + 1)) {
    const frame = /^\s*at .*?([^/\s(]+\/[^/\s(]+\.[jt]s):(\d+):\d+\)?$/.exec(line);
    if (frame !== null && !frame[1]!.endsWith("assert.js") && !frame[1]!.endsWith("assert.ts")) return `${name}@${frame[1]}:${frame[2]}`;
  }
  return name;
}

function wrongAnswerFailure(wrong: readonly { readonly method: MethodName; readonly code: number; readonly text: string }[]): Failure | null {
  const first = wrong[0];
  if (first === undefined) return null;
  return { kind: "wrong-answer", signature: `wrong-answer:${first.method}:${codeName(first.code)}`, message: `a wrong answer to a call with transaction ids: ${first.text}` };
}

function undocumentedFailure(undocumented: readonly { readonly method: MethodName; readonly code: number; readonly text: string }[]): Failure | null {
  const first = undocumented[0];
  if (first === undefined) return null;
  return { kind: "undocumented-code", signature: `undocumented-code:${first.method}:${codeName(first.code)}`, message: `a reply with an undocumented code: ${first.text}` };
}

/**
 * The coordinator must be active (again, if the batch fenced it: a takeover takes well under a
 * second) and its Status show every replica up (a replica slow under load gets a few seconds).
 */
async function replicasDown(target: FuzzTarget, options: RunOptions): Promise<Failure | null> {
  const deadlineMs = Date.now() + Math.min(5_000, options.settleTimeoutMs);
  for (;;) {
    if (target.processes.some((proc) => !proc.alive)) return null; // deadProcess reports it
    const status = await target.status(2_000);
    if (typeof status !== "string" && isServing(status)) return null;
    if (Date.now() > deadlineMs) {
      if (typeof status === "string") return { kind: "replica-down", signature: "status-failed", message: `the coordinator's Status failed: ${status}` };
      if (status.role !== "active") {
        return {
          kind: "no-active-coordinator",
          signature: "no-active-coordinator",
          message: `the coordinator is ${status.role} (epoch ${status.epoch}), not active: ${status.notReadyReason}`,
        };
      }
      const down = status.replicas.filter((replica) => !replica.up).map((replica) => `${replica.id} is down (${replica.error})`);
      const missing = replicaIds.filter((id) => !status.replicas.some((replica) => replica.id === id)).map((id) => `${id} is not listed`);
      return { kind: "replica-down", signature: "replica-down", message: `the coordinator's Status does not show every replica up: ${[...down, ...missing].join("; ")}` };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until nothing is in flight or in doubt and the replicas' checksums agree. */
async function settled(target: FuzzTarget, options: RunOptions): Promise<Failure | null> {
  const deadlineMs = Date.now() + options.settleTimeoutMs;
  let last = "";
  for (;;) {
    try {
      const status = await target.status(2_000);
      if (typeof status === "string") last = `coordinator Status: ${status}`;
      else if (status.role !== "active") last = `the coordinator is ${status.role} (epoch ${status.epoch}): ${status.notReadyReason}`;
      else if (status.inFlight.length > 0 || status.lockedKeys > 0) last = `in flight at the coordinator: ${status.inFlight.map((txn) => `${txn.txnId} (${txn.phase})`).join(", ")}; locked keys ${status.lockedKeys}`;
      else {
        const replicas = await Promise.all(replicaIds.map((_, i) => target.cluster.replicaStatus(i)));
        const inDoubt = replicas.flatMap((replica) => replica.prepared.map((txn) => `${txn.txnId} on ${replica.replicaId}`));
        if (inDoubt.length > 0) last = `in doubt: ${inDoubt.join(", ")}`;
        else {
          const checksums = await target.cluster.checksums();
          if (checksums.every((checksum) => checksum === checksums[0])) return null;
          last = `checksums ${checksums.map((checksum, i) => `${replicaIds[i]} ${checksum.slice(0, 12)}`).join(", ")}`;
          if (Date.now() > deadlineMs) {
            const contents = await target.cluster.contents();
            const differing = [...new Set(contents.flatMap((content) => [...content.keys()]))].filter(
              (key) => new Set(contents.map((content) => JSON.stringify(content.get(key) ?? null))).size > 1,
            );
            return {
              kind: "checksums-differ",
              signature: "checksums-differ",
              message: `the replicas hold different data once settled: ${last}; keys that differ: ${differing
                .slice(0, 10)
                .map((key) => `${JSON.stringify(key.slice(0, 40))}: ${contents.map((content, i) => `${replicaIds[i]}=${JSON.stringify(content.get(key) ?? null)}`).join(" ")}`)
                .join("; ")}`,
            };
          }
        }
      }
    } catch (error) {
      last = `error: ${String(error)}`;
    }
    if (Date.now() > deadlineMs) {
      return { kind: "not-settled", signature: "not-settled", message: `the cluster did not settle within ${options.settleTimeoutMs} ms: ${last}` };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function linearizability(history: readonly HistoryEvent[]): Failure | null {
  const result = checkHistory(history, { timeoutMs: 20_000, nowMs: () => Date.now() });
  switch (result.verdict) {
    case "linearizable":
      return null;
    case "not-linearizable":
      return { kind: "not-linearizable", signature: "not-linearizable", message: `the Get/Put/Delete history of the lin keys is not linearizable:\n${formatViolation(result)}` };
    case "unknown":
      return { kind: "not-linearizable", signature: "not-linearizable", message: `the linearizability check gave no verdict within its time (${result.operations} operations)` };
    default:
      return assertNever(result.verdict);
  }
}
