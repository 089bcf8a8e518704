// The active coordinator's cache of committed key states (issue 15). Pure: part of the core.
//
// A transaction that reads (a condition, an increment, a get) holds the locks of its keys and reads
// them from an in-sync replica before it is evaluated: one more round to a replica, and a SQLite
// read there, for every such transaction. Under its locks nothing else can change those keys, and
// every commit of this coordinator's epoch is made by a transaction that holds the locks of the keys
// it writes. So the coordinator can know the current state of a key without asking:
// - a state read under the key's lock (the read round's answer, accepted by the read rules) is the
//   committed state then, and stays so until a transaction holding the lock commits a write to it;
// - a committed transaction, as it releases its locks (every participant it still needs has
//   acknowledged), leaves the keys it wrote at its writes, with its commit sequence number as their
//   version, exactly what a replica's read would answer from then on (a deletion reads as absent).
// The core consults the cache when a transaction has taken its locks: if it holds every key the
// transaction reads, the program is evaluated over those states at once.
//
// What may be answered from it. Only an evaluation that writes: such a transaction is answered
// only after its COMMIT record is durable on a majority of the copies of the decision log, which
// the replicas refuse from a coordinator superseded by a newer epoch. A coordinator that lost its
// place without knowing it (partitioned) holds a cache that may be stale, but nothing computed from
// it commits. A failed condition or bound, or a program with nothing to write, would be answered
// without any replica's word: for those the transaction reads its keys from a replica as before.
//
// A cache belongs to one core, and a core to one epoch: a successor starts with an empty one, and
// recovered commits (of earlier epochs) hold their keys' locks until they are acknowledged, so a
// key enters it only under a lock of this epoch (read, or written by a commit of this epoch). Bounded in bytes
// (limits.valueCacheBytesMax, or the coordinator's --value-cache-mib): the entries first cached go first.
import { FifoMap } from "../common/fifo-map";
import type { KeyState } from "../common/txn";

/**
 * What an entry costs beyond its key and value: the Map's slot, the FIFO's queue entry, the state
 * object, the Buffer's own object. Measured: the coordinator's resident memory grew by about 500
 * bytes an entry holding 400,000 shop records (values of about 100 bytes; issue 15).
 */
const entryOverheadBytes = 350;

export class ValueCache {
  private readonly entries = new FifoMap<string, KeyState>();
  private bytesHeld = 0;
  /** Transactions evaluated from the cache, and those that read their keys from a replica after all. */
  hits = 0;
  misses = 0;

  constructor(private readonly bytesMax: number) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** The state of every key, or null when any of them is not cached (the transaction reads them all). */
  lookup(keys: readonly string[]): Map<string, KeyState> | null {
    if (this.bytesMax === 0) return null;
    const states = new Map<string, KeyState>();
    for (const key of keys) {
      const state = this.entries.get(key);
      if (state === undefined) return null;
      states.set(key, state);
    }
    return states;
  }

  /** The committed state of `key` now: the caller holds its lock, or releases it having written it. */
  set(key: string, state: KeyState): void {
    if (this.bytesMax === 0) return;
    const cost = costOf(key, state);
    if (cost > this.bytesMax) return this.delete(key);
    // A Buffer decoded from a request may be a view of the whole message (up to a MiB): keep a copy
    // of its bytes rather than the message. (Small Buffers share Node's 8 KiB pool slabs anyway.)
    const kept = state === null || state.value.buffer.byteLength <= Buffer.poolSize ? state : { value: Buffer.from(state.value), version: state.version };
    const old = this.entries.get(key);
    if (old !== undefined) this.bytesHeld -= costOf(key, old);
    this.entries.set(key, kept); // an entry replaced keeps its place: the oldest written first go first
    this.bytesHeld += cost;
    while (this.bytesHeld > this.bytesMax) {
      const [oldest] = this.entries.oldest()!;
      this.delete(oldest);
    }
  }

  /** Forgets `key` (its state is no longer known). */
  delete(key: string): void {
    const state = this.entries.get(key);
    if (state === undefined) return;
    this.entries.delete(key);
    this.bytesHeld -= costOf(key, state);
  }
}

function costOf(key: string, state: KeyState): number {
  return entryOverheadBytes + key.length + (state?.value.byteLength ?? 0);
}
