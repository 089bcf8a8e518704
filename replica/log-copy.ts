// Failover, on the replica's side (coordinator/DESIGN.md, "Failover"): the epoch this replica
// promised, and its copy of the coordinator's decision log. Pure.
//
// The coordinator's decision log is replicated on the replicas: a COMMIT decision (and every other
// record the coordinator forces) is durable once a majority of the replicas hold it, so a successor
// on another host finds it. A replica keeps the records as opaque bytes (it never reads them; the
// coordinator encodes and decodes them), in index order: an Append either replaces the copy with a
// base (a snapshot of the log so far, sent when the copy is behind or of an older epoch, and at each
// compaction of the coordinator's log) or follows its last record. Within an epoch one coordinator
// writes, so the copies of that epoch are prefixes of one log; the successor recovers from the copy
// of the highest epoch, and within it the longest (coordinator/takeover.ts).

/** The epoch this replica promised, and to whom (id and address; "" when not known). */
export interface Promised {
  readonly epoch: number;
  readonly coordinatorId: string;
  readonly address: string;
}

export class DecisionLogCopy {
  /** The epoch of the coordinator that wrote the copy (0: empty). */
  epoch = 0;
  /** The index of records[0]. */
  firstIndex = 0;
  records: Buffer[] = [];
  /** A base arriving in parts (memory only: a crash keeps the old copy, and the coordinator sends the base again). */
  private staged: { epoch: number; firstIndex: number; records: Buffer[] } | null = null;

  /**
   * A part of a base (records from firstIndex on) that starts at baseFirstIndex. Parts are kept
   * aside until the last one; the copy changes only then. Returns the whole base once this part
   * completes it, or null: a part kept aside (more), or a last part whose earlier parts are not
   * here (lost in a restart, or sent out of order): the coordinator sends the base again.
   */
  basePart(epoch: number, baseFirstIndex: number, firstIndex: number, records: readonly Buffer[], more: boolean): { firstIndex: number; records: Buffer[] } | null {
    let staged = this.staged;
    if (firstIndex === baseFirstIndex) staged = { epoch, firstIndex, records: [] };
    else if (staged === null || staged.epoch !== epoch || staged.firstIndex !== baseFirstIndex || staged.firstIndex + staged.records.length !== firstIndex) staged = null;
    if (staged === null) {
      this.staged = null;
      return null;
    }
    staged.records.push(...records);
    this.staged = more ? staged : null;
    return more ? null : { firstIndex: staged.firstIndex, records: staged.records };
  }

  /** The index of the last record staged for a base of this epoch starting at baseFirstIndex (0: none). */
  stagedTo(epoch: number, baseFirstIndex: number): number {
    const staged = this.staged;
    return staged !== null && staged.epoch === epoch && staged.firstIndex === baseFirstIndex ? staged.firstIndex + staged.records.length - 1 : 0;
  }

  /**
   * Records from max(fromIndex, firstIndex) on: at most recordsMax of them and, past the first,
   * no more than bytesMax bytes in all (a record larger than that comes alone).
   */
  page(fromIndex: number, recordsMax: number, bytesMax: number): Buffer[] {
    const page: Buffer[] = [];
    let bytes = 0;
    for (let i = Math.max(0, fromIndex - this.firstIndex); i < this.records.length && page.length < recordsMax; i++) {
      const record = this.records[i]!;
      if (page.length > 0 && bytes + record.length > bytesMax) break;
      page.push(record);
      bytes += record.length;
    }
    return page;
  }

  /** The index of the last record (0: empty). */
  get lastIndex(): number {
    return this.records.length === 0 ? Math.max(0, this.firstIndex - 1) : this.firstIndex + this.records.length - 1;
  }

  /**
   * Would these records be taken: a base always; otherwise they must be of the copy's epoch and
   * reach past its last record without a gap. Returns the records to keep (a resent prefix dropped),
   * or null.
   */
  accepts(epoch: number, base: boolean, firstIndex: number, records: readonly Buffer[]): readonly Buffer[] | null {
    // A base of this epoch that ends no later than the copy is an older snapshot of the same log (a
    // late or duplicated call): taking it would cut off records this replica confirmed.
    if (base) return epoch === this.epoch && firstIndex + records.length - 1 <= this.lastIndex ? null : records;
    if (epoch !== this.epoch || firstIndex > this.lastIndex + 1) return null;
    const skip = this.lastIndex + 1 - firstIndex;
    return skip >= records.length ? [] : records.slice(skip);
  }

  /** Takes records accepts() returned (or replays a copy record of the log). */
  take(epoch: number, base: boolean, firstIndex: number, records: readonly Buffer[]): void {
    if (base) {
      this.epoch = epoch;
      this.firstIndex = firstIndex;
      this.records = [...records];
      return;
    }
    if (this.records.length === 0) this.firstIndex = firstIndex;
    this.epoch = epoch;
    this.records.push(...records);
  }
}
