// The simulator's StepLoop: the same turn, in virtual time.
//
// common/step-loop.ts is production's one place for "persist before you speak", but it runs on
// setImmediate and awaits a Promise from the log, which a deterministic simulator cannot step
// through or crash in the middle of. This executor keeps its semantics exactly: a turn takes every
// queued input, steps the core through them into one Ready, appends the Ready's records, and if any
// must be durable, forces the log once (taking virtual time, during which new inputs queue for the
// next turn); only then does afterDurable carry out the rest of the Ready; then maintain runs
// (compaction), then the next turn if inputs are waiting. A crash can land at any of these points:
// while the force runs (unforced records may be lost), or after it and before afterDurable.
//
// The mutation switch `early` breaks the rule on purpose (test-only): it runs before the force,
// with the Ready, so that a planted bug can release a message early.
import type { SimLog } from "./disk";
import type { Proc, World } from "./world";

export interface SimRecord {
  readonly payload: Buffer;
  readonly force: boolean;
}

/** What the run decides at a force's end: crash before it completes, just after it, or neither. */
export type ForceFate = "complete" | "crash-before" | "crash-after";

export interface SimExecutorOptions<Input, Ready> {
  readonly world: World;
  readonly proc: Proc;
  readonly log: SimLog;
  readonly step: (inputs: readonly Input[]) => Ready;
  readonly records: (ready: Ready) => readonly SimRecord[];
  /** After the force: carries out the Ready. lastLsn is the LSN of the last record appended (-1: none). */
  readonly afterDurable: (ready: Ready, lastLsn: number) => void;
  readonly maintain: () => void;
  /** Virtual milliseconds one force takes. */
  readonly forceMs: () => number;
  /** Decides whether the node crashes at this force's boundary. */
  readonly forceFate: () => ForceFate;
  /** Crashes the node (its log loses what is not durable). */
  readonly crash: (why: string) => void;
  /** A mutation's hook, run before the force when there is one (off in production runs). */
  readonly early?: (ready: Ready) => void;
  /** Called with the count of records a completed force made durable. */
  readonly onForced?: (ready: Ready) => void;
}

export class SimExecutor<Input, Ready> {
  private queue: Input[] = [];
  private scheduled = false;
  private running = false;
  private lastLsn = -1;
  turns = 0;

  constructor(private readonly options: SimExecutorOptions<Input, Ready>) {}

  push(input: Input): void {
    this.queue.push(input);
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // Like setImmediate: inputs that arrive at the same virtual instant join the same turn.
    this.options.world.on(this.options.proc, 0, () => {
      this.scheduled = false;
      this.run();
    });
  }

  get busy(): boolean {
    return this.running || this.scheduled || this.queue.length > 0;
  }

  private run(): void {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    this.turn();
  }

  private turn(): void {
    const { world, proc, log } = this.options;
    const inputs = this.queue;
    this.queue = [];
    this.turns += 1;
    const ready = this.options.step(inputs);
    let mustForce = false;
    for (const record of this.options.records(ready)) {
      this.lastLsn = log.append(record.payload);
      mustForce = mustForce || record.force;
    }
    if (!mustForce) {
      this.finish(ready);
      return;
    }
    this.options.early?.(ready);
    const mark = log.forceMark();
    const incarnation = proc.incarnation;
    world.on(proc, this.options.forceMs(), () => {
      const fate = this.options.forceFate();
      if (fate === "crash-before") {
        this.options.crash("during a log force");
        return;
      }
      log.forced(mark);
      this.options.onForced?.(ready);
      if (fate === "crash-after") {
        // Durable, but nothing that depends on it has left.
        this.options.crash("after a log force, before the messages that depend on it");
        return;
      }
      if (proc.incarnation !== incarnation) return;
      this.finish(ready);
    });
  }

  private finish(ready: Ready): void {
    this.options.afterDurable(ready, this.lastLsn);
    this.options.maintain();
    if (this.queue.length > 0) {
      this.turn();
      return;
    }
    this.running = false;
  }
}
