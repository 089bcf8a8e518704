// Proves that the coordinator's pure 2PC core (coordinator/core.ts, CoordinatorCore) follows its
// protocol of intent commits (issue 13): a write locks its keys and, in one Ready, takes the next
// commit sequence number, forces the COMMIT record (with the writes and the request to remember) and
// puts the PREPAREs to every participant, with an epoch-prefixed transaction id, in Ready.early (they
// leave without waiting for that force); all YES then logs nothing more and sends COMMIT (without the
// writes) to all, the client's answer and Ready.decided in the Ready of the last YES; the acks, not the
// answer, release the locks, and the last one logs an unforced END; a missing ack keeps the lock (a
// later write to the key is refused or waits) while COMMIT is re-sent with backoff. Nothing after
// PREPARE aborts: a NO vote (a stale lockedBy of an earlier epoch is aborted everywhere first), an
// unreachable replica or the prepare timeout makes that participant get COMMIT with the writes first,
// and the YES voters get theirs, with the answer, only once it acknowledged; until then an outcome
// query gets no answer. Key conflicts refuse or queue the write; recovery (coordinator/recovery.ts)
// rebuilds the unfinished commits with their writes, which the rebuilt core re-sends to every
// participant, holding reads (view().readsHeld) until their in-sync participants acknowledged; and
// liveRecords (compaction) keeps a preparing transaction's commit record with its writes. It also
// round-trips the decision log records (coordinator/records.ts) and checks that garbage is DATA_LOSS.
//
// How: each test builds a core with participants r1, r2, r3, feeds it inputs one at a time with
// an explicit nowMs, and inspects the Ready (persist, early, send, replies, outcomes, decided) each
// step produced, plus the public accessors (inFlight, lockedKeyCount, lastSeq, startRecord, view).
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
  readAccepted,
  type Ready,
  type RecoveredCoordinator,
  type WriteResult,
} from "../../coordinator/core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord } from "../../coordinator/records";
import { recoverCoordinator } from "../../coordinator/recovery";
import { joined } from "./readies";

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

function no(core: CoordinatorCore, replicaId: string, txnId: string, nowMs = 0, lockedBy?: string): Ready {
  const vote = { txnId, vote: "no" as const, reason: `key "a" is locked by prepared transaction ${lockedBy ?? "0.9"}`, ...(lockedBy === undefined ? {} : { lockedBy }) };
  return step(core, { kind: "votes", replicaId, votes: [vote], nowMs });
}

function ack(core: CoordinatorCore, replicaId: string, txnId: string, nowMs = 0): Ready {
  return step(core, { kind: "acks", replicaId, txnIds: [txnId], nowMs });
}

/** A timer tick, with every replica answering its health checks (these tests are about 2PC, not membership). */
function tick(core: CoordinatorCore, nowMs: number): Ready {
  for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs });
  return step(core, { kind: "tick", nowMs });
}

/** The PREPAREs of a Ready: they leave early, without waiting for the Ready's force. */
function prepares(ready: Ready): Extract<Message, { kind: "prepare" }>[] {
  expect(ready.send.filter((message) => message.kind === "prepare")).toEqual([]);
  return ready.early.flatMap((message) => (message.kind === "prepare" ? [message] : []));
}

/** The id of the transaction a write's PREPARE messages carry (they all carry the same one). */
function preparedTxnId(ready: Ready): string {
  const ids = new Set(prepares(ready).map((message) => message.txnId));
  expect(ids.size).toBe(1);
  return [...ids][0]!;
}

/** Drives a write to its COMMIT to every participant: every participant votes YES at nowMs. */
function writeAndDecide(core: CoordinatorCore, reqId: number, writes: Write[], nowMs = 0): { txnId: string; started: Ready; decision: Ready } {
  const started = write(core, reqId, writes, nowMs);
  const txnId = preparedTxnId(started);
  // COMMIT goes out at the vote that makes a majority; the later votes add nothing to send.
  const decision = joined(PARTICIPANTS.map((replicaId) => yes(core, replicaId, txnId, nowMs)));
  return { txnId, started, decision };
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

/** A COMMIT message as the core sends it. */
function commit(to: string, txnId: string, commitSeq: number, urgent: boolean, writes: Write[] | null): Message {
  return { kind: "commit", to, txnId, commitSeq, urgent, writes };
}

function putOutcome(...keys: string[]): { branch: "then"; results: { kind: "put"; key: string }[] } {
  return { branch: "then", results: keys.map((key) => ({ kind: "put" as const, key })) };
}

describe("CoordinatorCore: the path of a committed write", () => {
  it("forces the COMMIT record (writes, request to remember) in the same Ready as the PREPAREs, which leave early, to every participant with an epoch-prefixed txn id", () => {
    const core = newCore("abort", { ...FRESH, epoch: 7 });
    const writes = [put("b", "2"), { key: "a", value: null }];
    const ready = write(core, 1, writes, 40);
    const txnId = preparedTxnId(ready);
    expect(txnId.startsWith("7.")).toBe(true);
    expect(ready.persist).toEqual([
      {
        record: {
          kind: "commit",
          txnId,
          commitSeq: 1,
          participants: [...PARTICIPANTS],
          keys: ["a", "b"],
          writes,
          remember: { txnId, requestId: null, fingerprint: null, commitSeq: 1, outcome: null, atMs: 40 },
        },
        force: true,
      },
    ]);
    // The PREPAREs are early: the StepLoop sends them without waiting for this Ready's force, so each
    // replica forces its prepare record and its copy of the COMMIT record together. Nothing else leaves.
    expect(ready.early).toEqual(PARTICIPANTS.map((to) => ({ kind: "prepare", to, txnId, writes, participants: [...PARTICIPANTS] })));
    expect(ready.send).toEqual([]);
    expect(ready.replies).toEqual([]);
    expect(ready.decided).toEqual([]);
    expect(core.lastSeq()).toBe(1);
    expect(only(core.inFlight())).toMatchObject({ txnId, phase: "preparing", commitSeq: 1 });
    // A second write gets a different id in the same epoch, and the next commit sequence number.
    const next = write(core, 2, [put("c", "3")], 41);
    const second = preparedTxnId(next);
    expect(second.startsWith("7.")).toBe(true);
    expect(second).not.toBe(txnId);
    expect(only(next.persist)).toMatchObject({ record: { kind: "commit", txnId: second, commitSeq: 2 }, force: true });
    expect(core.lockedKeyCount()).toBe(3);
  });

  it("on the YES that makes a majority persists nothing, and sends COMMIT to all, the reply and decided in the same Ready; the last YES sends nothing", () => {
    const core = newCore();
    const started = write(core, 1, [put("b", "2"), put("a", "1")]);
    const txnId = preparedTxnId(started);
    const writes = prepares(started)[0]!.writes;
    expect(yes(core, "r1", txnId)).toEqual(newReady());
    const decision = yes(core, "r2", txnId);
    // The COMMIT record was forced in the write's Ready, which the StepLoop carried out before this one.
    expect(decision.persist).toEqual([]);
    expect(decision.early).toEqual([]);
    // No write waits for these keys: each replica may share the COMMIT's fsync with what comes next.
    // r1 and r2 voted YES: they hold the writes prepared, and their COMMIT carries none. r3 has not
    // voted: its COMMIT carries the writes (it commits its prepare, or applies them without one).
    expect(decision.send).toEqual([commit("r1", txnId, 1, false, null), commit("r2", txnId, 1, false, null), commit("r3", txnId, 1, false, [...writes])]);
    expect(decision.decided).toEqual([txnId]);
    expect(yes(core, "r3", txnId)).toEqual(newReady());
    expect(decision.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("b", "a") } }]);
    expect(core.lastSeq()).toBe(1);
    // Answered, but not finished: it waits for the acks with its keys locked.
    expect(only(core.inFlight()).phase).toBe("committing");
    expect(core.lockedKeyCount()).toBe(2);
  });

  it("ignores a repeated YES from one replica: it does not count twice", () => {
    const core = newCore();
    const txnId = preparedTxnId(write(core, 1, [put("a", "1")]));
    yes(core, "r1", txnId);
    expect(yes(core, "r1", txnId)).toEqual(newReady());
    expect(only(core.inFlight()).phase).toBe("preparing");
    const decision = yes(core, "r2", txnId);
    expect(decision.decided).toEqual([txnId]);
    expect(only(decision.replies).reqId).toBe(1);
  });

  it("replies ok with the commitSeq at the decision; the acks release the locks, and the last logs an unforced END without a second reply", () => {
    const core = newCore();
    const { txnId, decision } = writeAndDecide(core, 11, [put("a", "1")]);
    expect(decision.replies).toEqual([{ reqId: 11, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("a") } }]);
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
    // A late duplicate ack changes nothing, nor does a late YES for the finished commit (no ABORT for it).
    expect(ack(core, "r3", txnId)).toEqual(newReady());
    expect(yes(core, "r3", txnId)).toEqual(newReady());
    // The next write takes the next commit sequence number.
    const next = writeAndDecide(core, 12, [put("a", "2")]);
    expect(only(next.started.persist).record).toMatchObject({ kind: "commit", commitSeq: 2 });
  });
});

describe("CoordinatorCore: missing acks", () => {
  it("replies ok at the decision, but keeps the lock until the last ack, however late it comes", () => {
    const core = newCore();
    const decidedMs = 1_000;
    const { txnId, decision } = writeAndDecide(core, 1, [put("a", "1")], decidedMs);
    expect(decision.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("a") } }]);
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

    // The last ack finishes it, without a second reply, frees the key and starts the waiting write:
    // the new write's forced COMMIT record (with its PREPAREs), and the holder's END.
    const done = ack(core, "r3", txnId, lateMs + 2);
    expect(done.replies).toEqual([]);
    const second = preparedTxnId(done);
    expect(done.persist).toEqual([
      { record: expect.objectContaining({ kind: "commit", txnId: second, commitSeq: 2, writes: [put("a", "2")] }), force: true },
      { record: { kind: "end", txnId }, force: false },
    ]);
    expect(prepares(done)).toHaveLength(3);
    expect(core.lockedKeyCount()).toBe(1);
  });

  it("with onConflict abort, a write to a key held by a transaction still preparing is refused, one held by a decided one waits", () => {
    const core = newCore();
    write(core, 1, [put("a", "1")], 0);
    const refused = write(core, 2, [put("a", "2")], 1);
    expect(refused.send).toEqual([]);
    expect(refused.early).toEqual([]);
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
    // r3 voted YES: it holds the writes prepared, so its COMMIT carries none.
    expect(resend.send).toEqual([commit("r3", txnId, 1, true, null)]);
    expect(resend.persist).toEqual([]);

    // Tick finely and record when COMMIT went out again.
    const times = [decidedMs, decidedMs + limits.decisionResendMsMin];
    const endMs = decidedMs + 10 * limits.decisionResendMsMax;
    for (let nowMs = decidedMs + limits.decisionResendMsMin + limits.tickMs; nowMs <= endMs; nowMs += limits.tickMs) {
      const sent = sendsOf(tick(core, nowMs), "commit");
      if (sent.length === 0) continue;
      expect(sent).toEqual([commit("r3", txnId, 1, true, null)]);
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

describe("CoordinatorCore: a participant that does not vote YES gets the writes with its COMMIT", () => {
  it("a NO vote aborts nothing: with a majority of YES the NO voter gets COMMIT with the writes, urgent, in the Ready that answers; it is unsure of the keys until it acknowledges", () => {
    const core = newCore();
    const writes = [put("a", "1")];
    const txnId = preparedTxnId(write(core, 5, writes));
    expect(yes(core, "r1", txnId)).toEqual(newReady());
    // r2 votes NO; r3 has not voted yet: nothing happens, nothing is aborted.
    expect(no(core, "r2", txnId, 1)).toEqual(newReady());
    expect(only(core.inFlight()).phase).toBe("preparing");
    // Until the decision, a replica asking hears nothing.
    expect(step(core, { kind: "outcome-query", queryId: 1, txnIds: [txnId], nowMs: 1 }).outcomes).toEqual([{ queryId: 1, outcomes: [] }]);
    // r3's YES makes a majority: COMMIT to all (the writes to r2, which holds nothing prepared), the answer, and decided.
    const decision = yes(core, "r3", txnId, 2);
    expect(decision.send).toEqual([commit("r1", txnId, 1, false, null), commit("r2", txnId, 1, true, writes), commit("r3", txnId, 1, false, null)]);
    expect(decision.replies).toEqual([{ reqId: 5, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("a") } }]);
    expect(decision.decided).toEqual([txnId]);
    expect(decision.persist).toEqual([]);
    expect(only(core.inFlight()).phase).toBe("committing");
    expect(step(core, { kind: "outcome-query", queryId: 2, txnIds: [txnId], nowMs: 3 }).outcomes).toEqual([{ queryId: 2, outcomes: [{ txnId, outcome: "commit", commitSeq: 1 }] }]);
    // A read takes no value of "a" from r2 until it has the writes; of other keys it does.
    expect(readAccepted(core.view(), "r2", 0, ["a"])).toBe(false);
    expect(readAccepted(core.view(), "r2", 0, ["b"])).toBe(true);
    expect(readAccepted(core.view(), "r1", 0, ["a"])).toBe(true);
    expect(ack(core, "r1", txnId, 3)).toEqual(newReady());
    expect(ack(core, "r2", txnId, 4)).toEqual(newReady());
    expect(readAccepted(core.view(), "r2", 0, ["a"])).toBe(true);
    const done = ack(core, "r3", txnId, 6);
    expect(done.replies).toEqual([]);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.lastSeq()).toBe(1);
  });

  it("with a single YES the answer waits for every vote; the NO voters get the writes, re-sent by the tick until they acknowledge, and stay unsure until then", () => {
    const core = newCore();
    const writes = [put("a", "1")];
    const txnId = preparedTxnId(write(core, 1, writes, 0));
    no(core, "r1", txnId, 0);
    expect(yes(core, "r2", txnId, 0)).toEqual(newReady());
    const decision = no(core, "r3", txnId, 0);
    expect(decision.send).toEqual([commit("r1", txnId, 1, true, writes), commit("r2", txnId, 1, false, null), commit("r3", txnId, 1, true, writes)]);
    expect(decision.replies.map((r) => r.reqId)).toEqual([1]);
    expect(ack(core, "r1", txnId, 1)).toEqual(newReady());
    expect(readAccepted(core.view(), "r1", 0, ["a"])).toBe(true);
    expect(readAccepted(core.view(), "r3", 0, ["a"])).toBe(false);
    expect(tick(core, limits.decisionResendMsMin - 1).send).toEqual([]);
    const resent = tick(core, limits.decisionResendMsMin);
    expect(resent.send).toEqual([commit("r2", txnId, 1, true, null), commit("r3", txnId, 1, true, writes)]);
    expect(resent.replies).toEqual([]);
    ack(core, "r3", txnId, limits.decisionResendMsMin + 1);
    expect(readAccepted(core.view(), "r3", 0, ["a"])).toBe(true);
  });

  it("a NO vote naming a stale lockedBy (an earlier epoch, never committed) aborts that one everywhere, before or after the decision", () => {
    const core = newCore("abort", { ...FRESH, epoch: 2 });
    const writes = [put("a", "1")];
    const txnId = preparedTxnId(write(core, 1, writes));
    yes(core, "r1", txnId);
    const ready = no(core, "r2", txnId, 1, "1.9");
    expect(ready.send).toEqual([
      { kind: "abort", to: "r1", txnId: "1.9" },
      { kind: "abort", to: "r2", txnId: "1.9" },
      { kind: "abort", to: "r3", txnId: "1.9" },
    ]);
    expect(ready.replies).toEqual([]);
    expect(ready.persist).toEqual([]);
    expect(only(core.inFlight())).toMatchObject({ txnId, phase: "preparing" });
    // The ABORTs of 1.9 go before the COMMIT on r2's channel.
    expect(yes(core, "r3", txnId, 2).send).toEqual([commit("r1", txnId, 1, false, null), commit("r2", txnId, 1, true, writes), commit("r3", txnId, 1, false, null)]);

    // After the decision (r2 already has the writes with its COMMIT), a stale lockedBy is still aborted.
    const late = preparedTxnId(write(core, 3, [put("c", "3")]));
    yes(core, "r1", late);
    yes(core, "r3", late);
    expect(no(core, "r2", late, 3, "1.8").send).toEqual(["r1", "r2", "r3"].map((to) => ({ kind: "abort", to, txnId: "1.8" })));

    // A lockedBy of this epoch is no stale transaction: nothing is aborted, r2 still gets the writes.
    const other = preparedTxnId(write(core, 2, [put("b", "2")]));
    yes(core, "r1", other);
    expect(no(core, "r2", other, 2, "2.77").send).toEqual([]);
    expect(yes(core, "r3", other, 2).send).toEqual([commit("r1", other, 3, false, null), commit("r2", other, 3, true, [put("b", "2")]), commit("r3", other, 3, false, null)]);
  });

  it("sends ABORT to a replica that votes YES for a transaction it never ran here", () => {
    const core = newCore();
    const ready = yes(core, "r2", "1.99");
    expect(ready.send).toEqual([{ kind: "abort", to: "r2", txnId: "1.99" }]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([]);
  });

  it("a replica a PREPARE could not reach gets COMMIT with the writes, urgent, at the decision, and stays in sync", () => {
    const core = newCore();
    const writes = [put("a", "1")];
    const txnId = preparedTxnId(write(core, 6, writes));
    yes(core, "r1", txnId);
    const ready = step(core, { kind: "unreachable", replicaId: "r3", txnIds: [txnId], reason: "connect ECONNREFUSED 127.0.0.1:1", down: false, nowMs: 1 });
    expect(ready).toEqual(newReady());
    expect(core.memberList().find((m) => m.id === "r3")?.state).toBe("in-sync");
    const answered = yes(core, "r2", txnId, 2);
    expect(answered.send).toEqual([commit("r1", txnId, 1, false, null), commit("r2", txnId, 1, false, null), commit("r3", txnId, 1, true, writes)]);
    expect(answered.replies).toEqual([{ reqId: 6, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("a") } }]);
    expect(answered.decided).toEqual([txnId]);
    expect(core.lockedKeyCount()).toBe(1);
    expect(readAccepted(core.view(), "r3", 0, ["a"])).toBe(false);
  });

  it("ignores an unreachable report for a transaction whose COMMIT went to every participant", () => {
    const core = newCore();
    const { txnId } = writeAndDecide(core, 1, [put("a", "1")]);
    const ready = step(core, { kind: "unreachable", replicaId: "r3", txnIds: [txnId], reason: "timeout", down: false, nowMs: 1 });
    expect(ready).toEqual(newReady());
    expect(only(core.inFlight()).phase).toBe("committing");
  });

  it("at prepareTimeoutMs the silent participants get COMMIT with the writes, with the answer (nothing aborted); a late YES makes them sure of the keys", () => {
    const core = newCore();
    const startMs = 2_000;
    const writes = [put("a", "1")];
    const txnId = preparedTxnId(write(core, 7, writes, startMs));
    yes(core, "r1", txnId, startMs + 10);
    expect(tick(core, startMs + limits.prepareTimeoutMs - 1)).toEqual(newReady());
    const ready = tick(core, startMs + limits.prepareTimeoutMs);
    expect(ready.persist).toEqual([]);
    expect(ready.send).toEqual([commit("r1", txnId, 1, false, null), commit("r2", txnId, 1, true, writes), commit("r3", txnId, 1, true, writes)]);
    expect(ready.replies).toEqual([{ reqId: 7, result: { ok: true, commitSeq: 1, txnId, outcome: putOutcome("a") } }]);
    expect(only(core.inFlight()).phase).toBe("committing");
    expect(core.lockedKeyCount()).toBe(1);
    // A vote arriving after the timeout sends nothing; r2 holds it prepared now, so its reads wait for it.
    expect(readAccepted(core.view(), "r2", 0, ["a"])).toBe(false);
    expect(yes(core, "r2", txnId, startMs + limits.prepareTimeoutMs + 1)).toEqual(newReady());
    expect(readAccepted(core.view(), "r2", 0, ["a"])).toBe(true);
    expect(ack(core, "r2", txnId, startMs + limits.prepareTimeoutMs + 2)).toEqual(newReady());
    expect(ack(core, "r3", txnId, startMs + limits.prepareTimeoutMs + 3)).toEqual(newReady());
    const done = ack(core, "r1", txnId, startMs + limits.prepareTimeoutMs + 4);
    expect(done.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
    expect(core.inFlight()).toHaveLength(0);
  });
});

describe("CoordinatorCore: key conflicts", () => {
  it("with onConflict abort refuses a write to a locked key with ABORTED naming the key, and takes none of its locks", () => {
    const core = newCore("abort");
    const first = preparedTxnId(write(core, 1, [put("a", "1")]));
    const refused = write(core, 2, [put("c", "3"), put("a", "2")]);
    expect(refused.send).toEqual([]);
    expect(refused.early).toEqual([]);
    expect(refused.persist).toEqual([]);
    const result = failure(only(refused.replies).result);
    expect(result.code).toBe(Code.ABORTED);
    expect(result.message).toContain('"a"');
    expect(result.message).toContain(first);
    // All or nothing: the free key "c" was not taken, and no commit sequence number either.
    expect(core.lockedKeyCount()).toBe(1);
    expect(only(core.inFlight()).txnId).toBe(first);
    expect(core.lastSeq()).toBe(1);
  });

  it("runs writes to different keys in parallel, with commit sequence numbers in the order they started preparing", () => {
    const core = newCore("abort");
    const a = write(core, 1, [put("a", "1")]);
    const b = write(core, 2, [put("b", "2")]);
    expect(prepares(a)).toHaveLength(3);
    expect(prepares(b)).toHaveLength(3);
    expect(b.replies).toEqual([]);
    expect(core.inFlight()).toHaveLength(2);
    // Both commit, with the sequence numbers their COMMIT records took, whatever order the votes come in.
    const ta = preparedTxnId(a);
    const tb = preparedTxnId(b);
    for (const r of PARTICIPANTS) yes(core, r, tb);
    for (const r of PARTICIPANTS) yes(core, r, ta);
    expect(core.inFlight().map((txn) => [txn.txnId, txn.phase, txn.commitSeq])).toEqual([
      [ta, "committing", 1],
      [tb, "committing", 2],
    ]);
  });

  it("with onConflict wait queues the write (no reply, no prepare) and starts it when the holder's last ack frees the key, not at the holder's reply", () => {
    const core = newCore("wait");
    const writes2 = [put("a", "2")];
    const first = preparedTxnId(write(core, 1, [put("a", "1")]));
    const queued = write(core, 2, writes2, 10);
    expect(queued).toEqual(newReady());
    expect(core.inFlight()).toHaveLength(1);

    const decision = joined(PARTICIPANTS.map((r) => yes(core, r, first, 20)));
    // The holder is answered at its decision; the queued write still waits for the key.
    expect(decision.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: first, outcome: putOutcome("a") } }]);
    expect(decision.early).toEqual([]);
    // A write waits for "a": the replicas must force this COMMIT at once, not wait for company.
    // r3 had not voted at the decision (r1 and r2 made the majority): its COMMIT carries the writes.
    expect(sendsOf(decision, "commit")).toEqual([commit("r1", first, 1, true, null), commit("r2", first, 1, true, null), commit("r3", first, 1, true, [put("a", "1")])]);
    expect(ack(core, "r1", first, 30)).toEqual(newReady());
    expect(ack(core, "r2", first, 30)).toEqual(newReady());
    const done = ack(core, "r3", first, 30);
    // The queued write's COMMIT record and PREPAREs and the holder's END come out of the same step; no second reply.
    expect(done.replies).toEqual([]);
    const second = preparedTxnId(done);
    expect(second).not.toBe(first);
    expect(done.persist).toEqual([
      { record: expect.objectContaining({ kind: "commit", txnId: second, commitSeq: 2, writes: writes2 }), force: true },
      { record: { kind: "end", txnId: first }, force: false },
    ]);
    const sent = prepares(done);
    expect(sent).toHaveLength(3);
    for (const message of sent) expect(message.writes).toEqual(writes2);
    expect(only(core.inFlight()).txnId).toBe(second);
    expect(core.lockedKeyCount()).toBe(1);

    // And it runs to completion like any other write.
    const secondDecision = joined(PARTICIPANTS.map((r) => yes(core, r, second, 40)));
    expect(sendsOf(secondDecision, "commit")).toEqual([commit("r1", second, 2, false, null), commit("r2", second, 2, false, null), commit("r3", second, 2, false, writes2)]);
    expect(secondDecision.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 2, txnId: second, outcome: putOutcome("a") } }]);
    for (const r of ["r1", "r2"]) ack(core, r, second, 50);
    const secondDone = ack(core, "r3", second, 50);
    expect(secondDone.replies).toEqual([]);
    expect(secondDone.persist).toEqual([{ record: { kind: "end", txnId: second }, force: false }]);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("with onConflict wait starts a queued write when the holder ends without writing (its read failed)", () => {
    const core = newCore("wait");
    const holder = step(core, { kind: "txn", reqId: 1, requestId: null, method: "txn", program: { conditions: [], then: [{ kind: "incr", key: "a", delta: 1, min: null, max: null, mustExist: false }], otherwise: null }, nowMs: 0 });
    const holderId = only(holder.reads).txnId;
    expect(write(core, 2, [put("a", "2")])).toEqual(newReady());
    const ended = step(core, { kind: "read-result", txnId: holderId, states: null, reason: "no in-sync replica answered", nowMs: 1 });
    expect(failure(only(ended.replies.filter((r) => r.reqId === 1)).result).code).toBe(Code.UNAVAILABLE);
    // No replica heard of the holder: no ABORT. The queued write takes the key and prepares.
    expect(sendsOf(ended, "abort")).toEqual([]);
    expect(prepares(ended)).toHaveLength(3);
    expect(only(ended.persist).record).toMatchObject({ kind: "commit", txnId: preparedTxnId(ended), commitSeq: 1 });
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
    expect(expired.early).toEqual([]);

    // Gone from the queue: when the holder finishes, nothing starts and nothing replies to it again.
    const done = ack(core, "r3", holder, queuedMs + limits.lockWaitTimeoutMs + 1);
    expect(done.early).toEqual([]);
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

  it("gives no answer about a transaction of a later epoch: a newer coordinator ran it (a replica may ask any coordinator)", () => {
    const core = newCore(); // epoch 1
    const ready = step(core, { kind: "outcome-query", queryId: 4, txnIds: ["2.7", "1.9"], nowMs: 1 });
    expect(ready.outcomes).toEqual([{ queryId: 4, outcomes: [{ txnId: "1.9", outcome: "abort" }] }]);
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
    // It still commits once a majority voted YES.
    const decided = yes(core, "r2", txnId, 6);
    expect(decided.decided).toEqual([txnId]);
    const asked = step(core, { kind: "outcome-query", queryId: 2, txnIds: [txnId], nowMs: 7 });
    expect(asked.outcomes).toEqual([{ queryId: 2, outcomes: [{ txnId, outcome: "commit", commitSeq: 1 }] }]);
  });
});

describe("CoordinatorCore: the decision log needs a majority", () => {
  it("refuses a write at once, naming the majority, when fewer than a majority of all replicas are up though enough are in sync", () => {
    // minInSync 1: r2 and r3 may leave the in-sync set, and do; r1 alone is in sync and healthy.
    const core = new CoordinatorCore({ participants: [...PARTICIPANTS], onConflict: "abort", minInSync: 1 }, FRESH, 0);
    for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs: 0 });
    for (const replicaId of ["r2", "r3"]) step(core, { kind: "health", replicaId, ok: false, refused: true, nowMs: 1 });
    expect(core.memberList().map((m) => `${m.id}:${m.state}`)).toEqual(["r1:in-sync", "r2:out", "r3:out"]);
    const refused = write(core, 1, [put("a", "1")], 2);
    // No COMMIT record could reach a majority: nothing starts, and the refusal leaves at once.
    expect(refused.persist).toEqual([]);
    expect(refused.early).toEqual([]);
    expect(refused.replies).toEqual([]);
    const result = failure(only(refused.immediate).result);
    expect(result.code).toBe(Code.UNAVAILABLE);
    expect(result.message).toContain("1 of 3 replicas are up and a write's COMMIT record needs a majority (2)");
    // One back (a good health check): writes go ahead again.
    step(core, { kind: "health", replicaId: "r2", ok: true, nowMs: 3 });
    expect(write(core, 2, [put("a", "1")], 4).early.map((message) => message.to)).toEqual(["r1", "r2"]);
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
    expect(refused.early).toEqual([]);
    expect(refused.persist).toEqual([]);
    // Refused before anything started: it leaves at once, not in turn order (Ready.immediate).
    expect(refused.replies).toEqual([]);
    const result = failure(only(refused.immediate).result);
    expect(result.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(result.message).toContain("inFlightTxnsMax");
    expect(result.message).toContain(String(limits.inFlightTxnsMax));
    expect(core.inFlight()).toHaveLength(limits.inFlightTxnsMax - 1);
  });
});

describe("CoordinatorCore.liveRecords (compaction)", () => {
  it("keeps a preparing transaction's COMMIT record with its writes; a core rebuilt from them re-sends COMMIT with the writes to every participant", () => {
    const core = newCore();
    const writes = [put("a", "1"), { key: "gone", value: null }];
    const txnId = preparedTxnId(write(core, 1, writes, 0));
    yes(core, "r1", txnId, 1); // one vote in, two missing: still preparing
    expect(only(core.inFlight()).phase).toBe("preparing");
    const live = core.liveRecords();
    expect(live.filter((record) => record.kind === "commit")).toEqual([
      expect.objectContaining({ kind: "commit", txnId, commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a", "gone"], writes }),
    ]);
    const recovered = recoverCoordinator(live.map((record, i) => decodeCoordinatorRecord(encodeCoordinatorRecord(record), i + 1)));
    expect(recovered.lastCommitSeq).toBe(1);
    expect(recovered.unfinished).toEqual([{ txnId, commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a", "gone"], writes }]);
    const rebuilt = newCore("abort", recovered, 10);
    expect(tick(rebuilt, 10).send).toEqual(PARTICIPANTS.map((to) => commit(to, txnId, 1, true, writes)));
  });

  it("leaves out a transaction still reading: no replica heard of it, and it has no COMMIT record", () => {
    const core = newCore();
    step(core, { kind: "txn", reqId: 1, requestId: null, method: "txn", program: { conditions: [], then: [{ kind: "incr", key: "c", delta: 1, min: null, max: null, mustExist: false }], otherwise: null }, nowMs: 0 });
    expect(only(core.inFlight()).phase).toBe("reading");
    expect(core.liveRecords().filter((record) => record.kind === "commit")).toEqual([]);
  });
});

describe("coordinator recovery", () => {
  const t1: CoordinatorRecord = { kind: "commit", txnId: "1.1", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a"], writes: [put("a", "1")] };
  const t2Writes = [put("b", "2"), { key: "c", value: null }];
  const t2: CoordinatorRecord = { kind: "commit", txnId: "1.2", commitSeq: 2, participants: [...PARTICIPANTS], keys: ["b", "c"], writes: t2Writes };
  const log: CoordinatorRecord[] = [{ kind: "start", epoch: 1, lastCommitSeq: 0 }, t1, t2, { kind: "end", txnId: "1.1" }];

  it("finds the next epoch, the last commit sequence number, and the commits not ended, with their writes (null in an older log)", () => {
    const recovered = recoverCoordinator(log);
    expect(recovered.epoch).toBe(2);
    expect(recovered.lastCommitSeq).toBe(2);
    expect(recovered.unfinished).toEqual([{ txnId: "1.2", commitSeq: 2, participants: [...PARTICIPANTS], keys: ["b", "c"], writes: t2Writes }]);
    expect(recovered.committedInLog).toBe(2);
    // A commit record of a version before intent commits has no writes.
    const older = recoverCoordinator([{ kind: "start", epoch: 1, lastCommitSeq: 0 }, { kind: "commit", txnId: "1.1", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a"] }]);
    expect(older.unfinished).toEqual([{ txnId: "1.1", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a"], writes: null }]);
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

  it("builds a core that forces a start record of the new epoch, holds the unfinished keys, and re-sends COMMIT with its writes to every participant on the first tick", () => {
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

    // Who voted YES is not in the log: every participant gets the writes (one that holds the
    // transaction prepared applies its own copy; one that voted NO or never heard of it needs them).
    const first = tick(core, startMs);
    expect(first.persist).toEqual([]);
    expect(first.replies).toEqual([]);
    expect(first.send).toEqual(PARTICIPANTS.map((to) => commit(to, "1.2", 2, true, t2Writes)));

    ack(core, "r1", "1.2", startMs + 1);
    ack(core, "r2", "1.2", startMs + 1);
    const done = ack(core, "r3", "1.2", startMs + 1);
    expect(done.replies).toEqual([]);
    // The waiting write starts now, in the new epoch, and holds the key: its COMMIT record, then the END.
    const started = preparedTxnId(done);
    expect(started).toMatch(/^2\./);
    expect(done.persist).toEqual([
      { record: expect.objectContaining({ kind: "commit", txnId: started, commitSeq: 3 }), force: true },
      { record: { kind: "end", txnId: "1.2" }, force: false },
    ]);
    expect(prepares(done)).toHaveLength(3);
    expect(core.lockedKeyCount()).toBe(1);
    expect(core.inFlight()).toHaveLength(1);

    // New transactions carry the new epoch and continue the commit sequence.
    const { txnId, started: next } = writeAndDecide(core, 2, [put("d", "y")], startMs + 2);
    expect(txnId.startsWith("2.")).toBe(true);
    expect(only(next.persist).record).toMatchObject({ kind: "commit", commitSeq: 4 });
  });

  it("a commit from an older log (no writes) is re-sent without writes", () => {
    const older: CoordinatorRecord = { kind: "commit", txnId: "1.1", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["a"] };
    const core = newCore("abort", recoverCoordinator([{ kind: "start", epoch: 1, lastCommitSeq: 0 }, older]), 0);
    expect(tick(core, 0).send).toEqual(PARTICIPANTS.map((to) => commit(to, "1.1", 1, true, null)));
  });

  it("holds reads (view().readsHeld) until every in-sync participant of every recovered commit acknowledged; an out-of-sync one does not hold them", () => {
    const other: CoordinatorRecord = { kind: "commit", txnId: "1.3", commitSeq: 3, participants: [...PARTICIPANTS], keys: ["d"], writes: [put("d", "4")] };
    const outR3: CoordinatorRecord = { kind: "membership", inSync: ["r1", "r2"], outSince: { r3: 2 } };
    const core = newCore("abort", recoverCoordinator([...log, other, outR3]), 0);
    expect(core.view().readsHeld).toContain("1.2");
    tick(core, 0);
    for (const id of ["r1", "r2"]) ack(core, id, "1.2", 1);
    // 1.2 is acknowledged by its in-sync participants (r3 owes its ack); 1.3 is not yet.
    expect(core.view().readsHeld).toContain("1.3");
    expect(core.view().readsHeld).not.toContain("1.2");
    ack(core, "r1", "1.3", 2);
    expect(core.view().readsHeld).not.toBeNull();
    ack(core, "r2", "1.3", 2);
    expect(core.view().readsHeld).toBeNull();
    expect(core.inFlight().map((txn) => [txn.txnId, txn.phase])).toEqual([
      ["1.2", "owed"],
      ["1.3", "owed"],
    ]);
    // A fresh core, or one whose own commits are in flight, holds no reads.
    expect(newCore().view().readsHeld).toBeNull();
    const live = newCore();
    preparedTxnId(write(live, 1, [put("a", "1")]));
    expect(live.view().readsHeld).toBeNull();
  });
});

describe("coordinator record encoding", () => {
  it.each<[string, CoordinatorRecord]>([
    ["start", { kind: "start", epoch: 3, lastCommitSeq: 1234 }],
    ["commit", { kind: "commit", txnId: "3.9", commitSeq: 1235, participants: [...PARTICIPANTS], keys: ["a", "ключ 🔑", 'q"uote'] }],
    [
      "commit with writes",
      {
        kind: "commit",
        txnId: "3.9",
        commitSeq: 1235,
        participants: [...PARTICIPANTS],
        keys: ["a", "bin", "gone"],
        writes: [put("a", "1"), { key: "bin", value: Buffer.from([0, 255, 128]) }, { key: "gone", value: null }, { key: "empty", value: Buffer.alloc(0) }],
      },
    ],
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
    ["a commit whose writes are not a list", '{"k":"c","t":"1.1","q":1,"p":["r1"],"y":["a"],"w":{}}'],
    ["a commit with a write of a numeric value", '{"k":"c","t":"1.1","q":1,"p":["r1"],"y":["a"],"w":[["a",5]]}'],
    ["an end without a txn id", '{"k":"e"}'],
  ])("throws DataLoss on %s", (_name, text) => {
    expect(() => decodeCoordinatorRecord(Buffer.from(text, "utf8"), 2)).toThrow(DataLoss);
  });
});
