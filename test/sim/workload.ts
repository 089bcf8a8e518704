// Simulated clients: each a closed loop of operations on small key spaces (so conflicts are
// frequent), talking to the coordinator over the simulated network with a deadline, as `kv bench`
// does:
// - registers (k0..): get, put and del. Their history is recorded in the format of
//   `kv bench --history` (client/history.ts), with the same rules: a put's value is unique, a
//   failure is `fail` only when it certainly had no effect, and a process whose write ended in
//   `info` is retired for a new process number. It is checked for linearizability at the end.
// - counters: `up` takes increments of +1 (each acknowledged one returns a value no other did),
//   `stock` takes increments and decrements bounded to [0, stockMax].
// - accounts (acct0..): one conditional transaction funds them all (if acct0 does not exist), then
//   transfers move an amount from one to another in one transaction (a decrement with floor 0 and
//   an increment), and snapshots read them all: every snapshot sums to the funds put in.
// - `cas`: an integer advanced by compare-and-set on its version or its value, with or without an
//   else branch that reads it.
// Most writes carry a request id, and a client retries one after UNAVAILABLE or a deadline with the
// same id (as client/client.ts does) until it gets a definite answer; the network may deliver such
// a request twice. Counters must then hold exactly the increments acknowledged, give or take the
// ones whose outcome stayed unknown.
import { assertNever } from "../../common/assert";
import { Code, type CodeValue } from "../../common/errors";
import type { Condition, Operation as TxnOperation, Program, TxnOutcome } from "../../common/txn";
import type { Write } from "../../common/types";
import type { TxnStatus, WriteResult } from "../../coordinator/core";
import type { HistoryEvent, HistoryFunction, HistoryType } from "../../tools/check/history";
import { SimViolation } from "./checks";
import type { Cluster, ReadRow } from "./nodes";
import { standbyPrefix, type CoordinatorHost } from "./nodes";
import type { Proc } from "./world";
import { classifyFailure } from "../../tools/bench/bench";
import { definiteFailureCodes } from "../../coordinator/records";

export interface WorkloadConfig {
  readonly clients: number;
  /** The register keys. */
  readonly keys: readonly string[];
  readonly clientTimeoutMs: number;
  readonly thinkMsMax: number;
  /** Probability of each kind of register operation; put gets the rest. */
  readonly getProbability: number;
  readonly delProbability: number;
  /** Share of operations on the counters, the accounts and the `cas` key; the registers get the rest. */
  readonly counterShare: number;
  readonly accountShare: number;
  readonly casShare: number;
  readonly accounts: number;
  /** Share of writes that carry a request id (and are retried with it until definite). */
  readonly requestIdProbability: number;
  /** Probability that the network delivers a client request that carries a request id twice. */
  readonly duplicateRequestProbability: number;
  /** Planted bug: a retry carries a new request id (a client that makes one up per call). */
  readonly newRequestIdPerRetry: boolean;
  /** Share of operations that are an operator's `kv resolve` (commit or abort) of a transaction id. */
  readonly resolveShare: number;
}

export const upKey = "up";
export const stockKey = "stock";
export const casKey = "cas";
export const stockMax = 10;
export const fundsPerAccount = 100;
export function accountKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `acct${i}`);
}

/** Client-side backoff between retries of a request, as client/client.ts. */
const retryBackoffMsMin = 50;
const retryBackoffMsMax = 1_000;
/** How many times one operation follows a standby's refusal to another coordinator. */
const standbyRetriesMax = 20;

interface Client {
  readonly proc: Proc;
  readonly name: string;
  process: number;
  busy: boolean;
  /** This client saw the accounts funded. */
  funded: boolean;
  /** The `cas` key as this client last saw it (value null: absent), or null when it must read it first. */
  cas: { value: number | null; version: number } | null;
  /** The coordinator it sends to (an index into the coordinators), as the client library keeps one. */
  coordinator: number;
}

/** A write as the client library sends it: blind writes or a transaction, with or without a request id. */
interface Request {
  /** Names the client operation; it is also its request id when it carries one. */
  readonly id: string;
  readonly what: string;
  readonly writes: readonly Write[] | null;
  readonly program: Program | null;
  readonly withId: boolean;
}

type Committed = Extract<WriteResult, { ok: true }>;

/**
 * How a request ended: ok; failed with certainly nothing written; or unknown: it may have been
 * written (no definite answer, or a definite failure of one attempt while another attempt or a
 * duplicate of one may still arrive and run).
 */
type Answer = { readonly kind: "ok"; readonly result: Committed } | { readonly kind: "fail" | "unknown"; readonly code: CodeValue; readonly reason: string };

/** An operation on a counter (or `cas`) whose outcome the client never learned. */
interface Unknown {
  readonly id: string;
  readonly key: string;
  /** What it adds if it was applied. */
  readonly delta: number;
  readonly withId: boolean;
}

export class Workload {
  readonly history: HistoryEvent[] = [];
  private readonly clients: Client[] = [];
  private nextProcess: number;
  private stopped = false;
  private counter = 0;
  ops = 0;
  okOps = 0;
  readonly accounts: readonly string[];
  /** Per counter key (up, stock, cas): the sum of the deltas of acknowledged increments. */
  private readonly ackedDelta = new Map<string, number>();
  private readonly unknowns: Unknown[] = [];
  /** Values returned by acknowledged increments of `up`, and written by acknowledged compare-and-sets. */
  private readonly upValues = new Set<number>();
  private readonly casValues = new Set<number>();

  constructor(
    private readonly cluster: () => Cluster,
    private readonly config: WorkloadConfig,
  ) {
    this.nextProcess = config.clients;
    this.accounts = accountKeys(config.accounts);
  }

  start(): void {
    const { world, ledger } = this.cluster();
    ledger.bounds.set(stockKey, [0, stockMax]);
    for (const key of this.accounts) ledger.bounds.set(key, [0, fundsPerAccount * this.accounts.length]);
    for (let i = 0; i < this.config.clients; i++) {
      const proc = world.addProc(`client${i}`, false);
      world.start(proc);
      const client: Client = { proc, name: `client${i}`, process: i, busy: false, funded: false, cas: null, coordinator: 0 };
      this.clients.push(client);
      world.on(proc, world.prng.next() * this.config.thinkMsMax, () => this.next(client));
    }
  }

  /** The coordinator a client sends to now. */
  private target(client: Client): { readonly id: string; readonly host: CoordinatorHost } {
    const ids = this.cluster().config.coordinatorIds;
    const id = ids[client.coordinator % ids.length]!;
    return { id, host: this.cluster().coordinators.get(id)! };
  }

  /**
   * After UNAVAILABLE or a deadline, the client tries the next coordinator (as the client library
   * does when a coordinator refuses the connection or stands by). Returns true for a standby's
   * refusal: nothing ran, so even a request without a request id may go again.
   */
  private failedOver(client: Client, code: CodeValue, reason: string): boolean {
    if (code !== Code.UNAVAILABLE && code !== Code.DEADLINE_EXCEEDED) return false;
    client.coordinator += 1;
    const standby = code === Code.UNAVAILABLE && reason.startsWith(standbyPrefix);
    if (standby) this.cluster().world.count("client-redirected-by-standby");
    return standby;
  }

  /** No new operations from now on; those under way finish (retrying until definite). */
  stop(): void {
    this.stopped = true;
  }

  get idle(): boolean {
    return this.clients.every((client) => !client.busy);
  }

  private next(client: Client): void {
    if (this.stopped) return;
    const { world } = this.cluster();
    const then = (): void => world.on(client.proc, world.prng.next() * this.config.thinkMsMax, () => this.next(client));
    const c = this.config;
    if (c.resolveShare > 0 && world.prng.next() < c.resolveShare) {
      this.resolveOp(client, then);
      return;
    }
    const u = world.prng.next();
    if (u < c.counterShare) {
      this.counterOp(client, then);
      return;
    }
    if (u < c.counterShare + c.accountShare) {
      this.accountOp(client, then);
      return;
    }
    if (u < c.counterShare + c.accountShare + c.casShare) {
      this.casOp(client, then);
      return;
    }
    const v = world.prng.next();
    const f: HistoryFunction = v < c.getProbability ? "get" : v < c.getProbability + c.delProbability ? "del" : "put";
    const key = world.prng.pick(c.keys);
    this.run(client, f, key, then);
  }

  /**
   * An operator's `kv resolve`: commit or abort of a transaction id, in doubt, in flight or long
   * finished (one of the newest ids the coordinator prepared, or any). An answer "done" must agree
   * with what the transaction became (the ledger's resolve check).
   */
  private resolveOp(client: Client, then: () => void): void {
    const cluster = this.cluster();
    const { world, ledger } = cluster;
    const known = ledger.preparedTxnIds;
    if (known.length === 0) {
      then();
      return;
    }
    const txnId = world.prng.next() < 0.5 ? known[Math.max(0, known.length - 1 - world.prng.int(0, 3))]! : world.prng.pick(known);
    const choice = world.prng.pick(["commit", "abort"] as const);
    client.busy = true;
    world.count("operator-resolve");
    const coordinator = this.target(client);
    world.call<WriteResult>(
      client.proc,
      coordinator.id,
      this.config.clientTimeoutMs,
      (_target, respond) => coordinator.host.serveResolve(txnId, choice, respond),
      (result) => {
        if (!result.ok) this.failedOver(client, result.code, result.reason);
        else if (!result.value.ok) this.failedOver(client, result.value.code, result.value.message);
        world.trace(`${client.name} resolve ${txnId} ${choice}: ${result.ok ? (result.value.ok ? `done (${result.value.message ?? ""})` : `refused (${result.value.message})`) : result.reason}`);
        // An abort was checked as the core answered it (CoordinatorHost.traceTurn); a commit is checked here.
        if (result.ok && result.value.ok) {
          world.count(`operator-resolve-${choice}-done`);
          if (choice === "commit") ledger.resolved(txnId, "commit");
        }
        client.busy = false;
        then();
      },
    );
  }

  /** The final reads: every register once, by a new process, after the run healed. */
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

  /**
   * After the heal: asks txn-status about every counter operation whose outcome stayed unknown (the
   * coordinator's node checks each answer against what committed). One that committed counts as
   * acknowledged from then on; one reported aborted stays unknown, as a stray copy may still run it.
   */
  finalStatuses(done: () => void): void {
    const cluster = this.cluster();
    const client = this.clients[0]!;
    const queue = this.unknowns.filter((unknown) => unknown.withId);
    const step = (): void => {
      const unknown = queue.shift();
      if (unknown === undefined) {
        done();
        return;
      }
      const coordinator = this.target(client);
      cluster.world.call<TxnStatus>(
        client.proc,
        coordinator.id,
        this.config.clientTimeoutMs,
        (_target, respond, fail) => coordinator.host.serveStatus(unknown.id, respond, fail),
        (result) => {
          if (!result.ok && this.failedOver(client, result.code, result.reason)) {
            // A standby: ask the next coordinator.
            queue.unshift(unknown);
            return step();
          }
          if (result.ok && result.value.state === "committed") {
            cluster.world.count("txn-status-resolved-committed");
            this.unknowns.splice(this.unknowns.indexOf(unknown), 1);
            // A compare-and-set that committed without writing took its else branch.
            if (unknown.key !== casKey || result.value.commitSeq > 0) this.acked(unknown.key, unknown.delta);
          }
          step();
        },
      );
    };
    step();
  }

  private record(type: HistoryType, process: number, f: HistoryFunction, key: string, value: string | null): void {
    this.history.push({ index: this.history.length, type, process, f, key, value, time: Math.round(this.cluster().world.nowMs * 1e6) });
  }

  private acked(key: string, delta: number): void {
    this.ackedDelta.set(key, (this.ackedDelta.get(key) ?? 0) + delta);
  }

  private violation(check: ConstructorParameters<typeof SimViolation>[0], message: string): never {
    throw new SimViolation(check, message);
  }

  /**
   * Sends a write and retries it after UNAVAILABLE or a deadline, with the same request id, until a
   * definite answer (a write without a request id is not retried: its outcome is then unknown).
   */
  private send(client: Client, request: Request, done: (answer: Answer) => void): void {
    const cluster = this.cluster();
    const { world, ledger } = cluster;
    let attempts = 0;
    /** Asked again once after a definite failure, with the same request id (it must get the same failure). */
    let reasked = false;
    let copies = 0;
    let backoffMs = retryBackoffMsMin;
    const attempt = (): void => {
      attempts += 1;
      const requestId = !request.withId ? null : this.config.newRequestIdPerRetry && attempts > 1 ? `${request.id}.${attempts}` : request.id;
      if (requestId !== null) ledger.attempt(requestId, request.id);
      if (attempts > 1) world.count("client-retry");
      const coordinator = this.target(client);
      copies += world.call<WriteResult>(
        client.proc,
        coordinator.id,
        this.config.clientTimeoutMs,
        (_target, respond) =>
          request.program === null ? coordinator.host.serveWrite(request.writes!, requestId, respond) : coordinator.host.serveTxn(requestId, request.program, respond),
        (result) => {
          if (result.ok && result.value.ok) {
            const committed = result.value;
            if (request.withId) ledger.clientAckedTxn(request.id, committed);
            done({ kind: "ok", result: committed });
            return;
          }
          const code = result.ok ? (result.value as Extract<WriteResult, { ok: false }>).code : result.code;
          const reason = result.ok ? (result.value as Extract<WriteResult, { ok: false }>).message : result.reason;
          if (code === Code.UNAVAILABLE || code === Code.DEADLINE_EXCEEDED) {
            const refusedByStandby = this.failedOver(client, code, reason);
            if (requestId === null && !(refusedByStandby && attempts < standbyRetriesMax)) {
              done({ kind: "unknown", code, reason });
              return;
            }
            world.on(client.proc, backoffMs, attempt);
            backoffMs = Math.min(backoffMs * 2, retryBackoffMsMax);
            return;
          }
          // A definite failure of this attempt. Another attempt, or a copy of one, may still be on
          // its way to the coordinator, and would run the request again.
          if (request.withId) ledger.clientFailed(request.id, requestId ?? request.id, code);
          // A definite failure stays true for the request: a client may ask again under the same
          // request id and must hear it again, nothing run (the definite-failure check watches).
          if (requestId !== null && !reasked && !this.stopped && definiteFailureCodes.includes(code) && world.prng.next() < 0.3) {
            reasked = true;
            world.count("client-reasked-after-definite-failure");
            world.on(client.proc, backoffMs, attempt);
            return;
          }
          done({ kind: attempts === 1 && copies <= 1 && classifyFailure("put", code) === "fail" ? "fail" : "unknown", code, reason });
        },
        requestId === null || this.stopped ? 0 : this.config.duplicateRequestProbability,
      );
    };
    attempt();
  }

  /** Runs one transaction for a client: traces it, counts it, sends it, and hands over its answer. */
  private txn(client: Client, what: string, program: Program, handle: (answer: Answer, request: Request) => void, then: () => void): void {
    const { world } = this.cluster();
    client.busy = true;
    this.ops += 1;
    const id = `${client.name}-${this.counter++}`;
    const withId = world.prng.next() < this.config.requestIdProbability;
    world.trace(`${client.name} invokes ${what}${withId ? ` (request id ${id})` : ""}`);
    const request: Request = { id, what, writes: null, program, withId };
    this.send(client, request, (answer) => {
      world.trace(`${client.name} ${what}: ${answer.kind === "ok" ? `ok seq ${answer.result.commitSeq} ${describeOutcome(answer.result.outcome)}` : `${answer.kind} ${answer.reason}`}`);
      if (answer.kind === "ok") this.okOps += 1;
      if (answer.kind === "unknown" && program.then.length === 1 && program.then[0]!.kind === "incr") {
        const op = program.then[0]!;
        this.unknowns.push({ id, key: op.key, delta: op.delta, withId });
      }
      handle(answer, request);
      client.busy = false;
      then();
    });
  }

  private counterOp(client: Client, then: () => void): void {
    const { world, ledger } = this.cluster();
    if (world.prng.next() < 0.5) {
      const program: Program = { conditions: [], then: [{ kind: "incr", key: upKey, delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
      this.txn(client, `incr ${upKey} +1`, program, (answer) => {
        if (answer.kind !== "ok") return;
        const value = incrResult(answer.result.outcome, upKey);
        if (this.upValues.has(value)) this.violation("counter", `two acknowledged increments of ${upKey} returned ${value} (the last one: ${answer.result.txnId})`);
        this.upValues.add(value);
        this.acked(upKey, 1);
      }, then);
      return;
    }
    const delta = world.prng.pick([1, 2, 3, -1, -2, -3]);
    const program: Program = { conditions: [], then: [{ kind: "incr", key: stockKey, delta, min: 0, max: stockMax, mustExist: false }], otherwise: null };
    this.txn(client, `incr ${stockKey} ${delta > 0 ? "+" : ""}${delta} in [0, ${stockMax}]`, program, (answer) => {
      if (answer.kind !== "ok") return;
      ledger.checkBounds(`an increment returned`, stockKey, incrResult(answer.result.outcome, stockKey));
      this.acked(stockKey, delta);
    }, then);
  }

  private accountOp(client: Client, then: () => void): void {
    const { world, ledger } = this.cluster();
    const accounts = this.accounts;
    const total = fundsPerAccount * accounts.length;
    if (!client.funded) {
      // Funds every account at once, unless they are funded already (then it reads acct0).
      const program: Program = {
        conditions: [{ key: accounts[0]!, target: "exists", exists: false }],
        then: accounts.map((key): TxnOperation => ({ kind: "put", key, value: Buffer.from(String(fundsPerAccount)) })),
        otherwise: [{ kind: "get", key: accounts[0]! }],
      };
      this.txn(client, `fund ${accounts.join(" ")} with ${fundsPerAccount} each (if ${accounts[0]} does not exist)`, program, (answer) => {
        if (answer.kind === "ok") client.funded = true;
      }, then);
      return;
    }
    if (world.prng.next() < 0.6) {
      const from = world.prng.pick(accounts);
      const to = world.prng.pick(accounts.filter((key) => key !== from));
      const amount = world.prng.int(1, fundsPerAccount);
      const program: Program = {
        conditions: [],
        then: [
          { kind: "incr", key: from, delta: -amount, min: 0, max: null, mustExist: true },
          { kind: "incr", key: to, delta: amount, min: null, max: null, mustExist: true },
        ],
        otherwise: null,
      };
      this.txn(client, `transfer ${amount} ${from} -> ${to}`, program, (answer) => {
        if (answer.kind !== "ok") return;
        ledger.checkBounds("a transfer returned", from, incrResult(answer.result.outcome, from));
        ledger.checkBounds("a transfer returned", to, incrResult(answer.result.outcome, to));
      }, then);
      return;
    }
    const sawFunded = client.funded;
    const program: Program = { conditions: [], then: accounts.map((key): TxnOperation => ({ kind: "get", key })), otherwise: null };
    this.txn(client, `snapshot ${accounts.join(" ")}`, program, (answer) => {
      if (answer.kind !== "ok") return;
      const states = accounts.map((key) => {
        const result = answer.result.outcome?.results.find((op) => op.kind === "get" && op.key === key);
        if (result?.kind !== "get") this.violation("transfer-invariant", `a snapshot's result lacks ${key}: ${describeOutcome(answer.result.outcome)}`);
        return result.state === null ? null : Number(result.state.value.toString("utf8"));
      });
      for (const [i, value] of states.entries()) ledger.checkBounds("a snapshot read", accounts[i]!, value);
      if (states.every((value) => value === null)) {
        if (sawFunded) this.violation("transfer-invariant", `a snapshot by ${client.name} sees no account, after it saw them funded`);
        return;
      }
      const sum = states.reduce<number>((a, b) => a + (b ?? 0), 0);
      if (states.some((value) => value === null) || sum !== total) {
        this.violation("transfer-invariant", `a snapshot sees ${accounts.map((key, i) => `${key}=${states[i] ?? "absent"}`).join(" ")}: sum ${sum}, funds put in ${total}`);
      }
    }, then);
  }

  private casOp(client: Client, then: () => void): void {
    const { world } = this.cluster();
    const known = client.cas;
    if (known === null) {
      const program: Program = { conditions: [], then: [{ kind: "get", key: casKey }], otherwise: null };
      this.txn(client, `get ${casKey}`, program, (answer) => {
        if (answer.kind === "ok") client.cas = casState(answer.result.outcome);
      }, then);
      return;
    }
    const byVersion = world.prng.next() < 0.5;
    const withElse = world.prng.next() < 0.5;
    const next = (known.value ?? 0) + 1;
    const condition: Condition = byVersion
      ? { key: casKey, target: "version", op: "=", version: known.version }
      : known.value === null
        ? { key: casKey, target: "exists", exists: false }
        : { key: casKey, target: "value", op: "=", value: Buffer.from(String(known.value)) };
    const program: Program = {
      conditions: [condition],
      then: [{ kind: "put", key: casKey, value: Buffer.from(String(next)) }],
      otherwise: withElse ? [{ kind: "get", key: casKey }] : null,
    };
    const what = `cas ${casKey}: if ${byVersion ? `version ${known.version}` : `value ${known.value ?? "absent"}`} then ${next}${withElse ? " else get" : ""}`;
    this.txn(client, what, program, (answer, request) => {
      client.cas = null;
      if (answer.kind === "unknown") this.unknowns.push({ id: request.id, key: casKey, delta: 1, withId: request.withId });
      if (answer.kind !== "ok") return;
      const outcome = answer.result.outcome;
      if (outcome?.branch === "else") {
        client.cas = casState(outcome);
        return;
      }
      if (this.casValues.has(next)) this.violation("counter", `two acknowledged compare-and-sets of ${casKey} wrote ${next} (the last one: ${answer.result.txnId})`);
      this.casValues.add(next);
      this.acked(casKey, 1);
      client.cas = { value: next, version: answer.result.commitSeq };
    }, then);
  }

  /**
   * The end checks of the counters, accounts and `cas` against the settled store: each counter
   * holds its acknowledged increments plus some of those whose outcome stayed unknown, and the
   * accounts sum to the funds put in.
   */
  finalCheck(valueOf: (key: string) => string | null): void {
    for (const key of [upKey, stockKey, casKey]) {
      const text = valueOf(key);
      const value = text === null ? 0 : Number(text);
      const unknown = this.unknowns.filter((u) => u.key === key);
      const low = unknown.reduce((sum, u) => sum + Math.min(0, u.delta), 0);
      const high = unknown.reduce((sum, u) => sum + Math.max(0, u.delta), 0);
      const acked = this.ackedDelta.get(key) ?? 0;
      if (value - acked < low || value - acked > high) {
        this.violation(
          "counter",
          `${key} holds ${text ?? "nothing"}, but the acknowledged operations add ${acked} and the ${unknown.length} of unknown outcome between ${low} and ${high}`,
        );
      }
    }
    const states = this.accounts.map(valueOf);
    if (states.every((value) => value === null)) return;
    const sum = states.reduce((a, b) => a + Number(b ?? "0"), 0);
    if (states.some((value) => value === null) || sum !== fundsPerAccount * this.accounts.length) {
      this.violation("transfer-invariant", `the settled store holds ${this.accounts.map((key, i) => `${key}=${states[i] ?? "absent"}`).join(" ")}: sum ${sum}, funds put in ${fundsPerAccount * this.accounts.length}`);
    }
  }

  /** A register operation: a get, or a put or del (with a request id, retried, or without). */
  private run(client: Client, f: HistoryFunction, key: string, then: () => void): void {
    const cluster = this.cluster();
    const { world, ledger } = cluster;
    client.busy = true;
    this.ops += 1;
    const process = client.process;
    const value = f === "put" ? `p${process}-${this.counter++}` : null;
    this.record("invoke", process, f, key, value);
    world.trace(`${client.name} p${process} invokes ${f} ${key}${value === null ? "" : `=${value}`}`);
    const complete = (type: HistoryType, readValue: string | null, note: string): void => {
      this.record(type, process, f, key, f === "get" ? readValue : value);
      world.trace(`${client.name} p${process} ${f} ${key}: ${type} ${note}`);
      if (type === "ok") this.okOps += 1;
      if (type === "info") client.process = this.nextProcess++;
      client.busy = false;
      then();
    };
    if (f === "get") {
      let attempts = 0;
      const read = (): void => {
        attempts += 1;
        const coordinator = this.target(client);
        world.call<ReadRow>(
          client.proc,
          coordinator.id,
          this.config.clientTimeoutMs,
          (_target, respond, fail) => coordinator.host.serveRead(key, respond, fail),
          (result) => {
            if (result.ok) return complete("ok", result.value.found ? result.value.value.toString("utf8") : null, `version ${result.value.version}`);
            // A standby's refusal read nothing: read again at the next coordinator.
            if (this.failedOver(client, result.code, result.reason) && attempts < standbyRetriesMax) return world.on(client.proc, retryBackoffMsMin, read);
            complete(classifyFailure(f, result.code), null, result.reason);
          },
        );
      };
      read();
      return;
    }
    const writes: Write[] = [{ key, value: value === null ? null : Buffer.from(value, "utf8") }];
    const id = `${client.name}-${this.counter++}`;
    const withId = world.prng.next() < this.config.requestIdProbability;
    this.send(client, { id, what: `${f} ${key}`, writes, program: null, withId }, (answer) => {
      if (answer.kind === "ok") {
        ledger.clientAcked(key, value, answer.result.commitSeq);
        complete("ok", null, `seq ${answer.result.commitSeq}`);
        return;
      }
      complete(answer.kind === "fail" ? "fail" : "info", null, answer.reason);
    });
  }
}

function incrResult(outcome: TxnOutcome | undefined, key: string): number {
  const result = outcome?.results.find((op) => op.kind === "incr" && op.key === key);
  if (result?.kind !== "incr") throw new SimViolation("client-ack-without-decision", `an acknowledged increment of ${key} has no result for it: ${describeOutcome(outcome)}`);
  return result.value;
}

function casState(outcome: TxnOutcome | undefined): { value: number | null; version: number } | null {
  const result = outcome?.results.find((op) => op.kind === "get" && op.key === casKey);
  if (result?.kind !== "get") return null;
  return result.state === null ? { value: null, version: 0 } : { value: Number(result.state.value.toString("utf8")), version: result.state.version };
}

function describeOutcome(outcome: TxnOutcome | undefined): string {
  if (outcome === undefined) return "";
  const results = outcome.results.map((op) => {
    switch (op.kind) {
      case "put":
      case "del":
        return `${op.kind} ${op.key}`;
      case "incr":
        return `${op.key}=${op.value}`;
      case "get":
        return `${op.key}=${op.state === null ? "absent" : `${op.state.value.toString("utf8")}@${op.state.version}`}`;
      default:
        return assertNever(op);
    }
  });
  return `${outcome.branch}: ${results.join(" ")}`;
}
