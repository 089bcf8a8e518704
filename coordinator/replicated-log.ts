// The coordinator's decision log, kept on the replicas (failover; coordinator/DESIGN.md, "Failover").
//
// It is the log the coordinator's StepLoop appends to and forces (common/env.ts NodeLog), so the one
// rule "persist before you speak" now reads: no COMMIT leaves and no client hears "committed" before
// the decision is held by a majority of the replicas, where any successor finds it (a successor on
// another host cannot read this process's disk). The coordinator keeps no decision log of its own.
//
// Each record gets an index (from 1 in each epoch). Every replica holds a copy (replica/log-copy.ts):
// a base (a snapshot of the log: the live records the core hands rewrite(), at takeover and at each
// compaction) and the records appended after it, in index order. Per replica, one Append call is in
// flight at a time and carries every record that piled up meanwhile (one force on the replica for
// all of them); a replica behind the current base (new, restarted, of an older epoch, or back from a
// partition) gets the base first, in parts if it is large. force() is done once a majority of the
// replicas hold every record appended before it. A replica that answers "fenced" means a newer
// coordinator took over: the log tells the node, which stands down.
import type { CallResult, NodeLog, Scheduler } from "../common/env";
import { fencedBy } from "../common/errors";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { mutation } from "../common/mutations";
import { quorumOf } from "../common/quorum";

export interface AppendRequest {
  readonly base: boolean;
  readonly more: boolean;
  /** For a base: the index of its first record. */
  readonly baseFirstIndex: number;
  readonly firstIndex: number;
  readonly records: readonly Buffer[];
}

/** The Append call to one replica (gRPC in production, the simulated network in the simulator). */
export type AppendCall = (request: AppendRequest, timeoutMs: number, done: (result: CallResult<{ logEpoch: number; logIndex: number }>) => void) => void;

export interface ReplicatedLogOptions {
  readonly epoch: number;
  readonly replicas: ReadonlyMap<string, AppendCall>;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** A replica promised a newer epoch: this coordinator is superseded. */
  readonly fenced: (byEpoch: number, replicaId: string) => void;
}

interface Follower {
  readonly id: string;
  readonly call: AppendCall;
  /** Every record up to this index is held there, in this epoch (0: nothing known). */
  matched: number;
  inFlight: boolean;
  /** Parts of the current base the replica has kept aside, up to this index (0: none). */
  stagedTo: number;
  /** A retry after a failed call is scheduled. */
  retrying: boolean;
  retryMs: number;
}

export class ReplicatedLog implements NodeLog {
  /** records[i] has index firstIndex + i; the first baseLength of them are the current base. */
  private records: Buffer[] = [];
  private firstIndex = 1;
  private baseLength = 0;
  private bytes = 0;
  private readonly followers: Follower[];
  private readonly quorum: number;
  private waiters: { index: number; done: () => void }[] = [];
  private stopped = false;
  forces = 0;
  recordsForced = 0;
  /** Index of the last record forced, for recordsForced. */
  private lastForced = 0;

  constructor(private readonly options: ReplicatedLogOptions) {
    this.followers = [...options.replicas].map(([id, call]) => ({ id, call, matched: 0, inFlight: false, stagedTo: 0, retrying: false, retryMs: retryMsMin }));
    this.quorum = quorumOf(this.followers.length);
  }

  get size(): number {
    return this.bytes;
  }

  get endLsn(): number {
    return this.firstIndex + this.records.length;
  }

  /** The index of the last record of the base (firstIndex - 1 when there is none yet). */
  private get baseEnd(): number {
    return this.firstIndex + this.baseLength - 1;
  }

  private get lastIndex(): number {
    return this.endLsn - 1;
  }

  append(payload: Buffer): number {
    this.records.push(payload);
    this.bytes += payload.length;
    return this.lastIndex;
  }

  force(done: () => void): void {
    const index = this.lastIndex;
    this.forces += 1;
    this.recordsForced += Math.max(0, index - this.lastForced);
    this.lastForced = Math.max(this.lastForced, index);
    // Planted bug (test-only): the decision counts as durable before any replica holds it.
    if (mutation() === "ack-before-quorum") {
      this.pump();
      return done();
    }
    this.waiters.push({ index, done });
    this.pump();
    this.settle();
  }

  /** Replaces the log with a new base (records numbered on from its end); the replicas take it as it comes. */
  rewrite(records: readonly Buffer[], done: () => void): void {
    const firstIndex = this.endLsn;
    this.records = [...records];
    this.firstIndex = firstIndex;
    this.baseLength = records.length;
    this.bytes = records.reduce((sum, record) => sum + record.length, 0);
    this.pump();
    done();
  }

  /** Stops sending: the node stood down. Forces still waiting are never done. */
  stop(): void {
    this.stopped = true;
    this.waiters = [];
  }

  /** How many replicas hold each record up to index, and which, for status. */
  holders(index: number): string[] {
    return this.followers.filter((f) => f.matched >= index).map((f) => f.id);
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const matched = this.followers.map((f) => f.matched).sort((a, b) => b - a);
    const durable = matched[this.quorum - 1] ?? 0;
    const due = this.waiters.filter((w) => w.index <= durable);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.index > durable);
    for (const waiter of due) waiter.done();
  }

  private pump(): void {
    for (const follower of this.followers) this.send(follower);
  }

  private send(follower: Follower): void {
    if (this.stopped || follower.inFlight || follower.retrying || follower.matched >= this.lastIndex || !this.wanted(follower)) return;
    const request = this.nextRequest(follower);
    follower.inFlight = true;
    follower.call(request, limits.replicaCallTimeoutMs, (result) => {
      follower.inFlight = false;
      if (this.stopped) return;
      if (!result.ok) {
        const byEpoch = fencedBy(result.reason);
        if (byEpoch !== null) {
          this.options.fenced(byEpoch, follower.id);
          return;
        }
        this.options.logger.debug({ event: "append-failed", replica: follower.id, err: result.reason }, `append to ${follower.id} failed`);
        // It may have restarted meanwhile (staged parts are kept in memory only): start the base over.
        follower.stagedTo = 0;
        this.retryLater(follower);
        return;
      }
      follower.retryMs = retryMsMin;
      const { logEpoch, logIndex } = result.value;
      const sentEnd = request.firstIndex + request.records.length - 1;
      if (request.more && request.baseFirstIndex === this.firstIndex) {
        // A part of the current base: on with the next part (the copy changes only at the last one).
        follower.stagedTo = logEpoch === this.options.epoch && logIndex === sentEnd ? sentEnd : 0;
      } else {
        follower.stagedTo = 0;
        follower.matched = logEpoch === this.options.epoch ? Math.min(logIndex, this.lastIndex) : 0;
      }
      this.settle();
      this.send(follower);
    });
  }

  /**
   * Whether the follower needs a call now: it is behind the base, or a force waits for records it
   * lacks. Records nothing waits for (END, forced by nobody) ride with the next force instead of
   * costing each replica a call and a log force of their own.
   */
  private wanted(follower: Follower): boolean {
    if (follower.matched < this.baseEnd || follower.matched < this.firstIndex - 1) return true;
    const last = this.waiters[this.waiters.length - 1];
    return last !== undefined && last.index > follower.matched;
  }

  /** What to send a follower next: records after its last one, or (it is behind the base) the base. */
  private nextRequest(follower: Follower): AppendRequest {
    const fromBase = follower.matched < this.baseEnd || follower.matched < this.firstIndex - 1;
    const start = fromBase ? Math.max(this.firstIndex, follower.stagedTo + 1) : follower.matched + 1;
    const records: Buffer[] = [];
    let bytes = 0;
    for (let index = start; index <= this.lastIndex; index++) {
      const record = this.records[index - this.firstIndex]!;
      if (records.length > 0 && (records.length >= limits.appendRecordsMax || bytes + record.length > limits.logPartBytesMax)) break;
      records.push(record);
      bytes += record.length;
    }
    const end = start + records.length - 1;
    // A base ends at baseEnd at the earliest; a part that stops short of that continues (more).
    const more = fromBase && end < this.baseEnd;
    return { base: fromBase, more, baseFirstIndex: fromBase ? this.firstIndex : 0, firstIndex: start, records };
  }

  private retryLater(follower: Follower): void {
    follower.retrying = true;
    const delay = follower.retryMs;
    follower.retryMs = Math.min(follower.retryMs * 2, retryMsMax);
    const cancel = this.options.scheduler.every(delay, () => {
      cancel();
      follower.retrying = false;
      this.send(follower);
    });
  }
}

const retryMsMin = 20;
const retryMsMax = 1_000;
