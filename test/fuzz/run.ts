// One fuzz run against a real cluster: the commands in batches, each batch's lanes concurrently
// (a lane's commands one after another), and after every batch the checks that a crash cannot
// pass: no process exited (by pid), every reply's code is documented for its method (codes.ts),
// and the coordinator's Status answers with every replica up. At the end, once the cluster has
// settled (no transaction in flight or prepared anywhere, within a deadline), every replica's Dump
// checksum must be equal and the history of the lin keys' Get/Put/Delete must be linearizable
// (client/check.ts, the checker of `kv check`).
import * as grpc from "@grpc/grpc-js";
import { assertNever } from "../../common/assert";
import { Code, codeName } from "../../common/errors";
import { parseTxnId } from "../../common/txn-id";
import { classifyFailure } from "../../tools/bench/bench";
import { checkHistory, formatViolation } from "../../tools/check/check";
import type { HistoryEvent, HistoryType } from "../../tools/check/history";
import { channelOptions, kvProto, participantProto } from "../../proto/load";
import type { StatusResponse__Output } from "../../proto/gen/twopc/kv/StatusResponse";
import { TestCluster, type Proc } from "../integration/harness";
import { isDocumented } from "./codes";
import { describeRequest, lanesMax, materialize, methodName, replicaIds, RunNames, type Command, type Materialized, type MethodName } from "./model";

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

  static async start(): Promise<FuzzTarget> {
    return new FuzzTarget(await TestCluster.start({ replicas: replicaIds.length, logLevel: "warn" }));
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

export type FailureKind = "process-exited" | "undocumented-code" | "replica-down" | "not-settled" | "checksums-differ" | "not-linearizable";

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
  /** Each command sent, in execution order, as a person reads it (ids as they were materialized). */
  readonly sent: readonly string[];
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

  for (let start = 0; start < commands.length; start += options.batchSize) {
    const batch = commands.slice(start, start + options.batchSize);
    // Materialized in command order before any is sent, so names do not depend on timing.
    const items = batch.map((command) => ({ command, built: materialize(command.call, names) }));
    for (const { command, built } of items) sent.push(describeCommand(command, built.request));
    const undocumented: { readonly method: MethodName; readonly code: number; readonly text: string }[] = [];
    const lanes = new Map<number, typeof items>();
    for (const item of items) lanes.set(item.command.lane, [...(lanes.get(item.command.lane) ?? []), item]);

    const send = async (method: MethodName, replica: number, request: object, label: string = method): Promise<Reply> => {
      const reply = await target.call(method, replica, request, options.callTimeoutMs);
      if (reply.code === Code.INTERNAL && reply.details.includes("serialization failure")) {
        throw new Error(`the fuzzer built a request gRPC cannot encode: ${method} ${describeRequest(request)}: ${reply.details}`);
      }
      count(counts, label, reply.code);
      if (!isDocumented(method, reply.code)) {
        const to = method.startsWith("Participant") ? replicaIds[replica] : "the coordinator";
        undocumented.push({ method, code: reply.code, text: `${method} to ${to} answered ${codeName(reply.code)} (${reply.details})\n    request: ${describeRequest(request)}` });
      }
      return reply;
    };

    await Promise.all(
      [...lanes.entries()].map(async ([lane, laneItems]) => {
        for (const { command, built } of laneItems) {
          const method = methodName(command.call);
          const op = built.recorded;
          const process = processOfLane[lane]!;
          if (op !== null) record("invoke", process, op, op.f === "get" ? null : op.value);
          const reply = await send(method, command.call.service === "Participant" ? command.call.replica : 0, built.request);
          if (reply.code === Code.OK) names.noteTxnId((reply.response as { txnId?: unknown } | undefined)?.txnId);
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

    // Rule (d): what this batch prepared is aborted everywhere, well-formed ids in one call each.
    const prepared = [...new Set(items.flatMap((item) => item.built.prepared))];
    if (prepared.length > 0) {
      const wellFormed = prepared.filter((id) => {
        const parsed = /^[1-9]\d*\.[1-9]\d*$/.test(id) ? parseTxnId(id) : null;
        return parsed !== null && Number.isSafeInteger(parsed.epoch) && Number.isSafeInteger(parsed.counter);
      });
      const others = prepared.filter((id) => !wellFormed.includes(id));
      const calls = [wellFormed, ...others.map((id) => [id])].filter((ids) => ids.length > 0);
      await Promise.all(replicaIds.flatMap((_, replica) => calls.map((txnIds) => send("Participant.Abort", replica, { txnIds }, "Participant.Abort (cleanup)"))));
    }

    // Status is asked first: a process that just crashed may not have been reaped yet, and by the
    // time Status has failed for a few seconds it has, so a crash is reported as one.
    const down = await replicasDown(target, options);
    const failure = (await deadProcess(target)) ?? undocumentedFailure(undocumented) ?? down;
    options.onBatch?.(executed);
    if (failure !== null) return { counts, executed, failure, historyOps: countOps(history), sent };
  }

  const failure = (await settled(target, options)) ?? (await deadProcess(target)) ?? linearizability(history);
  return { counts, executed, failure, historyOps: countOps(history), sent };
}

export function describeCommand(command: Command, request: object): string {
  const to = command.call.service === "Participant" ? ` to ${replicaIds[command.call.replica]}` : "";
  return `[lane ${command.lane}] ${methodName(command.call)}${to} ${describeRequest(request)}`;
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

function undocumentedFailure(undocumented: readonly { readonly method: MethodName; readonly code: number; readonly text: string }[]): Failure | null {
  const first = undocumented[0];
  if (first === undefined) return null;
  return { kind: "undocumented-code", signature: `undocumented-code:${first.method}:${codeName(first.code)}`, message: `a reply with an undocumented code: ${first.text}` };
}

async function coordinatorStatus(target: FuzzTarget, timeoutMs: number): Promise<StatusResponse__Output | string> {
  const reply = await target.call("Kv.Status", 0, {}, timeoutMs);
  return reply.code === Code.OK ? (reply.response as StatusResponse__Output) : `${codeName(reply.code)}: ${reply.details}`;
}

/** The coordinator's Status must show every replica up (a replica slow under load gets a few seconds). */
async function replicasDown(target: FuzzTarget, options: RunOptions): Promise<Failure | null> {
  const deadlineMs = Date.now() + Math.min(5_000, options.settleTimeoutMs);
  for (;;) {
    if (target.processes.some((proc) => !proc.alive)) return null; // deadProcess reports it
    const status = await coordinatorStatus(target, 2_000);
    const down = typeof status === "string" ? [] : status.replicas.filter((replica) => !replica.up);
    if (typeof status !== "string" && down.length === 0) return null;
    if (Date.now() > deadlineMs) {
      const why = typeof status === "string" ? `Status failed: ${status}` : down.map((replica) => `${replica.id} is down (${replica.error})`).join("; ");
      return { kind: "replica-down", signature: typeof status === "string" ? "status-failed" : "replica-down", message: `the coordinator's Status does not show every replica up: ${why}` };
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
      const status = await coordinatorStatus(target, 2_000);
      if (typeof status === "string") last = `coordinator Status: ${status}`;
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
