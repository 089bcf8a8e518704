// Tombstone collection on a replica, and the rules the store and a catch-up follow once tombstones
// are gone. Pure: the node (replica/node.ts) tells the collector the floors it hears and carries out
// its batches on the store (replica/store.ts; the simulator's store follows the same rules, from
// here). Why this is safe is argued in replica/DESIGN.md, "Tombstone collection".
//
// - The coordinator sends each in-sync replica a collection floor F with its commits: that replica,
//   like every in-sync one, has applied every commit with a sequence number up to F.
// - The replica collects, in batches of tombstonesPerCollectMax, the tombstones of versions up to
//   min(F, its applied sequence number), F as heard tombstoneRetentionMs ago (so that a replica
//   back from a short absence still finds the tombstones it missed), and records that horizon durably in the same SQLite
//   transaction as the first batch that reaches it ("tombstones of versions up to the horizon may be
//   gone").
// - A committed write of a version up to the horizon, for a key the store holds no row for, is not
//   applied (appliesToAbsentKey): the key was deleted by a newer commit whose tombstone is gone.
// - A catch-up from sinceSeq whose source has a horizon of at least sinceSeq takes a full copy
//   (needsFullCopy); a row the copy lacks is stale if its version is up to the source's horizon
//   (staleAfterFullCopy), and the replica takes the source's horizon as its own.
import { assert } from "../common/assert";
import { limits } from "../common/limits";
import { mutation } from "../common/mutations";

/** One page of a full copy: the source's rows over a key range, and its horizon. */
export interface FullCopyPage {
  /** The source's rows (value null: a tombstone), in key order. */
  readonly entries: readonly { readonly key: string; readonly value: Buffer | null; readonly version: number }[];
  /** The page covers the keys after afterKey ("" for the first page) up to throughKey (null: to the end). */
  readonly afterKey: string;
  readonly throughKey: string | null;
  /** The source's horizon when it read the page: a row here the page lacks, of a version up to it, is stale. */
  readonly sourceCollectedThrough: number;
  /** The horizon this replica takes (the source's when the copy started), in the same transaction. */
  readonly horizon: number;
}

export class TombstoneCollector {
  /**
   * Floors heard, oldest first, each with when it was first heard (at most one per
   * retentionMs / tombstoneRetentionSamplesMax: a later floor within that raises the newest one).
   */
  private readonly heard: { atMs: number; floor: number }[] = [];
  /** The highest floor heard at least retentionMs ago: the collection may go up to it. */
  private retained = 0;
  /** The store's horizon: tombstones of versions up to it may be gone. */
  private horizon: number;
  /** Tombstones of versions up to the horizon may remain: the last batch was full, or a full copy brought some. */
  private pending: boolean;

  constructor(
    storeHorizon: number,
    /**
     * How long a tombstone outlives the floor that allows its collection (tombstoneRetentionMs, or
     * --tombstone-retention-ms): a replica back within it catches up from the rows since it left,
     * not by a full copy. A policy, not a safety rule: any floor heard is safe to collect up to.
     */
    private readonly retentionMs: number,
  ) {
    assert(Number.isSafeInteger(storeHorizon) && storeHorizon >= 0, `bad collection horizon ${storeHorizon}`);
    assert(retentionMs >= 0, `bad tombstone retention ${retentionMs} ms`);
    this.horizon = storeHorizon;
    // After a restart, a batch cut short before the crash may have left some.
    this.pending = storeHorizon > 0;
  }

  /**
   * A coordinator sent this floor (0: none) with commits this replica acknowledged. Memory only:
   * after a restart, the next commit call brings one.
   */
  floorHeard(floor: number, nowMs: number): void {
    const newest = this.heard[this.heard.length - 1];
    if (floor <= Math.max(this.retained, newest?.floor ?? 0)) return;
    const sampleMs = this.retentionMs / limits.tombstoneRetentionSamplesMax;
    if (newest !== undefined && nowMs - newest.atMs < sampleMs) newest.floor = floor;
    else this.heard.push({ atMs: nowMs, floor });
  }

  get collectedThrough(): number {
    return this.horizon;
  }

  /**
   * The version to collect tombstones through now (one batch), or null when nothing is due. Never
   * past a floor heard: a replica's applied sequence number is the highest commit it applied, not
   * one below which it applied all (commits of different keys apply in any order).
   */
  due(appliedSeq: number, nowMs: number): number | null {
    while (this.heard.length > 0 && nowMs - this.heard[0]!.atMs >= this.retentionMs) this.retained = Math.max(this.retained, this.heard.shift()!.floor);
    // Planted bug (test-only): the floor is ignored, the replica collects up to what it applied.
    const target = mutation() === "gc-ignores-floor" ? appliedSeq : Math.min(this.retained, appliedSeq);
    if (target > this.horizon) return target;
    return this.pending ? this.horizon : null;
  }

  /**
   * A batch collected through `through` and deleted `deleted` tombstones, of at most batchMax (the
   * store moved its horizon there if it deleted any; none left at or below `through` either way).
   */
  collected(through: number, deleted: number, batchMax: number): void {
    assert(through >= this.horizon, `collection went back from ${this.horizon} to ${through}`);
    assert(deleted <= batchMax, `a batch of ${batchMax} deleted ${deleted}`);
    this.horizon = through;
    this.pending = deleted === batchMax;
  }

  /** A full copy raised the store's horizon to at least `horizon`, and may have brought tombstones below it. */
  adopted(horizon: number): void {
    this.horizon = Math.max(this.horizon, horizon);
    this.pending = this.horizon > 0;
  }
}

/**
 * A catch-up of every row of version sinceSeq or later cannot learn the deletions whose tombstones
 * the source collected: it needs a full copy once the source's horizon reaches sinceSeq.
 */
export function needsFullCopy(sinceSeq: number, sourceCollectedThrough: number): boolean {
  return sourceCollectedThrough > 0 && sourceCollectedThrough >= sinceSeq;
}

/**
 * Whether a committed write of `version` applies to a key the store holds no row for. Not at or
 * below the horizon: the replica applied (or copied) every commit up to it, so such a write comes
 * late (an in-doubt transaction settled after a full copy, a redo) and a newer commit deleted the
 * key; its tombstone, which would have kept the old write out, is gone.
 */
export function appliesToAbsentKey(version: number, collectedThrough: number): boolean {
  return version > collectedThrough;
}

/**
 * A full copy: a row of this replica within a page's key range that the page does not hold is stale
 * (deleted at the source, its tombstone collected) if its version is at most the source's horizon
 * for that page, since the source had applied every commit up to it. A newer one is a commit the
 * source has not applied yet, and stays.
 */
export function staleAfterFullCopy(localVersion: number, sourceCollectedThrough: number): boolean {
  // Planted bug (test-only): a full copy leaves the keys it does not contain as they were.
  if (mutation() === "full-copy-keeps-stale-keys") return false;
  return localVersion <= sourceCollectedThrough;
}
