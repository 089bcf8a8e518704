// The simulated world: a virtual clock, one seeded PRNG, an event queue, a network between every
// pair of nodes, and calls (request, answer, deadline) over it, as gRPC gives them to the shells.
//
// Nothing here reads a wall clock or Math.random: one seed decides every event of a run. Events at
// the same virtual time run in the order they were scheduled.
import { assert } from "../../common/assert";
import { Code, type CodeValue } from "../../common/errors";
import { Prng } from "../../common/prng";

export type NodeId = string;

/** What the network does to messages: chosen per run, and switched off when the run heals. */
export interface NetworkProfile {
  /** Usual one-way delay: uniform in [delayMsMin, delayMsMax]. */
  delayMsMin: number;
  delayMsMax: number;
  /** Probability that a message is late (reordered behind later ones) by up to lateMsMax. */
  lateProbability: number;
  lateMsMax: number;
  dropProbability: number;
  duplicateProbability: number;
}

interface Event {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A binary min-heap of events by (time, sequence). */
class EventQueue {
  private readonly heap: Event[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(event: Event): void {
    const heap = this.heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  pop(): Event | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: Event, b: Event): boolean {
  return a.atMs !== b.atMs ? a.atMs < b.atMs : a.seq < b.seq;
}

/** One line of the trace: when, where, what. */
export interface TraceLine {
  readonly step: number;
  readonly atMs: number;
  readonly text: string;
}

/**
 * A process the world runs: it can be down, up, or paused. Everything scheduled for it carries its
 * incarnation, so nothing scheduled before a crash runs after it; while it is paused, what arrives
 * waits, as it would in the socket buffers of a stopped process.
 */
export class Proc {
  incarnation = 0;
  up = false;
  /** Up and accepting connections (a coordinator listens only once its start record is forced). */
  listening = false;
  paused = false;
  /** Work that arrived while paused, run in order on resume. */
  deferred: (() => void)[] = [];
  /** Calls this process is serving, answered with UNAVAILABLE (connection reset) if it crashes. */
  readonly serving = new Map<number, (code: CodeValue, reason: string) => void>();

  constructor(
    readonly id: NodeId,
    /** Messages between two duplicable processes may be delivered twice. */
    readonly duplicable: boolean,
  ) {}
}

export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: CodeValue; readonly reason: string };

export class World {
  readonly prng: Prng;
  nowMs = 0;
  /** Events run so far: the "step" a failure names. */
  step = 0;
  private seq = 0;
  private readonly queue = new EventQueue();
  private readonly procs = new Map<NodeId, Proc>();
  /** Unordered pairs of nodes that cannot reach each other: "a|b" with a < b. */
  private readonly cut = new Set<string>();
  private nextCallId = 1;
  /** The last lines of the trace (all of them go to onTrace when tracing). */
  private readonly recent: TraceLine[] = [];
  private recentStart = 0;
  readonly recentMax: number;
  /** Faults injected, by kind, for the summary. */
  readonly faults = new Map<string, number>();
  readonly paths = new Map<string, number>();
  messages = 0;

  constructor(
    seed: number,
    public network: NetworkProfile,
    private readonly traceOn: boolean,
    private readonly onTrace: ((line: TraceLine) => void) | null,
    recentMax = 80,
  ) {
    this.prng = new Prng(seed);
    this.recentMax = recentMax;
  }

  /** False in fast runs: nothing is traced (a failing seed is run again with tracing on). */
  get tracing(): boolean {
    return this.traceOn;
  }

  trace(text: string): void {
    if (!this.traceOn) return;
    const line = { step: this.step, atMs: this.nowMs, text };
    if (this.recent.length < this.recentMax) this.recent.push(line);
    else {
      this.recent[this.recentStart] = line;
      this.recentStart = (this.recentStart + 1) % this.recentMax;
    }
    this.onTrace?.(line);
  }

  lastTrace(): TraceLine[] {
    return [...this.recent.slice(this.recentStart), ...this.recent.slice(0, this.recentStart)];
  }

  countFault(kind: string): void {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
  }

  /** Protocol paths taken (compactions, catch-ups, ...), for the summary. */
  count(kind: string): void {
    this.paths.set(kind, (this.paths.get(kind) ?? 0) + 1);
  }

  addProc(id: NodeId, duplicable = true): Proc {
    const proc = new Proc(id, duplicable);
    this.procs.set(id, proc);
    return proc;
  }

  proc(id: NodeId): Proc {
    const proc = this.procs.get(id);
    assert(proc !== undefined, `no process ${id}`);
    return proc;
  }

  /** Runs fn at nowMs + delayMs, whatever happens to the nodes. */
  at(delayMs: number, run: () => void): void {
    assert(delayMs >= 0 && Number.isFinite(delayMs), `bad delay ${delayMs}`);
    this.queue.push({ atMs: this.nowMs + delayMs, seq: this.seq++, run });
  }

  /** Runs fn after delayMs on proc, unless it crashed meanwhile; waits while it is paused. */
  on(proc: Proc, delayMs: number, run: () => void): void {
    const incarnation = proc.incarnation;
    this.at(delayMs, () => this.runOn(proc, incarnation, run));
  }

  /** Runs fn on proc now if it is up and this incarnation, defers it while paused. */
  runOn(proc: Proc, incarnation: number, run: () => void): void {
    if (proc.incarnation !== incarnation || !proc.up) return;
    if (proc.paused) {
      proc.deferred.push(() => this.runOn(proc, incarnation, run));
      return;
    }
    run();
  }

  /** Runs the next event; false when none is left or the next is after untilMs. */
  runNext(untilMs: number): boolean {
    const event = this.queue.pop();
    if (event === undefined) return false;
    if (event.atMs > untilMs) {
      this.queue.push(event);
      return false;
    }
    assert(event.atMs >= this.nowMs, "time goes forward");
    this.nowMs = event.atMs;
    this.step += 1;
    event.run();
    return true;
  }

  get pendingEvents(): number {
    return this.queue.size;
  }

  // ---- processes -----------------------------------------------------------------------------

  /** Kills the process: nothing it scheduled runs, calls it served are reset. */
  crash(proc: Proc): void {
    proc.incarnation += 1;
    proc.up = false;
    proc.listening = false;
    proc.paused = false;
    proc.deferred = [];
    const serving = [...proc.serving.values()];
    proc.serving.clear();
    for (const reset of serving) reset(Code.UNAVAILABLE, `connection to ${proc.id} reset: it crashed`);
  }

  start(proc: Proc): void {
    proc.incarnation += 1;
    proc.up = true;
    proc.listening = false;
    proc.paused = false;
    proc.deferred = [];
  }

  pause(proc: Proc): void {
    proc.paused = true;
  }

  resume(proc: Proc): void {
    if (!proc.paused) return;
    proc.paused = false;
    const deferred = proc.deferred;
    proc.deferred = [];
    for (const run of deferred) run();
  }

  // ---- network -------------------------------------------------------------------------------

  private pairKey(a: NodeId, b: NodeId): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  partition(a: NodeId, b: NodeId): void {
    this.cut.add(this.pairKey(a, b));
  }

  heal(a: NodeId, b: NodeId): void {
    this.cut.delete(this.pairKey(a, b));
  }

  healAll(): void {
    this.cut.clear();
  }

  isCut(a: NodeId, b: NodeId): boolean {
    return this.cut.size > 0 && this.cut.has(this.pairKey(a, b));
  }

  /**
   * Sends one message: it may be dropped, delayed, reordered or duplicated, and a partition at
   * either end of its flight swallows it. deliver runs once per copy that arrives. Returns the
   * number of copies sent (0: dropped or cut).
   *
   * Messages between the store's own processes may be duplicated at duplicateProbability. A client's
   * request may be duplicated only when it carries a request id (duplicateProbability given): a
   * duplicate is then a retry the coordinator must recognize, while one of a request without an id
   * would be a second request.
   */
  transmit(from: NodeId, to: NodeId, deliver: () => void, duplicateProbability?: number): number {
    this.messages += 1;
    const net = this.network;
    if (this.isCut(from, to)) return 0;
    if (net.dropProbability > 0 && this.prng.next() < net.dropProbability) {
      this.countFault("message-dropped");
      return 0;
    }
    const duplicable = this.procs.get(from)?.duplicable === true && this.procs.get(to)?.duplicable === true;
    const p = duplicable ? net.duplicateProbability : (duplicateProbability ?? 0);
    const copies = p > 0 && this.prng.next() < p ? 2 : 1;
    if (copies === 2) this.countFault(duplicable ? "message-duplicated" : "client-request-duplicated");
    for (let i = 0; i < copies; i++) {
      let delay = net.delayMsMin + this.prng.next() * (net.delayMsMax - net.delayMsMin);
      if (net.lateProbability > 0 && this.prng.next() < net.lateProbability) {
        delay += this.prng.next() * net.lateMsMax;
        this.countFault("message-late");
      }
      this.at(delay, () => {
        if (this.isCut(from, to)) return;
        deliver();
      });
    }
    return copies;
  }

  /**
   * A call from `from` to `to`, with a deadline, as a gRPC unary call: the request travels, `to`
   * serves it (serve answers once through respond, or fails it), the answer travels back. The
   * caller hears exactly one result: the answer, UNAVAILABLE if `to` is down (refused) or crashed
   * while serving (reset), or DEADLINE_EXCEEDED. Nothing is heard by a caller that crashed.
   * A duplicated request is served twice; the second answer finds the call settled. Returns the
   * number of copies of the request sent (duplicateProbability: see transmit).
   */
  call<T>(
    from: Proc,
    to: NodeId,
    deadlineMs: number,
    serve: (target: Proc, respond: (value: T) => void, fail: (code: CodeValue, reason: string) => void) => void,
    onResult: (result: CallResult<T>) => void,
    duplicateProbability?: number,
  ): number {
    const callerIncarnation = from.incarnation;
    let settled = false;
    const settle = (result: CallResult<T>): void => {
      this.runOn(from, callerIncarnation, () => {
        if (settled) return;
        settled = true;
        onResult(result);
      });
    };
    this.at(deadlineMs, () => settle({ ok: false, code: Code.DEADLINE_EXCEEDED, reason: `deadline of ${deadlineMs} ms exceeded` }));
    const answer = (result: CallResult<T>): void => void this.transmit(to, from.id, () => settle(result));
    return this.transmit(from.id, to, () => {
      const target = this.proc(to);
      if (!target.up || !target.listening) {
        answer({ ok: false, code: Code.UNAVAILABLE, reason: `connection to ${to} refused` });
        return;
      }
      this.runOn(target, target.incarnation, () => {
        // Each copy of a duplicated request is served on its own.
        const servingId = this.nextCallId++;
        let done = false;
        const finish = (result: CallResult<T>): void => {
          if (done) return;
          done = true;
          target.serving.delete(servingId);
          answer(result);
        };
        target.serving.set(servingId, (code, reason) => finish({ ok: false, code, reason }));
        serve(
          target,
          (value) => finish({ ok: true, value }),
          (code, reason) => finish({ ok: false, code, reason }),
        );
      });
    }, duplicateProbability);
  }
}
