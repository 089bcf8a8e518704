// Proves how a replica keeps its copy of the coordinator's decision log (replica/log-copy.ts, through
// the Append call of replica/core.ts) and that the copy and the promise survive a restart:
// - a base replaces the copy (a forced "copy" record); appends that follow the copy's last record
//   extend it; an append past a gap, or of another epoch than the copy's, is not taken (the answer
//   shows the copy's epoch and last index, so the coordinator knows what to send); a resent prefix is
//   trimmed, and a wholly resent append changes nothing;
// - a base in parts changes nothing until its last part (each part is answered with how far the
//   parts reach), then replaces the copy whole; a last part whose earlier parts are missing, or that
//   does not follow them, is not taken;
// - ReadCopy pages: at most a number of records and, past the first record, of bytes; only the
//   coordinator of the promised epoch reads them (an older one is fenced, a newer one not promised);
// - liveRecords (what a compaction keeps) replayed by recoverReplica rebuilds the promise and the
//   copy, and so does the log as the Readies wrote it; the "promise" and "copy" records round-trip
//   through replica/records.ts, and a garbled one is DATA_LOSS.
//
// How: a core promised epoch 3 to c2 holding a copy of epoch 2 (indexes 1..3) is fed Append inputs
// one at a time; each Ready (persist, replies) and the copy the core would hand a successor (its
// answer to a Promise of a newer epoch) are checked.
import { describe, expect, it } from "vitest";
import { DataLoss } from "../../common/errors";
import { mustForce, newReady, ParticipantCore, type Input, type Ready } from "../../replica/core";
import { DecisionLogCopy, type Promised } from "../../replica/log-copy";
import { decodeReplicaRecord, encodeReplicaRecord, type ReplicaRecord } from "../../replica/records";
import { recoverReplica } from "../../replica/recovery";

const PROMISED: Promised = { epoch: 3, coordinatorId: "c2", address: "127.0.0.1:50052" };

function rec(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

function step(core: ParticipantCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

function core(): ParticipantCore {
  const copy = new DecisionLogCopy();
  copy.take(2, true, 1, [rec("old1"), rec("old2"), rec("old3")]);
  return new ParticipantCore({ promised: PROMISED, copy, prepared: [], decided: [], nowMs: 0 });
}

let nextCallId = 100;

/** An Append of epoch 3 from c2. */
function append(target: ParticipantCore, fields: { base: boolean; more?: boolean; baseFirstIndex?: number; firstIndex: number; records: Buffer[]; epoch?: number }): Ready {
  nextCallId += 1;
  return step(target, {
    kind: "append",
    callId: nextCallId,
    epoch: fields.epoch ?? 3,
    coordinatorId: "c2",
    address: PROMISED.address,
    base: fields.base,
    more: fields.more ?? false,
    baseFirstIndex: fields.base ? (fields.baseFirstIndex ?? fields.firstIndex) : 0,
    firstIndex: fields.firstIndex,
    records: fields.records,
    nowMs: 0,
  });
}

/** The one reply of an Append, without its call id. */
function answer(ready: Ready): { logEpoch: number; logIndex: number; staged: boolean } {
  expect(ready.replies).toHaveLength(1);
  const reply = ready.replies[0]!;
  if (reply.kind !== "appended") throw new Error(`expected an appended reply, got ${JSON.stringify(reply)}`);
  return { logEpoch: reply.logEpoch, logIndex: reply.logIndex, staged: reply.staged };
}

/** The copy a successor would get: the answer to a Promise of a newer epoch, on a clone of the core's state. */
function copyOf(target: ParticipantCore): { logEpoch: number; logIndex: number; records: string[] } {
  const clone = rebuilt(target.liveRecords());
  const ready = step(clone, { kind: "promise", callId: 1, epoch: 99, coordinatorId: "c9", address: "127.0.0.1:50059", nowMs: 0 });
  const reply = ready.replies[0]!;
  if (reply.kind !== "promised") throw new Error(`expected a promised reply, got ${reply.kind}`);
  expect(reply.granted).toBe(true);
  const records: string[] = [];
  for (;;) {
    const page = step(clone, { kind: "read-copy", callId: 2, epoch: 99, fromIndex: reply.logFirstIndex + records.length, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 }).replies[0]!;
    if (page.kind !== "copy-page") throw new Error(`expected a copy-page reply, got ${page.kind}`);
    expect({ logEpoch: page.logEpoch, logIndex: page.logIndex }).toEqual({ logEpoch: reply.logEpoch, logIndex: reply.logIndex });
    records.push(...page.records.map((record) => record.toString("utf8")));
    if (page.records.length === 0) break;
  }
  return { logEpoch: reply.logEpoch, logIndex: reply.logIndex, records };
}

/** A core rebuilt by recovery from these records (encoded and decoded on the way, as from the disk). */
function rebuilt(records: readonly ReplicaRecord[]): ParticipantCore {
  const recovered = recoverReplica(
    records.map((record, i) => ({ lsn: i + 1, record: decodeReplicaRecord(encodeReplicaRecord(record), i + 1) })),
    records.length,
  );
  return new ParticipantCore({ ...recovered, nowMs: 0 });
}

describe("Append: base and appends", () => {
  it("a base replaces the copy with a forced copy record, whatever the copy held", () => {
    const target = core();
    const ready = append(target, { base: true, firstIndex: 10, records: [rec("a"), rec("b")] });
    expect(ready.persist).toEqual([{ kind: "copy", epoch: 3, base: true, firstIndex: 10, records: [rec("a"), rec("b")] }]);
    expect(mustForce(ready.persist[0]!)).toBe(true);
    expect(answer(ready)).toEqual({ logEpoch: 3, logIndex: 11, staged: false });
    expect(copyOf(target)).toEqual({ logEpoch: 3, logIndex: 11, records: ["a", "b"] });
  });

  it("appends that follow the last record extend the copy; a gap is not taken and the answer shows the last index", () => {
    const target = core();
    append(target, { base: true, firstIndex: 10, records: [rec("a"), rec("b")] });
    const next = append(target, { base: false, firstIndex: 12, records: [rec("c")] });
    expect(next.persist).toEqual([{ kind: "copy", epoch: 3, base: false, firstIndex: 12, records: [rec("c")] }]);
    expect(answer(next)).toEqual({ logEpoch: 3, logIndex: 12, staged: false });

    const gap = append(target, { base: false, firstIndex: 14, records: [rec("e")] });
    expect(gap.persist).toEqual([]);
    expect(answer(gap)).toEqual({ logEpoch: 3, logIndex: 12, staged: false });
    expect(copyOf(target)).toEqual({ logEpoch: 3, logIndex: 12, records: ["a", "b", "c"] });
  });

  it("trims a resent prefix, and takes nothing from an append it holds whole", () => {
    const target = core();
    append(target, { base: true, firstIndex: 10, records: [rec("a"), rec("b"), rec("c")] });
    const overlap = append(target, { base: false, firstIndex: 11, records: [rec("b"), rec("c"), rec("d")] });
    expect(overlap.persist).toEqual([{ kind: "copy", epoch: 3, base: false, firstIndex: 13, records: [rec("d")] }]);
    expect(answer(overlap)).toEqual({ logEpoch: 3, logIndex: 13, staged: false });

    const resent = append(target, { base: false, firstIndex: 10, records: [rec("a"), rec("b")] });
    expect(resent.persist).toEqual([]);
    expect(answer(resent)).toEqual({ logEpoch: 3, logIndex: 13, staged: false });
    expect(copyOf(target)).toEqual({ logEpoch: 3, logIndex: 13, records: ["a", "b", "c", "d"] });
  });

  it("takes no append of another epoch than the copy's: the answer names the copy's epoch, so a base comes next", () => {
    const target = core();
    // The copy is of epoch 2; the coordinator of epoch 3 appends at 4, right after the copy's last index.
    const ready = append(target, { base: false, firstIndex: 4, records: [rec("x")] });
    expect(ready.persist).toEqual([]);
    expect(answer(ready)).toEqual({ logEpoch: 2, logIndex: 3, staged: false });
    expect(copyOf(target)).toEqual({ logEpoch: 2, logIndex: 3, records: ["old1", "old2", "old3"] });
  });
});

describe("Append: a base in parts", () => {
  it("changes nothing until the last part, answering how far the parts reach; then replaces the copy whole", () => {
    const target = core();
    const first = append(target, { base: true, more: true, baseFirstIndex: 10, firstIndex: 10, records: [rec("a"), rec("b")] });
    expect(first.persist).toEqual([]);
    expect(answer(first)).toEqual({ logEpoch: 3, logIndex: 11, staged: true });
    const second = append(target, { base: true, more: true, baseFirstIndex: 10, firstIndex: 12, records: [rec("c")] });
    expect(second.persist).toEqual([]);
    expect(answer(second)).toEqual({ logEpoch: 3, logIndex: 12, staged: true });
    // The copy is still the old one: a successor asking now gets epoch 2's log.
    expect(copyOf(target)).toEqual({ logEpoch: 2, logIndex: 3, records: ["old1", "old2", "old3"] });

    const last = append(target, { base: true, more: false, baseFirstIndex: 10, firstIndex: 13, records: [rec("d")] });
    expect(last.persist).toEqual([{ kind: "copy", epoch: 3, base: true, firstIndex: 10, records: [rec("a"), rec("b"), rec("c"), rec("d")] }]);
    expect(answer(last)).toEqual({ logEpoch: 3, logIndex: 13, staged: false });
    expect(copyOf(target)).toEqual({ logEpoch: 3, logIndex: 13, records: ["a", "b", "c", "d"] });
  });

  it("does not take a last part whose earlier parts are missing, or that does not follow them", () => {
    const unchanged = { logEpoch: 2, logIndex: 3, staged: false };
    const cases: { name: string; parts: { more: boolean; baseFirstIndex: number; firstIndex: number; records: Buffer[] }[] }[] = [
      { name: "no first part", parts: [{ more: false, baseFirstIndex: 10, firstIndex: 12, records: [rec("c")] }] },
      {
        name: "a part skipped",
        parts: [
          { more: true, baseFirstIndex: 10, firstIndex: 10, records: [rec("a"), rec("b")] },
          { more: false, baseFirstIndex: 10, firstIndex: 13, records: [rec("d")] },
        ],
      },
      {
        name: "the parts of another base",
        parts: [
          { more: true, baseFirstIndex: 10, firstIndex: 10, records: [rec("a"), rec("b")] },
          { more: false, baseFirstIndex: 11, firstIndex: 12, records: [rec("c")] },
        ],
      },
    ];
    for (const { name, parts } of cases) {
      const target = core();
      let last: Ready = newReady();
      for (const part of parts) last = append(target, { base: true, ...part });
      expect(last.persist, name).toEqual([]);
      expect(answer(last), name).toEqual(unchanged);
      expect(copyOf(target), name).toEqual({ logEpoch: 2, logIndex: 3, records: ["old1", "old2", "old3"] });
    }
  });

  it("starts over when a new first part comes: the parts before it are dropped", () => {
    const target = core();
    append(target, { base: true, more: true, baseFirstIndex: 10, firstIndex: 10, records: [rec("stale")] });
    append(target, { base: true, more: true, baseFirstIndex: 10, firstIndex: 10, records: [rec("a")] });
    const last = append(target, { base: true, more: false, baseFirstIndex: 10, firstIndex: 11, records: [rec("b")] });
    expect(last.persist).toEqual([{ kind: "copy", epoch: 3, base: true, firstIndex: 10, records: [rec("a"), rec("b")] }]);
  });
});

describe("ReadCopy", () => {
  it("pages hold at most recordsMax records and bytesMax bytes, but always one record; from before the copy means from its first", () => {
    const copy = new DecisionLogCopy();
    copy.take(2, true, 5, [rec("aaaa"), rec("bbbb"), rec("cccccccccc"), rec("dd")]);
    const texts = (records: Buffer[]): string[] => records.map((record) => record.toString("utf8"));
    expect(texts(copy.page(0, 10, 100))).toEqual(["aaaa", "bbbb", "cccccccccc", "dd"]);
    expect(texts(copy.page(6, 2, 100))).toEqual(["bbbb", "cccccccccc"]);
    expect(texts(copy.page(5, 10, 8))).toEqual(["aaaa", "bbbb"]);
    expect(texts(copy.page(7, 10, 3))).toEqual(["cccccccccc"]);
    expect(texts(copy.page(9, 10, 100))).toEqual([]);
  });

  it("serves only the coordinator of the promised epoch: an older one is fenced, a newer one was never promised", () => {
    const target = core();
    const page = step(target, { kind: "read-copy", callId: 7, epoch: 3, fromIndex: 2, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 });
    expect(page.persist).toEqual([]);
    expect(page.replies).toEqual([{ kind: "copy-page", callId: 7, logEpoch: 2, logFirstIndex: 1, logIndex: 3, records: [rec("old2"), rec("old3")] }]);
    const older = step(target, { kind: "read-copy", callId: 8, epoch: 2, fromIndex: 0, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 });
    expect(older.replies).toEqual([{ kind: "refused", callId: 8, code: "failed-precondition", message: expect.stringContaining("fenced: epoch 2 is older than epoch 3") }]);
    const newer = step(target, { kind: "read-copy", callId: 9, epoch: 4, fromIndex: 0, recordsMax: 65_536, bytesMax: 4_194_304, nowMs: 0 });
    expect(newer.persist, "a read promises nothing").toEqual([]);
    expect(newer.replies).toEqual([{ kind: "refused", callId: 9, code: "failed-precondition", message: expect.stringContaining("epoch 4 was not promised here") }]);
  });
});

describe("the promise and the copy across a restart", () => {
  it("liveRecords replayed by recoverReplica keep the promise and the copy", () => {
    const target = core();
    append(target, { base: true, firstIndex: 10, records: [rec("a"), rec("b")] });
    append(target, { base: false, firstIndex: 12, records: [rec("c")] });
    step(target, { kind: "prepare", callId: 1, epoch: 3, txns: [{ txnId: "3.1", writes: [{ key: "k", value: rec("v") }], participants: ["r1"] }], nowMs: 0 });

    const live = target.liveRecords();
    expect(live.filter((record) => record.kind === "promise" || record.kind === "copy")).toEqual([
      { kind: "promise", ...PROMISED },
      { kind: "copy", epoch: 3, base: true, firstIndex: 10, records: [rec("a"), rec("b"), rec("c")] },
    ]);
    const again = rebuilt(live);
    expect(again.promised()).toEqual(PROMISED);
    expect(again.liveRecords()).toEqual(live);
    expect(again.lockHolder("k")).toBe("3.1");
    // Still fenced against epoch 2, and still following the copy's last record.
    expect(step(again, { kind: "fence", callId: 2, epoch: 2, nowMs: 0 }).replies[0]).toMatchObject({ kind: "refused", code: "failed-precondition" });
    expect(answer(append(again, { base: false, firstIndex: 13, records: [rec("d")] }))).toEqual({ logEpoch: 3, logIndex: 13, staged: false });
  });

  it("the log as the Readies wrote it (promise, base, appends) recovers the same promise and copy", () => {
    const fresh = new ParticipantCore({ prepared: [], decided: [], nowMs: 0 });
    const written: ReplicaRecord[] = [];
    for (const ready of [
      append(fresh, { base: true, more: true, baseFirstIndex: 1, firstIndex: 1, records: [rec("a")] }),
      append(fresh, { base: true, more: false, baseFirstIndex: 1, firstIndex: 2, records: [rec("b")] }),
      append(fresh, { base: false, firstIndex: 3, records: [rec("c"), rec("d")] }),
      append(fresh, { base: false, firstIndex: 4, records: [rec("d"), rec("e")] }),
    ]) {
      written.push(...ready.persist);
    }
    // The first append promised epoch 3 to c2 (a new replica had promised nothing).
    expect(written.map((record) => record.kind)).toEqual(["promise", "copy", "copy", "copy"]);
    const again = rebuilt(written);
    expect(again.promised()).toEqual(PROMISED);
    expect(copyOf(again)).toEqual({ logEpoch: 3, logIndex: 5, records: ["a", "b", "c", "d", "e"] });
    expect(copyOf(again)).toEqual(copyOf(fresh));
  });
});

describe("promise and copy records", () => {
  it("round-trip through the encoding, binary records and an empty copy included", () => {
    const records: ReplicaRecord[] = [
      { kind: "promise", epoch: 7, coordinatorId: "c2", address: "127.0.0.1:50052" },
      { kind: "promise", epoch: 1, coordinatorId: "", address: "" },
      { kind: "copy", epoch: 7, base: true, firstIndex: 40, records: [Buffer.from([0x00, 0xff, 0x80, 0x22, 0x5c]), Buffer.alloc(0), rec("ключ")] },
      { kind: "copy", epoch: 7, base: false, firstIndex: 43, records: [rec("x")] },
      { kind: "copy", epoch: 8, base: true, firstIndex: 1, records: [] },
    ];
    for (const record of records) expect(decodeReplicaRecord(encodeReplicaRecord(record), 1)).toEqual(record);
  });

  it("a garbled promise or copy record is DATA_LOSS naming its LSN", () => {
    for (const garbled of [
      { k: "e", e: "7", c: "c2", a: "" },
      { k: "e", e: 7, c: "c2" },
      { k: "l", e: 7, b: "yes", i: 1, r: [] },
      { k: "l", e: 7, b: true, i: 1, r: [1] },
      { k: "l", e: 7, b: true, i: 1 },
    ]) {
      expect(() => decodeReplicaRecord(Buffer.from(JSON.stringify(garbled)), 12), JSON.stringify(garbled)).toThrow(DataLoss);
      expect(() => decodeReplicaRecord(Buffer.from(JSON.stringify(garbled)), 12), JSON.stringify(garbled)).toThrow(/record 12/);
    }
  });
});

describe("a base that arrives late", () => {
  // Found by review: an Append of an earlier base of the same epoch, late or duplicated on the network,
  // replaced the copy and cut off a record this replica had confirmed (and a majority had made a
  // client's commit durable with it).
  it("a late duplicate of an earlier base of the same epoch does not truncate the copy", () => {
    const core = new ParticipantCore({ prepared: [], decided: [], nowMs: 0 });
    const append = (base: boolean, firstIndex: number, records: string[]) => {
      const out = newReady();
      core.step(
        {
          kind: "append",
          callId: 1,
          epoch: 5,
          coordinatorId: "c1",
          address: "127.0.0.1:50051",
          base,
          more: false,
          baseFirstIndex: base ? firstIndex : 0,
          firstIndex,
          records: records.map((r) => Buffer.from(r)),
          nowMs: 0,
        },
        out,
      );
      return out;
    };
    append(true, 1, ["start", "members"]);
    append(false, 3, ["commit 5.1"]);
    const late = append(true, 1, ["start", "members"]);
    expect(late.replies[0]).toMatchObject({ logEpoch: 5, logIndex: 3 });
    expect(late.persist).toEqual([]);
    // A newer base of the same epoch (a compaction) still replaces it.
    const newer = append(true, 4, ["start", "members", "remembered"]);
    expect(newer.replies[0]).toMatchObject({ logEpoch: 5, logIndex: 6 });
  });
});
