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
// And pushFloor sends the collection floor alone (a COMMIT of no transactions) when it rose past
// what the replica was last sent and nothing waits to carry it, so that a replica of an idle
// cluster hears a floor that covers its last commit (a backup's snapshot waits for one:
// replica/node.ts snapshotMoment):
//   (g) a risen floor leaves alone, once: not again while it stays, again once it rises;
//   (h) a COMMIT that carried the floor counts as sent: nothing more goes;
//   (i) nothing goes while a COMMIT waits (it will carry the floor), or while a push is in flight;
//   (j) a push that failed is sent again on the next tick; a stopped link sends nothing.
// How: a fake ParticipantCalls records each call in order, and a fake scheduler runs `after` timers
// only when the test fires them; `soon` runs at once (the read batcher's gathering).
import { describe, expect, it } from "vitest";
import type { CallResult, Scheduler } from "../../common/env";
import { limits } from "../../common/limits";
import { Code } from "../../common/errors";
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
  /** Each commit call's transactions and collection floor, and its callback (pushFloor's tests). */
  const floorsSent: { txns: string; floor: number }[] = [];
  const commitAnswers: ((result: CallResult<string[]>) => void)[] = [];
  let floor = 0;
  const participant: ParticipantCalls = {
    prepare: (txns, _timeoutMs, done) => {
      calls.push(`prepare ${txns.map((t) => t.txnId).join(",")}`);
      answers.push(done);
    },
    commit: (txns, gcFloor, urgent, _timeoutMs, done) => {
      calls.push(`commit ${txns.map((t) => t.txnId).join(",")}${urgent ? " urgent" : ""}`);
      floorsSent.push({ txns: txns.map((t) => t.txnId).join(","), floor: gcFloor });
      commitAnswers.push(done);
    },
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
  const link = new ReplicaLink("r1", participant, () => {}, scheduler, createLogger("replica-link-test", "silent"), () => {}, undefined, () => floor);
  const commit = (txnId: string, urgent = false): Message => ({ kind: "commit", to: "r1", txnId, commitSeq: 1, urgent, writes: null });
  const prepare = (txnId: string): Message => ({ kind: "prepare", to: "r1", txnId, writes: [{ key: "k", value: null }], participants: ["r1"] });
  const setNow = (ms: number): void => {
    nowMs = ms;
  };
  const setFloor = (next: number): void => {
    floor = next;
  };
  return { link, calls, timers, commit, prepare, answers, setNow, floorsSent, commitAnswers, setFloor };
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

describe("ReplicaLink.pushFloor: a risen floor reaches an idle replica", () => {
  it("(g) a risen floor leaves alone, once; again once it rises", () => {
    const { link, floorsSent: sent, commitAnswers: answers, setFloor } = fixture();
    link.pushFloor();
    expect(sent).toEqual([]); // floor 0: nothing to say
    setFloor(7);
    link.pushFloor();
    expect(sent).toEqual([{ txns: "", floor: 7 }]);
    answers[0]!({ ok: true, value: [] });
    link.pushFloor();
    expect(sent).toHaveLength(1);
    setFloor(9);
    link.pushFloor();
    expect(sent).toEqual([
      { txns: "", floor: 7 },
      { txns: "", floor: 9 },
    ]);
  });

  it("(h) a COMMIT that carried the floor counts as sent", () => {
    const { link, floorsSent: sent, commitAnswers: answers, setFloor, commit } = fixture();
    setFloor(5);
    link.enqueue(commit("1.5", true));
    link.flush();
    expect(sent).toEqual([{ txns: "1.5", floor: 5 }]);
    answers[0]!({ ok: true, value: ["1.5"] });
    link.pushFloor();
    expect(sent).toHaveLength(1);
  });

  it("(i) nothing goes while a COMMIT waits to carry it, or while a push is in flight", () => {
    const { link, floorsSent: sent, commitAnswers: answers, setFloor, commit } = fixture();
    setFloor(3);
    link.pushFloor();
    expect(sent).toEqual([{ txns: "", floor: 3 }]);
    setFloor(4);
    link.pushFloor(); // the first push has not been answered
    expect(sent).toHaveLength(1);
    answers[0]!({ ok: true, value: [] });
    // A non-urgent COMMIT lingers for company: it will carry the floor, so no push goes.
    link.enqueue(commit("1.4"));
    link.flush();
    link.pushFloor();
    expect(sent).toHaveLength(1);
  });

  it("(j) a failed push goes again on the next tick; a stopped link sends nothing", () => {
    const { link, floorsSent: sent, commitAnswers: answers, setFloor } = fixture();
    setFloor(6);
    link.pushFloor();
    answers[0]!({ ok: false, code: Code.UNAVAILABLE, reason: "connection refused" });
    link.pushFloor();
    expect(sent).toEqual([
      { txns: "", floor: 6 },
      { txns: "", floor: 6 },
    ]);
    answers[1]!({ ok: true, value: [] });
    setFloor(8);
    link.stop();
    link.pushFloor();
    expect(sent).toHaveLength(2);
  });
});
