// Proves that replica/decode.ts turns every request of the participant port into a checked, typed
// value or an InvalidArgument that names the field (and, for a size, the limit of common/limits.ts
// by name): transaction ids are canonical EPOCH.COUNTER within txnIdBytesMax; commit sequence
// numbers whole numbers from 1; a prepare names its coordinator and participants (including this
// replica) within their limits and writes 1..txnOpsMax keys; a batch over its limit is refused
// before any item is looked at; a repeated id is refused in a prepare batch and kept once in a
// commit or abort batch (the coordinator's Batcher can legitimately carry re-sends). A commit may
// carry the transaction's writes (intent commits, issue 13): checked as a prepare's are, named
// txns[i].writes[j], possibly none; of a repeated id, the writes of the first occurrence that has
// any are kept. Also that
// answers to this replica's own queries drop what cannot be used, with the reason, a catch-up page
// that is not what was asked for is refused whole, and that
// idsPerCall splits long lists at txnIdsPerCallMax. Failover: every coordinator call names its epoch
// (0, the value of a missing field, is refused); Promise names its coordinator and a HOST:PORT; an
// Append that is not a base carries records and no `more`, and a base names where it starts, at or
// before the part's first record, within appendRecordsMax records. checkTxnEpochs: a Prepare's
// transaction ids are all of the call's epoch, a Commit's or Abort's of it or an earlier one; one
// that is not is refused naming its field, however well formed (the id "9007199254740991.1" of a
// call of epoch 1 made every later takeover fail, issue 12).
//
// How: each test hands the decoder a request as the proto loader produces it (every field present,
// defaults filled in) with one field wrong, and checks the error's class, field and message.
import { describe, expect, it } from "vitest";
import { InvalidArgument } from "../../common/errors";
import { limits } from "../../common/limits";
import { checkTxnIdFormat } from "../../common/validate";
import type { PrepareTxn__Output } from "../../proto/gen/twopc/participant/PrepareTxn";
import {
  checkTxnEpochs,
  decodeAbort,
  decodeCatchUp,
  decodeCollectedThrough,
  decodeCommit,
  decodeGcFloor,
  decodeFetch,
  decodeFetchPage,
  decodeInspect,
  decodeOutcomeAnswer,
  decodePeerAnswer,
  decodePeerOutcome,
  decodeAppend,
  decodeEpoch,
  decodePrepare,
  decodePromise,
  decodeRead,
} from "../../replica/decode";
import { idsPerCall } from "../../replica/peer-queries";

/** The epoch every coordinator call carries (decodeEpoch checks it; the functions here decode the rest). */
const EPOCH = 1;

const SELF = "r1";

function txn(txnId: string, overrides: Partial<PrepareTxn__Output> = {}): PrepareTxn__Output {
  return { txnId, writes: [{ key: "k", value: Buffer.from("v"), delete: false }], participants: ["r1", "r2"], ...overrides };
}

/** Runs decode, expects an InvalidArgument on `field`, and returns its message. */
function refusal(decode: () => unknown, field: string): string {
  try {
    decode();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgument);
    expect((error as InvalidArgument).field).toBe(field);
    expect((error as InvalidArgument).message).toContain(field);
    return (error as InvalidArgument).message;
  }
  throw new Error(`expected InvalidArgument on ${field}`);
}

function ids(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `1.${i + 1}`);
}

describe("transaction ids (checkTxnIdFormat)", () => {
  it("accepts EPOCH.COUNTER and refuses anything else, naming the field", () => {
    expect(checkTxnIdFormat("f", "3.14")).toBe("3.14");
    for (const bad of ["../../etc", "", "1", "1.", ".1", "0.1", "1.0", "01.1", "1.01", "-1.1", "1.1.1", " 1.1", "1e3.1", "１.１"]) {
      refusal(() => checkTxnIdFormat("txns[2].txn_id", bad), "txns[2].txn_id");
    }
    // Both parts safe integers.
    refusal(() => checkTxnIdFormat("f", `${2 ** 53}.1`), "f");
    expect(refusal(() => checkTxnIdFormat("f", `1.${"9".repeat(70)}`), "f")).toBe(`f is 72 bytes; the limit is ${limits.txnIdBytesMax} (txnIdBytesMax)`);
  });
});

describe("decodePrepare", () => {
  it("decodes a well-formed batch into prepare items", () => {
    const decoded = decodePrepare({ epoch: EPOCH, coordinatorId: "coordinator", txns: [txn("1.1"), txn("1.2", { writes: [{ key: "k", value: Buffer.alloc(0), delete: true }] })] }, SELF);
    expect(decoded).toEqual({
      coordinatorId: "coordinator",
      txns: [
        { txnId: "1.1", writes: [{ key: "k", value: Buffer.from("v") }], participants: ["r1", "r2"] },
        { txnId: "1.2", writes: [{ key: "k", value: null }], participants: ["r1", "r2"] },
      ],
    });
  });

  it("refuses the request of issue 10 (txn id ../../etc) and every other bad field, naming it", () => {
    const prepare = (overrides: Partial<PrepareTxn__Output>, coordinatorId = "c") => () => decodePrepare({ epoch: EPOCH, coordinatorId, txns: [txn("1.1"), txn("1.2", overrides)] }, SELF);
    expect(refusal(prepare({ txnId: "../../etc" }), "txns[1].txn_id")).toContain("../../etc");
    refusal(prepare({}, ""), "coordinator_id");
    expect(refusal(prepare({}, "x".repeat(65)), "coordinator_id")).toContain("(memberIdBytesMax)");
    expect(refusal(prepare({ txnId: "1.1" }), "txns[1].txn_id")).toBe("txns[1].txn_id 1.1 repeats txns[0].txn_id; a batch prepares a transaction once");
    refusal(prepare({ writes: [] }), "txns[1].writes");
    const tooMany = Array.from({ length: limits.txnOpsMax + 1 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(0), delete: false }));
    expect(refusal(prepare({ writes: tooMany }), "txns[1].writes")).toContain("(txnOpsMax)");
    refusal(prepare({ writes: [{ key: "", value: Buffer.alloc(0), delete: false }] }), "txns[1].writes[0].key");
    expect(refusal(prepare({ writes: [{ key: "k".repeat(1025), value: Buffer.alloc(0), delete: false }] }), "txns[1].writes[0].key")).toContain("(keyBytesMax)");
    expect(refusal(prepare({ writes: [{ key: "k", value: Buffer.alloc(limits.valueBytesMax + 1), delete: false }] }), "txns[1].writes[0].value")).toContain("(valueBytesMax)");
    refusal(prepare({ writes: [{ key: "k", value: Buffer.from("x"), delete: true }] }), "txns[1].writes[0].value");
    refusal(prepare({ participants: [] }), "txns[1].participants");
    refusal(prepare({ participants: ["r1", ""] }), "txns[1].participants[1]");
    refusal(prepare({ participants: ["r1", "r2", "r1"] }), "txns[1].participants[2]");
    expect(refusal(prepare({ participants: ["r2", "r3"] }), "txns[1].participants")).toContain('does not name this replica ("r1")');
    const crowd = Array.from({ length: limits.participantsMax + 1 }, (_, i) => `r${i + 1}`);
    expect(refusal(prepare({ participants: crowd }), "txns[1].participants")).toContain("(participantsMax)");
  });

  it("refuses a batch over txnsPerBatchMax before looking at any transaction", () => {
    const txns = Array.from({ length: limits.txnsPerBatchMax + 1 }, () => txn("not an id"));
    expect(refusal(() => decodePrepare({ epoch: EPOCH, coordinatorId: "", txns }, SELF), "txns")).toBe(
      `txns is ${limits.txnsPerBatchMax + 1} transactions; the limit is ${limits.txnsPerBatchMax} (txnsPerBatchMax)`,
    );
  });
});

describe("decodeCommit", () => {
  it("refuses the commit of issue 10 (txn id ../../etc, no commit_seq) and bad commit sequence numbers", () => {
    refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "../../etc", commitSeq: 0, writes: [] }] }), "txns[0].txn_id");
    expect(refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.1", commitSeq: 3, writes: [] }, { txnId: "1.7", commitSeq: 0, writes: [] }] }), "txns[1].commit_seq")).toContain("from 1");
    refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.7", commitSeq: 2 ** 64, writes: [] }] }), "txns[0].commit_seq");
    refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.7", commitSeq: 1.5, writes: [] }] }), "txns[0].commit_seq");
  });

  it("keeps a re-sent commit once, and refuses one transaction with two commit sequence numbers", () => {
    expect(decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.1", commitSeq: 3, writes: [] }, { txnId: "1.2", commitSeq: 4, writes: [] }, { txnId: "1.1", commitSeq: 3, writes: [] }] })).toEqual([
      { txnId: "1.1", commitSeq: 3, writes: [] },
      { txnId: "1.2", commitSeq: 4, writes: [] },
    ]);
    expect(refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.1", commitSeq: 3, writes: [] }, { txnId: "1.1", commitSeq: 5, writes: [] }] }), "txns[1].commit_seq")).toBe(
      "txns[1].commit_seq is 5, but txns[0] commits 1.1 with 3",
    );
  });

  it("decodes the writes a commit carries (a put, a delete, or none)", () => {
    const writes = [
      { key: "k", value: Buffer.from("v"), delete: false },
      { key: "gone", value: Buffer.alloc(0), delete: true },
    ];
    expect(decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.1", commitSeq: 3, writes }, { txnId: "1.2", commitSeq: 4, writes: [] }] })).toEqual([
      { txnId: "1.1", commitSeq: 3, writes: [{ key: "k", value: Buffer.from("v") }, { key: "gone", value: null }] },
      { txnId: "1.2", commitSeq: 4, writes: [] },
    ]);
  });

  it("refuses a bad write of a commit as a prepare's, naming the field and the limit", () => {
    const commitOf = (writes: { key: string; value: Buffer; delete: boolean }[]) => () =>
      decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [{ txnId: "1.1", commitSeq: 3, writes: [] }, { txnId: "1.2", commitSeq: 4, writes }] });
    refusal(commitOf([{ key: "", value: Buffer.alloc(0), delete: false }]), "txns[1].writes[0].key");
    expect(refusal(commitOf([{ key: "k", value: Buffer.alloc(0), delete: false }, { key: "k".repeat(1025), value: Buffer.alloc(0), delete: false }]), "txns[1].writes[1].key")).toContain(
      "(keyBytesMax)",
    );
    expect(refusal(commitOf([{ key: "k", value: Buffer.alloc(limits.valueBytesMax + 1), delete: false }]), "txns[1].writes[0].value")).toContain("(valueBytesMax)");
    refusal(commitOf([{ key: "k", value: Buffer.from("x"), delete: true }]), "txns[1].writes[0].value");
    const tooMany = Array.from({ length: limits.txnOpsMax + 1 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(0), delete: false }));
    expect(refusal(commitOf(tooMany), "txns[1].writes")).toContain("(txnOpsMax)");
  });

  it("keeps, of a repeated id, the writes of the first occurrence that has any, and checks every occurrence's", () => {
    const put = (value: string) => [{ key: "k", value: Buffer.from(value), delete: false }];
    const decoded = (txns: { txnId: string; commitSeq: number; writes: { key: string; value: Buffer; delete: boolean }[] }[]) =>
      decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns });
    // The first send carried none (this replica voted YES), the re-send from a recovered record has them.
    expect(decoded([{ txnId: "1.1", commitSeq: 3, writes: [] }, { txnId: "1.2", commitSeq: 4, writes: [] }, { txnId: "1.1", commitSeq: 3, writes: put("a") }, { txnId: "1.1", commitSeq: 3, writes: put("b") }])).toEqual([
      { txnId: "1.1", commitSeq: 3, writes: [{ key: "k", value: Buffer.from("a") }] },
      { txnId: "1.2", commitSeq: 4, writes: [] },
    ]);
    expect(decoded([{ txnId: "1.1", commitSeq: 3, writes: put("a") }, { txnId: "1.1", commitSeq: 3, writes: [] }])).toEqual([{ txnId: "1.1", commitSeq: 3, writes: [{ key: "k", value: Buffer.from("a") }] }]);
    refusal(() => decoded([{ txnId: "1.1", commitSeq: 3, writes: put("a") }, { txnId: "1.1", commitSeq: 3, writes: [{ key: "", value: Buffer.alloc(0), delete: false }] }]), "txns[1].writes[0].key");
  });

  it("reads the tombstone collection floor (0: none) and refuses one that is not a whole number", () => {
    expect(decodeGcFloor({ epoch: EPOCH, gcFloor: 0, urgent: false, txns: [] })).toBe(0);
    expect(decodeGcFloor({ epoch: EPOCH, gcFloor: 41, urgent: false, txns: [] })).toBe(41);
    refusal(() => decodeGcFloor({ epoch: EPOCH, gcFloor: 2 ** 64, urgent: false, txns: [] }), "gc_floor");
    refusal(() => decodeGcFloor({ epoch: EPOCH, gcFloor: -1, urgent: false, txns: [] }), "gc_floor");
  });

  it("refuses a batch over txnsPerBatchMax", () => {
    const txns = ids(limits.txnsPerBatchMax + 1).map((txnId, i) => ({ txnId, commitSeq: i + 1, writes: [] }));
    expect(refusal(() => decodeCommit({ epoch: EPOCH, gcFloor: 0, urgent: false, txns }), "txns")).toContain("(txnsPerBatchMax)");
  });
});

describe("decodeAbort, decodePeerOutcome, decodeInspect", () => {
  it("keeps a repeated abort once and refuses bad ids and over-limit lists", () => {
    expect(decodeAbort({ epoch: EPOCH, txnIds: ["1.1", "1.2", "1.1"] })).toEqual(["1.1", "1.2"]);
    refusal(() => decodeAbort({ epoch: EPOCH, txnIds: ["1.1", "x"] }), "txn_ids[1]");
    expect(refusal(() => decodeAbort({ epoch: EPOCH, txnIds: ids(limits.txnIdsPerCallMax + 1) }), "txn_ids")).toContain("(txnIdsPerCallMax)");
  });

  it("a peer query names the asking replica; an inspection may leave it empty", () => {
    expect(decodePeerOutcome({ replicaId: "r2", txnIds: ["1.1"] })).toEqual({ replicaId: "r2", txnIds: ["1.1"] });
    refusal(() => decodePeerOutcome({ replicaId: "", txnIds: ["1.1"] }), "replica_id");
    expect(refusal(() => decodePeerOutcome({ replicaId: "r".repeat(65), txnIds: [] }), "replica_id")).toContain("(memberIdBytesMax)");
    expect(refusal(() => decodePeerOutcome({ replicaId: "r2", txnIds: ids(limits.txnIdsPerCallMax + 1) }), "txn_ids")).toContain("(txnIdsPerCallMax)");
    expect(decodeInspect({ replicaId: "", txnIds: ["1.1"] })).toEqual({ replicaId: "", txnIds: ["1.1"] });
    refusal(() => decodeInspect({ replicaId: "", txnIds: ["../../etc"] }), "txn_ids[0]");
    expect(refusal(() => decodeInspect({ replicaId: "", txnIds: ids(limits.txnIdsPerCallMax + 1) }), "txn_ids")).toContain("(txnIdsPerCallMax)");
  });
});

describe("decodeRead, decodeFetch, decodeCatchUp", () => {
  it("a read names 1..keysPerReadMax keys", () => {
    expect(decodeRead({ epoch: EPOCH, keys: ["a", "b"] })).toEqual(["a", "b"]);
    refusal(() => decodeRead({ epoch: EPOCH, keys: [] }), "keys");
    refusal(() => decodeRead({ epoch: EPOCH, keys: ["a", ""] }), "keys[1]");
    expect(refusal(() => decodeRead({ epoch: EPOCH, keys: Array.from({ length: limits.keysPerReadMax + 1 }, (_, i) => `k${i}`) }), "keys")).toContain("(keysPerReadMax)");
  });

  it("a fetch has a whole since_seq from 0 and an after_key within keyBytesMax; its limit is clamped", () => {
    expect(decodeFetch({ sinceSeq: 0, afterKey: "", limit: 0 })).toEqual({ sinceSeq: 0, afterKey: "", limit: 1 });
    expect(decodeFetch({ sinceSeq: 5, afterKey: "k", limit: 10 ** 6 })).toEqual({ sinceSeq: 5, afterKey: "k", limit: limits.catchUpRowsPerFetchMax });
    refusal(() => decodeFetch({ sinceSeq: 2 ** 60, afterKey: "", limit: 1 }), "since_seq");
    expect(refusal(() => decodeFetch({ sinceSeq: 0, afterKey: "k".repeat(1025), limit: 1 }), "after_key")).toContain("(keyBytesMax)");
  });

  it("a catch-up names its source and a HOST:PORT address", () => {
    expect(decodeCatchUp({ epoch: EPOCH, sourceId: "r2", sourceAddress: "127.0.0.1:5000", sinceSeq: 3 })).toEqual({ sourceId: "r2", sourceAddress: "127.0.0.1:5000", sinceSeq: 3 });
    refusal(() => decodeCatchUp({ epoch: EPOCH, sourceId: "", sourceAddress: "127.0.0.1:5000", sinceSeq: 3 }), "source_id");
    refusal(() => decodeCatchUp({ epoch: EPOCH, sourceId: "r2", sourceAddress: "nowhere", sinceSeq: 3 }), "source_address");
    refusal(() => decodeCatchUp({ epoch: EPOCH, sourceId: "r2", sourceAddress: "127.0.0.1:0", sinceSeq: 3 }), "source_address");
    refusal(() => decodeCatchUp({ epoch: EPOCH, sourceId: "r2", sourceAddress: "127.0.0.1:5000", sinceSeq: -1 }), "since_seq");
  });
});

describe("answers to this replica's own queries", () => {
  it("the coordinator's outcomes: drops ids not asked, COMMIT without a commit sequence number, unknown outcomes, contradictions", () => {
    const answer = decodeOutcomeAnswer(["1.1", "1.2", "1.3", "1.4", "1.5"], {
      outcomes: [
        { txnId: "1.1", outcome: "OUTCOME_COMMIT", commitSeq: 4 },
        { txnId: "1.2", outcome: "OUTCOME_COMMIT", commitSeq: 0 },
        { txnId: "1.3", outcome: "OUTCOME_ABORT", commitSeq: 0 },
        { txnId: "9.9", outcome: "OUTCOME_ABORT", commitSeq: 0 },
        { txnId: "1.4", outcome: 7 as unknown as "OUTCOME_ABORT", commitSeq: 0 },
        { txnId: "1.5", outcome: "OUTCOME_ABORT", commitSeq: 0 },
        { txnId: "1.5", outcome: "OUTCOME_COMMIT", commitSeq: 2 },
        { txnId: "1.1", outcome: "OUTCOME_COMMIT", commitSeq: 4 },
        { txnId: "1.4", outcome: "OUTCOME_UNSPECIFIED", commitSeq: 0 },
      ],
    });
    expect(answer.items).toEqual([
      { txnId: "1.1", outcome: "commit", commitSeq: 4 },
      { txnId: "1.3", outcome: "abort" },
    ]);
    expect(answer.dropped).toEqual([
      "1.2 is COMMIT with commit sequence number 0, not a whole number from 1",
      '"9.9" was not asked about',
      "1.4 has outcome 7, which this build does not know",
      "1.5 is answered twice, differently",
    ]);
  });

  it("a peer's states: drops an answer from another replica, ids not asked, COMMITTED without a commit sequence number", () => {
    const response = {
      replicaId: "r2",
      txns: [
        { txnId: "1.1", state: "PEER_COMMITTED" as const, commitSeq: 0 },
        { txnId: "1.2", state: "PEER_ABORTED" as const, commitSeq: 0 },
        { txnId: "1.3", state: "PEER_PREPARED" as const, commitSeq: 0 },
        { txnId: "2.1", state: "PEER_ABORTED" as const, commitSeq: 0 },
        { txnId: "1.4", state: "PEER_TXN_STATE_UNSPECIFIED" as const, commitSeq: 0 },
      ],
    };
    const answer = decodePeerAnswer(["1.1", "1.2", "1.3", "1.4"], "r2", response);
    expect(answer.items).toEqual([
      { txnId: "1.2", state: "aborted" },
      { txnId: "1.3", state: "prepared" },
    ]);
    expect(answer.dropped).toEqual([
      "1.1 is COMMITTED with commit sequence number 0, not a whole number from 1",
      '"2.1" was not asked about',
      "1.4 has no state",
    ]);
    const impostor = decodePeerAnswer(["1.2"], "r3", response);
    expect(impostor.items).toEqual([]);
    expect(impostor.dropped).toHaveLength(1);
  });

  it("a catch-up page: rows in the store's key order (UTF-8 bytes) after after_key, within the limit, versions from since_seq", () => {
    const request = { sinceSeq: 3, afterKey: "b", limit: 2 };
    const row = (key: string, version: number, deleted = false, value = deleted ? "" : "v") => ({ key, value: Buffer.from(value), deleted, version });
    // U+FFFF sorts before U+10000 as UTF-8 bytes (as SQLite compares), after it as UTF-16.
    expect(decodeFetchPage({ rows: [row("\uFFFF", 3), row("\u{10000}", 4, true)], done: false, collectedThrough: 0 }, request)).toEqual([
      { key: "\uFFFF", value: Buffer.from("v"), version: 3 },
      { key: "\u{10000}", value: null, version: 4 },
    ]);
    refusal(() => decodeFetchPage({ rows: [row("c", 3), row("d", 3), row("e", 3)], done: false, collectedThrough: 0 }, request), "rows");
    refusal(() => decodeFetchPage({ rows: [row("a", 3)], done: false, collectedThrough: 0 }, request), "rows[0].key");
    refusal(() => decodeFetchPage({ rows: [row("d", 3), row("c", 3)], done: false, collectedThrough: 0 }, request), "rows[1].key");
    refusal(() => decodeFetchPage({ rows: [row("c", 2)], done: false, collectedThrough: 0 }, request), "rows[0].version");
    refusal(() => decodeFetchPage({ rows: [row("c", 2 ** 60)], done: false, collectedThrough: 0 }, request), "rows[0].version");
    refusal(() => decodeFetchPage({ rows: [row("c", 3, true, "x")], done: false, collectedThrough: 0 }, request), "rows[0].value");
    expect(decodeCollectedThrough({ rows: [], done: true, collectedThrough: 12 })).toBe(12);
    refusal(() => decodeCollectedThrough({ rows: [], done: true, collectedThrough: 1.5 }), "collected_through");
  });

  it("idsPerCall splits a list at txnIdsPerCallMax", () => {
    expect(idsPerCall([])).toEqual([]);
    const calls = idsPerCall(ids(2 * limits.txnIdsPerCallMax + 1));
    expect(calls.map((call) => call.length)).toEqual([limits.txnIdsPerCallMax, limits.txnIdsPerCallMax, 1]);
    expect(calls.flat()).toEqual(ids(2 * limits.txnIdsPerCallMax + 1));
  });
});

describe("decodeEpoch, decodePromise, decodeAppend (failover)", () => {
  const promise = { epoch: 4, coordinatorId: "c2", coordinatorAddress: "127.0.0.1:50052" };
  const append = { ...promise, base: false, more: false, baseFirstIndex: 0, firstIndex: 7, records: [Buffer.from("d")] };

  it("an epoch is a whole number from 1: a missing one (0) is refused, naming the field", () => {
    expect(decodeEpoch(7)).toBe(7);
    expect(refusal(() => decodeEpoch(0), "epoch")).toContain("missing");
    refusal(() => decodeEpoch(2 ** 60), "epoch");
    refusal(() => decodeEpoch(1.5), "epoch");
  });

  it("a Promise names its epoch, its coordinator and where to reach it", () => {
    expect(decodePromise(promise)).toEqual({ epoch: 4, coordinatorId: "c2", address: "127.0.0.1:50052" });
    refusal(() => decodePromise({ ...promise, epoch: 0 }), "epoch");
    refusal(() => decodePromise({ ...promise, coordinatorId: "" }), "coordinator_id");
    refusal(() => decodePromise({ ...promise, coordinatorAddress: "nowhere" }), "coordinator_address");
  });

  it("an Append that follows the copy carries records and is never `more`; a base names its first index", () => {
    expect(decodeAppend(append)).toEqual({ epoch: 4, coordinatorId: "c2", address: "127.0.0.1:50052", base: false, more: false, baseFirstIndex: 0, firstIndex: 7, records: [Buffer.from("d")] });
    refusal(() => decodeAppend({ ...append, records: [] }), "records");
    refusal(() => decodeAppend({ ...append, more: true }), "more");
    refusal(() => decodeAppend({ ...append, firstIndex: 0 }), "first_index");
    // A base: empty is allowed (a log with nothing live); a part starts at or after the base's first record.
    const base = { ...append, base: true, more: true, baseFirstIndex: 5, records: [] };
    expect(decodeAppend(base)).toMatchObject({ base: true, more: true, baseFirstIndex: 5, firstIndex: 7, records: [] });
    refusal(() => decodeAppend({ ...base, baseFirstIndex: 0 }), "base_first_index");
    expect(refusal(() => decodeAppend({ ...base, baseFirstIndex: 8 }), "base_first_index")).toContain("after first_index 7");
    const tooMany = Array.from({ length: limits.appendRecordsMax + 1 }, () => Buffer.alloc(0));
    expect(refusal(() => decodeAppend({ ...base, records: tooMany }), "records")).toContain("(appendRecordsMax)");
  });
});

describe("checkTxnEpochs (failover: the epochs of a call's transaction ids)", () => {
  // Each case is a batch of well-formed ids against the call's epoch, 5: the check alone decides.
  const prepareField = (i: number): string => `txns[${i}].txn_id`;
  const abortField = (i: number): string => `txn_ids[${i}]`;

  it("exact (a Prepare): ids of the call's epoch are accepted; one of an earlier or later epoch is refused, naming its field", () => {
    expect(() => checkTxnEpochs(5, ["5.1", "5.2", "5.1000000001"], prepareField, true)).not.toThrow();
    expect(() => checkTxnEpochs(5, [], prepareField, true)).not.toThrow();
    expect(refusal(() => checkTxnEpochs(5, ["5.1", "4.9"], prepareField, true), "txns[1].txn_id")).toBe(
      "txns[1].txn_id 4.9 is of epoch 4, but the call is of epoch 5: a coordinator prepares only transactions of its own epoch",
    );
    expect(refusal(() => checkTxnEpochs(5, ["6.1"], prepareField, true), "txns[0].txn_id")).toBe(
      "txns[0].txn_id 6.1 is of epoch 6, but the call is of epoch 5: a coordinator prepares only transactions of its own epoch",
    );
  });

  it("not exact (a Commit or Abort): ids of the call's epoch or an earlier one are accepted; one of a later epoch is refused, naming its field", () => {
    expect(() => checkTxnEpochs(5, ["5.1", "4.9", "1.1"], abortField, false)).not.toThrow();
    expect(refusal(() => checkTxnEpochs(5, ["4.9", "5.3", "6.1"], abortField, false), "txn_ids[2]")).toBe(
      "txn_ids[2] 6.1 is of epoch 6, but the call is of epoch 5: a coordinator decides no transaction of a later epoch",
    );
    expect(refusal(() => checkTxnEpochs(5, ["5.1", "6.1"], prepareField, false), "txns[1].txn_id")).toContain("decides no transaction of a later epoch");
  });

  it("refuses the id of the bug (epoch MAX_SAFE_INTEGER, well formed) in a call of epoch 1, in either mode", () => {
    const txnId = `${Number.MAX_SAFE_INTEGER}.1`;
    expect(checkTxnIdFormat("txns[0].txn_id", txnId)).toBe(txnId); // well formed: only its epoch is wrong
    expect(refusal(() => checkTxnEpochs(1, [txnId], prepareField, true), "txns[0].txn_id")).toBe(
      `txns[0].txn_id ${txnId} is of epoch ${Number.MAX_SAFE_INTEGER}, but the call is of epoch 1: a coordinator prepares only transactions of its own epoch`,
    );
    refusal(() => checkTxnEpochs(1, [txnId], abortField, false), "txn_ids[0]");
  });

  it("names the first offending id of a batch", () => {
    expect(refusal(() => checkTxnEpochs(5, ["5.1", "7.1", "3.1"], prepareField, true), "txns[1].txn_id")).toContain("7.1 is of epoch 7");
    expect(refusal(() => checkTxnEpochs(5, ["3.1", "8.1", "9.1"], abortField, false), "txn_ids[1]")).toContain("8.1 is of epoch 8");
  });

  it("passes over an id that is not EPOCH.COUNTER: its form is the decoder's to refuse, before this check", () => {
    expect(() => checkTxnEpochs(5, ["../../etc", "5.1"], prepareField, true)).not.toThrow();
  });
});
