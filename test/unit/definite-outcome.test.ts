// Which failures are definite (issue 14): a write refused before it started is `fail` in a history,
// one that may have started is `info`. This proves, without processes:
// - the client's rule per attempt (attemptRanNothing): a standby's redirect, a connection never made,
//   or the coordinator's kv-not-started marker ran nothing; anything else (a timeout, a dropped
//   connection, an error without the marker) may have;
// - the client's rule per call (callNotStarted): only when every attempt ran nothing, since one
//   attempt of unknown outcome under the same request id may still commit, whatever came after;
// - kv bench's history rule (classifyFailure): notStarted turns an UNAVAILABLE write into `fail`,
//   never a code of unknown outcome other than UNAVAILABLE/DEADLINE_EXCEEDED, and reads stay `fail`;
// - the coordinator's core marks exactly the refusals before any PREPARE: a write refused at
//   admission (too few replicas) and a transaction that failed while reading its keys.
import { describe, expect, it } from "vitest";
import { attemptRanNothing, callNotStarted, classifyFailure as classifyAttempt } from "../../client/coordinators";
import { Code } from "../../common/errors";
import { CoordinatorCore, newReady, type Input, type Ready, type RecoveredCoordinator, type WriteResult } from "../../coordinator/core";
import { classifyFailure } from "../../tools/bench/bench";

const FRESH: RecoveredCoordinator = { epoch: 1, lastCommitSeq: 0, unfinished: [], membership: null, remembered: [], newestForgotten: null, failures: [] };

describe("attemptRanNothing", () => {
  it("a redirect, a connection never established, or the not-started marker ran nothing; anything else may have", () => {
    const a = "127.0.0.1:1";
    const b = "127.0.0.1:2";
    expect(attemptRanNothing(classifyAttempt(a, b, "coordinator x is a standby"), false)).toBe(true);
    expect(attemptRanNothing(classifyAttempt(a, null, "No connection established. Last error: connect ECONNREFUSED"), false)).toBe(true);
    expect(attemptRanNothing(classifyAttempt(a, null, "3 of 3 replicas are in sync and writes need at least 2"), true)).toBe(true);
    // Unknown outcomes: a timeout, a connection dropped mid-call, an UNAVAILABLE without the marker.
    expect(attemptRanNothing(classifyAttempt(a, null, "Deadline exceeded"), false)).toBe(false);
    expect(attemptRanNothing(classifyAttempt(a, null, "Connection dropped"), false)).toBe(false);
    expect(attemptRanNothing(classifyAttempt(a, null, "the coordinator stepped down"), false)).toBe(false);
    expect(attemptRanNothing({ kind: "unknown" }, false)).toBe(false);
  });
});

describe("callNotStarted", () => {
  it("is true only when every attempt ran nothing; one unknown attempt, first or last, makes the call unknown", () => {
    expect(callNotStarted([true])).toBe(true);
    expect(callNotStarted([true, true, true])).toBe(true);
    // A write sent, its connection dropped, then only refused connections: the first may commit.
    expect(callNotStarted([false, true, true])).toBe(false);
    expect(callNotStarted([true, false])).toBe(false);
    expect(callNotStarted([false])).toBe(false);
    expect(callNotStarted([])).toBe(false);
  });
});

describe("classifyFailure (kv bench's history)", () => {
  it("an UNAVAILABLE write that started nothing is fail; without notStarted it stays info; reads are fail", () => {
    for (const f of ["put", "del", "incr", "order"] as const) {
      expect(classifyFailure(f, Code.UNAVAILABLE, true)).toBe("fail");
      expect(classifyFailure(f, Code.UNAVAILABLE, false)).toBe("info");
      expect(classifyFailure(f, Code.UNAVAILABLE)).toBe("info");
      expect(classifyFailure(f, Code.DEADLINE_EXCEEDED, false)).toBe("info");
      // notStarted never turns a code of another class into fail (the client sets it only with UNAVAILABLE).
      expect(classifyFailure(f, Code.INTERNAL, true)).toBe("info");
      expect(classifyFailure(f, Code.ABORTED, false)).toBe("fail");
    }
    expect(classifyFailure("get", Code.UNAVAILABLE, false)).toBe("fail");
  });
});

describe("the coordinator core marks refusals before any PREPARE as not started", () => {
  function core(participants: readonly string[], minInSync: number): { step: (input: Input) => Ready } {
    const c = new CoordinatorCore({ participants: [...participants], onConflict: "abort", minInSync }, FRESH, 0);
    return {
      step: (input) => {
        const out = newReady();
        c.step(input, out);
        return out;
      },
    };
  }
  const failed = (result: WriteResult | undefined): Extract<WriteResult, { ok: false }> => {
    if (result === undefined || result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
    return result;
  };

  it("a write refused at admission (too few replicas healthy) is UNAVAILABLE, not started, and sends nothing", () => {
    const { step } = core(["r1", "r2", "r3"], 2);
    for (const replicaId of ["r1", "r2", "r3"]) step({ kind: "health", replicaId, ok: true, nowMs: 0 });
    step({ kind: "health", replicaId: "r3", ok: false, refused: true, nowMs: 1 }); // leaves: {r1, r2} stay
    step({ kind: "health", replicaId: "r2", ok: false, refused: true, nowMs: 2 }); // cannot leave (minInSync 2): down
    const ready = step({ kind: "write", reqId: 7, writes: [{ key: "a", value: Buffer.from("v") }], nowMs: 3 });
    expect(ready.send).toEqual([]);
    expect(ready.early).toEqual([]);
    const result = failed(ready.immediate.find((reply) => reply.reqId === 7)?.result);
    expect(result.code).toBe(Code.UNAVAILABLE);
    expect(result.notStarted).toBe(true);
  });

  it("a transaction whose read failed is UNAVAILABLE and not started: no PREPARE of it ever left", () => {
    const { step } = core(["r1", "r2", "r3"], 2);
    for (const replicaId of ["r1", "r2", "r3"]) step({ kind: "health", replicaId, ok: true, nowMs: 0 });
    const program = { conditions: [], then: [{ kind: "incr" as const, key: "a", delta: 1, min: null, max: null, mustExist: false }], otherwise: null };
    const started = step({ kind: "txn", reqId: 1, requestId: "req-1", method: "txn", program, nowMs: 0 });
    expect(started.early).toEqual([]);
    const [read] = started.reads;
    expect(read).toBeDefined();
    const ended = step({ kind: "read-result", txnId: read!.txnId, states: null, reason: "no replica answered", nowMs: 1 });
    const result = failed(ended.replies.find((reply) => reply.reqId === 1)?.result);
    expect(result.code).toBe(Code.UNAVAILABLE);
    expect(result.notStarted).toBe(true);
  });
});
