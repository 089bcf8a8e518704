// The environment a node (coordinator/node.ts, replica/node.ts) runs in, as narrow interfaces: its
// clock and timers, and the durable log it appends to. Each node file declares the transport it
// calls out with and the store it keeps. Production implements them over the wall clock,
// setImmediate/setInterval, FileLog, SQLite and grpc-js (common/system-env.ts, logs/file-log.ts
// nodeLog, and the servers); the
// deterministic simulator (test/sim/) implements them over its virtual world. The simulator swaps
// the environment, never the logic.
import type { CodeValue } from "./errors";

export interface Clock {
  /** Milliseconds on the node's clock (wall clock in production, virtual time in the simulator). */
  nowMs(): number;
}

export interface Timers {
  /** Runs fn once the current run of events is over (setImmediate): what arrives meanwhile joins it. */
  soon(fn: () => void): void;
  /** Runs fn every intervalMs until the returned function is called. */
  every(intervalMs: number, fn: () => void): () => void;
  /** Runs fn once, after delayMs, unless the returned function is called first. */
  after(delayMs: number, fn: () => void): () => void;
  /** A number in [0, 1) from the environment's source of randomness (seeded in the simulator). */
  random(): number;
}

export type Scheduler = Clock & Timers;

/** The result of a call to another process: its answer, or the status it failed with. */
export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: CodeValue; readonly reason: string };

/** A node's write-ahead log, with callbacks (the simulator steps them through virtual time). */
export interface NodeLog {
  /** Queues a record and returns its log sequence number. */
  append(payload: Buffer): number;
  /** Calls done once every record appended so far is durable. A failed force crashes the process. */
  force(done: () => void): void;
  /** Replaces the log with `records`, numbered on from its end (compaction), then calls done. */
  rewrite(records: readonly Buffer[], done: () => void): void;
  /** How large the log is, in the unit its compaction threshold is given in (bytes in production). */
  readonly size: number;
  /** The LSN the next append will get. */
  readonly endLsn: number;
  /** Forces done and records they made durable, for status. */
  readonly forces: number;
  readonly recordsForced: number;
}
