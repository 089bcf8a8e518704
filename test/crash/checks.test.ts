// Proves that every check of the crash matrix can fail: each is fed a state where its property holds
// (it passes) and states where the property is broken in one way (it fails, naming what broke).
import { describe, expect, it } from "vitest";
import {
  checkAcknowledged,
  checkAllOrNone,
  checkLocksReleased,
  checkNoneInDoubt,
  checkNoOtherExit,
  checkTakeover,
  type ReplicaContent,
  type Stored,
  type TakeoverFacts,
} from "./checks";

function replica(id: string, entries: Record<string, [string, number]>, checksum = "same"): ReplicaContent {
  return { id, checksum, entries: new Map(Object.entries(entries).map(([key, [value, version]]): [string, Stored] => [key, { value, version }])) };
}

const acked = [
  { key: "a", value: "w0-0", version: 1 },
  { key: "a", value: "w0-1", version: 3 },
  { key: "b", value: "w1-0", version: 2 },
];
const attempted = new Map([["w0-0", "a"], ["w0-1", "a"], ["w1-0", "b"], ["w1-1", "b"], ["w0-2", "a"]]);
const good = ["r1", "r2", "r3"].map((id) => replica(id, { a: ["w0-1", 3], b: ["w1-1", 4] }));

describe("(a) every acknowledged write is on every replica", () => {
  it("passes when each key holds its last acknowledged write or a later one", () => {
    expect(checkAcknowledged(acked, good).pass).toBe(true);
  });
  it("fails on a missing key, an older version, another value at the acknowledged version, or a shared version", () => {
    const missing = checkAcknowledged(acked, [...good.slice(0, 2), replica("r3", { a: ["w0-1", 3] })]);
    expect(missing).toMatchObject({ pass: false, detail: expect.stringContaining("r3 lacks key b") });
    const older = checkAcknowledged(acked, [...good.slice(0, 2), replica("r3", { a: ["w0-0", 1], b: ["w1-1", 4] })]);
    expect(older).toMatchObject({ pass: false, detail: expect.stringContaining("older than acknowledged w0-1") });
    const other = checkAcknowledged(acked, [...good.slice(0, 2), replica("r3", { a: ["w0-2", 3], b: ["w1-1", 4] })]);
    expect(other).toMatchObject({ pass: false, detail: expect.stringContaining("where w0-1 was acknowledged") });
    const shared = checkAcknowledged([...acked, { key: "b", value: "w1-1", version: 3 }], good);
    expect(shared).toMatchObject({ pass: false, detail: expect.stringContaining("version 3 acknowledged twice") });
    expect(checkAcknowledged([], good).pass).toBe(false);
  });
});

describe("(b) every transaction is on all replicas or on none", () => {
  it("passes when the replicas are identical and hold only attempted values under their keys", () => {
    expect(checkAllOrNone(good, attempted).pass).toBe(true);
  });
  it("fails on a differing checksum, a differing entry, a value nobody wrote, or a value under another key", () => {
    const checksum = checkAllOrNone([...good.slice(0, 2), replica("r3", { a: ["w0-1", 3], b: ["w1-1", 4] }, "other")], attempted);
    expect(checksum).toMatchObject({ pass: false, detail: expect.stringContaining("checksum of r3") });
    const entry = checkAllOrNone([...good.slice(0, 2), replica("r3", { a: ["w0-1", 3], b: ["w1-0", 2] })], attempted);
    expect(entry).toMatchObject({ pass: false, detail: expect.stringContaining("key b: r1 holds w1-1@4, r3 holds w1-0@2") });
    const unknown = checkAllOrNone(["r1", "r2", "r3"].map((id) => replica(id, { a: ["nobody", 3] })), attempted);
    expect(unknown).toMatchObject({ pass: false, detail: expect.stringContaining("a value no client wrote") });
    const moved = checkAllOrNone(["r1", "r2", "r3"].map((id) => replica(id, { b: ["w0-1", 3] })), attempted);
    expect(moved).toMatchObject({ pass: false, detail: expect.stringContaining("it was written to a") });
  });
});

describe("(c) nothing stays in doubt", () => {
  const settled = { settleError: null, inFlight: [], prepared: [{ id: "r1", txnIds: [] }, { id: "r2", txnIds: [] }] };
  it("passes when nothing is in flight or prepared", () => {
    expect(checkNoneInDoubt(settled).pass).toBe(true);
  });
  it("fails on a transaction in flight, one prepared on a replica, or a settle that timed out", () => {
    expect(checkNoneInDoubt({ ...settled, inFlight: [{ txnId: "1.7", phase: "committing", waitingFor: ["r2"] }] })).toMatchObject({
      pass: false,
      detail: expect.stringContaining("coordinator still runs 1.7 (committing, waiting for r2)"),
    });
    expect(checkNoneInDoubt({ ...settled, prepared: [{ id: "r1", txnIds: [] }, { id: "r2", txnIds: ["1.8"] }] })).toMatchObject({
      pass: false,
      detail: expect.stringContaining("r2 holds 1 prepared: 1.8"),
    });
    expect(checkNoneInDoubt({ ...settled, settleError: "timed out" }).pass).toBe(false);
  });
});

describe("(d) the locks are released", () => {
  it("passes when no key is locked and every fresh put succeeded", () => {
    expect(checkLocksReleased(0, [{ key: "a", error: null }]).pass).toBe(true);
  });
  it("fails on a locked key or a refused fresh put", () => {
    expect(checkLocksReleased(2, [{ key: "a", error: null }])).toMatchObject({ pass: false, detail: expect.stringContaining("2 locked keys") });
    expect(checkLocksReleased(0, [{ key: "a", error: "ABORTED: key a is being written" }])).toMatchObject({
      pass: false,
      detail: expect.stringContaining("put a failed: ABORTED"),
    });
    expect(checkLocksReleased(0, []).pass).toBe(false);
  });
});

describe("(e) no process exits but the crashed one", () => {
  const crashed = { name: "r2", pid: 100, how: "SIGKILL", lastOutput: "failpoint before-commit-log: crashing (SIGKILL)" };
  it("passes when only the crashed process exited", () => {
    expect(checkNoOtherExit(100, []).pass).toBe(true);
    expect(checkNoOtherExit(100, [crashed]).pass).toBe(true);
  });
  it("fails when a bystander or the restarted process exited, naming it and how", () => {
    const bystander = checkNoOtherExit(100, [crashed, { name: "r3", pid: 101, how: "code 1", lastOutput: "assertion failed" }]);
    expect(bystander).toMatchObject({ pass: false, detail: expect.stringContaining("r3 (pid 101) exited unexpectedly (code 1)") });
    const restarted = checkNoOtherExit(100, [crashed, { name: "r2", pid: 102, how: "SIGKILL", lastOutput: "" }]);
    expect(restarted).toMatchObject({ pass: false, detail: expect.stringContaining("r2 (pid 102)") });
  });
});

describe("(recovery, coordinator cases) the standby takes over and the crashed coordinator returns as a standby", () => {
  const good: TakeoverFacts = {
    crashed: "coordinator",
    successor: "coordinator-2",
    crashedEpoch: 1,
    successorActive: [{ epoch: 2, timeMs: 1_000 }],
    successorStoodDown: 0,
    decisionsMissed: [],
    restartedAtMs: 2_000,
    leftWhileDown: null,
    restartedRole: "standby",
    restartedTakeovers: 0,
    finalRoles: { crashed: "standby", successor: "active" },
  };
  it("passes when the successor took over in a newer epoch, finished, and the restarted one stands by", () => {
    expect(checkTakeover(good).pass).toBe(true);
    // A takeover the restarted one only tried (refused by the replicas) is noted, not a failure.
    expect(checkTakeover({ ...good, restartedTakeovers: 1 })).toMatchObject({ pass: true, detail: expect.stringContaining("1 takeover(s) it tried and lost") });
  });
  it("fails when the restarted one took over for real: the successor stood down", () => {
    expect(checkTakeover({ ...good, restartedTakeovers: 1, successorStoodDown: 1 })).toMatchObject({ pass: false, detail: expect.stringContaining("stood down 1 time(s)") });
  });
  it("fails when the successor never took over, took over late or in an old epoch, or left work, or when the restarted one does not stand by", () => {
    const cases: [Partial<TakeoverFacts>, string][] = [
      [{ successorActive: [] }, "coordinator-2 never became active"],
      [{ successorActive: [{ epoch: 1, timeMs: 1_000 }] }, "not newer than coordinator's 1"],
      [{ successorActive: [{ epoch: 2, timeMs: 2_500 }] }, "only after coordinator was restarted"],
      [{ successorActive: [{ epoch: 2, timeMs: 1_000 }, { epoch: 4, timeMs: 1_500 }], successorStoodDown: 1 }, "became active 2 times"],
      [{ decisionsMissed: ["1.40"] }, "did not recover 1 COMMIT decision(s) coordinator had made durable and not finished: 1.40"],
      [{ leftWhileDown: "1.40 still prepared on r1" }, "not finished while coordinator was down: 1.40 still prepared on r1"],
      [{ restartedRole: "active" }, "coordinator, restarted, is active, not a standby"],
      [{ finalRoles: { crashed: "active", successor: "standby" } }, "at the end coordinator is active and coordinator-2 is standby"],
      [{ restartedAtMs: null }, "coordinator was not restarted"],
    ];
    for (const [change, why] of cases) expect(checkTakeover({ ...good, ...change })).toMatchObject({ pass: false, detail: expect.stringContaining(why) });
  });
});
