// Proves that the coordinator's tombstone collection floor (coordinator/core.ts collectionFloor,
// published as CoreView.gcFloor, handed to each replica by gcFloorFor) is the highest F such that
// every in-sync replica has applied every commit up to F:
// - a commit holds the floor below it until every in-sync participant acknowledged it, whatever
//   the order the acknowledgements come in (a later commit acknowledged first does not lift it);
// - so does a transaction still preparing, from the moment its COMMIT record takes its commit
//   sequence number (intent commits, issue 13), and one whose COMMIT went only to a NO voter;
// - a replica out of the set, or catching up, does not hold it (it owes its acknowledgements and
//   gets no floor: gcFloorFor answers 0 for it), and holds it again once it is back in sync;
// - after a restart, every COMMIT decision recovery re-sends holds it until acknowledged.
// How: a core with replicas r1, r2, r3 (minInSync 2), stepped one input at a time with explicit
// times; the floor is read from the core's view after each step, as the node reads it.
import { describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import { CoordinatorCore, gcFloorFor, newReady, type Input, type Ready, type RecoveredCoordinator } from "../../coordinator/core";

const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };
const REPLICAS = ["r1", "r2", "r3"];

class Driver {
  readonly core: CoordinatorCore;

  constructor(recovered: RecoveredCoordinator = FRESH) {
    this.core = new CoordinatorCore({ participants: REPLICAS, onConflict: "abort", minInSync: 2 }, recovered, 0);
    for (const replicaId of REPLICAS) this.step({ kind: "health", replicaId, ok: true, nowMs: 0 });
  }

  step(input: Input): Ready {
    const out = newReady();
    this.core.step(input, out);
    return out;
  }

  get floor(): number {
    return this.core.view().gcFloor;
  }

  floorFor(id: string): number {
    return gcFloorFor(this.core.view(), id);
  }

  /** Starts a put of key; returns its transaction id and the commit sequence number its COMMIT record took. */
  start(reqId: number, key: string, nowMs = 0): { txnId: string; commitSeq: number } {
    const ready = this.step({ kind: "write", reqId, writes: [{ key, value: Buffer.from("v") }], nowMs });
    const prepare = ready.early.find((message) => message.kind === "prepare");
    expect(prepare).toBeDefined();
    const record = ready.persist[0]?.record;
    expect(record).toMatchObject({ kind: "commit", txnId: prepare!.txnId });
    return { txnId: prepare!.txnId, commitSeq: record?.kind === "commit" ? record.commitSeq : -1 };
  }

  vote(replicaId: string, txnId: string, vote: "yes" | "no", nowMs = 0): Ready {
    return this.step({ kind: "votes", replicaId, votes: [vote === "yes" ? { txnId, vote } : { txnId, vote, reason: "locked" }], nowMs });
  }

  /** A put of key decided COMMIT with the votes of `voters`; returns its transaction id and commit sequence number. */
  decide(reqId: number, key: string, voters: readonly string[], nowMs = 0): { txnId: string; commitSeq: number } {
    const { txnId, commitSeq } = this.start(reqId, key, nowMs);
    // COMMIT goes out at the vote that makes a majority (or the last one, with fewer replicas in sync).
    const sent = voters.flatMap((replicaId) => this.step({ kind: "votes", replicaId, votes: [{ txnId, vote: "yes" }], nowMs }).send);
    const commit = sent.find((message) => message.kind === "commit");
    expect(commit).toMatchObject({ kind: "commit", txnId, commitSeq });
    return { txnId, commitSeq };
  }

  ack(replicaId: string, txnId: string, nowMs = 0): void {
    this.step({ kind: "acks", replicaId, txnIds: [txnId], nowMs });
  }
}

describe("the tombstone collection floor", () => {
  it("stays below the oldest commit an in-sync replica has not acknowledged, whatever the order of the acks", () => {
    const d = new Driver();
    expect(d.floor).toBe(0);
    const one = d.decide(1, "a", REPLICAS);
    const two = d.decide(2, "b", REPLICAS);
    const three = d.decide(3, "c", REPLICAS);
    expect([one.commitSeq, two.commitSeq, three.commitSeq]).toEqual([1, 2, 3]);
    // Decided, not acknowledged: nothing is known applied.
    expect(d.floor).toBe(0);
    // Every replica applies 3 and 2 first; r2 has not applied 1 yet.
    for (const id of REPLICAS) {
      d.ack(id, three.txnId);
      d.ack(id, two.txnId);
    }
    d.ack("r1", one.txnId);
    d.ack("r3", one.txnId);
    expect(d.floor).toBe(0);
    d.ack("r2", one.txnId);
    expect(d.floor).toBe(3);
    expect(REPLICAS.map((id) => d.floorFor(id))).toEqual([3, 3, 3]);
    // A commit acknowledged by two of three holds it at the one before.
    const four = d.decide(4, "d", REPLICAS);
    d.ack("r1", four.txnId);
    d.ack("r3", four.txnId);
    expect(d.floor).toBe(3);
    d.ack("r2", four.txnId);
    expect(d.floor).toBe(4);
  });

  it("is not held by a replica out of the set, which gets none; it holds it again once back in sync", () => {
    const d = new Driver();
    const one = d.decide(1, "a", REPLICAS);
    d.ack("r1", one.txnId);
    d.ack("r2", one.txnId);
    expect(d.floor).toBe(0);
    // r3 falls silent and leaves the set, owing the acknowledgement of commit 1.
    const downAt = limits.replicaDownAfterMs + 1;
    for (const id of ["r1", "r2"]) d.step({ kind: "health", replicaId: id, ok: true, nowMs: downAt });
    d.step({ kind: "tick", nowMs: downAt });
    expect(d.core.memberList().find((m) => m.id === "r3")?.state).toBe("out");
    expect(d.floor).toBe(1);
    expect(d.floorFor("r1")).toBe(1);
    expect(d.floorFor("r3")).toBe(0);
    // Writes go on without it; the floor follows r1 and r2 alone.
    const two = d.decide(2, "b", ["r1", "r2"], downAt);
    d.ack("r1", two.txnId, downAt);
    d.ack("r2", two.txnId, downAt);
    expect(d.floor).toBe(2);

    // r3 answers again: it catches up, and joins new transactions meanwhile without holding the floor.
    d.step({ kind: "health", replicaId: "r3", ok: true, nowMs: downAt + 10 });
    expect(d.core.memberList().find((m) => m.id === "r3")?.state).toBe("catching-up");
    const three = d.decide(3, "c", REPLICAS, downAt + 10);
    d.ack("r1", three.txnId, downAt + 10);
    d.ack("r2", three.txnId, downAt + 10);
    expect(d.floor).toBe(3);
    expect(d.floorFor("r3")).toBe(0);
    // Caught up, in sync again: its missing acknowledgement of commit 3 (and the owed 1) hold the floor.
    const incarnation = d.core.memberList().find((m) => m.id === "r3")!.incarnation;
    d.step({ kind: "caught-up", replicaId: "r3", incarnation, ok: true, reason: "", nowMs: downAt + 20 });
    expect(d.core.memberList().find((m) => m.id === "r3")?.state).toBe("in-sync");
    expect(d.floor).toBe(0);
    d.ack("r3", one.txnId, downAt + 20);
    expect(d.floor).toBe(2);
    d.ack("r3", three.txnId, downAt + 20);
    expect(d.floor).toBe(3);
    expect(d.floorFor("r3")).toBe(3);
  });

  it("after a restart, is held below every COMMIT decision recovery re-sends until it is acknowledged", () => {
    const d = new Driver({
      ...FRESH,
      epoch: 2,
      lastCommitSeq: 9,
      unfinished: [
        { txnId: "1.7", commitSeq: 7, participants: REPLICAS, keys: ["a"], writes: [{ key: "a", value: Buffer.from("v") }] },
        { txnId: "1.9", commitSeq: 9, participants: REPLICAS, keys: ["b"], writes: null },
      ],
    });
    expect(d.floor).toBe(6);
    for (const id of REPLICAS) d.ack(id, "1.7");
    expect(d.floor).toBe(8);
    for (const id of REPLICAS) d.ack(id, "1.9");
    expect(d.floor).toBe(9);
  });

  it("is held below a transaction still preparing, whose COMMIT record took its commit sequence number, until its in-sync participants acknowledged", () => {
    const d = new Driver();
    const one = d.decide(1, "a", REPLICAS);
    for (const id of REPLICAS) d.ack(id, one.txnId);
    expect(d.floor).toBe(1);
    // Preparing: commit sequence number 2 is taken (lastCommitSeq is 2), and no replica applied it.
    const two = d.start(2, "b");
    expect(two.commitSeq).toBe(2);
    expect(d.core.lastSeq()).toBe(2);
    expect(d.floor).toBe(1);
    // A later commit, applied everywhere, does not lift it past the preparing one.
    const three = d.decide(3, "c", REPLICAS);
    for (const id of REPLICAS) d.ack(id, three.txnId);
    expect(d.floor).toBe(1);
    // r3 votes NO: COMMIT with the writes goes to it first; until every in-sync participant applied
    // it, the floor stays below it.
    d.vote("r1", two.txnId, "yes");
    d.vote("r2", two.txnId, "yes");
    d.vote("r3", two.txnId, "no");
    expect(d.core.inFlight().find((txn) => txn.txnId === two.txnId)?.phase).toBe("committing");
    expect(d.floor).toBe(1);
    d.ack("r3", two.txnId);
    d.ack("r1", two.txnId);
    expect(d.floor).toBe(1);
    d.ack("r2", two.txnId);
    expect(d.floor).toBe(3);
    expect(REPLICAS.map((id) => d.floorFor(id))).toEqual([3, 3, 3]);
  });
});
