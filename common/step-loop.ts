// The one place that enforces "persist before you speak", for the coordinator and the replicas.
//
// A node feeds the inputs of its pure core (requests, votes, decisions, timer ticks) to a StepLoop.
// The loop takes every input that has queued up, steps the core through all of them into one Ready
// (records to log, writes to apply, messages to send), appends the records, forces the log once if
// any record must be durable, and only then hands the Ready to the node to apply and send. Inputs
// that arrive while a force is running share a later turn and its force: that is the group commit
// of the hot path, one fsync (or one Append round) for every transaction that arrived meanwhile.
//
// Pipelining (turnsInFlightMax, issue 13): up to that many turns may be stepped before the first of
// them is durable, so that a node does not stand idle through a force (a coordinator through the
// Append round of its decision log). The log still batches: forces asked for while one runs are
// served together. Readies are carried out strictly in turn order, a Ready only once its own
// records and every earlier turn's are durable: a message produced in turn N is sent only after the
// records of turns 1..N are durable, even when the message depends on state that an earlier turn's
// record made durable.
//
// Lazy forces (issue 13): a record marked lazy must be durable before its Ready is carried out, like
// any forced record, but its force may wait for company: it is forced with the next turn (whatever
// that turn holds: the next input means the node is not idle), or after lazyForceMs if no input
// comes. A replica's COMMIT record is lazy when no write waits for its keys: at one client the next
// PREPARE arrives within a millisecond, and one fsync then serves both instead of the PREPARE
// queueing behind the COMMIT's own.
//
// The loop runs on callbacks from its environment (common/env.ts): `soon` to gather a turn's
// inputs, the log's force and rewrite to wait for the disk. Production passes setImmediate and
// FileLog; the deterministic simulator passes its virtual world, so that it runs this very loop and
// can crash a node in the middle of a force.
import { assert } from "./assert";
import type { Timers } from "./env";

export interface DurableLog {
  /** Queues a record and returns its log sequence number. */
  append(payload: Buffer): number;
  /** Calls done once every record appended so far is durable (never, if the process dies first). */
  force(done: () => void): void;
}

export interface PersistedRecord {
  readonly payload: Buffer;
  /** False for a record that may ride along with a later force (nothing waits on it). */
  readonly force: boolean;
  /** With force: the force may wait for company (the next turn, or lazyForceMs); see the header. */
  readonly lazy?: boolean;
}

export interface StepLoopOptions<Input, Ready> {
  /** Steps the core through the inputs, in order, and returns everything they produced. */
  readonly step: (inputs: readonly Input[]) => Ready;
  /** The records of a Ready, in the order they must be logged. */
  readonly records: (ready: Ready) => readonly PersistedRecord[];
  readonly log: DurableLog;
  /** Where the loop gets `soon` from: setImmediate in production, the virtual world in the simulator. */
  readonly timers: Pick<Timers, "soon" | "after">;
  /**
   * Carries out the rest of a Ready: runs only once its records (and all earlier ones) are durable.
   * lastLsn is the LSN of the last record appended so far (-1 when none ever was).
   */
  readonly afterDurable: (ready: Ready, lastLsn: number) => void;
  /**
   * Carries out the part of a Ready that depends on no record of its own turn (a coordinator's
   * PREPAREs): runs once every earlier turn was carried out, without waiting for this turn's force,
   * and always before this turn's afterDurable.
   */
  readonly early?: (ready: Ready) => void;
  /**
   * Carries out the part of a Ready that depends on nothing durable and on no earlier turn (refusals
   * of requests that started nothing, status reports): runs as soon as the turn is stepped.
   */
  readonly immediate?: (ready: Ready) => void;
  /**
   * Folds a turn that logged nothing into the last turn still waiting (its rest carried out right
   * after that one's, as it would have been). Without it such a turn waits as a turn of its own, and
   * counts against turnsInFlightMax: a node whose force cannot be done (a coordinator that lost a
   * majority of the replicas) would soon step nothing more, and so answer nothing, not even its
   * immediate part. With it, such a node goes on stepping while only what it logs piles up. A turn
   * that logged nothing must have no early part (merge asserts it).
   */
  readonly merge?: (into: Ready, from: Ready) => Ready;
  /**
   * Runs after each turn, with nothing pending in the log: the place for work that must not overlap
   * an append, such as compacting the log. It calls done when finished; inputs arriving meanwhile
   * wait for the next turn.
   */
  readonly maintain?: (done: () => void) => void;
  /**
   * How many turns may be stepped before the first of them is durable (1 when absent: each turn
   * waits for the one before). More lets a node go on stepping while a force is under way, say a
   * coordinator while the decision log's Append round runs; replies still leave in turn order,
   * each once its own records and all earlier ones are durable.
   */
  readonly turnsInFlightMax?: number;
  /** How long a lazy force waits for company with no input arriving (needed once a record is lazy). */
  readonly lazyForceMs?: number;
}

interface WaitingTurn<Ready> {
  ready: Ready;
  readonly lastLsn: number;
  durable: boolean;
  /** early ran for it. */
  earlyDone: boolean;
}

export class StepLoop<Input, Ready> {
  private queue: Input[] = [];
  private scheduled = false;
  /**
   * Turns stepped whose Ready waits to be carried out, oldest first: each waits for its own force
   * (durable false until it is done) and for every earlier turn (delivery is in turn order).
   */
  private waiting: WaitingTurn<Ready>[] = [];
  private maintaining = false;
  private lastLsn = -1;
  /**
   * The turn whose lazy force waits for company, and its timer's cancel; null when none waits (at
   * most one does: the next turn forces).
   */
  private lazyWait: { readonly entry: WaitingTurn<Ready>; readonly cancel: () => void } | null = null;
  /** Turns run and inputs stepped, for status and benchmarks. */
  turns = 0;
  inputs = 0;

  constructor(private readonly options: StepLoopOptions<Input, Ready>) {
    assert(Number.isInteger(this.turnsInFlightMax) && this.turnsInFlightMax >= 1, `turnsInFlightMax ${this.turnsInFlightMax} must be a whole number from 1`);
  }

  private get turnsInFlightMax(): number {
    return this.options.turnsInFlightMax ?? 1;
  }

  /** Queues an input; the loop steps it on its next turn. */
  push(input: Input): void {
    this.queue.push(input);
    this.schedule();
  }

  /** True while inputs are queued or a turn is under way. */
  get busy(): boolean {
    return this.scheduled || this.maintaining || this.waiting.length > 0 || this.queue.length > 0;
  }

  /** Runs a turn soon, if there is input and room for another turn in flight. */
  private schedule(): void {
    if (this.scheduled || !this.mayStep()) return;
    this.scheduled = true;
    // Let every input that arrives in this turn of the event loop join the same step.
    this.options.timers.soon(() => {
      this.scheduled = false;
      if (this.mayStep()) this.turn();
    });
  }

  private mayStep(): boolean {
    // A turn whose lazy force waits for company does not hold the next one back: that is the company.
    return !this.maintaining && this.queue.length > 0 && (this.lazyWait !== null || this.waiting.length < this.turnsInFlightMax);
  }

  /**
   * One turn. A failure in it is a failed assertion in a core or a failed log force: both must crash
   * the process, so nothing here catches.
   */
  private turn(): void {
    const inputs = this.queue;
    this.queue = [];
    this.turns += 1;
    this.inputs += inputs.length;
    const ready = this.options.step(inputs);
    this.options.immediate?.(ready);
    const records = this.options.records(ready);
    const last = this.waiting.at(-1);
    if (records.length === 0 && last !== undefined && this.options.merge !== undefined) {
      last.ready = this.options.merge(last.ready, ready);
      // The next turn is company for a lazy force, merged or not.
      if (this.lazyWait !== null) this.force(last);
      this.deliver();
      this.schedule();
      return;
    }
    let mustForce = false;
    let lazy = false;
    for (const record of records) {
      this.lastLsn = this.options.log.append(record.payload);
      if (record.force && record.lazy === true) lazy = true;
      else mustForce = mustForce || record.force;
    }
    const entry: WaitingTurn<Ready> = { ready, lastLsn: this.lastLsn, durable: !mustForce && !lazy, earlyDone: false };
    this.waiting.push(entry);
    if (mustForce || this.lazyWait !== null) {
      this.force(entry);
    } else if (lazy) {
      const waitMs = this.options.lazyForceMs;
      assert(waitMs !== undefined && waitMs >= 0, "a lazy record needs lazyForceMs");
      const cancel = this.options.timers.after(waitMs, () => {
        this.lazyWait = null;
        this.force(entry);
      });
      this.lazyWait = { entry, cancel };
    }
    // Carries out what is ready: this turn's early part at least, if every earlier turn is done.
    this.deliver();
    // While this turn's force runs, the next one may step (turnsInFlightMax).
    this.schedule();
  }

  /**
   * Forces every record appended so far, for `entry` (the turn just stepped) and for the turns
   * waiting lazily before it: the one force serves them all.
   */
  private force(entry: WaitingTurn<Ready>): void {
    const lazy = this.lazyWait?.entry;
    this.lazyWait?.cancel();
    this.lazyWait = null;
    this.options.log.force(() => {
      entry.durable = true;
      if (lazy !== undefined) lazy.durable = true;
      this.deliver();
    });
  }

  /**
   * Carries out, in turn order, every turn whose records and all earlier ones are durable, and the
   * early part of the first turn that is not (once every turn before it is carried out).
   */
  private deliver(): void {
    for (;;) {
      const entry = this.waiting[0];
      if (entry === undefined) break;
      if (!entry.earlyDone) {
        entry.earlyDone = true;
        this.options.early?.(entry.ready);
      }
      if (!entry.durable) break;
      this.waiting.shift();
      this.options.afterDurable(entry.ready, entry.lastLsn);
    }
    if (this.waiting.length > 0 || this.maintaining) return this.schedule();
    if (this.options.maintain === undefined) return this.next();
    this.maintaining = true;
    this.options.maintain(() => {
      this.maintaining = false;
      this.next();
    });
  }

  /** Nothing in flight: the next turn runs now if inputs wait (they waited for room, or for maintain). */
  private next(): void {
    if (!this.scheduled && this.mayStep()) this.turn();
  }
}
