// What this proves: coordinator/node.ts ReplicaLink lets a COMMIT that no write waits for linger
// (limits.commitLingerMs) for company instead of leaving alone, and never holds anything that must
// not wait:
//   (a) a lone non-urgent COMMIT is not sent at flush; it leaves when its timer fires;
//   (b) a PREPARE flushed meanwhile takes it along, COMMIT first, and the timer is cancelled;
//   (c) an urgent COMMIT (a write waits for its keys) leaves at once, with any lingering one;
//   (d) a read to the replica sends a lingering COMMIT first (the read would wait for it there);
//   (e) a stopped link (the coordinator stood down) sends nothing more, lingering COMMITs included;
//   (f) lastAnswerMs (which lets the node skip a health check) is the time of the last answered
//       PREPARE, and a failed call clears it: a replica that refused a call is checked for real.
// How: a fake ParticipantCalls records each call in order, and a fake scheduler runs `after` timers
// only when the test fires them; `soon` runs at once (the read batcher's gathering).
import { describe, expect, it } from "vitest";
import type { CallResult, Scheduler } from "../../common/env";
import { limits } from "../../common/limits";
import { createLogger } from "../../cli/logger";
import type { Message } from "../../coordinator/core";
import { ReplicaLink, type ParticipantCalls } from "../../coordinator/node";

function fixture() {
  const calls: string[] = [];
  let nowMs = 0;
  const answers: ((result: CallResult<{ txnId: string; vote: "yes" }[]>) => void)[] = [];
  const timers: { readonly fire: () => void; cancelled: boolean; readonly ms: number }[] = [];
  const scheduler: Scheduler = {
    nowMs: () => nowMs,
    soon: (fn) => fn(),
    every: () => () => {},
    after: (ms, fn) => {
      const timer = { fire: fn, cancelled: false, ms };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    random: () => 0.5,
  };
  const never = (): void => {};
  const participant: ParticipantCalls = {
    prepare: (txns, _timeoutMs, done) => {
      calls.push(`prepare ${txns.map((t) => t.txnId).join(",")}`);
      answers.push(done);
    },
    commit: (txns, _floor, urgent) => void calls.push(`commit ${txns.map((t) => t.txnId).join(",")}${urgent ? " urgent" : ""}`),
    abort: (txnIds) => void calls.push(`abort ${txnIds.join(",")}`),
    read: (keys, _timeoutMs, _done: (result: CallResult<never[]>) => void) => void calls.push(`read ${keys.join(",")}`),
    inspect: never,
    catchUp: never,
    status: never,
    checkHealth: never,
    promise: never,
    readCopy: never,
    append: never,
  };
  const link = new ReplicaLink("r1", participant, () => {}, scheduler, createLogger("replica-link-test", "silent"), () => {}, undefined, () => 0);
  const commit = (txnId: string, urgent = false): Message => ({ kind: "commit", to: "r1", txnId, commitSeq: 1, urgent, writes: null });
  const prepare = (txnId: string): Message => ({ kind: "prepare", to: "r1", txnId, writes: [{ key: "k", value: null }], participants: ["r1"] });
  const setNow = (ms: number): void => {
    nowMs = ms;
  };
  return { link, calls, timers, commit, prepare, answers, setNow };
}

describe("ReplicaLink: COMMITs linger for company", () => {
  it("(a) a lone COMMIT no write waits for lingers, and leaves when its timer fires", () => {
    const { link, calls, timers, commit } = fixture();
    link.enqueue(commit("1.1"));
    link.flush();
    expect(calls).toEqual([]);
    expect(timers.map((t) => t.ms)).toEqual([limits.commitLingerMs]);
    timers[0]!.fire();
    expect(calls).toEqual(["commit 1.1"]);
  });

  it("(b) a PREPARE flushed meanwhile takes it along, COMMIT first, and the timer is cancelled", () => {
    const { link, calls, timers, commit, prepare } = fixture();
    link.enqueue(commit("1.1"));
    link.flush();
    link.enqueue(prepare("1.2"));
    link.flush();
    expect(calls).toEqual(["commit 1.1", "prepare 1.2"]);
    expect(timers[0]!.cancelled).toBe(true);
  });

  it("(c) an urgent COMMIT leaves at once, with any lingering one", () => {
    const { link, calls, commit } = fixture();
    link.enqueue(commit("1.1"));
    link.flush();
    link.enqueue(commit("1.3", true));
    link.flush();
    expect(calls).toEqual(["commit 1.1,1.3 urgent"]);
  });

  it("(d) a read sends a lingering COMMIT first", () => {
    const { link, calls, commit } = fixture();
    link.enqueue(commit("1.1"));
    link.flush();
    link.readBatched(["k"], () => {});
    expect(calls).toEqual(["commit 1.1", "read k"]);
  });

  it("(e) a stopped link sends nothing more, lingering COMMITs included", () => {
    const { link, calls, timers, commit, prepare } = fixture();
    link.enqueue(commit("1.1"));
    link.flush();
    link.stop();
    expect(timers[0]!.cancelled).toBe(true);
    timers[0]!.fire();
    link.enqueue(prepare("1.2"));
    link.flush();
    expect(calls).toEqual([]);
  });

  it("(f) lastAnswerMs is the last answered PREPARE's time, and a failed call clears it", () => {
    const { link, answers, prepare, setNow } = fixture();
    expect(link.lastAnswerMs).toBe(Number.NEGATIVE_INFINITY);
    link.enqueue(prepare("1.1"));
    link.flush();
    setNow(40);
    answers[0]!({ ok: true, value: [{ txnId: "1.1", vote: "yes" }] });
    expect(link.lastAnswerMs).toBe(40);
    link.enqueue(prepare("1.2"));
    link.flush();
    setNow(45);
    answers[1]!({ ok: false, code: 14, reason: "connection refused" });
    expect(link.lastAnswerMs).toBe(Number.NEGATIVE_INFINITY);
  });
});
