// Proves that the coordinator's pure 2PC core (coordinator/core.ts, CoordinatorCore) follows its
// protocol: a write locks its keys and sends PREPARE to every participant with an epoch-prefixed
// transaction id and logs nothing; all YES forces exactly one COMMIT record in the same Ready as
// the COMMIT messages and the client's answer (so the StepLoop forces it before they leave); the
// acks, not the answer, release the locks, and the last one logs an unforced END; a missing ack
// keeps the lock (a later write to the key is refused or waits) while COMMIT is re-sent with
// backoff; any NO, unreachable replica, prepare timeout or early
// outcome query aborts with nothing logged (presumed abort) and the right gRPC code; key conflicts
// refuse or queue the write; and recovery (coordinator/recovery.ts) rebuilds the unfinished
// commits, which the rebuilt core finishes. It also round-trips the decision log records
// (coordinator/records.ts) and checks that garbage is DATA_LOSS.
//
// How: each test builds a core with participants r1, r2, r3, feeds it inputs one at a time with
// an explicit nowMs, and inspects the Ready (persist, send, replies, outcomes) each step produced,
// plus the public accessors (inFlight, lockedKeyCount, lastSeq, startRecord).
import { describe, expect, it } from "vitest";
import { Code, DataLoss } from "../../common/errors";
import { limits } from "../../common/limits";
import type { Write } from "../../common/types";
import {
  CoordinatorCore,
  newReady,
  type Input,
  type Message,
  type OnConflict,
  type Ready,
  type RecoveredCoordinator,
  type WriteResult,
} from "../../coordinator/core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord } from "../../coordinator/records";
import { recoverCoordinator } from "../../coordinator/recovery";

const PARTICIPANTS = ["r1", "r2", "r3"] as const;
const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };

function put(key: string, value: string): Write {
  return { key, value: Buffer.from(value, "utf8") };
}

function newCore(onConflict: OnConflict = "abort", recovered: RecoveredCoordinator = FRESH, nowMs = 0): CoordinatorCore {
  return new CoordinatorCore({ participants: [...PARTICIPANTS], onConflict, minInSync: 2 }, recovered, nowMs);
}

function step(core: CoordinatorCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

function write(core: CoordinatorCore, reqId: number, writes: Write[], nowMs = 0): Ready {
  return step(core, { kind: "write", reqId, writes, nowMs });
}

function yes(core: CoordinatorCore, replicaId: string, txnId: string, nowMs = 0): Ready {
  return step(core, { kind: "votes", replicaId, votes: [{ txnId, vote: "yes" }], nowMs });
}

function ack(core: CoordinatorCore, replicaId: string, txnId: string, nowMs = 0): Ready {
  return step(core, { kind: "acks", replicaId, txnIds: [txnId], nowMs });
}

/** A timer tick, with every replica answering its health checks (these tests are about 2PC, not membership). */
function tick(core: CoordinatorCore, nowMs: number): Ready {
  for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs });
  return step(core, { kind: "tick", nowMs });
}

/** The id of the transaction a write's PREPARE messages carry (they all carry the same one). */
function preparedTxnId(ready: Ready): string {
  const ids = new Set(ready.send.filter((message) => message.kind === "prepare").map((message) => message.txnId));
  expect(ids.size).toBe(1);
  return [...ids][0]!;
}

/** Drives a write to the COMMIT decision: every participant votes YES at nowMs. */
function writeAndDecide(core: CoordinatorCore, reqId: number, writes: Write[], nowMs = 0): { txnId: string; decision: Ready } {
  const txnId = preparedTxnId(write(core, reqId, writes, nowMs));
  let decision = newReady();
  for (const replicaId of PARTICIPANTS) decision = yes(core, replicaId, txnId, nowMs);
  return { txnId, decision };
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

function failure(result: WriteResult): { code: number; message: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

function sendsOf(ready: Ready, kind: Message["kind"]): Message[] {
  return ready.send.filter((message) => message.kind === kind);
}

describe("CoordinatorCore: the path of a committed write", () => {
  it("sends PREPARE to every participant with an epoch-prefixed txn id, and logs nothing yet", () => {
    const core = newCore("abort", { epoch: 7, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] });
    const writes = [put("a", "1")];
    const ready = write(core, 1, writes);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([]);
    expect(ready.send).toHaveLength(3);
    expect(ready.send.map((message) => message.to).sort()).toEqual([...PARTICIPANTS]);
    for (const message of ready.send) {
      expect(message.kind).toBe("prepare");
      if (message.kind !== "prepare") continue;
      expect(message.txnId.startsWith("7.")).toBe(true);
      expect(message.writes).toEqual(writes);
      expect(message.participants).toEqual([...PARTICIPANTS]);
    }
    // A second write gets a different id in the same epoch.
    const second = preparedTxnId(write(core, 2, [put("b", "2")]));
    expect(second.startsWith("7.")).toBe(true);
    expect(second).not.toBe(preparedTxnId(ready));
    expect(core.lockedKeyCount()).toBe(2);
  });

  it("on the last YES forces exactly one COMMIT record and sends COMMIT to all and the reply in the same Ready", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 1, [put("b", "2"), put("a", "1")]));
    const first = yes(core, "r1", txnId);
    const second = yes(core, "r2", txnId);
    for (const ready of [first, second]) {
      expect(ready.persist).toEqual([]);
      expect(ready.send).toEqual([]);
      expect(ready.replies).toEqual([]);
    }
    const decision = yes(core, "r3", txnId);
    expect(decision.persist).toEqual([
      { record: expect.objectContaining({ kind: "commit", txnId, commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a", "b"] }), force: true },
    ]);
    // The COMMIT messages and the client's answer share the Ready of their forced record: the
    // StepLoop forces it first, so neither leaves before the decision is durable.
    expect(decision.send).toHaveLength(3);
    // No write waits for these keys: each replica may share the COMMIT's fsync with what comes next.
    for (const message of decision.send) expect(message).toMatchObject({ kind: "commit", txnId, commitSeq: 1, urgent: false });
    expect(decision.send.map((message) => message.to).sort()).toEqual([...PARTICIPANTS]);
    expect(decision.replies).toEqual([
      {
        reqId: 1,
        result: {
          ok: true,
          commitSeq: 1,
          txnId,
          outcome: {
            branch: "then",
            results: [
              { kind: "put", key: "b" },
              { kind: "put", key: "a" },
            ],
          },
        },
      },
    ]);
    expect(core.lastSeq()).toBe(1);
    // Answered, but not finished: it waits for the acks with its keys locked.
    expect(only(core.inFlight()).phase).toBe("committing");
    expect(core.lockedKeyCount()).toBe(2);
  });

  it("ignores a repeated YES from one replica: it does not count twice", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 1, [put("a", "1")]));
    yes(core, "r1", txnId);
    const again = yes(core, "r1", txnId);
    expect(again.persist).toEqual([]);
    const stillOne = yes(core, "r2", txnId);
    expect(stillOne.persist).toEqual([]);
    expect(yes(core, "r3", txnId).persist).toHaveLength(1);
  });

  it("replies ok with the commitSeq at the decision; the acks release the locks, and the last logs an unforced END without a second reply", () => {
    const core = newCore();
    const { txnId, decision } = writeAndDecide(core, 11, [put("a", "1")]);
    expect(decision.replies).toEqual([{ reqId: 11, result: { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(core.lockedKeyCount()).toBe(1);
    for (const replicaId of ["r1", "r2"]) {
      const ready = ack(core, replicaId, txnId);
      expect(ready).toEqual(newReady());
      expect(core.lockedKeyCount()).toBe(1);
    }
    const done = ack(core, "r3", txnId);
    expect(done.replies).toEqual([]);
    expect(done.send).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.inFlight()).toEqual([]);
    expect(core.inFlight()).toHaveLength(0);
    // A late duplicate ack changes nothing.
    expect(ack(core, "r3", txnId)).toEqual(newReady());
    // The next write takes the next commit sequence number.
    const next = writeAndDecide(core, 12, [put("a", "2")]);
    expect(next.decision.persist[0]!.record).toMatchObject({ kind: "commit", commitSeq: 2 });
  });
});

describe("CoordinatorCore: missing acks", () => {
  it("replies ok at the decision, but keeps the lock until the last ack, however late it comes", () => {
    const core = newCore();
    const decidedMs = 1_000;
    const { txnId, decision } = writeAndDecide(core, 1, [put("a", "1")], decidedMs);
    expect(decision.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(ack(core, "r1", txnId, decidedMs).replies).toEqual([]);
    expect(ack(core, "r2", txnId, decidedMs).replies).toEqual([]);
    // Replied once only: no tick answers again while r3's ack is missing (COMMIT is re-sent meanwhile).
    const lateMs = decidedMs + 5 * limits.decisionResendMsMax;
    for (let nowMs = decidedMs + limits.tickMs; nowMs <= lateMs; nowMs += limits.tickMs) expect(tick(core, nowMs).replies).toEqual([]);
    expect(only(core.inFlight()).phase).toBe("committing");

    // The key stays locked. A new write to it waits, even with onConflict abort: the holder has
    // decided and answered its client, and waits only for acknowledgements.
    expect(core.lockedKeyCount()).toBe(1);
    const queued = write(core, 2, [put("a", "2")], lateMs + 1);
    expect(queued).toEqual(newReady());

    // The last ack finishes it, without a second reply, frees the key and starts the waiting write.
    const done = ack(core, "r3", txnId, lateMs + 2);
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    expect(sendsOf(done, "prepare")).toHaveLength(3);
    expect(core.lockedKeyCount()).toBe(1);
  });

  it("with onConflict abort, a write to a key held by a transaction still preparing is refused, one held by a decided one waits", () => {
    const core = newCore();
    write(core, 1, [put("a", "1")], 0);
    const refused = write(core, 2, [put("a", "2")], 1);
    expect(refused.send).toEqual([]);
    expect(refused.persist).toEqual([]);
    const result = failure(only(refused.replies).result);
    expect(result.code).toBe(Code.ABORTED);
    expect(result.message).toContain('"a"');
    expect(result.message).toContain("(preparing)");
  });

  it("re-sends COMMIT only to replicas that did not ack, from decisionResendMsMin on, with growing backoff", () => {
    const core = newCore();
    const decidedMs = 500;
    const { txnId } = writeAndDecide(core, 1, [put("a", "1")], decidedMs);
    ack(core, "r1", txnId, decidedMs);
    ack(core, "r2", txnId, decidedMs);
    expect(sendsOf(tick(core, decidedMs + limits.decisionResendMsMin - 1), "commit")).toEqual([]);
    const resend = tick(core, decidedMs + limits.decisionResendMsMin);
    expect(resend.send).toEqual([{ kind: "commit", to: "r3", txnId, commitSeq: 1, urgent: true }]);
    expect(resend.persist).toEqual([]);

    // Tick finely and record when COMMIT went out again.
    const times = [decidedMs, decidedMs + limits.decisionResendMsMin];
    const endMs = decidedMs + 10 * limits.decisionResendMsMax;
    for (let nowMs = decidedMs + limits.decisionResendMsMin + limits.tickMs; nowMs <= endMs; nowMs += limits.tickMs) {
      const sent = sendsOf(tick(core, nowMs), "commit");
      if (sent.length === 0) continue;
      expect(sent).toEqual([{ kind: "commit", to: "r3", txnId, commitSeq: 1, urgent: true }]);
      times.push(nowMs);
    }
    const gaps = times.slice(1).map((time, i) => time - times[i]!);
    expect(gaps.length).toBeGreaterThan(4);
    for (let i = 1; i < gaps.length; i += 1) expect(gaps[i]!).toBeGreaterThanOrEqual(gaps[i - 1]!);
    expect(gaps[gaps.length - 1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[gaps.length - 1]).toBe(limits.decisionResendMsMax);
    for (const gap of gaps) expect(gap).toBeLessThanOrEqual(limits.decisionResendMsMax);

    // Once r3 acks, the re-sends stop.
    const endAt = endMs + 1;
    expect(ack(core, "r3", txnId, endAt).persist).toHaveLength(1);
    expect(tick(core, endAt + 10 * limits.decisionResendMsMax).send).toEqual([]);
  });
});

describe("CoordinatorCore: aborts", () => {
  it("on one NO vote logs nothing, sends ABORT to all, replies ABORTED with the replica's reason, and releases the locks", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 5, [put("a", "1")]));
    const persisted: unknown[] = [];
    const afterYes = yes(core, "r1", txnId);
    persisted.push(...afterYes.persist);
    const ready = step(core, {
      kind: "votes",
      replicaId: "r2",
      votes: [{ txnId, vote: "no", reason: "key \"a\" is locked by prepared transaction 0.9" }],
      nowMs: 1,
    });
    persisted.push(...ready.persist);
    expect(persisted).toEqual([]);
    expect(ready.send).toHaveLength(3);
    for (const message of ready.send) expect(message).toMatchObject({ kind: "abort", txnId });
    expect(ready.send.map((message) => message.to).sort()).toEqual([...PARTICIPANTS]);
    const result = failure(only(ready.replies).result);
    expect(result.code).toBe(Code.ABORTED);
    expect(result.message).toContain("r2");
    expect(result.message).toContain("locked by prepared transaction 0.9");
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.inFlight()).toEqual([]);
    expect(core.lastSeq()).toBe(0);

    // The YES that r3 sends for the aborted transaction is answered with ABORT to r3 alone.
    const lateYes = yes(core, "r3", txnId, 2);
    expect(lateYes.send).toEqual([{ kind: "abort", to: "r3", txnId }]);
    expect(lateYes.persist).toEqual([]);
    expect(lateYes.replies).toEqual([]);
    // A late NO for it needs nothing.
    expect(step(core, { kind: "votes", replicaId: "r3", votes: [{ txnId, vote: "no", reason: "x" }], nowMs: 3 })).toEqual(newReady());
  });

  it("sends ABORT to a replica that votes YES for a transaction it never ran here", () => {
    const core = newCore();
    const ready = yes(core, "r2", "1.99");
    expect(ready.send).toEqual([{ kind: "abort", to: "r2", txnId: "1.99" }]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([]);
  });

  it("replies UNAVAILABLE naming the replica when a prepare could not reach it", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 6, [put("a", "1")]));
    const ready = step(core, { kind: "unreachable", replicaId: "r3", txnIds: [txnId], reason: "connect ECONNREFUSED 127.0.0.1:1", down: false, nowMs: 1 });
    expect(ready.persist).toEqual([]);
    const result = failure(only(ready.replies).result);
    expect(result.code).toBe(Code.UNAVAILABLE);
    expect(result.code).toBe(14);
    expect(result.message).toContain("r3");
    expect(result.message).toContain("ECONNREFUSED");
    expect(sendsOf(ready, "abort")).toHaveLength(3);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("ignores an unreachable report for a transaction already decided COMMIT", () => {
    const core = newCore();
    const { txnId } = writeAndDecide(core, 1, [put("a", "1")]);
    const ready = step(core, { kind: "unreachable", replicaId: "r3", txnIds: [txnId], reason: "timeout", down: false, nowMs: 1 });
    expect(ready).toEqual(newReady());
    expect(only(core.inFlight()).phase).toBe("committing");
  });

  it("aborts at prepareTimeoutMs with UNAVAILABLE naming the silent replicas and the limit", () => {
    const core = newCore();
    const startMs = 2_000;
    const txnId = preparedTxnId(write(core, 7, [put("a", "1")], startMs));
    yes(core, "r1", txnId, startMs + 10);
    expect(tick(core, startMs + limits.prepareTimeoutMs - 1)).toEqual(newReady());
    const ready = tick(core, startMs + limits.prepareTimeoutMs);
    expect(ready.persist).toEqual([]);
    expect(sendsOf(ready, "abort")).toHaveLength(3);
    const result = failure(only(ready.replies).result);
    expect(result.code).toBe(Code.UNAVAILABLE);
    expect(result.message).toContain("r2");
    expect(result.message).toContain("r3");
    expect(result.message).not.toContain("r1");
    expect(result.message).toContain("prepareTimeoutMs");
    expect(result.message).toContain(String(limits.prepareTimeoutMs));
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.inFlight()).toHaveLength(0);
  });
});

describe("CoordinatorCore: key conflicts", () => {
  it("with onConflict abort refuses a write to a locked key with ABORTED naming the key, and takes none of its locks", () => {
    const core = newCore("abort");
    const first = preparedTxnId(write(core, 1, [put("a", "1")]));
    const refused = write(core, 2, [put("c", "3"), put("a", "2")]);
    expect(refused.send).toEqual([]);
    expect(refused.persist).toEqual([]);
    const result = failure(only(refused.replies).result);
    expect(result.code).toBe(Code.ABORTED);
    expect(result.message).toContain('"a"');
    expect(result.message).toContain(first);
    // All or nothing: the free key "c" was not taken.
    expect(core.lockedKeyCount()).toBe(1);
    expect(only(core.inFlight()).txnId).toBe(first);
  });

  it("runs writes to different keys in parallel", () => {
    const core = newCore("abort");
    const a = write(core, 1, [put("a", "1")]);
    const b = write(core, 2, [put("b", "2")]);
    expect(sendsOf(a, "prepare")).toHaveLength(3);
    expect(sendsOf(b, "prepare")).toHaveLength(3);
    expect(b.replies).toEqual([]);
    expect(core.inFlight()).toHaveLength(2);
    // Both can commit, with distinct sequence numbers.
    const ta = preparedTxnId(a);
    const tb = preparedTxnId(b);
    for (const r of PARTICIPANTS) yes(core, r, tb);
    for (const r of PARTICIPANTS) yes(core, r, ta);
    expect(core.inFlight().map((txn) => [txn.txnId, txn.commitSeq])).toEqual(
      expect.arrayContaining([
        [tb, 1],
        [ta, 2],
      ]),
    );
  });

  it("with onConflict wait queues the write (no reply, no prepare) and starts it when the holder's last ack frees the key, not at the holder's reply", () => {
    const core = newCore("wait");
    const writes2 = [put("a", "2")];
    const first = preparedTxnId(write(core, 1, [put("a", "1")]));
    const queued = write(core, 2, writes2, 10);
    expect(queued).toEqual(newReady());
    expect(core.inFlight()).toHaveLength(1);

    let decision = newReady();
    for (const r of PARTICIPANTS) decision = yes(core, r, first, 20);
    // The holder is answered at its decision; the queued write still waits for the key.
    expect(decision.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: first, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    expect(sendsOf(decision, "prepare")).toEqual([]);
    // A write waits for "a": the replicas must force this COMMIT at once, not wait for company.
    expect(sendsOf(decision, "commit").map((message) => message.kind === "commit" && message.urgent)).toEqual([true, true, true]);
    expect(ack(core, "r1", first, 30)).toEqual(newReady());
    expect(ack(core, "r2", first, 30)).toEqual(newReady());
    const done = ack(core, "r3", first, 30);
    // The holder's END and the queued write's PREPAREs come out of the same step; no second reply.
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId: first }, force: false }]);
    const prepares = sendsOf(done, "prepare");
    expect(prepares).toHaveLength(3);
    const second = preparedTxnId(done);
    expect(second).not.toBe(first);
    for (const message of prepares) if (message.kind === "prepare") expect(message.writes).toEqual(writes2);
    expect(only(core.inFlight()).txnId).toBe(second);
    expect(core.lockedKeyCount()).toBe(1);

    // And it runs to completion like any other write.
    let secondDecision = newReady();
    for (const r of PARTICIPANTS) secondDecision = yes(core, r, second, 40);
    expect(sendsOf(secondDecision, "commit").map((message) => message.kind === "commit" && message.urgent)).toEqual([false, false, false]);
    expect(secondDecision.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId: second, outcome: { branch: "then", results: [{ kind: "put", key: "a" }] } } }]);
    for (const r of ["r1", "r2"]) ack(core, r, second, 50);
    const secondDone = ack(core, "r3", second, 50);
    expect(secondDone.replies).toEqual([]);
    expect(secondDone.persist).toEqual([{ record: { kind: "end", txnId: second }, force: false }]);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("with onConflict wait starts a queued write when the holder aborts", () => {
    const core = newCore("wait");
    const first = preparedTxnId(write(core, 1, [put("a", "1")]));
    expect(write(core, 2, [put("a", "2")])).toEqual(newReady());
    const aborted = step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId: first, vote: "no", reason: "busy" }], nowMs: 1 });
    expect(failure(only(aborted.replies).result).code).toBe(Code.ABORTED);
    expect(sendsOf(aborted, "abort")).toHaveLength(3);
    expect(sendsOf(aborted, "prepare")).toHaveLength(3);
  });

  it("with onConflict wait times a queued write out at lockWaitTimeoutMs with ABORTED naming the limit", () => {
    const core = newCore("wait");
    // The holder is decided COMMIT but one ack never comes: it keeps the lock for good.
    const { txnId: holder } = writeAndDecide(core, 1, [put("a", "1")], 0);
    ack(core, "r1", holder, 0);
    ack(core, "r2", holder, 0);
    const queuedMs = 10;
    expect(write(core, 2, [put("a", "2")], queuedMs)).toEqual(newReady());
    const before = tick(core, queuedMs + limits.lockWaitTimeoutMs - 1);
    expect(before.replies).toEqual([]);
    const expired = tick(core, queuedMs + limits.lockWaitTimeoutMs);
    // Only the queued write hears: the holder was answered at its decision.
    expect(expired.replies.map((reply) => reply.reqId)).toEqual([2]);
    const result = failure(only(expired.replies).result);
    expect(result.code).toBe(Code.ABORTED);
    expect(result.message).toContain("lockWaitTimeoutMs");
    expect(result.message).toContain(String(limits.lockWaitTimeoutMs));
    expect(result.message).toContain('"a"');
    expect(sendsOf(expired, "prepare")).toEqual([]);

    // Gone from the queue: when the holder finishes, nothing starts and nothing replies to it again.
    const done = ack(core, "r3", holder, queuedMs + limits.lockWaitTimeoutMs + 1);
    expect(sendsOf(done, "prepare")).toEqual([]);
    expect(done.replies).toEqual([]);
    expect(core.inFlight()).toHaveLength(0);
  });
});

describe("CoordinatorCore: outcome queries from replicas", () => {
  it("answers commit with the commitSeq for a transaction decided COMMIT", () => {
    const core = newCore();
    writeAndDecide(core, 1, [put("x", "0")]);
    const { txnId } = writeAndDecide(core, 2, [put("a", "1")]);
    const ready = step(core, { kind: "outcome-query", queryId: 9, txnIds: [txnId], nowMs: 1 });
    expect(ready.outcomes).toEqual([{ queryId: 9, outcomes: [{ txnId, outcome: "commit", commitSeq: 2 }] }]);
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
  });

  it("answers abort for a transaction it does not know (presumed abort)", () => {
    const core = newCore();
    const ready = step(core, { kind: "outcome-query", queryId: 3, txnIds: ["0.5"], nowMs: 1 });
    expect(ready.outcomes).toEqual([{ queryId: 3, outcomes: [{ txnId: "0.5", outcome: "abort" }] }]);
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
  });

  it("gives no answer yet for a transaction still preparing, and does not disturb it", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 4, [put("a", "1")]));
    yes(core, "r1", txnId);
    const ready = step(core, { kind: "outcome-query", queryId: 1, txnIds: [txnId, "0.5"], nowMs: 5 });
    // The unknown one is presumed aborted; the preparing one is left out of the answer.
    expect(ready.outcomes).toEqual([{ queryId: 1, outcomes: [{ txnId: "0.5", outcome: "abort" }] }]);
    expect(ready.send).toEqual([]);
    expect(ready.replies).toEqual([]);
    expect(core.lockedKeyCount()).toBe(1);
    // It still commits once every vote is in.
    yes(core, "r2", txnId, 6);
    const decided = yes(core, "r3", txnId, 6);
    expect(decided.persist.map((p) => p.record.kind)).toEqual(["commit"]);
    const asked = step(core, { kind: "outcome-query", queryId: 2, txnIds: [txnId], nowMs: 7 });
    expect(asked.outcomes).toEqual([{ queryId: 2, outcomes: [{ txnId, outcome: "commit", commitSeq: 1 }] }]);
  });
});

describe("CoordinatorCore: in-flight limit", () => {
  it("refuses the write past inFlightTxnsMax with RESOURCE_EXHAUSTED naming the limit", () => {
    const core = newCore("wait");
    // One fewer running than the limit, plus one queued: queued writes count too.
    for (let i = 0; i < limits.inFlightTxnsMax - 1; i += 1) {
      core.step({ kind: "write", reqId: i, writes: [{ key: `k${i}`, value: null }], nowMs: 0 }, newReady());
    }
    expect(write(core, -1, [put("k0", "queued")])).toEqual(newReady());
    const refused = write(core, -2, [put("fresh", "1")]);
    expect(refused.send).toEqual([]);
    const result = failure(only(refused.replies).result);
    expect(result.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(result.message).toContain("inFlightTxnsMax");
    expect(result.message).toContain(String(limits.inFlightTxnsMax));
    expect(core.inFlight()).toHaveLength(limits.inFlightTxnsMax - 1);
  });
});

describe("coordinator recovery", () => {
  const t1: CoordinatorRecord = { kind: "commit", txnId: "1.1", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a"] };
  const t2: CoordinatorRecord = { kind: "commit", txnId: "1.2", commitSeq: 2, participants: [...PARTICIPANTS], keys: ["b", "c"] };
  const log: CoordinatorRecord[] = [{ kind: "start", epoch: 1, lastCommitSeq: 0 }, t1, t2, { kind: "end", txnId: "1.1" }];

  it("finds the next epoch, the last commit sequence number, and the commits not ended", () => {
    const recovered = recoverCoordinator(log);
    expect(recovered.epoch).toBe(2);
    expect(recovered.lastCommitSeq).toBe(2);
    expect(recovered.unfinished).toEqual([{ txnId: "1.2", commitSeq: 2, participants: [...PARTICIPANTS], keys: ["b", "c"] }]);
    expect(recovered.committedInLog).toBe(2);
  });

  it("starts at epoch 1 from an empty log, and trusts a start record's lastCommitSeq when no commit is newer", () => {
    expect(recoverCoordinator([])).toMatchObject({ epoch: 1, lastCommitSeq: 0, unfinished: [] });
    const recovered = recoverCoordinator([
      { kind: "start", epoch: 4, lastCommitSeq: 30 },
      { kind: "start", epoch: 5, lastCommitSeq: 30 },
    ]);
    expect(recovered.epoch).toBe(6);
    expect(recovered.lastCommitSeq).toBe(30);
  });

  it("builds a core that forces a start record of the new epoch, holds the unfinished keys, and re-sends COMMIT on the first tick", () => {
    const startMs = 100_000;
    const core = newCore("abort", recoverCoordinator(log), startMs);
    expect(core.startRecord()).toEqual({ kind: "start", epoch: 2, lastCommitSeq: 2 });
    expect(core.lastSeq()).toBe(2);
    expect(core.lockedKeyCount()).toBe(2);

    // Its keys are locked: a write to one waits (the recovered commit has decided; it waits only for
    // acknowledgements), even with onConflict abort.
    const queued = write(core, 1, [put("c", "x")], startMs);
    expect(queued).toEqual(newReady());

    // A replica asking about it hears commit.
    expect(step(core, { kind: "outcome-query", queryId: 1, txnIds: ["1.2"], nowMs: startMs }).outcomes).toEqual([
      { queryId: 1, outcomes: [{ txnId: "1.2", outcome: "commit", commitSeq: 2 }] },
    ]);

    const first = tick(core, startMs);
    expect(first.persist).toEqual([]);
    expect(first.replies).toEqual([]);
    expect(first.send).toHaveLength(3);
    for (const message of first.send) expect(message).toMatchObject({ kind: "commit", txnId: "1.2", commitSeq: 2 });
    expect(first.send.map((message) => message.to).sort()).toEqual([...PARTICIPANTS]);

    ack(core, "r1", "1.2", startMs + 1);
    ack(core, "r2", "1.2", startMs + 1);
    const done = ack(core, "r3", "1.2", startMs + 1);
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId: "1.2" }, force: false }]);
    // The waiting write starts now, in the new epoch, and holds the key.
    const started = sendsOf(done, "prepare");
    expect(started).toHaveLength(3);
    for (const message of started) expect(message).toMatchObject({ kind: "prepare", txnId: expect.stringMatching(/^2\./) });
    expect(core.lockedKeyCount()).toBe(1);
    expect(core.inFlight()).toHaveLength(1);

    // New transactions carry the new epoch and continue the commit sequence.
    const { txnId, decision } = writeAndDecide(core, 2, [put("d", "y")], startMs + 2);
    expect(txnId.startsWith("2.")).toBe(true);
    expect(decision.persist[0]!.record).toMatchObject({ kind: "commit", commitSeq: 3 });
  });
});

describe("coordinator record encoding", () => {
  it.each<[string, CoordinatorRecord]>([
    ["start", { kind: "start", epoch: 3, lastCommitSeq: 1234 }],
    ["commit", { kind: "commit", txnId: "3.9", commitSeq: 1235, participants: [...PARTICIPANTS], keys: ["a", "ключ 🔑", 'q"uote'] }],
    ["end", { kind: "end", txnId: "3.9" }],
  ])("round-trips a %s record", (_name, record) => {
    expect(decodeCoordinatorRecord(encodeCoordinatorRecord(record), 1)).toEqual(record);
  });

  it("throws DataLoss, naming the record, on a payload that is not JSON", () => {
    const decode = (): CoordinatorRecord => decodeCoordinatorRecord(Buffer.from("{\"k\":", "utf8"), 12);
    expect(decode).toThrow(DataLoss);
    expect(decode).toThrow(/record 12/);
  });

  it.each([
    ["null", "null"],
    ["a list", "[]"],
    ["an unknown kind", '{"k":"z"}'],
    ["a start without an epoch", '{"k":"s","q":0}'],
    ["a start with a text sequence number", '{"k":"s","e":1,"q":"0"}'],
    ["a commit without a txn id", '{"k":"c","q":1,"p":["r1"],"y":["a"]}'],
    ["a commit without a sequence number", '{"k":"c","t":"1.1","p":["r1"],"y":["a"]}'],
    ["a commit without participants", '{"k":"c","t":"1.1","q":1,"y":["a"]}'],
    ["a commit with a non-text key", '{"k":"c","t":"1.1","q":1,"p":["r1"],"y":[1]}'],
    ["an end without a txn id", '{"k":"e"}'],
  ])("throws DataLoss on %s", (_name, text) => {
    expect(() => decodeCoordinatorRecord(Buffer.from(text, "utf8"), 2)).toThrow(DataLoss);
  });
});
