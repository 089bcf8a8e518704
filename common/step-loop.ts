// The one place that enforces "persist before you speak", for the coordinator and the replicas.
//
// A node feeds the inputs of its pure core (requests, votes, decisions, timer ticks) to a StepLoop.
// The loop takes every input that has queued up, steps the core through all of them into one Ready
// (records to log, writes to apply, messages to send), appends the records, forces the log once if
// any record must be durable, and only then hands the Ready to the node to apply and send. Inputs
// that arrive while a force is running wait for the next turn and share its force: that is the
// group commit of the hot path, one fsync for every transaction that arrived meanwhile.
//
// Because the turns run one after another, a message produced in turn N is sent only after the
// records of turns 1..N are durable, even when the message depends on state that an earlier
// turn's record made durable.
//
// The loop runs on callbacks from its environment (common/env.ts): `soon` to gather a turn's
// inputs, the log's force and rewrite to wait for the disk. Production passes setImmediate and
// FileLog; the deterministic simulator passes its virtual world, so that it runs this very loop and
// can crash a node in the middle of a force.
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
}

export interface StepLoopOptions<Input, Ready> {
  /** Steps the core through the inputs, in order, and returns everything they produced. */
  readonly step: (inputs: readonly Input[]) => Ready;
  /** The records of a Ready, in the order they must be logged. */
  readonly records: (ready: Ready) => readonly PersistedRecord[];
  readonly log: DurableLog;
  /** Where the loop gets `soon` from: setImmediate in production, the virtual world in the simulator. */
  readonly timers: Pick<Timers, "soon">;
  /**
   * Carries out the rest of a Ready: runs only once its records (and all earlier ones) are durable.
   * lastLsn is the LSN of the last record appended so far (-1 when none ever was).
   */
  readonly afterDurable: (ready: Ready, lastLsn: number) => void;
  /**
   * Runs after each turn, with nothing pending in the log: the place for work that must not overlap
   * an append, such as compacting the log. It calls done when finished; inputs arriving meanwhile
   * wait for the next turn.
   */
  readonly maintain?: (done: () => void) => void;
}

export class StepLoop<Input, Ready> {
  private queue: Input[] = [];
  private scheduled = false;
  private running = false;
  private lastLsn = -1;
  /** Turns run and inputs stepped, for status and benchmarks. */
  turns = 0;
  inputs = 0;

  constructor(private readonly options: StepLoopOptions<Input, Ready>) {}

  /** Queues an input; the loop steps it on its next turn. */
  push(input: Input): void {
    this.queue.push(input);
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Let every input that arrives in this turn of the event loop join the same step.
    this.options.timers.soon(() => {
      this.scheduled = false;
      this.run();
    });
  }

  /** True while inputs are queued or a turn is under way. */
  get busy(): boolean {
    return this.running || this.scheduled || this.queue.length > 0;
  }

  private run(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.turn();
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
    let mustForce = false;
    for (const record of this.options.records(ready)) {
      this.lastLsn = this.options.log.append(record.payload);
      mustForce = mustForce || record.force;
    }
    if (mustForce) this.options.log.force(() => this.finish(ready));
    else this.finish(ready);
  }

  private finish(ready: Ready): void {
    this.options.afterDurable(ready, this.lastLsn);
    if (this.options.maintain) this.options.maintain(() => this.next());
    else this.next();
  }

  private next(): void {
    if (this.queue.length > 0) this.turn();
    else this.running = false;
  }
}
