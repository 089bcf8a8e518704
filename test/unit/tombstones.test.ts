// Proves the replica's side of tombstone collection (replica/tombstones.ts, replica/store.ts):
// - the collector goes no further than the floor heard (as heard tombstoneRetentionMs ago) and the
//   replica's applied sequence number, and goes on batch by batch while batches come back full;
// - the SQLite store deletes tombstones in batches of at most the limit, moves its horizon
//   (tombstones_collected_through) in the same transaction (only when it deleted some), keeps it
//   across a reopen, never touches a live row, and finds the tombstones through its partial index;
// - once a tombstone is gone, a late committed write at or below the horizon for a key with no row
//   is not applied (it would bring a deleted key back), one above it is;
// - commits applied out of order around a collection lose nothing (the planted bug gc-ignores-floor,
//   collecting up to the applied sequence number, drops the earlier one);
// - a full copy page deletes the rows of its key range the source no longer has, if their version
//   is at most the source's horizon, keeps newer ones and rows outside the range, and takes the
//   copy's horizon (the planted bug full-copy-keeps-stale-keys leaves the stale rows);
// - the catch-up asks for a full copy exactly when the source collected tombstones it needs.
// How: the collector alone, with explicit times; the store on a temporary SQLite file.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import type { Apply } from "../../replica/core";
import { Store } from "../../replica/store";
import { appliesToAbsentKey, needsFullCopy, TombstoneCollector } from "../../replica/tombstones";
import { failureUnder } from "./planted";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempStore(): { store: Store; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-tombstones-"));
  dirs.push(dir);
  const file = path.join(dir, "store.sqlite");
  return { store: new Store(file), file };
}

function put(commitSeq: number, key: string, value = `v${commitSeq}`): Apply {
  return { txnId: `1.${commitSeq}`, commitSeq, writes: [{ key, value: Buffer.from(value) }] };
}

function del(commitSeq: number, key: string): Apply {
  return { txnId: `1.${commitSeq}`, commitSeq, writes: [{ key, value: null }] };
}

/** Every row, tombstones included: key -> "value@version" or "-@version". */
function rows(store: Store): Record<string, string> {
  return Object.fromEntries(store.fetch(0, "", 1_000_000).map((row) => [row.key, `${row.value?.toString() ?? "-"}@${row.version}`]));
}

describe("the collector", () => {
  it("goes no further than the floor heard and the applied sequence number", () => {
    const collector = new TombstoneCollector(0, 0);
    expect(collector.due(10, 0)).toBeNull();
    collector.floorHeard(6, 0);
    expect(collector.due(4, 0)).toBe(4);
    expect(collector.due(10, 0)).toBe(6);
    collector.collected(6, 3, 1_000);
    expect(collector.due(10, 0)).toBeNull();
    // A lower floor (a late call, a coordinator before a takeover) changes nothing.
    collector.floorHeard(2, 0);
    expect(collector.due(10, 0)).toBeNull();
  });

  it("keeps tombstones for the retention after the floor that allows them, and goes on while batches are full", () => {
    const collector = new TombstoneCollector(0, 1_000);
    collector.floorHeard(5, 100);
    expect(collector.due(9, 100)).toBeNull();
    expect(collector.due(9, 1_099)).toBeNull();
    collector.floorHeard(8, 1_050);
    expect(collector.due(9, 1_100)).toBe(5);
    collector.collected(5, 1_000, 1_000);
    // The batch was full: more may be left, even before the next floor is due.
    expect(collector.due(9, 1_100)).toBe(5);
    collector.collected(5, 10, 1_000);
    expect(collector.due(9, 1_100)).toBeNull();
    expect(collector.due(9, 2_050)).toBe(8);
  });

  it("samples the floors it hears into a bounded list", () => {
    const collector = new TombstoneCollector(0, 64_000);
    for (let ms = 0; ms < 64_000; ms += 1) collector.floorHeard(ms + 1, ms);
    expect((collector as unknown as { heard: unknown[] }).heard.length).toBeLessThanOrEqual(65);
    // Nothing is due before the retention; then about the floor of 64 s ago.
    expect(collector.due(1_000_000, 63_999)).toBeNull();
    expect(collector.due(1_000_000, 64_000)).toBeGreaterThanOrEqual(1);
    expect(collector.due(1_000_000, 64_000)).toBeLessThanOrEqual(1_000);
  });

  it("asks for a full copy once the source collected tombstones of versions from the copy's start on", () => {
    expect(needsFullCopy(10, 0)).toBe(false);
    expect(needsFullCopy(10, 9)).toBe(false);
    expect(needsFullCopy(10, 10)).toBe(true);
    expect(needsFullCopy(0, 1)).toBe(true);
    expect(needsFullCopy(0, 0)).toBe(false);
    expect(appliesToAbsentKey(5, 4)).toBe(true);
    expect(appliesToAbsentKey(4, 4)).toBe(false);
  });
});

describe("the store's collection", () => {
  it("deletes tombstones in bounded batches, up to the horizon only, and keeps the horizon across a reopen", () => {
    const { store, file } = tempStore();
    const deletes: Apply[] = [];
    for (let i = 1; i <= 25; i++) deletes.push(put(i, `k${i}`));
    for (let i = 1; i <= 20; i++) deletes.push(del(25 + i, `k${i}`));
    store.apply(deletes, 44);
    expect(store.tombstoneCount()).toBe(20);
    expect(store.collectedThrough()).toBe(0);

    // Tombstones of versions up to 40 (k1..k15), 10 at a time.
    expect(store.collectTombstones(40, 10)).toBe(10);
    expect(store.collectedThrough()).toBe(40);
    expect(store.collectTombstones(40, 10)).toBe(5);
    expect(store.collectTombstones(40, 10)).toBe(0);
    expect(store.tombstoneCount()).toBe(5);
    const left = rows(store);
    for (let i = 1; i <= 15; i++) expect(left[`k${i}`]).toBeUndefined();
    for (let i = 16; i <= 20; i++) expect(left[`k${i}`]).toBe(`-@${25 + i}`);
    for (let i = 21; i <= 25; i++) expect(left[`k${i}`]).toBe(`v${i}@${i}`);
    // A live row of an old version is never collected.
    expect(store.collectTombstones(45, 100)).toBe(5);
    expect(store.keyCount()).toBe(5);
    store.close();

    const reopened = new Store(file);
    expect(reopened.collectedThrough()).toBe(45);
    expect(reopened.collectTombstones(44, 100)).toBe(0);
    expect(reopened.collectedThrough()).toBe(45);
    // A batch that finds nothing to delete writes nothing: the horizon stays.
    expect(reopened.collectTombstones(60, 100)).toBe(0);
    expect(reopened.collectedThrough()).toBe(45);
    reopened.close();
  });

  it("finds the tombstones through the partial index, without scanning the live rows", () => {
    const { store, file } = tempStore();
    store.close();
    const db = new Database(file, { readonly: true });
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT key FROM kv WHERE value IS NULL AND version <= ? LIMIT ?").all(5, 10) as { detail: string }[];
    db.close();
    expect(plan.map((step) => step.detail).join(" | ")).toContain("kv_tombstones");
  });

  it("does not apply a late write at or below the horizon to a key whose tombstone is gone; one above it applies", () => {
    const { store } = tempStore();
    store.apply([put(1, "k"), del(2, "k")], 2);
    store.collectTombstones(2, 100);
    expect(rows(store)).toEqual({});
    // The write of version 1 again (a redo, an in-doubt transaction settled late): k stays deleted.
    store.apply([put(1, "k", "stale")], 3);
    expect(store.read(["k"])[0]!.found).toBe(false);
    // A new write of a version above the horizon applies, absent key or not.
    store.apply([put(3, "k", "new"), put(3, "fresh")], 4);
    expect(rows(store)).toEqual({ k: "new@3", fresh: "v3@3" });
    expect(store.appliedSeq()).toBe(3);
  });

  it("loses no commit applied out of order around a collection (planted bug: gc-ignores-floor)", () => {
    const check = (): void => {
      const { store } = tempStore();
      const collector = new TombstoneCollector(store.collectedThrough(), 0);
      // k was written at 1 and deleted at 2; every in-sync replica applied both (the floor is 2).
      store.apply([put(1, "k"), del(2, "k")], 2);
      collector.floorHeard(2, 0);
      // Commit 4 (another key) is applied here before commit 3 (k written again) arrives.
      store.apply([put(4, "other")], 3);
      const through = collector.due(store.appliedSeq(), 0);
      expect(through).not.toBeNull();
      collector.collected(through!, store.collectTombstones(through!, 1_000), 1_000);
      store.apply([put(3, "k", "again")], 4);
      expect(store.read(["k"])[0]).toMatchObject({ found: true, version: 3 });
    };
    check();
    expect(failureUnder("gc-ignores-floor", check)).toMatch(/found|version/);
  });
});

describe("a full copy page", () => {
  /** A replica that had a@1 b@2 c@3 d@7 e@4 and a tombstone t@5; the source has b@6 c@3 and collected up to 6. */
  function copyOnto(): { store: Store; dropped: number[] } {
    const { store } = tempStore();
    store.apply([put(1, "a"), put(2, "b"), put(3, "c"), put(4, "e"), put(5, "t"), del(5, "t"), put(7, "d")], 6);
    // The first page covers keys up to "b"; the second ("b", end).
    const dropped = [
      store.installFull({ entries: [{ key: "b", value: Buffer.from("new"), version: 6 }], afterKey: "", throughKey: "b", sourceCollectedThrough: 6, horizon: 6 }),
      store.installFull({ entries: [{ key: "c", value: Buffer.from("v3"), version: 3 }], afterKey: "b", throughKey: null, sourceCollectedThrough: 6, horizon: 6 }),
    ];
    return { store, dropped };
  }

  it("deletes the rows the source no longer has up to its horizon, keeps newer ones, and takes the horizon", () => {
    const { store, dropped } = copyOnto();
    // a@1 and e@4 are gone (deleted at the source, tombstones collected), so is the tombstone t@5;
    // d@7 is a commit the source has not applied yet.
    expect(rows(store)).toEqual({ b: "new@6", c: "v3@3", d: "v7@7" });
    expect(dropped).toEqual([1, 2]);
    expect(store.collectedThrough()).toBe(6);
  });

  it("keeps the stale rows with the planted bug full-copy-keeps-stale-keys", () => {
    expect(failureUnder("full-copy-keeps-stale-keys", () => expect(rows(copyOnto().store)).toEqual({ b: "new@6", c: "v3@3", d: "v7@7" }))).toMatch(/v1@1|v4@4/);
  });
});

describe("a full copy from a snapshot (Store.installFullFrom: the same rule, inside SQLite)", () => {
  /** The same replica as above; the source (b@6 c@3, collected up to 6) comes as a snapshot file, installed one row per step. */
  type Copied = { store: Store; steps: { rows: number; throughKey: string | null; dropped: number }[]; snapshotFile: string };
  /** Takes the source's snapshot (asynchronous: SQLite's online backup); the copy itself is the function returned. */
  async function snapshotThenCopy(): Promise<() => Copied> {
    const source = tempStore();
    source.store.installFull({ entries: [{ key: "b", value: Buffer.from("new"), version: 6 }, { key: "c", value: Buffer.from("v3"), version: 3 }], afterKey: "", throughKey: null, sourceCollectedThrough: 6, horizon: 6 });
    const snapshotFile = path.join(path.dirname(source.file), "snapshot.sqlite");
    const pinned = source.store.pinSnapshot();
    await pinned.backupTo(snapshotFile);
    pinned.close();
    return () => copyOnto(snapshotFile);
  }

  function copyOnto(snapshotFile: string): Copied {
    const { store } = tempStore();
    store.apply([put(1, "a"), put(2, "b"), put(3, "c"), put(4, "e"), put(5, "t"), del(5, "t"), put(7, "d")], 6);
    const snapshot = store.attachSnapshot(snapshotFile);
    expect(snapshot.collectedThrough).toBe(6);
    const steps: { rows: number; throughKey: string | null; dropped: number }[] = [];
    for (let after = ""; ; ) {
      const step = store.installFullFrom(snapshot, after, 1, snapshot.collectedThrough);
      steps.push(step);
      if (step.throughKey === null) break;
      after = step.throughKey;
    }
    snapshot.close();
    return { store, steps, snapshotFile };
  }

  it("deletes the rows the snapshot lacks up to its horizon, keeps newer ones, takes the horizon, and removes the file", async () => {
    const { store, steps, snapshotFile } = (await snapshotThenCopy())();
    expect(rows(store)).toEqual({ b: "new@6", c: "v3@3", d: "v7@7" });
    // Ranges: ("", "b"] drops a@1; ("b", "c"] drops nothing; ("c", end) drops e@4 and the tombstone t@5, keeps d@7.
    expect(steps).toEqual([
      { rows: 1, throughKey: "b", dropped: 1 },
      { rows: 1, throughKey: "c", dropped: 0 },
      { rows: 0, throughKey: null, dropped: 2 },
    ]);
    expect(store.collectedThrough()).toBe(6);
    expect(store.appliedSeq()).toBe(7);
    expect(fs.existsSync(snapshotFile)).toBe(false);
    // Detached: the store goes on, and a second snapshot can be attached.
    store.apply([put(8, "f")], 7);
    expect(rows(store).f).toBe("v8@8");
  });

  it("keeps the stale rows with the planted bug full-copy-keeps-stale-keys", async () => {
    const copy = await snapshotThenCopy();
    expect(failureUnder("full-copy-keeps-stale-keys", () => expect(rows(copy().store)).toEqual({ b: "new@6", c: "v3@3", d: "v7@7" }))).toMatch(/v1@1|v4@4/);
  });
});
