// The replica's SQLite store: committed data, and how far into the log it has been applied.
//
// Durability (replica/DESIGN.md): the write-ahead log is authoritative. SQLite runs in WAL mode with
// synchronous=NORMAL: a crash of the process loses nothing SQLite committed, and a crash of the
// machine may roll SQLite back by a few transactions but never corrupts it. That is enough, because
// each batch of applied writes records applied_lsn in the same SQLite transaction, and recovery
// redoes every commit record logged after applied_lsn. Forcing SQLite too would buy nothing but a
// second fsync per batch. Data a replica copies while catching up is not in its log: the copy ends
// with a checkpoint that forces SQLite before the replica reports itself caught up.
//
// Every row carries the version (commit sequence number) of the write that made it, and a delete
// leaves a tombstone (value NULL) with its version, so that a replica catching up learns deletions
// too. A write is applied only over an older version: applying commits late (an in-doubt
// transaction settled after newer data arrived by catch-up) or twice never moves a key backwards.
//
// Tombstones are collected (replica/tombstones.ts, replica/DESIGN.md "Tombstone collection"): the
// meta row tombstones_collected_through is the horizon (tombstones of versions up to it may be gone),
// moved in the same SQLite transaction as the deletions; a partial index over the tombstones finds
// them without scanning live rows. Once a tombstone is gone, the version it held is too, so a
// committed write at or below the horizon for a key with no row is not applied (appliesToAbsentKey).
// A full copy (installFull) deletes, page by page, the rows the source no longer has.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import Database from "better-sqlite3";
import { assert } from "../common/assert";
import { limits } from "../common/limits";
import type { Apply } from "./core";
import type { FullCopyStep, SnapshotCopy } from "./node";
import { appliesToAbsentKey, staleAfterFullCopy, type FullCopyPage } from "./tombstones";

export interface StoredValue {
  readonly key: string;
  readonly found: boolean;
  readonly value: Buffer;
  readonly version: number;
}

/** A row as catch-up copies it: value null is a tombstone. */
export interface VersionedEntry {
  readonly key: string;
  readonly value: Buffer | null;
  readonly version: number;
}

/** SQLite's page size for a new store (see the constructor). */
const pageBytes = 1024;
/** SQLite checkpoints its WAL into the database once it holds this many pages (default 1,000). */
const walAutocheckpointPages = 4_000;
/** SQLite's page cache, in KiB (default 2,000). */
const cacheKib = 16 * 1024;
/** SQLite reads the database file through a memory map of up to this many bytes (default none). */
const mmapBytes = 256 * 1024 * 1024;

/**
 * A snapshot of the store pinned at one moment (backup, issue 14): a second, read-only connection
 * holding a SQLite read transaction. In WAL mode the writer goes on meanwhile, and this connection
 * keeps seeing the database as it was when the transaction began: its online backup (db.backup)
 * copies exactly that state, however long the copy takes. The commit sequence number it reflects
 * is read in the same read transaction, from the meta row applied_seq, which every batch of
 * applied writes moves in its own SQLite transaction: no half-applied batch is ever seen. It is the
 * larger of applied_seq and tombstones_collected_through: a full copy (installFull) takes its
 * source's rows, deletions up to the source's horizon included, without moving applied_seq past
 * the versions it installs, so the store can reflect commits beyond applied_seq, never beyond both.
 */
export class PinnedSnapshot {
  /** The commit sequence number the snapshot reflects: applied_seq or the collection horizon, whichever is larger (0: nothing applied). */
  readonly appliedSeq: number;
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      this.db.exec("BEGIN");
      // The first read starts the read transaction: the snapshot is the database as of now.
      const meta = (name: string): number => (this.db.prepare("SELECT value FROM meta WHERE name = ?").get(name) as { value: number } | undefined)?.value ?? 0;
      this.appliedSeq = Math.max(meta("applied_seq"), meta("tombstones_collected_through"));
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  /** Writes the pinned state to `file` with SQLite's online backup (page by page, between event loop turns). */
  async backupTo(file: string): Promise<void> {
    await this.db.backup(file);
  }

  close(): void {
    if (this.db.inTransaction) this.db.exec("COMMIT");
    this.db.close();
  }
}

/** A row is written only over an older version (a commit, a catch-up's copy, a snapshot's). */
const overOlderOnly = "ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = excluded.version WHERE excluded.version > kv.version";

/**
 * A snapshot of another replica's store brought here for a catch-up (its Backup stream, received
 * into a file in the data directory), attached to this store's connection so that a full copy from
 * it (Store.installFullFrom) moves rows inside SQLite, range by range. Closing detaches it and
 * removes the file.
 */
export class SnapshotFile implements SnapshotCopy {
  readonly collectedThrough: number;
  /** The statements over the attached snapshot (Store.installFullFrom runs them). */
  readonly statements: SnapshotStatements;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    readonly attachedTo: Store,
  ) {
    db.prepare("ATTACH DATABASE ? AS snapshot").run(file);
    try {
      const horizon = db.prepare("SELECT value FROM snapshot.meta WHERE name = 'tombstones_collected_through'").get() as { value: number } | undefined;
      this.collectedThrough = horizon?.value ?? 0;
      this.statements = {
        nthKeyAfter: db.prepare("SELECT key FROM snapshot.kv WHERE key > ? ORDER BY key LIMIT 1 OFFSET ?").pluck() as Database.Statement<[string, number], string>,
        countAfter: db.prepare("SELECT count(*) FROM snapshot.kv WHERE key > ?").pluck() as Database.Statement<[string], number>,
        maxVersion: db.prepare("SELECT max(version) FROM snapshot.kv WHERE key > ? AND key <= ?").pluck() as Database.Statement<[string, string], number | null>,
        insert: db.prepare(`INSERT INTO main.kv (key, value, version) SELECT key, value, version FROM snapshot.kv WHERE key > ? AND key <= ? ORDER BY key ${overOlderOnly}`),
        // Rows here the snapshot lacks, of a version up to its horizon: staleAfterFullCopy decides.
        missing: db.prepare(
          "SELECT key, version FROM main.kv AS here WHERE key > ? AND key <= ? AND version <= ? AND NOT EXISTS (SELECT 1 FROM snapshot.kv AS there WHERE there.key = here.key)",
        ) as Database.Statement<[string, string, number], { key: string; version: number }>,
      };
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.db.open) this.db.prepare("DETACH DATABASE snapshot").run();
    for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(this.file + suffix, { force: true });
  }
}

interface SnapshotStatements {
  readonly nthKeyAfter: Database.Statement<[string, number], string>;
  readonly countAfter: Database.Statement<[string], number>;
  readonly maxVersion: Database.Statement<[string, string], number | null>;
  readonly insert: Database.Statement<[string, string]>;
  readonly missing: Database.Statement<[string, string, number], { key: string; version: number }>;
}

/**
 * A key above every key, for a range "to the end": keys are at most keyBytesMax bytes of UTF-8, and
 * SQLite compares them bytewise; this one is keyBytesMax of the highest code point (4 bytes each).
 */
const pastEveryKey = "\u{10FFFF}".repeat(limits.keyBytesMax);

export class Store {
  private readonly db: Database.Database;
  private readonly file: string;
  private readonly upsertStmt: Database.Statement<[string, Buffer | null, number]>;
  private readonly getStmt: Database.Statement<[string], { value: Buffer | null; version: number }>;
  private readonly setMetaStmt: Database.Statement<[string, number]>;
  private readonly getMetaStmt: Database.Statement<[string], { value: number }>;
  private readonly fetchStmt: Database.Statement<[number, string, number], { key: string; value: Buffer | null; version: number }>;
  private readonly applyBatch: (batch: readonly Apply[], lastLsn: number) => void;
  private readonly installBatch: (entries: readonly VersionedEntry[]) => void;
  private readonly collectBatch: (throughSeq: number, limit: number) => number;
  private readonly installFullBatch: (page: FullCopyPage) => number;
  private readonly installFullFromBatch: (snapshot: SnapshotFile, afterKey: string, limit: number, horizon: number) => FullCopyStep;

  constructor(file: string) {
    this.file = file;
    this.db = new Database(file);
    // Smaller pages (SQLite's default is 4,096 bytes): a write dirties one leaf page, and SQLite's WAL
    // takes the whole page, forced at each checkpoint. With 4 KiB pages a replica wrote 20 MiB/s under
    // 64 clients of 100-byte puts, the three of them 66 MB/s to the one disk, and every checkpoint's
    // force held up the log forces behind it; with 1 KiB pages, 11 MiB/s (issue 13). It takes effect
    // when the store is created: an existing store keeps its page size.
    this.db.pragma(`page_size = ${pageBytes}`);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    // The hot path writes: every page a batch dirties is written to SQLite's WAL, and again to the
    // database file at a checkpoint. Checkpoint less often (hot pages written many times between two
    // checkpoints are copied once), read through a memory map and a larger cache instead of one
    // pread per page.
    this.db.pragma(`wal_autocheckpoint = ${walAutocheckpointPages}`);
    this.db.pragma(`cache_size = -${cacheKib}`);
    this.db.pragma(`mmap_size = ${mmapBytes}`);
    // No index on version: it cost every write a page of its own (the old version's entry, anywhere
    // in the index). Catch-up pages walk the table in key order from the last key sent (fetch), which
    // reads each row once over a whole catch-up; tombstones have their own partial index.
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB, version INTEGER NOT NULL) WITHOUT ROWID;
      DROP INDEX IF EXISTS kv_version;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS kv_tombstones ON kv (version) WHERE value IS NULL;
    `);
    this.upsertStmt = this.db.prepare(`INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ${overOlderOnly}`);
    this.getStmt = this.db.prepare("SELECT value, version FROM kv WHERE key = ?");
    this.setMetaStmt = this.db.prepare(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    );
    this.getMetaStmt = this.db.prepare("SELECT value FROM meta WHERE name = ?");
    this.fetchStmt = this.db.prepare("SELECT key, value, version FROM kv WHERE version >= ? AND key > ? ORDER BY key LIMIT ?");
    const deleteStmt = this.db.prepare<[string]>("DELETE FROM kv WHERE key = ?");
    const collectStmt = this.db.prepare<[number, number]>(
      "DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE value IS NULL AND version <= ? LIMIT ?)",
    );
    const rangeStmt = this.db.prepare<[string, number], { key: string; version: number }>("SELECT key, version FROM kv WHERE key > ? AND version <= ?");
    const rangeToStmt = this.db.prepare<[string, string, number], { key: string; version: number }>(
      "SELECT key, version FROM kv WHERE key > ? AND key <= ? AND version <= ?",
    );
    this.applyBatch = this.committingMeta(this.db.transaction((batch: readonly Apply[], lastLsn: number) => {
      let appliedSeq = this.appliedSeq();
      const horizon = this.collectedThrough();
      for (const txn of batch) {
        for (const write of txn.writes) {
          if (!appliesToAbsentKey(txn.commitSeq, horizon) && this.getStmt.get(write.key) === undefined) continue;
          this.upsertStmt.run(write.key, write.value, txn.commitSeq);
        }
        appliedSeq = Math.max(appliedSeq, txn.commitSeq);
      }
      this.setMeta("applied_lsn", lastLsn);
      this.setMeta("applied_seq", appliedSeq);
    }));
    this.installBatch = this.committingMeta(this.db.transaction((entries: readonly VersionedEntry[]) => {
      let appliedSeq = this.appliedSeq();
      for (const entry of entries) {
        this.upsertStmt.run(entry.key, entry.value, entry.version);
        appliedSeq = Math.max(appliedSeq, entry.version);
      }
      this.setMeta("applied_seq", appliedSeq);
    }));
    this.collectBatch = this.committingMeta(this.db.transaction((throughSeq: number, limit: number) => {
      const deleted = collectStmt.run(throughSeq, limit).changes;
      // Moved only by a batch that deleted something: a batch that finds nothing writes nothing.
      if (deleted > 0 && throughSeq > this.collectedThrough()) this.setMeta("tombstones_collected_through", throughSeq);
      return deleted;
    }));
    this.installFullBatch = this.committingMeta(this.db.transaction((page: FullCopyPage) => {
      if (page.horizon > this.collectedThrough()) this.setMeta("tombstones_collected_through", page.horizon);
      const copied = new Set(page.entries.map((entry) => entry.key));
      const candidates =
        page.throughKey === null ? rangeStmt.all(page.afterKey, page.sourceCollectedThrough) : rangeToStmt.all(page.afterKey, page.throughKey, page.sourceCollectedThrough);
      let dropped = 0;
      for (const row of candidates) {
        if (copied.has(row.key) || !staleAfterFullCopy(row.version, page.sourceCollectedThrough)) continue;
        deleteStmt.run(row.key);
        dropped += 1;
      }
      this.installBatch(page.entries);
      return dropped;
    }));
    this.installFullFromBatch = this.committingMeta(
      this.db.transaction((snapshot: SnapshotFile, afterKey: string, limit: number, horizon: number): FullCopyStep => {
        const { statements } = snapshot;
        if (horizon > this.collectedThrough()) this.setMeta("tombstones_collected_through", horizon);
        const throughKey = statements.nthKeyAfter.get(afterKey, limit - 1) ?? null;
        const through = throughKey ?? pastEveryKey;
        let dropped = 0;
        for (const row of statements.missing.all(afterKey, through, snapshot.collectedThrough)) {
          if (!staleAfterFullCopy(row.version, snapshot.collectedThrough)) continue;
          deleteStmt.run(row.key);
          dropped += 1;
        }
        statements.insert.run(afterKey, through);
        const highest = statements.maxVersion.get(afterKey, through) ?? 0;
        if (highest > this.appliedSeq()) this.setMeta("applied_seq", highest);
        return { rows: throughKey === null ? statements.countAfter.get(afterKey)! : limit, throughKey, dropped };
      }),
    );
  }

  /** Brings a snapshot's file (SnapshotFile, closed by the caller) into reach of installFullFrom. */
  attachSnapshot(file: string): SnapshotFile {
    return new SnapshotFile(this.db, file, this);
  }

  /**
   * The next range of a full copy from a snapshot, atomically: the snapshot's rows after afterKey,
   * at most limit of them, through the last (throughKey; null: to the end), as installFull takes a
   * page: the rows here the snapshot lacks in that range are dropped if stale (staleAfterFullCopy),
   * the snapshot's rows installed each only over an older version, and the horizon raised to
   * `horizon`. Inside SQLite: no row passes through JavaScript but the stale ones.
   */
  installFullFrom(snapshot: SnapshotCopy, afterKey: string, limit: number, horizon: number): FullCopyStep {
    assert(snapshot instanceof SnapshotFile && snapshot.attachedTo === this, "a snapshot attached to another store");
    assert(limit > 0, `a full copy step of ${limit} rows`);
    return this.installFullFromBatch(snapshot, afterKey, limit, horizon);
  }

  /**
   * The meta rows (applied_lsn, applied_seq, tombstones_collected_through), read from memory: each
   * was a SQLite query on every turn (issue 13: 3 % of a replica's CPU under load). Writes inside a
   * transaction are staged, and reach the cache only once it committed.
   */
  private readonly metaCache = new Map<string, number | undefined>();
  private stagedMeta: Map<string, number> | null = null;

  private meta(name: string): number | undefined {
    const staged = this.stagedMeta?.get(name);
    if (staged !== undefined) return staged;
    if (!this.metaCache.has(name)) this.metaCache.set(name, this.getMetaStmt.get(name)?.value);
    return this.metaCache.get(name);
  }

  private setMeta(name: string, value: number): void {
    assert(this.stagedMeta !== null, `meta ${name} written outside a transaction`);
    this.setMetaStmt.run(name, value);
    this.stagedMeta.set(name, value);
  }

  /** A transaction whose meta writes reach the cache once it committed (nested ones: with the outermost). */
  private committingMeta<A extends unknown[], R>(transaction: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      if (this.stagedMeta !== null) return transaction(...args); // nested: the outer one commits
      this.stagedMeta = new Map();
      try {
        const result = transaction(...args);
        for (const [name, value] of this.stagedMeta) this.metaCache.set(name, value);
        return result;
      } finally {
        this.stagedMeta = null;
      }
    };
  }

  /** Tombstones of versions up to this one may have been collected (0: none was). */
  collectedThrough(): number {
    return this.meta("tombstones_collected_through") ?? 0;
  }

  /**
   * Deletes at most `limit` tombstones of versions up to throughSeq and, if it deleted any, moves the
   * horizon to throughSeq, in one SQLite transaction. Returns how many it deleted (limit: there may
   * be more).
   */
  collectTombstones(throughSeq: number, limit: number): number {
    return this.collectBatch(throughSeq, limit);
  }

  /**
   * One page of a full copy, in one SQLite transaction: takes the copy's horizon, deletes the rows of
   * the page's key range the page lacks that are stale (staleAfterFullCopy), and installs the page's
   * rows, each only over an older version. Returns how many rows it deleted.
   */
  installFull(page: FullCopyPage): number {
    return this.installFullBatch(page);
  }

  tombstoneCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM kv WHERE value IS NULL").get() as { n: number }).n;
  }

  /** Every commit record with an LSN up to this one is applied (-1: none). */
  appliedLsn(): number {
    return this.meta("applied_lsn") ?? -1;
  }

  /** Highest commit sequence number applied. */
  appliedSeq(): number {
    return this.meta("applied_seq") ?? 0;
  }

  /** Applies committed transactions, in order, in one SQLite transaction that also moves appliedLsn. */
  apply(batch: readonly Apply[], lastLsn: number): void {
    this.applyBatch(batch, lastLsn);
  }

  /** Installs rows copied from an in-sync replica (catch-up), each only over an older version. */
  install(entries: readonly VersionedEntry[]): void {
    this.installBatch(entries);
  }

  /**
   * Pins the store as it is now (backup): call it between two transactions of this connection, as
   * every method here runs whole. The caller closes it.
   */
  pinSnapshot(): PinnedSnapshot {
    return new PinnedSnapshot(this.file);
  }

  /** Forces everything SQLite holds to disk (after a catch-up, whose rows are not in the log). */
  checkpoint(): void {
    this.db.pragma("wal_checkpoint(FULL)");
  }

  /** Rows (tombstones included) with a version of at least sinceSeq, in key order after afterKey. */
  fetch(sinceSeq: number, afterKey: string, limit: number): VersionedEntry[] {
    return this.fetchStmt.all(sinceSeq, afterKey, limit);
  }

  read(keys: readonly string[]): StoredValue[] {
    return keys.map((key) => {
      const row = this.getStmt.get(key);
      return row === undefined || row.value === null
        ? { key, found: false, value: Buffer.alloc(0), version: 0 }
        : { key, found: true, value: row.value, version: row.version };
    });
  }

  keyCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM kv WHERE value IS NOT NULL").get() as { n: number }).n;
  }

  /** Every live entry in key order, and a SHA-256 over them that equal replicas share. */
  dump(): { entries: { key: string; value: Buffer; version: number }[]; checksum: string } {
    const entries = this.db.prepare("SELECT key, value, version FROM kv WHERE value IS NOT NULL ORDER BY key").all() as {
      key: string;
      value: Buffer;
      version: number;
    }[];
    const hash = createHash("sha256");
    for (const entry of entries) {
      const header = Buffer.alloc(16);
      header.writeUInt32LE(Buffer.byteLength(entry.key), 0);
      header.writeUInt32LE(entry.value.length, 4);
      header.writeBigUInt64LE(BigInt(entry.version), 8);
      hash.update(header).update(entry.key).update(entry.value);
    }
    return { entries, checksum: hash.digest("hex") };
  }

  close(): void {
    this.db.close();
  }
}
