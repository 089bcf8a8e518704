// Simulated clients: each a closed loop of get, put and del on a small key space (so conflicts are
// frequent), talking to the coordinator over the simulated network with a deadline, as `kv bench`
// does. Their history is recorded in the format of `kv bench --history` (client/history.ts), with
// the same rules: a put's value is unique, a failure is `fail` only when it certainly had no effect,
// and a process whose write ended in `info` is retired for a new process number.
import { assertNever } from "../../common/assert";
import { Code, type CodeValue } from "../../common/errors";
import type { Write } from "../../common/types";
import type { HistoryEvent, HistoryFunction, HistoryType } from "../../client/history";
import type { Cluster, ReadRow } from "./nodes";
import { coordinatorId } from "./nodes";
import type { Proc } from "./world";

export interface WorkloadConfig {
  readonly clients: number;
  readonly keys: readonly string[];
  readonly clientTimeoutMs: number;
  readonly thinkMsMax: number;
  /** Probability of each kind of operation; put gets the rest. */
  readonly getProbability: number;
  readonly delProbability: number;
}

/**
 * How a failed operation goes into the history: as client/bench.ts classifyFailure (a test checks
 * that the two agree on every code).
 */
export function classifySimFailure(f: HistoryFunction, code: CodeValue): "fail" | "info" {
  switch (f) {
    case "get":
      return "fail";
    case "put":
    case "del":
      switch (code) {
        case Code.INVALID_ARGUMENT:
        case Code.ABORTED:
        case Code.FAILED_PRECONDITION:
        case Code.RESOURCE_EXHAUSTED:
        case Code.NOT_FOUND:
        case Code.OUT_OF_RANGE:
        case Code.ALREADY_EXISTS:
          return "fail";
        default:
          return "info";
      }
    default:
      return assertNever(f);
  }
}

interface Client {
  readonly proc: Proc;
  process: number;
  busy: boolean;
}

export class Workload {
  readonly history: HistoryEvent[] = [];
  private readonly clients: Client[] = [];
  private nextProcess: number;
  private stopped = false;
  private counter = 0;
  ops = 0;
  okOps = 0;

  constructor(
    private readonly cluster: () => Cluster,
    private readonly config: WorkloadConfig,
  ) {
    this.nextProcess = config.clients;
  }

  start(): void {
    const { world } = this.cluster();
    for (let i = 0; i < this.config.clients; i++) {
      const proc = world.addProc(`client${i}`, false);
      world.start(proc);
      const client: Client = { proc, process: i, busy: false };
      this.clients.push(client);
      world.on(proc, world.prng.next() * this.config.thinkMsMax, () => this.next(client));
    }
  }

  /** No new operations from now on; those under way finish. */
  stop(): void {
    this.stopped = true;
  }

  get idle(): boolean {
    return this.clients.every((client) => !client.busy);
  }

  private next(client: Client): void {
    if (this.stopped) return;
    const { world } = this.cluster();
    const u = world.prng.next();
    const f: HistoryFunction = u < this.config.getProbability ? "get" : u < this.config.getProbability + this.config.delProbability ? "del" : "put";
    const key = world.prng.pick(this.config.keys);
    this.run(client, f, key, () => world.on(client.proc, world.prng.next() * this.config.thinkMsMax, () => this.next(client)));
  }

  /** The final reads: every key once, by a new process, after the run healed. */
  finalReads(done: () => void): void {
    const client = this.clients[0]!;
    client.process = this.nextProcess++;
    const keys = [...this.config.keys];
    const step = (): void => {
      const key = keys.shift();
      if (key === undefined) {
        done();
        return;
      }
      this.run(client, "get", key, step);
    };
    step();
  }

  private record(type: HistoryType, process: number, f: HistoryFunction, key: string, value: string | null): void {
    this.history.push({ index: this.history.length, type, process, f, key, value, time: Math.round(this.cluster().world.nowMs * 1e6) });
  }

  private run(client: Client, f: HistoryFunction, key: string, then: () => void): void {
    const cluster = this.cluster();
    const { world, ledger } = cluster;
    client.busy = true;
    this.ops += 1;
    const process = client.process;
    const value = f === "put" ? `p${process}-${this.counter++}` : null;
    this.record("invoke", process, f, key, value);
    world.trace(`client${this.clients.indexOf(client)} p${process} invokes ${f} ${key}${value === null ? "" : `=${value}`}`);
    const complete = (type: HistoryType, readValue: string | null, note: string): void => {
      this.record(type, process, f, key, f === "get" ? readValue : value);
      world.trace(`client${this.clients.indexOf(client)} p${process} ${f} ${key}: ${type} ${note}`);
      if (type === "ok") this.okOps += 1;
      if (type === "info") client.process = this.nextProcess++;
      client.busy = false;
      then();
    };
    if (f === "get") {
      world.call<ReadRow>(
        client.proc,
        coordinatorId,
        this.config.clientTimeoutMs,
        (_target, respond, fail) => cluster.coordinator.serveRead(key, respond, fail),
        (result) => {
          if (result.ok) complete("ok", result.value.found ? result.value.value.toString("utf8") : null, `version ${result.value.version}`);
          else complete(classifySimFailure(f, result.code), null, result.reason);
        },
      );
      return;
    }
    const writes: Write[] = [{ key, value: value === null ? null : Buffer.from(value, "utf8") }];
    world.call<number>(
      client.proc,
      coordinatorId,
      this.config.clientTimeoutMs,
      (_target, respond, fail) =>
        cluster.coordinator.serveWrite(writes, (result) => (result.ok ? respond(result.commitSeq) : fail(result.code, result.message))),
      (result) => {
        if (result.ok) {
          ledger.clientAcked(key, value, result.value);
          complete("ok", null, `seq ${result.value}`);
        } else {
          complete(classifySimFailure(f, result.code), null, result.reason);
        }
      },
    );
  }
}
