// Proves the transaction side of the coordinator's pure core (coordinator/core.ts): a program that
// reads takes its locks and asks for a read before any PREPARE, then fails, answers (read-only) or
// prepares the writes it evaluated, logging its COMMIT record (writes, the request to remember) in
// the Ready of its early PREPAREs (intent commits, issue 13); a reading transaction times out, runs
// again without a replica that leaves the in-sync set, and gets no answer to an outcome query. A
// commit is answered in the Ready in which COMMIT goes to every participant; its acks only finish it.
// Exactly once: a retry of a running request joins it (also while a NO voter's writes are still
// unacknowledged), a retry of a committed one gets the original result without a new transaction
// (also while the acks are still coming in, and after a restart, from the log, including a request
// whose COMMIT record was logged as it prepared, or from a compacted log), a retry of one that failed
// definitely gets the same failure and runs nothing (issue 11: also after a restart and compaction,
// with its "failed" record forced before the reply), a NO vote, an unreachable replica or the prepare
// timeout is no failure (the request commits), a retry after UNAVAILABLE runs again, and committed and
// failed requests are forgotten after requestIdRetentionMs or past requestIdsRememberedMax.
// txn-status answers by transaction id and by request id ("unknown" until COMMIT went to every
// participant). The commit record's `remember` and the
// "remembered" record round-trip through their encoding (coordinator/records.ts); a malformed one
// is DATA_LOSS.
//
// How: as in coordinator-core.test.ts, a core with participants r1, r2, r3 is fed one input at a
// time with an explicit nowMs, and each Ready is inspected. The small driver below is this file's
// own (step/tick mirror the ones in coordinator-core.test.ts, which are not exported).
import { describe, expect, it } from "vitest";
import { Code, DataLoss } from "../../common/errors";
import { limits } from "../../common/limits";
import { putProgram, type KeyState, type Operation, type Program } from "../../common/txn";
import { requestFingerprint, type RequestMethod } from "../../common/fingerprint";
import { CoordinatorCore, newReady, type Input, type Message, type OnConflict, type Ready, type RecoveredCoordinator, type TxnStatus, type WriteResult } from "../../coordinator/core";
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord, type RememberedCommit, type RememberedFailure } from "../../coordinator/records";
import { joined } from "./readies";
import { recoverCoordinator } from "../../coordinator/recovery";

const PARTICIPANTS = ["r1", "r2", "r3"] as const;
const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };
const b = (text: string): Buffer => Buffer.from(text, "utf8");

/**
 * The cores here read before every evaluation: no cache of key states (valueCacheBytes 0), whose
 * own tests (the describe "the cache of committed key states") build cores with one.
 */
function newCore(onConflict: OnConflict = "abort", recovered: RecoveredCoordinator = FRESH, nowMs = 0, valueCacheBytes = 0): CoordinatorCore {
  return new CoordinatorCore({ participants: [...PARTICIPANTS], onConflict, minInSync: 2, valueCacheBytes }, recovered, nowMs);
}

function step(core: CoordinatorCore, input: Input): Ready {
  const out = newReady();
  core.step(input, out);
  return out;
}

function incr(key: string, delta: number, min: number | null = null): Operation {
  return { kind: "incr", key, delta, min, max: null, mustExist: false };
}

function prog(then: Operation[], conditions: Program["conditions"] = [], otherwise: Operation[] | null = null): Program {
  return { conditions, then, otherwise };
}

function txn(core: CoordinatorCore, reqId: number, program: Program, requestId: string | null = null, nowMs = 0, method: RequestMethod = "txn"): Ready {
  return step(core, { kind: "txn", reqId, requestId, method, program, nowMs });
}

function readResult(core: CoordinatorCore, txnId: string, states: Record<string, KeyState> | null, nowMs = 0, reason = ""): Ready {
  return step(core, { kind: "read-result", txnId, states: states === null ? null : new Map(Object.entries(states)), reason, nowMs });
}

/** The one read a Ready asks for. */
function readOf(ready: Ready): { txnId: string; keys: readonly string[] } {
  expect(ready.reads).toHaveLength(1);
  return ready.reads[0]!;
}

/** The PREPAREs of a Ready: they leave early, without waiting for the Ready's force (none is in send). */
function preparesOf(ready: Ready): Extract<Message, { kind: "prepare" }>[] {
  expect(ready.send.filter((m) => m.kind === "prepare")).toEqual([]);
  return ready.early.flatMap((m) => (m.kind === "prepare" ? [m] : []));
}

function prepareTxnId(ready: Ready): string {
  const ids = new Set(preparesOf(ready).map((m) => m.txnId));
  expect(ids.size).toBe(1);
  return [...ids][0]!;
}

/** Every participant votes YES at nowMs; returns the Readies of the votes, joined (the decision comes at the second). */
function voteAll(core: CoordinatorCore, txnId: string, nowMs = 0): Ready {
  return joined(PARTICIPANTS.map((replicaId) => step(core, { kind: "votes", replicaId, votes: [{ txnId, vote: "yes" }], nowMs })));
}

/** Every participant acknowledges at nowMs; returns the Readys, concatenated. */
function ackAll(core: CoordinatorCore, txnId: string, nowMs = 0): Ready {
  return joined(PARTICIPANTS.map((replicaId) => step(core, { kind: "acks", replicaId, txnIds: [txnId], nowMs })));
}

/** A timer tick, every replica answering its health checks. */
function tick(core: CoordinatorCore, nowMs: number): Ready {
  for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs });
  return step(core, { kind: "tick", nowMs });
}

function status(core: CoordinatorCore, id: string, nowMs = 0): TxnStatus {
  const ready = step(core, { kind: "txn-status", reqId: 99, id, nowMs });
  expect(ready.statuses).toHaveLength(1);
  expect(ready.statuses[0]!.reqId).toBe(99);
  return ready.statuses[0]!.status;
}

function failure(result: WriteResult): { code: number; message: string } {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return result;
}

/** The forced COMMIT records of a Ready. */
function commitRecords(ready: Ready): Extract<CoordinatorRecord, { kind: "commit" }>[] {
  return ready.persist.flatMap(({ record }) => (record.kind === "commit" ? [record] : []));
}

/**
 * Runs an increment of "c" by 5 over a stored value to the end: read, prepare (its COMMIT record
 * logged with the PREPAREs), commit (answered at the last YES), acks (which END it and answer nothing).
 */
function commitIncr(core: CoordinatorCore, reqId: number, requestId: string | null, stored: KeyState, nowMs = 0): { txnId: string; prepared: Ready; decision: Ready; reply: WriteResult } {
  const { txnId } = readOf(txn(core, reqId, prog([incr("c", 5)]), requestId, nowMs));
  const prepared = readResult(core, txnId, { c: stored }, nowMs);
  expect(prepareTxnId(prepared)).toBe(txnId);
  const decision = voteAll(core, txnId, nowMs);
  expect(decision.replies.map((r) => r.reqId)).toEqual([reqId]);
  expect(decision.persist).toEqual([]);
  const acked = ackAll(core, txnId, nowMs);
  expect(acked.replies).toEqual([]);
  expect(acked.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
  return { txnId, prepared, decision, reply: decision.replies[0]!.result };
}

/** Encodes and decodes every persisted record, as a restart from the log does. */
function throughTheLog(records: readonly CoordinatorRecord[]): CoordinatorRecord[] {
  return records.map((record, i) => decodeCoordinatorRecord(encodeCoordinatorRecord(record), i + 1));
}

function restart(records: readonly CoordinatorRecord[], nowMs: number, onConflict: OnConflict = "abort"): CoordinatorCore {
  return newCore(onConflict, recoverCoordinator(throughTheLog(records)), nowMs);
}

describe("CoordinatorCore: the reading phase", () => {
  it("a program that reads locks every key it names and asks to read only the keys it needs, before any PREPARE", () => {
    const core = newCore();
    const ready = txn(core, 1, prog([incr("c", 1), { kind: "put", key: "log", value: b("x") }], [{ key: "v", target: "exists", exists: true }]));
    const read = readOf(ready);
    expect(read.keys).toEqual(["c", "v"]);
    expect(read.txnId.startsWith("1.")).toBe(true);
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([]);
    expect(core.lockedKeyCount()).toBe(3);
    expect(core.inFlight().map((t) => t.phase)).toEqual(["reading"]);
  });

  it("a failed condition replies FAILED_PRECONDITION, releases the locks, and sends neither PREPARE nor ABORT", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([{ kind: "put", key: "k", value: b("new") }], [{ key: "k", target: "version", op: "=", version: 3 }])));
    const ready = readResult(core, txnId, { k: { value: b("old"), version: 4 } });
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toHaveLength(1);
    expect(ready.replies[0]!.reqId).toBe(1);
    const { code, message } = failure(ready.replies[0]!.result);
    expect(code).toBe(Code.FAILED_PRECONDITION);
    expect(message).toContain("condition 0 failed");
    expect(message).toContain("its version is 4");
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.inFlight()).toEqual([]);
  });

  it("an increment past its bound replies FAILED_PRECONDITION with nothing sent", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("stock", -3, 0)])));
    const ready = readResult(core, txnId, { stock: { value: b("2"), version: 1 } });
    expect(ready.send).toEqual([]);
    expect(failure(ready.replies[0]!.result).code).toBe(Code.FAILED_PRECONDITION);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("a read-only transaction replies ok with commitSeq 0 and its outcome, with no PREPARE and nothing logged", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([{ kind: "get", key: "a" }, { kind: "get", key: "b" }])));
    const ready = readResult(core, txnId, { a: { value: b("A"), version: 2 }, b: null });
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
    expect(ready.replies).toEqual([
      {
        reqId: 1,
        result: {
          ok: true,
          commitSeq: 0,
          txnId,
          outcome: {
            branch: "then",
            results: [
              { kind: "get", key: "a", state: { value: b("A"), version: 2 } },
              { kind: "get", key: "b", state: null },
            ],
          },
        },
      },
    ]);
    expect(core.lockedKeyCount()).toBe(0);
    expect(core.lastSeq()).toBe(0);
  });

  it("a program with writes sends PREPARE with the evaluated writes to every participant, and commits them with its outcome", () => {
    const core = newCore();
    const program = prog([incr("c", 5), { kind: "put", key: "d", value: b("x") }], [{ key: "c", target: "exists", exists: true }], [{ kind: "put", key: "e", value: b("else") }]);
    const { txnId } = readOf(txn(core, 1, program));
    const ready = readResult(core, txnId, { c: { value: b("10"), version: 3 } });
    const prepares = preparesOf(ready);
    expect(prepares.map((m) => m.to).sort()).toEqual([...PARTICIPANTS]);
    for (const message of prepares) {
      expect(message).toMatchObject({
        txnId,
        writes: [
          { key: "c", value: b("15") },
          { key: "d", value: b("x") },
        ],
        participants: [...PARTICIPANTS],
      });
    }
    expect(ready.replies).toEqual([]);
    expect(ready.send).toEqual([]);
    // Its COMMIT record, with the evaluated writes, is forced in the Ready of the PREPAREs.
    expect(commitRecords(ready)).toEqual([expect.objectContaining({ txnId, commitSeq: 1, keys: ["c", "d", "e"], writes: [{ key: "c", value: b("15") }, { key: "d", value: b("x") }] })]);
    expect(ready.persist.map((p) => p.force)).toEqual([true]);
    expect(core.inFlight()[0]!.phase).toBe("preparing");
    const decision = voteAll(core, txnId);
    expect(decision.persist).toEqual([]);
    expect(decision.decided).toEqual([txnId]);
    expect(ackAll(core, txnId).replies).toEqual([]); // answered at the decision, once
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
              { kind: "incr", key: "c", value: 15 },
              { kind: "put", key: "d" },
            ],
          },
        },
      },
    ]);
  });

  it("the else branch's writes are prepared when a condition fails", () => {
    const core = newCore();
    const program = prog([{ kind: "put", key: "t", value: b("then") }], [{ key: "c", target: "exists", exists: true }], [{ kind: "put", key: "e", value: b("else") }]);
    const { txnId } = readOf(txn(core, 1, program));
    const ready = readResult(core, txnId, { c: null });
    for (const message of preparesOf(ready)) expect(message).toMatchObject({ kind: "prepare", writes: [{ key: "e", value: b("else") }] });
    expect(ready.early).toHaveLength(3);
    expect(commitRecords(ready)[0]!.writes).toEqual([{ key: "e", value: b("else") }]);
  });

  it("a failed read (states null) aborts with UNAVAILABLE naming the reason, sends no ABORT, and frees the keys", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1)])));
    const ready = readResult(core, txnId, null, 0, "replica r2: deadline exceeded");
    expect(ready.send).toEqual([]);
    const { code, message } = failure(ready.replies[0]!.result);
    expect(code).toBe(Code.UNAVAILABLE);
    expect(message).toContain("replica r2: deadline exceeded");
    expect(message).toContain("nothing was written");
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("times a reading transaction out at prepareTimeoutMs with UNAVAILABLE naming the limit; a late read is ignored", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1)]), null, 1000));
    expect(tick(core, 1000 + limits.prepareTimeoutMs - 1).replies).toEqual([]);
    const ready = tick(core, 1000 + limits.prepareTimeoutMs);
    expect(ready.send).toEqual([]);
    const { code, message } = failure(ready.replies[0]!.result);
    expect(code).toBe(Code.UNAVAILABLE);
    expect(message).toContain("prepareTimeoutMs");
    expect(core.lockedKeyCount()).toBe(0);
    const late = readResult(core, txnId, { c: null }, 1000 + limits.prepareTimeoutMs + 1);
    expect(late).toEqual(newReady());
  });

  it("a replica leaving the in-sync set runs a reading transaction again without it (no ABORT sent: nothing was prepared)", () => {
    const core = newCore();
    for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs: 0 });
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1)])));
    const ready = step(core, { kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 10 });
    expect(ready.persist.map(({ record }) => record.kind)).toEqual(["membership"]);
    expect(ready.send).toEqual([]);
    // The client is not answered: its transaction runs again, as a new one over the replicas left.
    expect(ready.replies).toEqual([]);
    const again = readOf(ready);
    expect(again.txnId).not.toBe(txnId);
    expect(again.keys).toEqual(["c"]);
    expect(core.inFlight().map((t) => [t.txnId, t.phase, t.participants])).toEqual([[again.txnId, "reading", ["r1", "r2"]]]);
    // A late answer to the first attempt's read is ignored.
    expect(readResult(core, txnId, { c: null }, 11).send).toEqual([]);
    // The new attempt goes through, with r1 and r2 alone.
    const prepared = readResult(core, again.txnId, { c: null }, 12);
    expect(prepared.send).toEqual([]);
    expect(prepared.early.map((m) => [m.kind, m.to])).toEqual([
      ["prepare", "r1"],
      ["prepare", "r2"],
    ]);
    let decided = newReady();
    for (const replicaId of ["r1", "r2"]) decided = step(core, { kind: "votes", replicaId, votes: [{ txnId: again.txnId, vote: "yes" }], nowMs: 13 });
    expect(decided.replies).toEqual([{ reqId: 1, result: { ok: true, commitSeq: 1, txnId: again.txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 1 }] } } }]);
    let last = newReady();
    for (const replicaId of ["r1", "r2"]) last = step(core, { kind: "acks", replicaId, txnIds: [again.txnId], nowMs: 14 });
    expect(last.replies).toEqual([]);
    expect(last.persist).toEqual([{ record: { kind: "end", txnId: again.txnId }, force: false }]);
  });

  it("gives no answer to an outcome query for a transaction still reading", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1)])));
    const ready = step(core, { kind: "outcome-query", queryId: 5, txnIds: [txnId], nowMs: 0 });
    expect(ready.outcomes).toEqual([{ queryId: 5, outcomes: [] }]);
    expect(core.inFlight()[0]!.phase).toBe("reading");
  });

  it("holds its keys while reading: with onConflict abort a write to one of them is refused naming the phase", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1)])));
    const ready = step(core, { kind: "write", reqId: 2, writes: [{ key: "c", value: b("7") }], nowMs: 0 });
    const { code, message } = failure(ready.replies[0]!.result);
    expect(code).toBe(Code.ABORTED);
    expect(message).toContain(`transaction ${txnId} (reading)`);
  });
});

describe("CoordinatorCore: the cache of committed key states (coordinator/value-cache.ts)", () => {
  const cached = (recovered: RecoveredCoordinator = FRESH): CoordinatorCore => newCore("abort", recovered, 0, 1024 * 1024);

  it("evaluates a transaction over the state the last commit left, with no read: the PREPAREs leave at once with writes computed from it", () => {
    const core = cached();
    const first = commitIncr(core, 1, null, { value: b("10"), version: 3 });
    expect(first.reply).toMatchObject({ ok: true, commitSeq: 1 });
    const ready = txn(core, 2, prog([incr("c", 5)], [{ key: "c", target: "version", op: "=", version: 1 }]));
    expect(ready.reads).toEqual([]);
    for (const message of preparesOf(ready)) expect(message.writes).toEqual([{ key: "c", value: b("20") }]);
    expect(commitRecords(ready)).toEqual([expect.objectContaining({ commitSeq: 2, writes: [{ key: "c", value: b("20") }] })]);
    expect(core.cacheFigures()).toMatchObject({ entries: 1, hits: 1, misses: 1 });
  });

  it("keeps a state read under the locks: a transaction that read and then wrote nothing leaves it, and the next one is evaluated over it", () => {
    const core = cached();
    const { txnId } = readOf(txn(core, 1, prog([{ kind: "get", key: "g" }])));
    expect(readResult(core, txnId, { g: { value: b("7"), version: 4 } }).replies).toHaveLength(1);
    const ready = txn(core, 2, prog([incr("g", 1)]));
    expect(ready.reads).toEqual([]);
    for (const message of preparesOf(ready)) expect(message.writes).toEqual([{ key: "g", value: b("8") }]);
  });

  it("reads from a replica when the evaluation over the cache fails or writes nothing: only a commit proves this coordinator still leads", () => {
    const core = cached();
    commitIncr(core, 1, null, { value: b("10"), version: 3 });
    // A bound the cached 15 fails: the failure is decided over a replica's read, not the cache.
    const failing = txn(core, 2, prog([incr("c", -20, 0)]));
    expect(failing.replies).toEqual([]);
    const { txnId } = readOf(failing);
    expect(failure(readResult(core, txnId, { c: { value: b("15"), version: 1 } }).replies[0]!.result).code).toBe(Code.FAILED_PRECONDITION);
    // A get alone writes nothing: read too.
    expect(readOf(txn(core, 3, prog([{ kind: "get", key: "c" }]))).keys).toEqual(["c"]);
    expect(core.cacheFigures()).toMatchObject({ hits: 0, misses: 3 });
  });

  it("a key not cached, or a cache of 0 bytes, is read as before", () => {
    const core = cached();
    commitIncr(core, 1, null, { value: b("10"), version: 3 });
    expect(readOf(txn(core, 2, prog([incr("c", 1), incr("other", 1)]))).keys).toEqual(["c", "other"]);
    const none = newCore();
    commitIncr(none, 1, null, { value: b("10"), version: 3 });
    expect(readOf(txn(none, 2, prog([incr("c", 1)]))).keys).toEqual(["c"]);
    expect(none.cacheFigures()).toMatchObject({ entries: 0, hits: 0 });
  });

  it("a deletion is cached as absent, at the deleting commit", () => {
    const core = cached();
    const { txnId } = readOf(txn(core, 1, prog([{ kind: "del", key: "c" }], [{ key: "c", target: "exists", exists: true }])));
    readResult(core, txnId, { c: { value: b("1"), version: 1 } });
    voteAll(core, txnId);
    ackAll(core, txnId);
    // Absent now: a condition that it exists fails (read from a replica), one that it does not passes from the cache.
    expect(readOf(txn(core, 2, prog([{ kind: "put", key: "c", value: b("x") }], [{ key: "c", target: "exists", exists: true }]))).keys).toEqual(["c"]);
    const ready = txn(core, 3, prog([{ kind: "put", key: "d", value: b("y") }], [{ key: "d", target: "exists", exists: false }]));
    expect(ready.reads).toHaveLength(1); // d was never read or written here
  });

  it("caches a commit's writes only once its last acknowledgement frees the keys; a recovered commit of an earlier epoch leaves its keys uncached", () => {
    const core = cached();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)])));
    readResult(core, txnId, { c: { value: b("10"), version: 3 } });
    voteAll(core, txnId);
    expect(core.cacheFigures().entries).toBe(1); // the state read, 10, under the lock
    ackAll(core, txnId);
    expect(readOf(txn(core, 9, prog([incr("c", 1), incr("x", 1)]))).keys).toEqual(["c", "x"]); // x unknown
    const recovered: RecoveredCoordinator = { ...FRESH, epoch: 2, lastCommitSeq: 5, unfinished: [{ txnId: "1.5", commitSeq: 5, participants: [...PARTICIPANTS], keys: ["r"], writes: [{ key: "r", value: b("1") }] }] };
    const successor = cached(recovered);
    ackAll(successor, "1.5");
    expect(successor.cacheFigures().entries).toBe(0);
    expect(readOf(txn(successor, 1, prog([incr("r", 1)]))).keys).toEqual(["r"]);
  });
});

describe("CoordinatorCore: a retry of a running request joins it", () => {
  it("while reading: no second read or transaction; both calls get the same reply", () => {
    const core = newCore();
    const first = txn(core, 1, prog([{ kind: "get", key: "g" }]), "req-1");
    const { txnId } = readOf(first);
    const retry = txn(core, 2, prog([{ kind: "get", key: "g" }]), "req-1");
    expect(retry).toEqual(newReady());
    expect(core.inFlight()).toHaveLength(1);
    const ready = readResult(core, txnId, { g: { value: b("v"), version: 1 } });
    expect(ready.replies.map((r) => r.reqId)).toEqual([1, 2]);
    expect(ready.replies[1]!.result).toEqual(ready.replies[0]!.result);
    expect(ready.replies[0]!.result).toMatchObject({ ok: true, txnId, commitSeq: 0 });
  });

  it("while preparing (a write with a request id): one PREPARE round; both calls get the commit", () => {
    const core = newCore();
    const txnId = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], requestId: "req-w", nowMs: 0 }));
    const retry = step(core, { kind: "write", reqId: 2, writes: [{ key: "k", value: b("v") }], requestId: "req-w", nowMs: 1 });
    expect(retry).toEqual(newReady());
    const { replies } = voteAll(core, txnId);
    expect(replies.map((r) => r.reqId)).toEqual([1, 2]);
    expect(replies[0]!.result).toEqual({ ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "k" }] } });
    expect(replies[1]!.result).toEqual(replies[0]!.result);
    expect(ackAll(core, txnId).replies).toEqual([]);
  });

  it("while committing (answered, acks missing): nothing is left to join; the retry is answered at once from the remembered commit, running nothing", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-c"));
    readResult(core, txnId, { c: null });
    const decision = voteAll(core, txnId);
    const original = { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 5 }] } };
    expect(decision.replies).toEqual([{ reqId: 1, result: original }]);
    expect(core.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[txnId, "committing"]]);
    // The same result, with nothing read, prepared, sent or logged, and no second transaction.
    const retry = txn(core, 2, prog([incr("c", 5)]), "req-c", 1);
    expect(retry).toEqual({ ...newReady(), replies: [{ reqId: 2, result: { ...original, message: "a retry: the request had committed" } }] });
    expect(core.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[txnId, "committing"]]);
    expect(core.lastSeq()).toBe(1);
    // The acks answer neither call again.
    const acked = ackAll(core, txnId, 2);
    expect(acked.replies).toEqual([]);
    expect(acked.persist).toEqual([{ record: { kind: "end", txnId }, force: false }]);
  });

  it("while queued behind a lock (onConflict wait): it starts once, and both calls get the same reply", () => {
    const core = newCore("wait");
    const holder = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "c", value: b("10") }], nowMs: 0 }));
    expect(txn(core, 2, prog([incr("c", 5)]), "req-q")).toEqual(newReady());
    expect(txn(core, 3, prog([incr("c", 5)]), "req-q")).toEqual(newReady());
    // The holder's reply comes at its decision; the queued request still waits for the key.
    const holderDecision = voteAll(core, holder);
    expect(holderDecision.replies.map((r) => r.reqId)).toEqual([1]);
    expect(holderDecision.reads).toEqual([]);
    // The holder's last ack frees the key, and the queued request starts: one read, no reply.
    const released = ackAll(core, holder);
    expect(released.replies).toEqual([]);
    expect(core.inFlight().filter((t) => t.phase === "reading")).toHaveLength(1);
    const queued = core.inFlight().find((t) => t.phase === "reading")!.txnId;
    readResult(core, queued, { c: { value: b("10"), version: 1 } });
    const { replies } = voteAll(core, queued);
    expect(replies.map((r) => r.reqId)).toEqual([2, 3]);
    expect(replies[1]!.result).toEqual(replies[0]!.result);
    expect(replies[0]!.result).toEqual({ ok: true, commitSeq: 2, txnId: queued, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 15 }] } });
    expect(ackAll(core, queued).replies).toEqual([]);
  });

  it("while queued, a lock-wait timeout answers both calls with ABORTED, and a later retry gets it too, running nothing", () => {
    const core = newCore("wait");
    const holder = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "c", value: b("10") }], nowMs: 0 }));
    // The holder is decided but one ack is missing: it keeps the lock past lockWaitTimeoutMs.
    voteAll(core, holder);
    step(core, { kind: "acks", replicaId: "r1", txnIds: [holder], nowMs: 0 });
    txn(core, 2, prog([incr("c", 5)]), "req-t");
    txn(core, 3, prog([incr("c", 5)]), "req-t");
    const ready = tick(core, limits.lockWaitTimeoutMs);
    const waiters = ready.replies; // the holder was answered at its decision
    expect(waiters.map((r) => r.reqId)).toEqual([2, 3]);
    for (const { result } of waiters) expect(failure(result).code).toBe(Code.ABORTED);
    expect(status(core, "req-t").state).toBe("aborted");
    ackAll(core, holder, limits.lockWaitTimeoutMs);
    const retry = txn(core, 4, prog([incr("c", 5)]), "req-t", limits.lockWaitTimeoutMs);
    expect(retry.reads).toEqual([]);
    expect(retry.replies.map((r) => r.result)).toEqual([waiters[0]!.result]);
  });
});

describe("CoordinatorCore: a retry of a committed request gets the original result", () => {
  it("the COMMIT record, logged as PREPARE leaves, remembers the request: txnId, requestId, commitSeq, outcome and the time it was logged", () => {
    const core = newCore();
    const { txnId, prepared, decision } = commitIncr(core, 1, "req-1", { value: b("10"), version: 4 }, 777);
    expect(commitRecords(prepared)).toEqual([
      {
        kind: "commit",
        txnId,
        commitSeq: 1,
        participants: [...PARTICIPANTS],
        keys: ["c"],
        writes: [{ key: "c", value: b("15") }],
        remember: { txnId, requestId: "req-1", fingerprint: requestFingerprint("txn", prog([incr("c", 5)])), commitSeq: 1, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 15 }] }, atMs: 777 },
      },
    ]);
    expect(prepared.persist.map((p) => p.force)).toEqual([true]);
    expect(commitRecords(decision)).toEqual([]);
  });

  it("a blind write remembers no outcome (null); one without a request id is remembered by its txn id", () => {
    const core = newCore();
    const named = step(core, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], requestId: "req-b", nowMs: 5 });
    const txnId = prepareTxnId(named);
    expect(commitRecords(named)[0]!.remember).toEqual({ txnId, requestId: "req-b", fingerprint: requestFingerprint("put", putProgram([{ key: "k", value: b("v") }])), commitSeq: 1, outcome: null, atMs: 5 });
    const unnamed = step(core, { kind: "write", reqId: 2, writes: [{ key: "j", value: b("v") }], nowMs: 6 });
    const anon = prepareTxnId(unnamed);
    expect(commitRecords(unnamed)[0]!.remember).toEqual({ txnId: anon, requestId: null, fingerprint: null, commitSeq: 2, outcome: null, atMs: 6 });
  });

  it("after the commit, a retry is answered at once with the same commitSeq, txnId and outcome, and nothing is sent", () => {
    const core = newCore();
    const { txnId, reply } = commitIncr(core, 1, "req-1", { value: b("10"), version: 4 });
    const retry = txn(core, 2, prog([incr("c", 5)]), "req-1", 100);
    expect(retry.send).toEqual([]);
    expect(retry.reads).toEqual([]);
    expect(retry.persist).toEqual([]);
    expect(retry.replies).toHaveLength(1);
    expect(retry.replies[0]!.reqId).toBe(2);
    expect(retry.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 15 }] } });
    expect(reply).toMatchObject({ ok: true, commitSeq: 1, txnId });
    expect(retry.replies[0]!.result).toEqual({ ...reply, message: "a retry: the request had committed" });
    expect(core.inFlight()).toEqual([]);
    expect(core.lastSeq()).toBe(1);
  });

  it("a retry of a committed blind write gets its results (from the request) and the original commitSeq", () => {
    const core = newCore();
    const writes = [
      { key: "k", value: b("v") },
      { key: "gone", value: null },
    ];
    const txnId = prepareTxnId(step(core, { kind: "write", reqId: 1, writes, requestId: "req-b", nowMs: 0 }));
    voteAll(core, txnId);
    ackAll(core, txnId);
    const retry = step(core, { kind: "write", reqId: 2, writes, requestId: "req-b", nowMs: 1 });
    expect(retry.send).toEqual([]);
    expect(retry.replies[0]!.result).toMatchObject({
      ok: true,
      commitSeq: 1,
      txnId,
      outcome: {
        branch: "then",
        results: [
          { kind: "put", key: "k" },
          { kind: "del", key: "gone" },
        ],
      },
    });
  });

  it("a retry while an ack is still missing (COMMIT being re-sent) is answered at once from the remembered commit, sending nothing", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-1"));
    readResult(core, txnId, { c: null });
    const decision = voteAll(core, txnId);
    expect(decision.replies.map((r) => r.reqId)).toEqual([1]);
    const original = decision.replies[0]!.result;
    for (const replicaId of ["r1", "r2"]) expect(step(core, { kind: "acks", replicaId, txnIds: [txnId], nowMs: 0 }).replies).toEqual([]);
    // r3's ack is missing: COMMIT goes to it again, and nobody is answered again.
    const resent = tick(core, limits.decisionResendMsMin);
    expect(resent.send).toEqual([{ kind: "commit", to: "r3", txnId, commitSeq: 1, urgent: true, writes: null }]);
    expect(resent.replies).toEqual([]);
    expect(core.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[txnId, "committing"]]);
    const retry = txn(core, 2, prog([incr("c", 5)]), "req-1", limits.decisionResendMsMin + 1);
    expect(retry).toEqual({ ...newReady(), replies: [{ reqId: 2, result: { ...original, message: "a retry: the request had committed" } }] });
    expect(original).toEqual({ ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 5 }] } });
    expect(core.lastSeq()).toBe(1);
    expect(core.lockedKeyCount()).toBe(1);
  });

  it("after a NO vote the request still commits: a retry while the NO voter's writes are unacknowledged joins it, and a later one gets the commit, starting nothing", () => {
    const core = newCore();
    const writes = [{ key: "k", value: b("v") }];
    const first = prepareTxnId(step(core, { kind: "write", reqId: 1, writes, requestId: "req-a", nowMs: 0 }));
    expect(step(core, { kind: "votes", replicaId: "r2", votes: [{ txnId: first, vote: "no", reason: "disk full" }], nowMs: 0 }).replies).toEqual([]);
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId: first, vote: "yes" }], nowMs: 0 });
    // Not answered yet (one YES): a retry joins the running request.
    expect(step(core, { kind: "write", reqId: 2, writes, requestId: "req-a", nowMs: 1 })).toEqual(newReady());
    // r3's YES makes a majority: the answer to both calls, and COMMIT with the writes to r2.
    const answered = step(core, { kind: "votes", replicaId: "r3", votes: [{ txnId: first, vote: "yes" }], nowMs: 2 });
    expect(answered.send).toContainEqual({ kind: "commit", to: "r2", txnId: first, commitSeq: 1, urgent: true, writes });
    const committed = { ok: true, commitSeq: 1, txnId: first, outcome: { branch: "then", results: [{ kind: "put", key: "k" }] } };
    expect(answered.replies).toEqual([
      { reqId: 1, result: committed },
      { reqId: 2, result: committed },
    ]);
    const retry = step(core, { kind: "write", reqId: 3, writes, requestId: "req-a", nowMs: 3 });
    expect(retry).toEqual({ ...newReady(), replies: [{ reqId: 3, result: { ...committed, message: "a retry: the request had committed" } }] });
    expect(core.inFlight().map((t) => t.txnId)).toEqual([first]);
    expect(core.lastSeq()).toBe(1);
  });

  it("after an UNAVAILABLE abort (its read failed), a retry with the same request id runs as a new transaction", () => {
    const core = newCore();
    const { txnId: first } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-a"));
    const aborted = readResult(core, first, null, 0, "no in-sync replica answered");
    expect(failure(aborted.replies[0]!.result).code).toBe(Code.UNAVAILABLE);
    expect(aborted.persist).toEqual([]);
    const retry = txn(core, 2, prog([incr("c", 5)]), "req-a", 1);
    const second = readOf(retry).txnId;
    expect(second).not.toBe(first);
    expect(retry.replies).toEqual([]);
  });

  it("after a failed condition, a retry gets the same failure even though the data changed; a new request id reads again", () => {
    const core = newCore();
    const cas = prog([{ kind: "put", key: "k", value: b("new") }], [{ key: "k", target: "version", op: "=", version: 2 }]);
    const { txnId: first } = readOf(txn(core, 1, cas, "req-cas"));
    const failed = readResult(core, first, { k: { value: b("x"), version: 1 } }).replies[0]!.result;
    expect(failure(failed).code).toBe(Code.FAILED_PRECONDITION);
    const retry = txn(core, 2, cas, "req-cas");
    expect(retry.reads).toEqual([]);
    expect(retry.replies).toEqual([{ reqId: 2, result: failed }]);
    const { txnId: second } = readOf(txn(core, 3, cas, "req-cas-2"));
    expect(second).not.toBe(first);
    expect(prepareTxnId(readResult(core, second, { k: { value: b("x"), version: 2 } }))).toBe(second);
  });
});

describe("CoordinatorCore: exactly once across a restart", () => {
  it("a retry of a request committed before the restart returns the original result, from the log", () => {
    const core = newCore();
    const log: CoordinatorRecord[] = [core.startRecord()];
    // A transaction with a get of a binary value and of an absent key, and an increment.
    const program = prog([{ kind: "get", key: "bin" }, { kind: "get", key: "none" }, incr("c", 5)]);
    const { txnId } = readOf(txn(core, 1, program, "req-r"));
    const binary = Buffer.from([0, 255, 1, 128]);
    const prepared = readResult(core, txnId, { bin: { value: binary, version: 3 }, none: null, c: { value: b("1"), version: 2 } }, 50);
    log.push(...prepared.persist.map((p) => p.record));
    const decision = voteAll(core, txnId, 50);
    log.push(...decision.persist.map((p) => p.record));
    expect(decision.replies.map((r) => r.reqId)).toEqual([1]);
    const acked = ackAll(core, txnId, 50);
    expect(acked.replies).toEqual([]);
    log.push(...acked.persist.map((p) => p.record));
    expect(log.map((r) => r.kind)).toEqual(["start", "commit", "end"]);
    const original = decision.replies[0]!.result;

    const rebuilt = restart(log, 1000);
    expect(rebuilt.epoch).toBe(2);
    const retry = txn(rebuilt, 7, program, "req-r", 1000);
    expect(retry.reads).toEqual([]);
    expect(retry.send).toEqual([]);
    expect(retry.replies).toHaveLength(1);
    const result = retry.replies[0]!.result;
    expect(result).toMatchObject({ ok: true, commitSeq: original.ok ? original.commitSeq : -1, txnId });
    if (!result.ok || !original.ok) throw new Error("expected successes");
    expect(result.outcome).toEqual(original.outcome);
    expect(result.outcome!.results[0]).toEqual({ kind: "get", key: "bin", state: { value: binary, version: 3 } });
    expect(status(rebuilt, "req-r", 1000)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    expect(status(rebuilt, txnId, 1000)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
  });

  it("a request whose COMMIT was logged but not acknowledged before the crash is answered from the log, while COMMIT is re-sent", () => {
    const core = newCore();
    const log: CoordinatorRecord[] = [core.startRecord()];
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-u"));
    log.push(...readResult(core, txnId, { c: null }).persist.map((p) => p.record));
    log.push(...voteAll(core, txnId).persist.map((p) => p.record));
    const rebuilt = restart(log, 10);
    expect(rebuilt.inFlight().map((t) => t.phase)).toEqual(["committing"]);
    const retry = txn(rebuilt, 2, prog([incr("c", 5)]), "req-u", 10);
    expect(retry.send).toEqual([]);
    expect(retry.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId, outcome: { results: [{ kind: "incr", key: "c", value: 5 }] } });
  });

  it("a request preparing at the crash commits if its COMMIT record reached the log: the successor re-sends COMMIT with the writes, and a retry gets its result", () => {
    const core = newCore();
    const log: CoordinatorRecord[] = [core.startRecord()];
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-p"));
    const prepared = readResult(core, txnId, { c: { value: b("1"), version: 1 } }, 3);
    log.push(...prepared.persist.map((p) => p.record));
    // One YES in, then the crash: no client was answered, but the record is durable.
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 4 });
    const rebuilt = restart(log, 10);
    expect(rebuilt.inFlight().map((t) => [t.txnId, t.phase, t.commitSeq])).toEqual([[txnId, "committing", 1]]);
    expect(status(rebuilt, txnId, 10)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    const resent = tick(rebuilt, 10);
    expect(resent.send).toEqual(PARTICIPANTS.map((to) => ({ kind: "commit", to, txnId, commitSeq: 1, urgent: true, writes: [{ key: "c", value: b("6") }] })));
    const retry = txn(rebuilt, 2, prog([incr("c", 5)]), "req-p", 11);
    expect(retry.reads).toEqual([]);
    expect(retry.early).toEqual([]);
    expect(retry.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 6 }] }, message: "a retry: the request had committed" } }]);
  });

  it("a request preparing at the crash whose COMMIT record did not reach the log is presumed aborted: a retry runs anew in the new epoch", () => {
    const core = newCore();
    const log: CoordinatorRecord[] = [core.startRecord()];
    const first = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], requestId: "req-p", nowMs: 0 }));
    const rebuilt = restart(log, 10); // the write's Ready was never made durable
    expect(status(rebuilt, first, 10).state).toBe("aborted");
    expect(rebuilt.view().readsHeld).toBeNull();
    const second = prepareTxnId(step(rebuilt, { kind: "write", reqId: 2, writes: [{ key: "k", value: b("v") }], requestId: "req-p", nowMs: 10 }));
    expect(second.startsWith("2.")).toBe(true);
  });

  it("a core rebuilt from liveRecords taken while a request is preparing commits it and answers its retry from the log, applying nothing twice", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-live"));
    readResult(core, txnId, { c: { value: b("1"), version: 1 } }, 3);
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 4 });
    expect(core.inFlight().map((t) => t.phase)).toEqual(["preparing"]);
    const rebuilt = restart(core.liveRecords(), 10);
    expect(rebuilt.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[txnId, "committing"]]);
    // The compacted log must say which request this commit answers: otherwise a retry would run the
    // increment a second time.
    const retry = txn(rebuilt, 2, prog([incr("c", 5)]), "req-live", 11);
    expect(retry.reads).toEqual([]);
    expect(retry.replies).toEqual([{ reqId: 2, result: { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 6 }] }, message: "a retry: the request had committed" } }]);
    expect(status(rebuilt, "req-live", 11)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
  });

  it("a core rebuilt from liveRecords alone (compaction) still answers retries, and keeps what it forgot", () => {
    const core = newCore();
    const old = commitIncr(core, 1, "req-old", null, 0);
    const recent = commitIncr(core, 2, "req-recent", { value: b("5"), version: 1 }, limits.requestIdRetentionMs / 2);
    // A commit still waiting for an ack at compaction time.
    const { txnId: pending } = readOf(txn(core, 3, prog([incr("p", 1)]), "req-pending", limits.requestIdRetentionMs / 2));
    readResult(core, pending, { p: null }, limits.requestIdRetentionMs / 2);
    voteAll(core, pending, limits.requestIdRetentionMs / 2);
    // The oldest commit is forgotten at retention.
    tick(core, limits.requestIdRetentionMs + 1);
    const live = core.liveRecords();
    const remembered = live.filter((r) => r.kind === "remembered");
    expect(remembered).toHaveLength(1);
    expect(remembered[0]).toMatchObject({ newestForgotten: old.txnId });
    if (remembered[0]!.kind !== "remembered") throw new Error("unreachable");
    expect(remembered[0]!.commits.map((c) => c.requestId)).toEqual(["req-recent", "req-pending"]);

    const rebuilt = restart(live, limits.requestIdRetentionMs + 2);
    const retry = txn(rebuilt, 4, prog([incr("c", 5)]), "req-recent", limits.requestIdRetentionMs + 2);
    expect(retry.send).toEqual([]);
    expect(retry.reads).toEqual([]);
    expect(retry.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 2, txnId: recent.txnId, outcome: { results: [{ kind: "incr", key: "c", value: 10 }] } });
    const retryPending = txn(rebuilt, 5, prog([incr("p", 1)]), "req-pending", limits.requestIdRetentionMs + 2);
    expect(retryPending.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 3, txnId: pending });
    expect(rebuilt.inFlight().map((t) => t.txnId)).toEqual([pending]);
    // What was forgotten stays forgotten: its txn id is too old to say, and its request runs anew.
    expect(status(rebuilt, old.txnId, limits.requestIdRetentionMs + 2).state).toBe("unknown");
    expect(readOf(txn(rebuilt, 6, prog([incr("c", 5)]), "req-old", limits.requestIdRetentionMs + 2)).keys).toEqual(["c"]);
  });

  it("liveRecords of a core with nothing remembered still carries a remembered record (newestForgotten kept)", () => {
    const recovered: RecoveredCoordinator = { ...FRESH, epoch: 4, newestForgotten: "3.17" };
    const live = newCore("abort", recovered).liveRecords();
    expect(live.filter((r) => r.kind === "remembered")).toEqual([{ kind: "remembered", commits: [], newestForgotten: "3.17" }]);
    const rebuilt = restart(live, 0);
    expect(status(rebuilt, "3.17").state).toBe("unknown");
    expect(status(rebuilt, "3.18").state).toBe("aborted");
  });

  it("liveRecords splits many remembered commits over several records, and recovery reads them all back in order", () => {
    const commits: RememberedCommit[] = Array.from({ length: 2500 }, (_, i) => ({ txnId: `1.${i + 1}`, requestId: `req-${i}`, fingerprint: null, commitSeq: i + 1, outcome: null, atMs: 0 }));
    const core = newCore("abort", { ...FRESH, epoch: 2, lastCommitSeq: 2500, remembered: commits });
    const remembered = core.liveRecords().filter((r) => r.kind === "remembered");
    expect(remembered.map((r) => (r.kind === "remembered" ? r.commits.length : -1))).toEqual([1000, 1000, 500]);
    const recovered = recoverCoordinator(throughTheLog(core.liveRecords()));
    expect(recovered.remembered).toEqual(commits);
    const rebuilt = newCore("abort", recovered, 1);
    expect(step(rebuilt, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], requestId: "req-2499", nowMs: 1 }).replies[0]!.result).toMatchObject({
      ok: true,
      commitSeq: 2500,
      txnId: "1.2500",
    });
  });
});

describe("CoordinatorCore: how long committed requests are remembered", () => {
  it("keeps a commit for requestIdRetentionMs, and forgets it on a tick past that: a retry then runs anew", () => {
    const core = newCore();
    const { txnId } = commitIncr(core, 1, "req-1", null, 1000);
    tick(core, 1000 + limits.requestIdRetentionMs);
    expect(status(core, "req-1")).toMatchObject({ state: "committed", txnId });
    expect(txn(core, 2, prog([incr("c", 5)]), "req-1", 1000 + limits.requestIdRetentionMs).replies[0]!.result).toMatchObject({ ok: true, txnId });

    tick(core, 1000 + limits.requestIdRetentionMs + 1);
    expect(status(core, "req-1").state).toBe("unknown");
    expect(status(core, txnId).state).toBe("unknown");
    const retry = txn(core, 3, prog([incr("c", 5)]), "req-1", 1000 + limits.requestIdRetentionMs + 1);
    expect(retry.replies).toEqual([]);
    expect(readOf(retry).txnId).not.toBe(txnId);
  });

  it("a commit forgotten at retention while an ack is missing does not detach a later attempt of its request id when it turns owed: a retry of that attempt joins it", () => {
    // Regression: every tick after the reply (then at commitAckWaitMs) re-ran the committed
    // transaction's reply, which ended "its" request id again, dropping a newer attempt's entry, so
    // the next retry started a second transaction (an increment applied twice). The reply now comes
    // at the decision, and the step that frees the keys (the last in-sync ack, or a leave) runs the
    // reply path again: here it does so while a newer attempt of the request id waits for the key.
    const core = newCore("wait");
    const { txnId: first } = readOf(txn(core, 1, prog([incr("c", 1)]), "req-1"));
    readResult(core, first, { c: null });
    expect(voteAll(core, first).replies.map((r) => r.reqId)).toEqual([1]);
    for (const replicaId of ["r1", "r2"]) expect(step(core, { kind: "acks", replicaId, txnIds: [first], nowMs: 0 }).replies).toEqual([]);
    // r3 stays in sync (it answers health checks) but does not acknowledge: "c" stays locked past the
    // retention window, and the commit is forgotten on the tick past it.
    const late = limits.requestIdRetentionMs + 10;
    tick(core, late);
    expect(core.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[first, "committing"]]);
    expect(status(core, "req-1", late).state).toBe("unknown");
    // Forgotten, so a retry runs anew: it queues behind "c"; a retry of it joins it.
    expect(txn(core, 2, prog([incr("c", 1)]), "req-1", late)).toEqual(newReady());
    expect(txn(core, 3, prog([incr("c", 1)]), "req-1", late)).toEqual(newReady());
    // r3 goes down: the first commit turns owed to it and frees "c" (answering nobody again), and the
    // queued attempt starts over r1 and r2.
    const gone = step(core, { kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: late + 1 });
    expect(gone.replies).toEqual([]);
    const { txnId: second } = readOf(gone);
    expect(core.inFlight().map((t) => [t.txnId, t.phase, t.participants])).toEqual([
      [first, "owed", ["r1", "r2", "r3"]],
      [second, "reading", ["r1", "r2"]],
    ]);
    // A retry while it runs still joins it.
    const now = late + 2;
    expect(txn(core, 4, prog([incr("c", 1)]), "req-1", now)).toEqual(newReady());
    expect(status(core, "req-1", now).state).toBe("unknown");
    readResult(core, second, { c: { value: b("1"), version: 1 } }, now);
    // All three calls are answered at the second attempt's decision; its acks answer nothing and
    // start nothing (a detached retry would have queued behind "c" and started at the last ack).
    let decision = newReady();
    for (const replicaId of ["r1", "r2"]) decision = step(core, { kind: "votes", replicaId, votes: [{ txnId: second, vote: "yes" }], nowMs: now });
    expect(decision.replies.map((r) => r.reqId)).toEqual([2, 3, 4]);
    for (const { result } of decision.replies) {
      expect(result).toEqual({ ok: true, commitSeq: 2, txnId: second, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 2 }] } });
    }
    for (const replicaId of ["r1", "r2"]) {
      const ready = step(core, { kind: "acks", replicaId, txnIds: [second], nowMs: now });
      expect(ready.replies).toEqual([]);
      expect(ready.reads).toEqual([]);
    }
    expect(core.inFlight().map((t) => [t.txnId, t.phase])).toEqual([[first, "owed"]]);
    expect(core.lockedKeyCount()).toBe(0);
  });

  it("a failed attempt after retention stays aborted in txn-status while the earlier commit is still owed", () => {
    const core = newCore();
    for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs: 0 });
    const { txnId: first } = readOf(txn(core, 1, prog([incr("c", -1, 0)]), "req-1"));
    readResult(core, first, { c: { value: b("1"), version: 1 } });
    voteAll(core, first);
    for (const replicaId of ["r1", "r2"]) step(core, { kind: "acks", replicaId, txnIds: [first], nowMs: 0 });
    step(core, { kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 1 });
    const upTick = (nowMs: number): void => {
      for (const replicaId of ["r1", "r2"]) step(core, { kind: "health", replicaId, ok: true, nowMs });
      step(core, { kind: "tick", nowMs });
    };
    const late = limits.requestIdRetentionMs + 10;
    upTick(late);
    const { txnId: second } = readOf(txn(core, 2, prog([incr("c", -1, 0)]), "req-1", late));
    expect(failure(readResult(core, second, { c: { value: b("0"), version: 2 } }, late).replies[0]!.result).code).toBe(Code.FAILED_PRECONDITION);
    upTick(late + limits.tickMs);
    expect(status(core, "req-1", late + limits.tickMs).state).toBe("aborted");
  });

  it("a restarted core forgets commits already past retention", () => {
    const core = newCore();
    const log: CoordinatorRecord[] = [core.startRecord()];
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-1"));
    log.push(...readResult(core, txnId, { c: null }).persist.map((p) => p.record));
    log.push(...voteAll(core, txnId, 0).persist.map((p) => p.record));
    log.push(...ackAll(core, txnId, 0).persist.map((p) => p.record));
    const rebuilt = restart(log, limits.requestIdRetentionMs + 1);
    expect(status(rebuilt, "req-1").state).toBe("unknown");
    expect(rebuilt.liveRecords().find((r) => r.kind === "remembered")).toEqual({ kind: "remembered", commits: [], newestForgotten: txnId });
  });

  it("holds at most requestIdsRememberedMax commits: past it, the oldest is forgotten", () => {
    // Built through recovery, which remembers each commit as the live path does (one Map entry each),
    // rather than by driving 200,000 transactions through the core.
    const count = limits.requestIdsRememberedMax + 1;
    const commits: RememberedCommit[] = Array.from({ length: count }, (_, i) => ({ txnId: `1.${i + 1}`, requestId: `req-${i + 1}`, fingerprint: null, commitSeq: i + 1, outcome: null, atMs: 0 }));
    const core = newCore("abort", { ...FRESH, epoch: 2, lastCommitSeq: count, remembered: commits });
    expect(status(core, "req-1").state).toBe("unknown");
    expect(status(core, "1.1").state).toBe("unknown");
    expect(status(core, "req-2")).toMatchObject({ state: "committed", txnId: "1.2" });
    expect(status(core, `req-${count}`)).toMatchObject({ state: "committed", commitSeq: count });
    const live = core.liveRecords().filter((r) => r.kind === "remembered");
    expect(live.every((r) => r.kind === "remembered" && r.newestForgotten === "1.1")).toBe(true);
    // One more commit on the live path pushes out the next oldest.
    const txnId = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], requestId: "req-new", nowMs: 0 }));
    voteAll(core, txnId);
    expect(status(core, "req-2").state).toBe("unknown");
    expect(status(core, "req-3").state).toBe("committed");
    expect(status(core, "req-new")).toMatchObject({ state: "committed", txnId });
  });

  it("recovering more than requestIdsRememberedMax commits forgets the oldest at once, the newest forgotten id the newest of them", () => {
    // Decision order is not id order across epochs and retries: the three forgotten ones come as 1.3, 1.1, 1.2.
    const ids = ["1.3", "1.1", "1.2", ...Array.from({ length: limits.requestIdsRememberedMax }, (_, i) => `1.${i + 4}`)];
    const commits: RememberedCommit[] = ids.map((txnId, i) => ({ txnId, requestId: `req-${txnId}`, fingerprint: null, commitSeq: i + 1, outcome: null, atMs: 0 }));
    const core = newCore("abort", { ...FRESH, epoch: 2, lastCommitSeq: ids.length, remembered: commits });
    for (const forgotten of ["1.1", "1.2", "1.3"]) expect(status(core, `req-${forgotten}`).state, forgotten).toBe("unknown");
    expect(status(core, "req-1.4")).toMatchObject({ state: "committed", txnId: "1.4" });
    const live = core.liveRecords().filter((r) => r.kind === "remembered");
    expect(live.reduce((sum, r) => sum + (r.kind === "remembered" ? r.commits.length : 0), 0)).toBe(limits.requestIdsRememberedMax);
    expect(live.every((r) => r.kind === "remembered" && r.newestForgotten === "1.3")).toBe(true);
  });
});

describe("CoordinatorCore: txn-status", () => {
  it("committed, by transaction id and by request id, from the decision on (before every ack)", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-s"));
    readResult(core, txnId, { c: null });
    voteAll(core, txnId);
    expect(status(core, txnId)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    expect(status(core, "req-s")).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    ackAll(core, txnId);
    expect(status(core, txnId)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    expect(status(core, "req-s")).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
  });

  it("unknown while in progress (reading, preparing), by transaction id and by request id; committed from the decision", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-s"));
    expect(status(core, txnId)).toMatchObject({ state: "unknown", txnId });
    expect(status(core, txnId).message).toContain("reading");
    expect(status(core, "req-s").state).toBe("unknown");
    readResult(core, txnId, { c: null });
    expect(status(core, txnId)).toMatchObject({ state: "unknown", txnId });
    expect(status(core, txnId).message).toContain("preparing");
    expect(status(core, "req-s").state).toBe("unknown");
    // r2 votes NO; with one YES there is no decision yet.
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 0 });
    step(core, { kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "no", reason: "locked" }], nowMs: 0 });
    expect(status(core, txnId)).toMatchObject({ state: "unknown", txnId });
    expect(status(core, txnId).message).toContain("preparing");
    expect(status(core, "req-s").state).toBe("unknown");
    // r3's YES decides it (COMMIT to every participant, with the answer), acks or not.
    step(core, { kind: "votes", replicaId: "r3", votes: [{ txnId, vote: "yes" }], nowMs: 0 });
    expect(status(core, txnId)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    expect(status(core, "req-s")).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
  });

  it("unknown for a request queued behind a lock", () => {
    const core = newCore("wait");
    step(core, { kind: "write", reqId: 1, writes: [{ key: "c", value: b("1") }], nowMs: 0 });
    txn(core, 2, prog([incr("c", 5)]), "req-q");
    expect(status(core, "req-q").state).toBe("unknown");
  });

  it("aborted for a transaction id of this epoch, issued, that ended without a decision (presumed abort)", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 5)])));
    readResult(core, txnId, null, 0, "no in-sync replica answered");
    expect(core.inFlight()).toEqual([]);
    expect(status(core, txnId)).toMatchObject({ state: "aborted", txnId, commitSeq: 0 });
    // An id of an earlier epoch this core has no commit of is aborted too.
    expect(status(core, "0.5").state).toBe("aborted");
  });

  it("unknown for a transaction id not issued yet (a later counter, or a later epoch)", () => {
    const core = newCore();
    const txnId = prepareTxnId(step(core, { kind: "write", reqId: 1, writes: [{ key: "k", value: b("v") }], nowMs: 0 }));
    expect(txnId).toBe("1.1");
    expect(status(core, "1.2").state).toBe("unknown");
    expect(status(core, "1.2").message).toContain("no transaction 1.2 was started yet");
    expect(status(core, "2.1").state).toBe("unknown");
  });

  it("aborted for a request id whose last attempt failed, with the reason; unknown for a request id never seen", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1, 0)]), "req-f"));
    readResult(core, txnId, { c: { value: b("-5"), version: 1 } });
    const failed = status(core, "req-f");
    expect(failed.state).toBe("aborted");
    expect(failed.message).toContain("below the minimum 0");
    const never = status(core, "req-never");
    expect(never.state).toBe("unknown");
    expect(never.message).toContain("requestIdRetentionMs");
  });

  it("a read-only transaction that succeeded is done with commit sequence number 0, by transaction id and by request id", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, { conditions: [], then: [{ kind: "get", key: "c" }], otherwise: null }, "req-ro"));
    const done = readResult(core, txnId, { c: { value: b("7"), version: 3 } });
    expect(done.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 0 });
    for (const id of [txnId, "req-ro"]) {
      expect(status(core, id)).toMatchObject({ state: "committed", txnId, commitSeq: 0 });
      expect(status(core, id).message).toContain("without writing");
    }
  });

  it("a transaction id older than the commits remembered, and one logged without a remembered result, are unknown, not aborted", () => {
    // A commit record written by a version that remembered no requests.
    const legacy = restart([{ kind: "start", epoch: 1, lastCommitSeq: 0 }, { kind: "commit", txnId: "1.4", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["k"] }, { kind: "end", txnId: "1.4" }], 0);
    expect(status(legacy, "1.4").state).toBe("unknown");
    expect(status(legacy, "1.3").state).toBe("unknown");
    expect(status(legacy, "1.5").state).toBe("aborted"); // newer than every commit it may have forgotten
  });

  it("a request whose attempt got UNAVAILABLE is unknown, not aborted (an earlier attempt may be on its way); committed once a retry commits", () => {
    const core = newCore();
    const { txnId: first } = readOf(txn(core, 1, prog([incr("c", 5)]), "req-x"));
    expect(failure(readResult(core, first, null, 0, "connection reset").replies[0]!.result).code).toBe(Code.UNAVAILABLE);
    expect(status(core, "req-x").state).toBe("unknown");
    expect(status(core, "req-x").message).toContain("retry it with the same request id");
    const { txnId: second } = readOf(txn(core, 2, prog([incr("c", 5)]), "req-x", 1));
    expect(second).not.toBe(first);
    expect(prepareTxnId(readResult(core, second, { c: null }, 1))).toBe(second);
    expect(status(core, "req-x").state).toBe("unknown");
    voteAll(core, second, 1);
    expect(status(core, "req-x")).toMatchObject({ state: "committed", txnId: second });
  });
});

describe("coordinator records: remembered commits", () => {
  const binary = Buffer.from([0, 1, 2, 250, 255]);
  const withOutcome: RememberedCommit = {
    txnId: "3.9",
    requestId: "req-ключ",
    fingerprint: "0123456789abcdefABCD_-",
    commitSeq: 1235,
    atMs: 1_700_000_000_000,
    outcome: {
      branch: "else",
      results: [
        { kind: "get", key: "bin", state: { value: binary, version: 17 } },
        { kind: "get", key: "absent", state: null },
        { kind: "get", key: "empty", state: { value: Buffer.alloc(0), version: 2 } },
        { kind: "incr", key: "n", value: -42 },
        { kind: "put", key: "p" },
        { kind: "del", key: "d" },
      ],
    },
  };
  const blind: RememberedCommit = { txnId: "3.10", requestId: null, fingerprint: null, commitSeq: 1236, atMs: 5, outcome: null };

  it.each<[string, CoordinatorRecord]>([
    ["commit with a remembered outcome", { kind: "commit", txnId: "3.9", commitSeq: 1235, participants: [...PARTICIPANTS], keys: ["absent", "bin", "d", "empty", "n", "p"], remember: withOutcome }],
    ["commit of blind writes without a request id", { kind: "commit", txnId: "3.10", commitSeq: 1236, participants: ["r1"], keys: ["k"], remember: blind }],
    ["commit with a then branch and no results", { kind: "commit", txnId: "3.11", commitSeq: 1, participants: ["r1"], keys: [], remember: { ...blind, outcome: { branch: "then", results: [] } } }],
    ["remembered", { kind: "remembered", commits: [withOutcome, blind], newestForgotten: "2.77" }],
    ["remembered with nothing forgotten", { kind: "remembered", commits: [], newestForgotten: null }],
  ])("round-trips a %s record", (_name, record) => {
    expect(decodeCoordinatorRecord(encodeCoordinatorRecord(record), 1)).toEqual(record);
  });

  it("a commit record without remember (an older log) decodes without one", () => {
    const decoded = decodeCoordinatorRecord(Buffer.from('{"k":"c","t":"1.1","q":1,"p":["r1"],"y":["a"]}', "utf8"), 1);
    expect(decoded).toEqual({ kind: "commit", txnId: "1.1", commitSeq: 1, participants: ["r1"], keys: ["a"] });
    expect("remember" in decoded).toBe(false);
  });

  const commit = (r: string): string => `{"k":"c","t":"1.1","q":1,"p":["r1"],"y":["a"],"r":${r}}`;
  it.each([
    ["a remember that is not a list", commit('{"t":"1.1"}')],
    ["a remember of four fields", commit('["1.1",null,1,0]')],
    ["a remember with a numeric txn id", commit("[11,null,1,0,null]")],
    ["a remember with a numeric request id", commit('["1.1",5,1,0,null]')],
    ["a remember with a text commitSeq", commit('["1.1",null,"1",0,null]')],
    ["a remember without atMs", commit('["1.1",null,1,null,null]')],
    ["an outcome with an unknown branch", commit('["1.1",null,1,0,["x",[]]]')],
    ["an outcome whose results are not a list", commit('["1.1",null,1,0,["t",{}]]')],
    ["a result of an unknown kind", commit('["1.1",null,1,0,["t",[["z","a"]]]]')],
    ["a result without a key", commit('["1.1",null,1,0,["t",[["p"]]]]')],
    ["an incr result with a text value", commit('["1.1",null,1,0,["t",[["i","a","5"]]]]')],
    ["a get result with a numeric value", commit('["1.1",null,1,0,["t",[["g","a",5,1]]]]')],
    ["a get result without a version", commit('["1.1",null,1,0,["t",[["g","a","AA=="]]]]')],
    ["a remembered record whose commits are not a list", '{"k":"r","c":{},"f":null}'],
    ["a remembered record with a malformed commit", '{"k":"r","c":[["1.1"]],"f":null}'],
    ["a remembered record with a numeric newestForgotten", '{"k":"r","c":[],"f":3}'],
    ["a remembered record without newestForgotten", '{"k":"r","c":[]}'],
  ])("throws DataLoss on %s", (_name, text) => {
    const decode = (): CoordinatorRecord => decodeCoordinatorRecord(Buffer.from(text, "utf8"), 31);
    expect(decode).toThrow(DataLoss);
    expect(decode).toThrow(/record 31/);
  });
});

describe("CoordinatorCore: a request id names one request", () => {
  // Issue 10: Put(x, id R) then Increment(y, id R) used to answer the increment from the put's memory,
  // and the shell crashed on "an increment's result is its new value". Now the second request is
  // refused with INVALID_ARGUMENT naming request_id, and nothing is read, prepared or logged.
  const putX = putProgram([{ key: "x", value: b("hello") }]);

  function refusedForRequestId(ready: Ready): void {
    expect(ready.replies).toHaveLength(1);
    const refused = failure(ready.replies[0]!.result);
    expect(refused.code).toBe(Code.INVALID_ARGUMENT);
    expect(refused.message).toContain('request_id "same-id" was used for a different request');
    expect(ready.send).toEqual([]);
    expect(ready.reads).toEqual([]);
    expect(ready.persist).toEqual([]);
  }

  function commitPut(core: CoordinatorCore, nowMs = 0): { txnId: string; log: CoordinatorRecord[] } {
    const log: CoordinatorRecord[] = [core.startRecord()];
    const prepared = txn(core, 1, putX, "same-id", nowMs, "put");
    const txnId = prepareTxnId(prepared);
    log.push(...prepared.persist.map((p) => p.record));
    log.push(...voteAll(core, txnId, nowMs).persist.map((p) => p.record));
    log.push(...ackAll(core, txnId, nowMs).persist.map((p) => p.record));
    return { txnId, log };
  }

  it("the regression: a committed put's id used for an increment is refused, and the put's retry still gets its result", () => {
    const core = newCore();
    const { txnId } = commitPut(core);
    refusedForRequestId(txn(core, 2, prog([incr("y", 1)]), "same-id", 0, "increment"));
    const retry = txn(core, 3, putX, "same-id", 0, "put");
    expect(retry.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId });
  });

  it("the same program under another method, another key, or another value is a different request", () => {
    const core = newCore();
    commitPut(core);
    refusedForRequestId(txn(core, 2, putX, "same-id", 0, "txn"));
    refusedForRequestId(txn(core, 3, putProgram([{ key: "x2", value: b("hello") }]), "same-id", 0, "put"));
    refusedForRequestId(txn(core, 4, putProgram([{ key: "x", value: b("hellO") }]), "same-id", 0, "put"));
    refusedForRequestId(txn(core, 5, putProgram([{ key: "x", value: null }]), "same-id", 0, "delete"));
  });

  it("a different request under the id of a running one is refused; the same one joins it", () => {
    const core = newCore();
    const txnId = prepareTxnId(txn(core, 1, putX, "same-id", 0, "put"));
    refusedForRequestId(txn(core, 2, prog([incr("x", 1)]), "same-id", 0, "increment"));
    expect(txn(core, 3, putX, "same-id", 0, "put").replies).toEqual([]); // joined: answered with the first
    const decision = voteAll(core, txnId);
    expect(decision.replies.map((r) => r.reqId)).toEqual([1, 3]);
    expect(decision.replies[1]!.result).toEqual(decision.replies[0]!.result);
    expect(decision.replies[0]!.result).toEqual({ ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "x" }] } });
    expect(ackAll(core, txnId).replies).toEqual([]);
  });

  it("the comparison survives a restart: the fingerprint is in the COMMIT record", () => {
    const core = newCore();
    const { txnId, log } = commitPut(core);
    const rebuilt = restart(log, 1_000);
    refusedForRequestId(txn(rebuilt, 2, prog([incr("y", 1)]), "same-id", 1_000, "increment"));
    expect(txn(rebuilt, 3, putX, "same-id", 1_000, "put").replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId });
    // And through compaction's records.
    const compacted = restart(rebuilt.liveRecords(), 2_000);
    refusedForRequestId(txn(compacted, 4, prog([incr("y", 1)]), "same-id", 2_000, "increment"));
  });

  it("a different request under the id of a failed one is refused too", () => {
    const core = newCore();
    const { txnId } = readOf(txn(core, 1, prog([incr("c", 1, 5)]), "same-id", 0, "increment"));
    const failed = readResult(core, txnId, { c: null }); // 0 + 1 is under min 5: FAILED_PRECONDITION
    expect(failure(failed.replies[0]!.result).code).toBe(Code.FAILED_PRECONDITION);
    refusedForRequestId(txn(core, 2, putX, "same-id", 0, "put"));
    // The same request gets its failure again, and reads nothing.
    const retry = txn(core, 3, prog([incr("c", 1, 5)]), "same-id", 0, "increment");
    expect(retry.reads).toEqual([]);
    expect(retry.replies).toEqual([{ reqId: 3, result: failed.replies[0]!.result }]);
  });

  it("a commit logged without a fingerprint (an older version's log) answers only a retry of blind writes", () => {
    const legacy: RememberedCommit = { txnId: "1.1", requestId: "same-id", fingerprint: null, commitSeq: 1, outcome: null, atMs: 0 };
    const rebuilt = restart([{ kind: "start", epoch: 1, lastCommitSeq: 1 }, { kind: "remembered", commits: [legacy], newestForgotten: null }], 10);
    expect(txn(rebuilt, 1, putX, "same-id", 10, "put").replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId: "1.1" });
    refusedForRequestId(txn(rebuilt, 2, prog([incr("y", 1)]), "same-id", 10, "increment"));
  });
});

describe("CoordinatorCore: an operator's resolve of a finished commit", () => {
  it("refuses to abort a commit it remembers, even when no replica is asked or answers, and sends nothing", () => {
    // The shell used to skip asking the replicas when it saw the transaction in flight; had it
    // finished before the input was stepped, the core sent ABORT for a committed transaction.
    const core = newCore();
    const txnId = prepareTxnId(txn(core, 1, putProgram([{ key: "k", value: b("v") }]), "req-resolve", 0, "put"));
    voteAll(core, txnId);
    ackAll(core, txnId);
    expect(core.inFlight()).toEqual([]);
    const unknown = PARTICIPANTS.map((replicaId) => ({ replicaId, state: "unknown" as const, commitSeq: 0 }));
    const ready = step(core, { kind: "resolve", reqId: 9, txnId, choice: "abort", replicas: unknown, nowMs: 0 });
    expect(ready.send).toEqual([]);
    expect(failure(ready.replies[0]!.result)).toMatchObject({ code: Code.FAILED_PRECONDITION });
    expect(failure(ready.replies[0]!.result).message).toContain("decided COMMIT");
    const commit = step(core, { kind: "resolve", reqId: 10, txnId, choice: "commit", replicas: unknown, nowMs: 0 });
    expect(commit.replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1 });
  });
});

describe("CoordinatorCore: a definite failure stays true (issue 11)", () => {
  // The simulator's seed 1219: a client's attempt A of request R was delayed on the way to the
  // coordinator; its retry B under R was answered ABORTED ("nothing was written"); A arrived 1.4 s
  // later, found R neither running nor committed, ran, and committed. A definite failure is now
  // remembered by its request id, durably (a forced "failed" record), and answers every later attempt.
  const cIncr = prog([incr("c", 5)]);

  /** The one forced "failed" record of a Ready, checked against the reply it must precede. */
  function failedRecord(ready: Ready, reply: WriteResult): Extract<CoordinatorRecord, { kind: "failed" }> {
    const failed = ready.persist.filter(({ record }) => record.kind === "failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.force).toBe(true);
    const record = failed[0]!.record;
    if (record.kind !== "failed") throw new Error("unreachable");
    expect({ ok: false, code: record.code, message: record.message }).toEqual(failure(reply));
    return record;
  }

  function expectNothingRuns(ready: Ready): void {
    expect(ready.reads).toEqual([]);
    expect(ready.send).toEqual([]);
    expect(ready.persist).toEqual([]);
  }

  /** Request "req-f" (an increment of c by 5) fails on a lock conflict; returns the log and the reply. */
  function failOnConflict(core: CoordinatorCore, nowMs = 0): { log: CoordinatorRecord[]; reply: WriteResult } {
    const log: CoordinatorRecord[] = [core.startRecord()];
    const holding = step(core, { kind: "write", reqId: 100, writes: [{ key: "c", value: b("10") }], nowMs });
    const holder = prepareTxnId(holding);
    log.push(...holding.persist.map((p) => p.record));
    const refused = txn(core, 1, cIncr, "req-f", nowMs);
    expect(refused.replies).toHaveLength(1);
    const reply = refused.replies[0]!.result;
    expect(failure(reply).code).toBe(Code.ABORTED);
    failedRecord(refused, reply);
    log.push(...refused.persist.map((p) => p.record));
    log.push(...voteAll(core, holder, nowMs).persist.map((p) => p.record));
    log.push(...ackAll(core, holder, nowMs).persist.map((p) => p.record));
    return { log, reply };
  }

  it("seed 1219: once a retry was answered ABORTED, the earlier attempt arriving late gets the same ABORTED, and nothing is read, prepared or committed", () => {
    const core = newCore("abort");
    const { reply } = failOnConflict(core);
    expect(core.lockedKeyCount()).toBe(0); // the key is free: before the fix, the late attempt ran and committed
    const late = txn(core, 2, cIncr, "req-f", 1_400);
    expectNothingRuns(late);
    expect(late.replies).toEqual([{ reqId: 2, result: reply }]);
    expect(core.inFlight()).toEqual([]);
    expect(core.lastSeq()).toBe(1); // the holder's commit only
    expect(status(core, "req-f", 1_400)).toMatchObject({ state: "aborted", commitSeq: 0 });
    expect(status(core, "req-f", 1_400).message).toContain("is being written by transaction");
  });

  const failures: [string, (core: CoordinatorCore) => { ready: Ready; txnId: string | null; code: number; method: RequestMethod; program: Program; atMs: number }][] = [
    [
      "a lock conflict (onConflict abort): ABORTED, before any transaction starts",
      (core) => {
        prepareTxnId(step(core, { kind: "write", reqId: 100, writes: [{ key: "c", value: b("1") }], nowMs: 0 }));
        return { ready: txn(core, 1, cIncr, "req-f", 7), txnId: null, code: Code.ABORTED, method: "txn", program: cIncr, atMs: 7 };
      },
    ],
    [
      "a lock wait timeout (onConflict wait): ABORTED",
      (core) => {
        const holder = prepareTxnId(step(core, { kind: "write", reqId: 100, writes: [{ key: "c", value: b("1") }], nowMs: 0 }));
        voteAll(core, holder);
        step(core, { kind: "acks", replicaId: "r1", txnIds: [holder], nowMs: 0 }); // the lock stays held
        txn(core, 1, cIncr, "req-f", 7);
        return { ready: tick(core, 7 + limits.lockWaitTimeoutMs), txnId: null, code: Code.ABORTED, method: "txn", program: cIncr, atMs: 7 + limits.lockWaitTimeoutMs };
      },
    ],
    [
      "an operator's abort of a transaction still reading its keys: ABORTED",
      (core) => {
        const { txnId } = readOf(txn(core, 1, cIncr, "req-f", 7));
        const ready = step(core, { kind: "resolve", reqId: 50, txnId, choice: "abort", replicas: null, nowMs: 7 });
        const own = ready.replies.findIndex((r) => r.reqId === 50); // the operator's own answer
        expect(ready.replies[own]!.result).toMatchObject({ ok: true });
        ready.replies.splice(own, 1);
        return { ready, txnId, code: Code.ABORTED, method: "txn", program: cIncr, atMs: 7 };
      },
    ],
    [
      "a bound that failed: FAILED_PRECONDITION",
      (core) => {
        const program = prog([incr("c", -5, 0)]);
        const { txnId } = readOf(txn(core, 1, program, "req-f", 7, "increment"));
        return { ready: readResult(core, txnId, { c: { value: b("3"), version: 1 } }, 7), txnId, code: Code.FAILED_PRECONDITION, method: "increment", program, atMs: 7 };
      },
    ],
    [
      "a counter that is not an integer: INVALID_ARGUMENT",
      (core) => {
        const { txnId } = readOf(txn(core, 1, cIncr, "req-f", 7));
        return { ready: readResult(core, txnId, { c: { value: b("abc"), version: 1 } }, 7), txnId, code: Code.INVALID_ARGUMENT, method: "txn", program: cIncr, atMs: 7 };
      },
    ],
  ];

  it.each(failures)("%s is logged (code, message, fingerprint, txn id, time), forced, in the Ready that answers it", (_name, fail) => {
    const core = newCore(_name.includes("wait") ? "wait" : "abort");
    const { ready, txnId, code, method, program, atMs } = fail(core);
    const replies = ready.replies.filter((r) => r.reqId === 1);
    expect(replies).toHaveLength(1);
    const reply = replies[0]!.result;
    expect(failure(reply).code).toBe(code);
    // Forced in the same Ready as the reply: the StepLoop (common/step-loop.ts) makes it durable before
    // the reply leaves, so a crash cannot forget a failure a client heard.
    expect(failedRecord(ready, reply)).toEqual({ kind: "failed", requestId: "req-f", fingerprint: requestFingerprint(method, program), code, message: failure(reply).message, txnId, atMs });
    const retry = txn(core, 2, program, "req-f", 10_000, method);
    expectNothingRuns(retry);
    expect(retry.replies).toEqual([{ reqId: 2, result: reply }]);
    expect(status(core, "req-f", 10_000).state).toBe("aborted");
  });

  // Intent commits (issue 13): once PREPARE left, the COMMIT record is logged and the transaction
  // commits whatever the votes. A participant that votes NO, cannot be reached or stays silent gets
  // the writes with its COMMIT; the client is answered with the commit.
  it.each<[string, (core: CoordinatorCore, txnId: string) => Ready]>([
    ["NO vote", (core, txnId) => step(core, { kind: "votes", replicaId: "r3", votes: [{ txnId, vote: "no", reason: "key locked" }], nowMs: 7 })],
    ["replica a PREPARE could not reach", (core, txnId) => step(core, { kind: "unreachable", replicaId: "r3", txnIds: [txnId], reason: "connection reset", down: false, nowMs: 7 })],
    ["vote missing at prepareTimeoutMs", (core) => tick(core, 7 + limits.prepareTimeoutMs)],
  ])("a %s is no failure: the request commits, nothing is logged as failed, and a retry gets the commit", (_name, miss) => {
    const core = newCore();
    const program = putProgram([{ key: "k", value: b("v") }]);
    const txnId = prepareTxnId(txn(core, 1, program, "req-f", 7, "put"));
    step(core, { kind: "votes", replicaId: "r1", votes: [{ txnId, vote: "yes" }], nowMs: 7 });
    const missed = miss(core, txnId);
    expect(missed.persist).toEqual([]);
    // The decision comes with r2's YES (a majority), or at the timeout (r2 silent too; its YES then sends nothing).
    const decision = joined([missed, step(core, { kind: "votes", replicaId: "r2", votes: [{ txnId, vote: "yes" }], nowMs: 8 + limits.prepareTimeoutMs })]);
    expect(decision.send).toContainEqual({ kind: "commit", to: "r3", txnId, commitSeq: 1, urgent: true, writes: [{ key: "k", value: b("v") }] });
    const committed = { ok: true, commitSeq: 1, txnId, outcome: { branch: "then", results: [{ kind: "put", key: "k" }] } };
    expect(decision.replies).toEqual([{ reqId: 1, result: committed }]);
    expect(decision.persist.filter(({ record }) => record.kind === "failed")).toEqual([]);
    expect(core.liveRecords().filter((r) => r.kind === "failed")).toEqual([]);
    expect(status(core, "req-f", 10_000)).toMatchObject({ state: "committed", txnId, commitSeq: 1 });
    const retry = txn(core, 2, program, "req-f", 10_000, "put");
    expect(retry).toEqual({ ...newReady(), replies: [{ reqId: 2, result: { ...committed, message: "a retry: the request had committed" } }] });
  });

  it("a failure without a request id logs nothing: no retry of it can be recognised", () => {
    const core = newCore("abort");
    prepareTxnId(step(core, { kind: "write", reqId: 100, writes: [{ key: "c", value: b("1") }], nowMs: 0 }));
    const refused = txn(core, 1, cIncr, null);
    expect(failure(refused.replies[0]!.result).code).toBe(Code.ABORTED);
    expect(refused.persist).toEqual([]);
  });

  it("several failures in one Ready are each logged, all forced: the StepLoop forces them once, together", () => {
    const core = newCore("abort");
    prepareTxnId(step(core, { kind: "write", reqId: 100, writes: [{ key: "c", value: b("1") }], nowMs: 0 }));
    const out = newReady();
    core.step({ kind: "txn", reqId: 1, requestId: "req-1", method: "txn", program: cIncr, nowMs: 0 }, out);
    core.step({ kind: "txn", reqId: 2, requestId: "req-2", method: "txn", program: cIncr, nowMs: 0 }, out);
    expect(out.persist.map(({ record, force }) => [record.kind, record.kind === "failed" ? record.requestId : "", force])).toEqual([
      ["failed", "req-1", true],
      ["failed", "req-2", true],
    ]);
  });

  it.each<[string, (core: CoordinatorCore) => Ready]>([
    [
      "a read that failed",
      (core) => {
        const { txnId } = readOf(txn(core, 1, cIncr, "req-u", 0, "txn"));
        return readResult(core, txnId, null, 0, "no in-sync replica answered");
      },
    ],
    [
      "its keys not read within prepareTimeoutMs",
      (core) => {
        readOf(txn(core, 1, cIncr, "req-u", 0, "txn"));
        return tick(core, limits.prepareTimeoutMs);
      },
    ],
    [
      "writes refused: too few replicas in sync and healthy",
      (core) => {
        for (const replicaId of PARTICIPANTS) step(core, { kind: "health", replicaId, ok: true, nowMs: 0 });
        step(core, { kind: "health", replicaId: "r1", ok: false, refused: true, nowMs: 1 });
        step(core, { kind: "health", replicaId: "r2", ok: false, refused: true, nowMs: 1 }); // r2 stays in (minInSync 2), down
        return txn(core, 1, putProgram([{ key: "k", value: b("v") }]), "req-u", 1, "put");
      },
    ],
  ])("UNAVAILABLE (%s) is not remembered: nothing logged, txn-status unknown, and a retry runs", (_name, fail) => {
    const core = newCore();
    const ready = fail(core);
    // A refusal up front (nothing started) leaves at once (Ready.immediate); the others with their turn.
    const reply = [...ready.replies, ...ready.immediate].find((r) => r.reqId === 1)!.result;
    expect(failure(reply).code).toBe(Code.UNAVAILABLE);
    expect(ready.persist.filter(({ record }) => record.kind === "failed")).toEqual([]);
    expect(status(core, "req-u", 0).state).toBe("unknown");
    expect(core.liveRecords().filter((r) => r.kind === "failed")).toEqual([]);
  });

  it("RESOURCE_EXHAUSTED (inFlightTxnsMax) is not remembered: the request did not start, a retry later runs", () => {
    const core = newCore();
    for (let i = 0; i < limits.inFlightTxnsMax; i++) step(core, { kind: "write", reqId: 1000 + i, writes: [{ key: `k${i}`, value: b("v") }], nowMs: 0 });
    const full = txn(core, 1, cIncr, "req-x");
    expect(full.replies).toEqual([]);
    expect(failure(full.immediate[0]!.result).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(full.persist).toEqual([]);
    // One write finishes (every vote and ack in): a slot is free, and the retry runs.
    const first = core.inFlight()[0]!.txnId;
    voteAll(core, first);
    ackAll(core, first);
    expect(readOf(txn(core, 2, cIncr, "req-x")).keys).toEqual(["c"]);
  });

  it("survives a restart: from the log, a retry gets the same failure and runs nothing, txn-status says aborted, and another request under the id is refused", () => {
    const core = newCore("abort");
    const { log, reply } = failOnConflict(core, 50);
    expect(log.map((r) => r.kind)).toEqual(["start", "commit", "failed", "end"]);
    const rebuilt = restart(log, 2_000);
    const retry = txn(rebuilt, 2, cIncr, "req-f", 2_000);
    expectNothingRuns(retry);
    expect(retry.replies).toEqual([{ reqId: 2, result: reply }]);
    expect(status(rebuilt, "req-f", 2_000)).toMatchObject({ state: "aborted", txnId: "", commitSeq: 0 });
    const other = txn(rebuilt, 3, prog([incr("c", 6)]), "req-f", 2_000);
    expect(failure(other.replies[0]!.result).code).toBe(Code.INVALID_ARGUMENT);
    expect(failure(other.replies[0]!.result).message).toContain('request_id "req-f" was used for a different request');
    expectNothingRuns(other);
  });

  it("survives compaction: liveRecords carries one failed record per failure, and a core rebuilt from them alone answers the same", () => {
    const core = newCore("abort");
    const { reply } = failOnConflict(core, 50);
    const live = core.liveRecords();
    expect(live.filter((r) => r.kind === "failed")).toEqual([{ kind: "failed", requestId: "req-f", fingerprint: requestFingerprint("txn", cIncr), code: Code.ABORTED, message: failure(reply).message, txnId: null, atMs: 50 }]);
    const compacted = restart(restart(live, 1_000).liveRecords(), 2_000); // twice: compaction of a compacted log
    const retry = txn(compacted, 2, cIncr, "req-f", 2_000);
    expectNothingRuns(retry);
    expect(retry.replies).toEqual([{ reqId: 2, result: reply }]);
    expect(status(compacted, "req-f", 2_000).state).toBe("aborted");
  });

  it("is forgotten after requestIdRetentionMs, like a commit: on a tick, at a restart and in compaction; then a retry runs anew", () => {
    const core = newCore("abort");
    const { log } = failOnConflict(core, 1_000);
    tick(core, 1_000 + limits.requestIdRetentionMs);
    expect(status(core, "req-f").state).toBe("aborted");
    expect(txn(core, 2, cIncr, "req-f", 1_000 + limits.requestIdRetentionMs).reads).toEqual([]);
    tick(core, 1_000 + limits.requestIdRetentionMs + 1);
    expect(status(core, "req-f").state).toBe("unknown");
    expect(core.liveRecords().filter((r) => r.kind === "failed")).toEqual([]);
    expect(readOf(txn(core, 3, cIncr, "req-f", 1_000 + limits.requestIdRetentionMs + 1)).keys).toEqual(["c"]);

    const late = restart(log, 1_000 + limits.requestIdRetentionMs + 1);
    expect(status(late, "req-f").state).toBe("unknown");
    expect(late.liveRecords().filter((r) => r.kind === "failed")).toEqual([]);
    expect(readOf(txn(late, 4, cIncr, "req-f", 1_000 + limits.requestIdRetentionMs + 1)).keys).toEqual(["c"]);
  });

  it("requestIdsRememberedMax counts commits and failures together: past it, the oldest of either is forgotten", () => {
    const count = limits.requestIdsRememberedMax;
    const commits: RememberedCommit[] = Array.from({ length: count }, (_, i) => ({ txnId: `1.${i + 1}`, requestId: `req-${i + 1}`, fingerprint: null, commitSeq: i + 1, outcome: null, atMs: 10 }));
    const failed = (requestId: string, atMs: number): RememberedFailure => ({ requestId, fingerprint: requestFingerprint("txn", cIncr), code: Code.ABORTED, message: "lost", txnId: null, atMs });
    // A failure older than every commit is the one forgotten...
    const older = newCore("abort", { ...FRESH, epoch: 2, lastCommitSeq: count, remembered: commits, failures: [failed("req-old", 5)] }, 20);
    expect(status(older, "req-old", 20).state).toBe("unknown");
    expect(status(older, "req-1", 20).state).toBe("committed");
    // ...and a newer one pushes out the oldest commit.
    const newer = newCore("abort", { ...FRESH, epoch: 2, lastCommitSeq: count, remembered: commits, failures: [failed("req-new", 15)] }, 20);
    expect(status(newer, "req-new", 20).state).toBe("aborted");
    expect(status(newer, "req-1", 20).state).toBe("unknown");
    expect(status(newer, "req-2", 20).state).toBe("committed");
  });

  it("recovery: the newest record about a request id is its answer (a commit after a forgotten failure, or a failure after a forgotten commit)", () => {
    const start: CoordinatorRecord = { kind: "start", epoch: 1, lastCommitSeq: 0 };
    const failed: CoordinatorRecord = { kind: "failed", requestId: "req-r", fingerprint: requestFingerprint("txn", cIncr), code: Code.FAILED_PRECONDITION, message: "below the minimum", txnId: "1.1", atMs: 1 };
    const remember: RememberedCommit = { txnId: "1.2", requestId: "req-r", fingerprint: requestFingerprint("txn", cIncr), commitSeq: 1, outcome: { branch: "then", results: [{ kind: "incr", key: "c", value: 5 }] }, atMs: 2 };
    const commit: CoordinatorRecord = { kind: "commit", txnId: "1.2", commitSeq: 1, participants: [...PARTICIPANTS], keys: ["c"], remember };
    const committedLast = recoverCoordinator(throughTheLog([start, failed, commit]));
    expect(committedLast.failures).toEqual([]);
    expect(txn(newCore("abort", committedLast, 3), 1, cIncr, "req-r", 3).replies[0]!.result).toMatchObject({ ok: true, commitSeq: 1, txnId: "1.2" });
    const failedLast = recoverCoordinator(throughTheLog([start, commit, { kind: "end", txnId: "1.2" }, { ...failed, txnId: "1.3", atMs: 3 }]));
    expect(failedLast.failures.map((f) => f.requestId)).toEqual(["req-r"]);
    expect(failedLast.remembered).toEqual([{ ...remember, requestId: null, fingerprint: null }]);
    const rebuilt = newCore("abort", failedLast, 4);
    expect(failure(txn(rebuilt, 1, cIncr, "req-r", 4).replies[0]!.result)).toEqual({ ok: false, code: Code.FAILED_PRECONDITION, message: "below the minimum" });
    expect(status(rebuilt, "1.2", 4).state).toBe("committed");
  });

  it("round-trips a failed record, and throws DataLoss on a malformed one or one whose code is not a definite failure", () => {
    const record: CoordinatorRecord = { kind: "failed", requestId: "req-ключ", fingerprint: "0123456789abcdefABCD_-", code: Code.ABORTED, message: 'key "k" is being written', txnId: null, atMs: 1_700_000_000_000 };
    expect(decodeCoordinatorRecord(encodeCoordinatorRecord(record), 1)).toEqual(record);
    const withTxn: CoordinatorRecord = { ...record, code: Code.INVALID_ARGUMENT, txnId: "4.2" };
    expect(decodeCoordinatorRecord(encodeCoordinatorRecord(withTxn), 1)).toEqual(withTxn);
    for (const text of [
      '{"k":"f","r":"x","g":"f","c":14,"m":"m","t":null,"a":1}', // UNAVAILABLE is never remembered
      '{"k":"f","r":"x","g":"f","c":10,"m":"m","a":1}',
      '{"k":"f","r":null,"g":"f","c":10,"m":"m","t":null,"a":1}',
      '{"k":"f","r":"x","g":"f","c":"10","m":"m","t":null,"a":1}',
      '{"k":"f","r":"x","g":"f","c":10,"m":"m","t":null,"a":"1"}',
    ]) {
      expect(() => decodeCoordinatorRecord(Buffer.from(text, "utf8"), 8), text).toThrow(DataLoss);
    }
  });
});

describe("CoordinatorCore: outcome queries about finished commits", () => {
  it("answers COMMIT, not ABORT, about a commit that finished while the question was on its way", () => {
    // Seen in the crash matrix on a loaded machine: replicas in doubt asked the restarted coordinator,
    // which re-sent COMMIT and finished the transactions before their questions were stepped, then
    // answered ABORT (presumed abort) about committed transactions.
    const core = newCore();
    const txnId = prepareTxnId(txn(core, 1, putProgram([{ key: "k", value: b("v") }]), "req-q", 0, "put"));
    voteAll(core, txnId);
    ackAll(core, txnId);
    expect(core.inFlight()).toEqual([]);
    const ready = step(core, { kind: "outcome-query", queryId: 7, txnIds: [txnId, "1.999"], nowMs: 0 });
    expect(ready.outcomes).toEqual([{ queryId: 7, outcomes: [{ txnId, outcome: "commit", commitSeq: 1 }, { txnId: "1.999", outcome: "abort" }] }]);
  });
});
