// The replica's SQLite store: committed data, and how far into the log it has been applied.
//
// Durability (replica/DESIGN.md): the write-ahead log is authoritative. SQLite runs in WAL mode with
// synchronous=NORMAL: a crash of the process loses nothing SQLite committed, and a crash of the
// machine may roll SQLite back by a few transactions but never corrupts it. That is enough, because
// each batch of applied writes records applied_lsn in the same SQLite transaction, and recovery
// redoes every commit record logged after applied_lsn. Forcing SQLite too would buy nothing but a
// second fsync per batch.
import { createHash } from "node:crypto";
import Database from "better-sqlite3";
import type { Apply } from "./core";

export interface StoredValue {
  readonly key: string;
  readonly found: boolean;
  readonly value: Buffer;
  readonly version: number;
}

export class Store {
  private readonly db: Database.Database;
  private readonly putStmt: Database.Statement<[string, Buffer, number]>;
  private readonly delStmt: Database.Statement<[string]>;
  private readonly getStmt: Database.Statement<[string], { value: Buffer; version: number }>;
  private readonly setMetaStmt: Database.Statement<[string, number]>;
  private readonly getMetaStmt: Database.Statement<[string], { value: number }>;
  private readonly applyBatch: (batch: readonly Apply[], lastLsn: number) => void;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
    `);
    this.putStmt = this.db.prepare(
      "INSERT INTO kv (key, value, version) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, version = excluded.version",
    );
    this.delStmt = this.db.prepare("DELETE FROM kv WHERE key = ?");
    this.getStmt = this.db.prepare("SELECT value, version FROM kv WHERE key = ?");
    this.setMetaStmt = this.db.prepare(
      "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
    );
    this.getMetaStmt = this.db.prepare("SELECT value FROM meta WHERE name = ?");
    this.applyBatch = this.db.transaction((batch: readonly Apply[], lastLsn: number) => {
      let appliedSeq = this.appliedSeq();
      for (const txn of batch) {
        for (const write of txn.writes) {
          if (write.value === null) this.delStmt.run(write.key);
          else this.putStmt.run(write.key, write.value, txn.commitSeq);
        }
        appliedSeq = Math.max(appliedSeq, txn.commitSeq);
      }
      this.setMetaStmt.run("applied_lsn", lastLsn);
      this.setMetaStmt.run("applied_seq", appliedSeq);
    });
  }

  /** Every commit record with an LSN up to this one is applied (-1: none). */
  appliedLsn(): number {
    return this.getMetaStmt.get("applied_lsn")?.value ?? -1;
  }

  /** Highest commit sequence number applied. */
  appliedSeq(): number {
    return this.getMetaStmt.get("applied_seq")?.value ?? 0;
  }

  /** Applies committed transactions, in order, in one SQLite transaction that also moves appliedLsn. */
  apply(batch: readonly Apply[], lastLsn: number): void {
    this.applyBatch(batch, lastLsn);
  }

  read(keys: readonly string[]): StoredValue[] {
    return keys.map((key) => {
      const row = this.getStmt.get(key);
      return row === undefined
        ? { key, found: false, value: Buffer.alloc(0), version: 0 }
        : { key, found: true, value: row.value, version: row.version };
    });
  }

  keyCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM kv").get() as { n: number }).n;
  }

  /** Every entry in key order, and a SHA-256 over them that equal replicas share. */
  dump(): { entries: { key: string; value: Buffer; version: number }[]; checksum: string } {
    const entries = this.db.prepare("SELECT key, value, version FROM kv ORDER BY key").all() as {
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
