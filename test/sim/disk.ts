// The simulated disk: a write-ahead log per node and a replica's SQLite store, in memory.
//
// The log keeps real frames (logs/frame.ts: length, CRC-32, payload), and a restart replays them
// with the real decoder, so a torn tail goes through the same code as in production. A record is
// durable once a force that started after its append completes. A crash keeps every durable
// record, a random prefix of the rest (the kernel may have written some of them on its own), and
// may leave the next one torn (cut short at a random byte). A rewrite (compaction) is atomic and
// durable, as FileLog.rewrite is (write beside, force, rename, force the directory).
//
// The store mirrors replica/store.ts: versioned rows, a write applied only over an older version,
// a delete kept as a tombstone, applied_lsn and applied_seq moved in the same transaction as the
// writes; tombstones collected, and full copies installed, by the rules of replica/tombstones.ts,
// with the horizon moved in the same transaction. SQLite runs with synchronous=NORMAL, so a machine crash may roll it back by a few
// transactions (never tearing one): the simulated store keeps every transaction since its last
// checkpoint in a list, and a crash keeps a random prefix of it. A checkpoint (catch-up, compaction,
// or SQLite's own, at random) makes everything durable.
import { assert, assertNever } from "../../common/assert";
import type { Write } from "../../common/types";
import { decodeLog, encodeFileHeader, encodeFrame } from "../../logs/frame";
import type { Apply } from "../../replica/core";
import type { SnapshotCopy } from "../../replica/node";
import { appliesToAbsentKey, staleAfterFullCopy, type FullCopyPage } from "../../replica/tombstones";
import type { Prng } from "../../common/prng";

export interface Replay {
  readonly records: Buffer[];
  readonly firstLsn: number;
  readonly tornBytes: number;
}

export class SimLog {
  private firstLsn = 0;
  /** Every frame appended since the last rewrite; frames[i] has LSN firstLsn + i. */
  private frames: Buffer[] = [];
  /** frames[0..durableCount) are durable. */
  private durableCount = 0;
  /** Bytes of a torn frame left at the end by the last crash (dropped by the next replay). */
  private tornTail: Buffer | null = null;
  forces = 0;
  rewrites = 0;
  /** Records the last rewrite left (what a compaction keeps: a replica's decisions grow with the run). */
  recordsAtRewrite = 0;

  constructor(readonly name: string) {}

  append(payload: Buffer): number {
    this.frames.push(encodeFrame(payload));
    return this.firstLsn + this.frames.length - 1;
  }

  /** The count of frames a force started now would make durable. */
  forceMark(): number {
    return this.frames.length;
  }

  /** A force started at `mark` completed. */
  forced(mark: number): void {
    assert(mark <= this.frames.length, `${this.name}: force past the end of the log`);
    this.durableCount = Math.max(this.durableCount, mark);
    this.forces += 1;
  }

  get endLsn(): number {
    return this.firstLsn + this.frames.length;
  }

  get recordCount(): number {
    return this.frames.length;
  }

  get unforcedCount(): number {
    return this.frames.length - this.durableCount;
  }

  /** Compaction: replaces the log with these records, numbered from the end LSN on; durable at once. */
  rewrite(records: readonly Buffer[]): void {
    this.firstLsn = this.endLsn;
    this.frames = records.map((payload) => encodeFrame(payload));
    this.durableCount = this.frames.length;
    this.tornTail = null;
    this.rewrites += 1;
    this.recordsAtRewrite = this.frames.length;
  }

  /** A crash: keeps what is durable and a random prefix of the rest; the next frame may be torn. */
  crash(prng: Prng, tornProbability: number): { lost: number; torn: boolean } {
    const unforced = this.frames.length - this.durableCount;
    const kept = unforced === 0 ? 0 : prng.int(0, unforced);
    const cut = this.durableCount + kept;
    const next = this.frames[cut];
    const lost = this.frames.length - cut;
    this.frames = this.frames.slice(0, cut);
    this.durableCount = cut;
    this.tornTail = null;
    let torn = false;
    if (next !== undefined && prng.next() < tornProbability) {
      // Cut the frame short, or keep its length but scramble a byte of the payload.
      const bytes = Buffer.from(next.subarray(0, prng.int(1, next.length)));
      if (bytes.length === next.length) bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
      this.tornTail = bytes;
      torn = true;
    }
    return { lost, torn };
  }

  /** What a restart reads: the file as the real decoder sees it, torn tail dropped. */
  replay(): Replay {
    const file = Buffer.concat([encodeFileHeader(this.firstLsn), ...this.frames, ...(this.tornTail === null ? [] : [this.tornTail])]);
    const decoded = decodeLog(file, this.name);
    assert(decoded.firstLsn === this.firstLsn, `${this.name}: replayed first LSN`);
    assert(decoded.payloads.length === this.frames.length, `${this.name}: replay lost a whole frame`);
    this.tornTail = null; // FileLog.open truncates the torn tail away
    return { records: decoded.payloads, firstLsn: decoded.firstLsn, tornBytes: decoded.tornBytes };
  }
}

export interface Row {
  /** null: a tombstone. */
  readonly value: Buffer | null;
  readonly version: number;
}

export interface VersionedEntry {
  readonly key: string;
  readonly value: Buffer | null;
  readonly version: number;
}

interface StoreState {
  rows: Map<string, Row>;
  appliedLsn: number;
  appliedSeq: number;
  /** Tombstones of versions up to this one may be gone. */
  collectedThrough: number;
}

type StoreTxn =
  | { readonly kind: "apply"; readonly batch: readonly Apply[]; readonly lastLsn: number }
  | { readonly kind: "install"; readonly entries: readonly VersionedEntry[] }
  | { readonly kind: "collect"; readonly throughSeq: number; readonly limit: number }
  | { readonly kind: "install-full"; readonly page: FullCopyPage };

function cloneState(state: StoreState): StoreState {
  return { rows: new Map(state.rows), appliedLsn: state.appliedLsn, appliedSeq: state.appliedSeq, collectedThrough: state.collectedThrough };
}

function upsert(rows: Map<string, Row>, key: string, value: Buffer | null, version: number): void {
  const row = rows.get(key);
  if (row === undefined || version > row.version) rows.set(key, { value, version });
}

function install(state: StoreState, entries: readonly VersionedEntry[]): void {
  for (const entry of entries) {
    upsert(state.rows, entry.key, entry.value, entry.version);
    state.appliedSeq = Math.max(state.appliedSeq, entry.version);
  }
}

/** What a transaction returns: the rows collect and install-full deleted (0 for the others). */
function run(state: StoreState, txn: StoreTxn): number {
  switch (txn.kind) {
    case "apply":
      for (const applied of txn.batch) {
        for (const write of applied.writes) {
          if (!appliesToAbsentKey(applied.commitSeq, state.collectedThrough) && !state.rows.has(write.key)) continue;
          upsert(state.rows, write.key, write.value, applied.commitSeq);
        }
        state.appliedSeq = Math.max(state.appliedSeq, applied.commitSeq);
      }
      state.appliedLsn = txn.lastLsn;
      return 0;
    case "install":
      install(state, txn.entries);
      return 0;
    case "collect": {
      let deleted = 0;
      for (const [key, row] of state.rows) {
        if (deleted >= txn.limit) break;
        if (row.value !== null || row.version > txn.throughSeq) continue;
        state.rows.delete(key);
        deleted += 1;
      }
      if (deleted > 0) state.collectedThrough = Math.max(state.collectedThrough, txn.throughSeq);
      return deleted;
    }
    case "install-full": {
      const { page } = txn;
      state.collectedThrough = Math.max(state.collectedThrough, page.horizon);
      const copied = new Set(page.entries.map((entry) => entry.key));
      let dropped = 0;
      for (const [key, row] of [...state.rows]) {
        if (key <= page.afterKey || (page.throughKey !== null && key > page.throughKey) || copied.has(key)) continue;
        if (!staleAfterFullCopy(row.version, page.sourceCollectedThrough)) continue;
        state.rows.delete(key);
        dropped += 1;
      }
      install(state, page.entries);
      return dropped;
    }
    default:
      return assertNever(txn);
  }
}

/** A catch-up's snapshot in the simulator: the source's rows in key order, as they were. */
interface SimSnapshot extends SnapshotCopy {
  readonly rows: readonly VersionedEntry[];
}

export class SimStore {
  private durable: StoreState = { rows: new Map(), appliedLsn: -1, appliedSeq: 0, collectedThrough: 0 };
  private current: StoreState = cloneState(this.durable);
  private volatile: StoreTxn[] = [];

  appliedLsn(): number {
    return this.current.appliedLsn;
  }

  appliedSeq(): number {
    return this.current.appliedSeq;
  }

  apply(batch: readonly Apply[], lastLsn: number): void {
    this.commit({ kind: "apply", batch, lastLsn });
  }

  install(entries: readonly VersionedEntry[]): void {
    this.commit({ kind: "install", entries });
  }

  collectedThrough(): number {
    return this.current.collectedThrough;
  }

  collectTombstones(throughSeq: number, limit: number): number {
    return this.commit({ kind: "collect", throughSeq, limit });
  }

  installFull(page: FullCopyPage): number {
    return this.commit({ kind: "install-full", page });
  }

  tombstoneCount(): number {
    let count = 0;
    for (const row of this.current.rows.values()) if (row.value === null) count += 1;
    return count;
  }

  private commit(txn: StoreTxn): number {
    const changed = run(this.current, txn);
    this.volatile.push(txn);
    return changed;
  }

  checkpoint(): void {
    this.durable = cloneState(this.current);
    this.volatile = [];
  }

  /** A machine crash: SQLite keeps what was checkpointed and a prefix of the transactions since. */
  crash(prng: Prng): { lost: number } {
    const kept = prng.int(0, this.volatile.length);
    const lost = this.volatile.length - kept;
    const state = cloneState(this.durable);
    for (const txn of this.volatile.slice(0, kept)) run(state, txn);
    this.current = state;
    this.volatile = this.volatile.slice(0, kept);
    return { lost };
  }

  read(keys: readonly string[]): { key: string; found: boolean; value: Buffer; version: number }[] {
    return keys.map((key) => {
      const row = this.current.rows.get(key);
      return row === undefined || row.value === null
        ? { key, found: false, value: Buffer.alloc(0), version: 0 }
        : { key, found: true, value: row.value, version: row.version };
    });
  }

  /**
   * A catch-up's snapshot of this store as it is now (production: a SQLite backup streamed whole,
   * replica/store.ts SnapshotFile): its rows in key order, and its horizon.
   */
  snapshotCopy(): SimSnapshot {
    const rows = [...this.current.rows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, row]): VersionedEntry => ({ key, value: row.value, version: row.version }));
    return { collectedThrough: this.current.collectedThrough, rows, close: () => undefined };
  }

  /**
   * The full-copy page of a snapshot's next rows after afterKey (at most limit), for installFull:
   * production does the same inside SQLite (replica/store.ts installFullFrom).
   */
  snapshotPage(snapshot: SnapshotCopy, afterKey: string, limit: number, horizon: number): FullCopyPage {
    assert("rows" in snapshot, "a snapshot not taken by the simulator's store");
    const entries = (snapshot as SimSnapshot).rows.filter((row) => row.key > afterKey).slice(0, limit + 1);
    const page = entries.slice(0, limit);
    const throughKey = entries.length > limit ? page[page.length - 1]!.key : null;
    return { entries: page, afterKey, throughKey, sourceCollectedThrough: snapshot.collectedThrough, horizon };
  }

  /** Rows (tombstones included) with a version of at least sinceSeq, in key order after afterKey. */
  fetch(sinceSeq: number, afterKey: string, limit: number): VersionedEntry[] {
    const keys = [...this.current.rows.keys()].filter((key) => key > afterKey).sort();
    const out: VersionedEntry[] = [];
    for (const key of keys) {
      const row = this.current.rows.get(key)!;
      if (row.version < sinceSeq) continue;
      out.push({ key, value: row.value, version: row.version });
      if (out.length >= limit) break;
    }
    return out;
  }

  keyCount(): number {
    let count = 0;
    for (const row of this.current.rows.values()) if (row.value !== null) count += 1;
    return count;
  }

  /** Every live entry in key order (the checksum is the simulator's own content string). */
  dump(): { entries: { key: string; value: Buffer; version: number }[]; checksum: string } {
    const entries = [...this.current.rows]
      .filter(([, row]) => row.value !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, row]) => ({ key, value: row.value!, version: row.version }));
    return { entries, checksum: this.liveContent() };
  }

  row(key: string): Row | undefined {
    return this.current.rows.get(key);
  }

  /** Every row, tombstones included. */
  rows(): ReadonlyMap<string, Row> {
    return this.current.rows;
  }

  /** Live entries in key order, as `kv` dump compares them: "key=value@version;...". */
  liveContent(): string {
    return [...this.current.rows.entries()]
      .filter(([, row]) => row.value !== null)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, row]) => `${key}=${row.value!.toString("utf8")}@${row.version}`)
      .join(";");
  }
}

/** The value a transaction leaves on a key: its last write to it. */
export function lastWriteOf(writes: readonly Write[], key: string): Write | undefined {
  for (let i = writes.length - 1; i >= 0; i--) if (writes[i]!.key === key) return writes[i];
  return undefined;
}
