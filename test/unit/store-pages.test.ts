// Two of the replica store's settings for speed (replica/store.ts, issue 13), and that they change
// nothing it says:
// - it is created with 1 KiB pages (a write dirties one page, and SQLite's WAL and its checkpoints
//   carry whole pages): a new store has them and holds the largest key and value the limits allow,
//   and a store created before keeps its page size and serves as before;
// - its meta rows (applied_lsn, applied_seq, the tombstone horizon) are read from memory: what a
//   transaction wrote is read back after it and by a store opened afresh, and a transaction that
//   failed leaves them as SQLite has them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import { Store } from "../../replica/store";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-pages-"));
  dirs.push(dir);
  return path.join(dir, "store.sqlite");
}

function pageSize(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma("page_size", { simple: true }) as number;
  } finally {
    db.close();
  }
}

describe("the store's meta rows, cached", () => {
  it("read back what each transaction wrote, as a fresh store reads it; a failed one leaves them as they were", () => {
    const file = storeFile();
    const store = new Store(file);
    store.apply([{ txnId: "1.1", commitSeq: 7, writes: [{ key: "a", value: Buffer.from("one") }] }], 3);
    expect({ lsn: store.appliedLsn(), seq: store.appliedSeq() }).toEqual({ lsn: 3, seq: 7 });
    store.installFull({ entries: [{ key: "b", value: null, version: 9 }], afterKey: "", throughKey: null, sourceCollectedThrough: 5, horizon: 5 });
    expect({ seq: store.appliedSeq(), horizon: store.collectedThrough() }).toEqual({ seq: 9, horizon: 5 });
    // The horizon is written first, then a row that SQLite refuses (a version that is not a number):
    // the transaction rolls back, and so must what the store reads.
    expect(() => store.installFull({ entries: [{ key: "c", value: null, version: Number.NaN }], afterKey: "", throughKey: null, sourceCollectedThrough: 8, horizon: 8 })).toThrow();
    expect({ seq: store.appliedSeq(), horizon: store.collectedThrough() }).toEqual({ seq: 9, horizon: 5 });
    store.close();
    const fresh = new Store(file);
    expect({ lsn: fresh.appliedLsn(), seq: fresh.appliedSeq(), horizon: fresh.collectedThrough() }).toEqual({ lsn: 3, seq: 9, horizon: 5 });
    fresh.close();
  });
});

describe("the store's page size", () => {
  it("a new store has 1 KiB pages and holds the largest key and value", () => {
    const file = storeFile();
    const store = new Store(file);
    const key = "k".repeat(limits.keyBytesMax);
    const value = Buffer.alloc(limits.valueBytesMax, 0xab);
    store.apply([{ txnId: "1.1", commitSeq: 1, writes: [{ key, value }] }], 0);
    expect(store.read([key])[0]).toMatchObject({ found: true, version: 1 });
    expect(store.read([key])[0]!.value.equals(value)).toBe(true);
    store.close();
    expect(pageSize(file)).toBe(1024);
  });

  it("a store created with other pages keeps them, and serves", () => {
    const file = storeFile();
    const old = new Database(file);
    old.pragma("page_size = 4096");
    old.exec("CREATE TABLE early (x INTEGER)");
    old.close();
    const store = new Store(file);
    store.apply([{ txnId: "1.1", commitSeq: 1, writes: [{ key: "a", value: Buffer.from("one") }] }], 0);
    expect(store.read(["a"])[0]).toMatchObject({ found: true, version: 1 });
    store.close();
    expect(pageSize(file)).toBe(4096);
  });
});
