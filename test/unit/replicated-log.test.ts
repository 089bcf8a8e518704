// Proves that the coordinator's decision log replicated on the replicas (coordinator/replicated-log.ts)
// keeps "persist before you speak" for failover:
// - a force is done only once a majority of the replicas (2 of 3) hold every record up to it, never
//   before; one Append per replica is in flight at a time and the next carries all that piled up;
// - a replica that answers with a lower index (a copy of an older epoch, or of this epoch but short of
//   the base) gets the base next; one that holds the base and misses later records gets just those;
// - a failed call is retried on the scheduler's timer, with a growing backoff; a "fenced" refusal
//   calls `fenced` with the newer epoch and stops sending to that replica;
// - a base larger than appendRecordsMax records or logPartBytesMax bytes goes in parts, and the
//   replica's own core (replica/core.ts, replica/log-copy.ts) reassembles it into one copy; a part
//   lost in a replica restart makes the base start over;
// - rewrite (the node's start, and each compaction) then force: the force is done once a majority
//   holds the new base, and the replicas' copies end up as the log.
// The planted bug ack-before-quorum (common/mutations.ts) must make these checks fail.
//
// How: each replica is a fake AppendCall. A ManualReplica keeps the calls it got and the test answers
// them one by one (ack: "I hold everything up to the end of that call"); a CoreReplica answers by
// stepping a real ParticipantCore, so that what the coordinator sends is checked against what the
// replica makes of it. Retries run on a fake scheduler whose time moves only when the test says.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../cli/logger";
import type { CallResult, Scheduler } from "../../common/env";
import { Code, fencedMessage, type CodeValue } from "../../common/errors";
import { limits } from "../../common/limits";
import { ReplicatedLog, type AppendCall, type AppendRequest } from "../../coordinator/replicated-log";
import { quorumOf } from "../../common/quorum";
import { newReady, ParticipantCore, type Ready } from "../../replica/core";
import { failureUnder } from "./planted";

const EPOCH = 5;
const logger = createLogger("replicated-log-test", "silent");

/** Time moves only in advance(); timers of every() fire in time order. */
class FakeScheduler implements Scheduler {
  private now = 0;
  private timers: { dueMs: number; intervalMs: number; fn: () => void; live: boolean }[] = [];

  nowMs(): number {
    return this.now;
  }

  soon(fn: () => void): void {
    this.every(0, fn);
  }

  every(intervalMs: number, fn: () => void): () => void {
    const timer = { dueMs: this.now + intervalMs, intervalMs, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  after(delayMs: number, fn: () => void): () => void {
    const stop = this.every(delayMs, () => {
      stop();
      fn();
    });
    return stop;
  }

  random(): number {
    return 0.5;
  }

  get liveTimers(): number {
    return this.timers.filter((timer) => timer.live).length;
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      this.timers = this.timers.filter((timer) => timer.live);
      const due = this.timers.filter((timer) => timer.dueMs <= until).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (due === undefined) break;
      this.now = due.dueMs;
      due.dueMs += Math.max(1, due.intervalMs);
      due.fn();
    }
    this.now = until;
  }
}

type AppendResult = CallResult<{ logEpoch: number; logIndex: number }>;

interface Sent {
  readonly request: AppendRequest;
  readonly done: (result: AppendResult) => void;
}

function endOf(request: AppendRequest): number {
  return request.firstIndex + request.records.length - 1;
}

/** A replica the test answers by hand, call by call. */
class ManualReplica {
  readonly sent: AppendRequest[] = [];
  private waiting: Sent[] = [];

  readonly call: AppendCall = (request, timeoutMs, done) => {
    expect(timeoutMs).toBe(limits.replicaCallTimeoutMs);
    this.sent.push(request);
    this.waiting.push({ request, done });
  };

  /** The call waiting for an answer (one at most: one Append in flight per replica). */
  get inFlight(): AppendRequest | undefined {
    expect(this.waiting.length).toBeLessThanOrEqual(1);
    return this.waiting[0]?.request;
  }

  private take(): Sent {
    const sent = this.waiting.shift();
    if (sent === undefined) throw new Error("no Append in flight to answer");
    return sent;
  }

  /** Answers: every record up to the end of the call is held (for a part of a base: staged). */
  ack(): void {
    const { request, done } = this.take();
    done({ ok: true, value: { logEpoch: EPOCH, logIndex: endOf(request) } });
  }

  answer(logEpoch: number, logIndex: number): void {
    this.take().done({ ok: true, value: { logEpoch, logIndex } });
  }

  fail(code: CodeValue, reason: string): void {
    this.take().done({ ok: false, code, reason });
  }
}

/** A replica that answers with its own core: what it persists is its copy of the log. */
class CoreReplica {
  readonly core = new ParticipantCore({ prepared: [], decided: [], nowMs: 0 });
  readonly sent: AppendRequest[] = [];
  readonly persisted: Ready["persist"] = [];
  private waiting: Sent[] = [];
  private callId = 0;

  readonly call: AppendCall = (request, _timeoutMs, done) => {
    this.sent.push(request);
    this.waiting.push({ request, done });
  };

  /** Answers every call, including the ones sent in answer, until none waits. */
  deliverAll(): void {
    for (let rounds = 0; this.waiting.length > 0; rounds += 1) {
      if (rounds > 1_000) throw new Error("the coordinator keeps sending: a livelock");
      const { request, done } = this.waiting.shift()!;
      this.callId += 1;
      const out = newReady();
      this.core.step({ kind: "append", callId: this.callId, epoch: EPOCH, coordinatorId: "c1", address: "127.0.0.1:50051", nowMs: 0, ...request }, out);
      this.persisted.push(...out.persist);
      const reply = out.replies[0];
      if (reply?.kind === "appended") done({ ok: true, value: { logEpoch: reply.logEpoch, logIndex: reply.logIndex } });
      else if (reply?.kind === "refused") done({ ok: false, code: Code.FAILED_PRECONDITION, reason: reply.message });
      else throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
    }
  }

  /** The replica's copy of the log, as its live records hold it (what a successor recovers from). */
  copy(): { logEpoch: number; logIndex: number; records: readonly Buffer[] } {
    const live = this.core.liveRecords().find((record) => record.kind === "copy");
    if (live === undefined || live.kind !== "copy") return { logEpoch: 0, logIndex: 0, records: [] };
    return { logEpoch: live.epoch, logIndex: live.firstIndex + live.records.length - 1, records: live.records };
  }
}

interface Fixture<R> {
  readonly log: ReplicatedLog;
  readonly replicas: readonly R[];
  readonly scheduler: FakeScheduler;
  readonly fencedBy: { epoch: number; replicaId: string }[];
}

function fixture<R extends { call: AppendCall }>(make: () => R, count = 3): Fixture<R> {
  const scheduler = new FakeScheduler();
  const replicas = Array.from({ length: count }, make);
  const fencedBy: { epoch: number; replicaId: string }[] = [];
  const log = new ReplicatedLog({
    epoch: EPOCH,
    replicas: new Map(replicas.map((replica, i) => [`r${i + 1}`, replica.call])),
    scheduler,
    logger,
    fenced: (epoch, replicaId) => fencedBy.push({ epoch, replicaId }),
  });
  return { log, replicas, scheduler, fencedBy };
}

function rec(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

/** Counts the calls of a force's done, and checks it is called once at most. */
function doneCounter(): { readonly done: () => void; readonly calls: () => number } {
  let calls = 0;
  return {
    done: () => {
      calls += 1;
      expect(calls).toBe(1);
    },
    calls: () => calls,
  };
}

/** A force is done once 2 of 3 replicas hold every record up to it, and not before. */
function forceWaitsForAMajority(): void {
  const { log, replicas } = fixture(() => new ManualReplica());
  const [r1, r2, r3] = replicas as [ManualReplica, ManualReplica, ManualReplica];
  let rewritten = false;
  log.rewrite([rec("start"), rec("members")], () => (rewritten = true));
  expect(rewritten).toBe(true);
  for (const replica of replicas) expect(replica.inFlight).toEqual({ base: true, more: false, baseFirstIndex: 1, firstIndex: 1, records: [rec("start"), rec("members")] });
  const start = doneCounter();
  log.force(start.done);
  expect(start.calls(), "done with no replica holding the base").toBe(0);
  r1.ack();
  expect(start.calls(), "done with 1 of 3 holding the base").toBe(0);
  expect(log.holders(2)).toEqual(["r1"]);
  r2.ack();
  expect(start.calls(), "not done with 2 of 3 holding the base").toBe(1);

  // The next record: sent to r1 and r2 at once, to r3 after its base.
  expect(log.append(rec("commit 1.1"))).toBe(3);
  const commit = doneCounter();
  log.force(commit.done);
  expect(r1.inFlight).toEqual({ base: false, more: false, baseFirstIndex: 0, firstIndex: 3, records: [rec("commit 1.1")] });
  expect(r2.inFlight).toEqual(r1.inFlight);
  r3.ack();
  expect(r3.inFlight).toEqual(r1.inFlight);
  r3.ack();
  expect(commit.calls(), "done with 1 of 3 holding the commit").toBe(0);
  expect(log.holders(3)).toEqual(["r3"]);
  r1.ack();
  expect(commit.calls(), "not done with 2 of 3 holding the commit").toBe(1);
  expect(log.holders(3)).toEqual(["r1", "r3"]);
}

describe("ReplicatedLog: a force waits for a majority", () => {
  it("is not done before a majority holds the records, and is done once 2 of 3 do", () => {
    forceWaitsForAMajority();
  });

  it("is caught when the planted bug ack-before-quorum makes a force done at once", () => {
    expect(failureUnder("ack-before-quorum", forceWaitsForAMajority)).toMatch(/^done with no replica holding the base/);
  });

  it("a majority is more than half: 1 of 1, 2 of 2, 2 of 3, 3 of 4, 3 of 5", () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it("keeps one Append in flight per replica; the next carries every record that piled up meanwhile", () => {
    const { log, replicas } = fixture(() => new ManualReplica());
    const r1 = replicas[0]!;
    log.rewrite([rec("start")], () => undefined);
    log.force(() => undefined);
    r1.ack();
    log.append(rec("a"));
    log.force(() => undefined);
    log.append(rec("b"));
    log.append(rec("c"));
    log.force(() => undefined);
    expect(r1.inFlight?.records).toEqual([rec("a")]);
    r1.ack();
    expect(r1.inFlight).toEqual({ base: false, more: false, baseFirstIndex: 0, firstIndex: 3, records: [rec("b"), rec("c")] });
    r1.ack();
    expect(r1.inFlight).toBeUndefined();
    expect(r1.sent).toHaveLength(3);
  });

  it("never does a force once stopped, and sends nothing more", () => {
    const { log, replicas } = fixture(() => new ManualReplica());
    log.rewrite([rec("start")], () => undefined);
    const start = doneCounter();
    log.force(start.done);
    log.stop();
    for (const replica of replicas) replica.ack();
    expect(start.calls()).toBe(0);
    log.append(rec("a"));
    log.force(start.done);
    for (const replica of replicas) expect(replica.sent).toHaveLength(1);
  });
});

describe("ReplicatedLog: what each replica is sent", () => {
  /** A log with the base start, members (1..2) held by every replica, and then x (3) sent. */
  function withRecordInFlight(): Fixture<ManualReplica> {
    const f = fixture(() => new ManualReplica());
    f.log.rewrite([rec("start"), rec("members")], () => undefined);
    f.log.force(() => undefined);
    for (const replica of f.replicas) replica.ack();
    f.log.append(rec("x"));
    f.log.force(() => undefined);
    for (const replica of f.replicas) expect(replica.inFlight).toMatchObject({ base: false, firstIndex: 3 });
    return f;
  }

  const wholeLog = { base: true, more: false, baseFirstIndex: 1, firstIndex: 1, records: [rec("start"), rec("members"), rec("x")] };

  it("sends the base next to a replica that answers with a copy of an older epoch", () => {
    const { replicas } = withRecordInFlight();
    replicas[0]!.answer(EPOCH - 1, 9);
    expect(replicas[0]!.inFlight).toEqual(wholeLog);
  });

  it("sends the base next to a replica that answers with a lower index of this epoch, short of the base", () => {
    const { replicas } = withRecordInFlight();
    replicas[0]!.answer(EPOCH, 1);
    expect(replicas[0]!.inFlight).toEqual(wholeLog);
    replicas[1]!.answer(0, 0);
    expect(replicas[1]!.inFlight).toEqual(wholeLog);
  });

  it("sends only the missing records to a replica that holds the base", () => {
    const { log, replicas } = withRecordInFlight();
    log.append(rec("y"));
    replicas[0]!.answer(EPOCH, 2);
    expect(replicas[0]!.inFlight).toEqual({ base: false, more: false, baseFirstIndex: 0, firstIndex: 3, records: [rec("x"), rec("y")] });
  });

  it("retries a failed call on the scheduler's timer, with a backoff that grows and a success resets", () => {
    const { log, replicas, scheduler } = withRecordInFlight();
    const r1 = replicas[0]!;
    /** Fails r1's call in flight; returns how long the retry took to leave (1 ms steps of the fake clock). */
    const failAndWait = (): number => {
      r1.fail(Code.UNAVAILABLE, "connection refused");
      expect(r1.inFlight).toBeUndefined();
      const sentBefore = r1.sent.length;
      let waitedMs = 0;
      while (r1.sent.length === sentBefore) {
        if (waitedMs > 10_000) throw new Error("no retry within 10 s");
        scheduler.advance(1);
        waitedMs += 1;
      }
      return waitedMs;
    };
    const waitedMs = [failAndWait(), failAndWait(), failAndWait()];
    expect(r1.inFlight).toMatchObject({ base: false, firstIndex: 3, records: [rec("x")] });
    expect(waitedMs[0]).toBeGreaterThan(0);
    expect(waitedMs[1]).toBe(2 * waitedMs[0]!);
    expect(waitedMs[2]).toBe(2 * waitedMs[1]!);
    // A success resets the backoff: the next failure waits as long as the first.
    r1.ack();
    log.append(rec("y"));
    log.force(() => undefined);
    expect(r1.inFlight).toMatchObject({ firstIndex: 4, records: [rec("y")] });
    expect(failAndWait()).toBe(waitedMs[0]);
  });

  it("calls fenced with the newer epoch on a fenced refusal, and sends that replica nothing more", () => {
    const { log, replicas, scheduler, fencedBy } = withRecordInFlight();
    replicas[0]!.fail(Code.FAILED_PRECONDITION, fencedMessage(EPOCH, EPOCH + 2, "c3"));
    expect(fencedBy).toEqual([{ epoch: EPOCH + 2, replicaId: "r1" }]);
    expect(scheduler.liveTimers).toBe(0);
    scheduler.advance(60_000);
    expect(replicas[0]!.sent).toHaveLength(2);
    // Another refusal, not a fence: no stand-down, a retry.
    replicas[1]!.fail(Code.FAILED_PRECONDITION, "txns[0]: commit of 1.1, which this replica aborted");
    expect(fencedBy).toHaveLength(1);
    expect(scheduler.liveTimers).toBe(1);
    expect(log.holders(3)).toEqual([]);
  });
});

describe("ReplicatedLog: a large base goes in parts", () => {
  const manyRecords = Array.from({ length: 2 * limits.appendRecordsMax + 10 }, (_, i) => rec(`r${i + 1}`));
  const recordBytes = Math.floor(limits.logPartBytesMax / 2) - 1;
  const largeRecords = [0x61, 0x62, 0x63].map((byte) => Buffer.alloc(recordBytes, byte));

  it.each([
    { name: "more than appendRecordsMax records", records: manyRecords, parts: [limits.appendRecordsMax, limits.appendRecordsMax, 10] },
    { name: "more than logPartBytesMax bytes", records: largeRecords, parts: [2, 1] },
  ])("sends $name in parts, and each replica's core reassembles them into one copy", ({ records, parts }) => {
    const { log, replicas } = fixture(() => new CoreReplica());
    log.rewrite(records, () => undefined);
    const start = doneCounter();
    log.force(start.done);

    replicas[0]!.deliverAll();
    expect(start.calls()).toBe(0);
    replicas[1]!.deliverAll();
    expect(start.calls()).toBe(1);

    for (const replica of replicas.slice(0, 2)) {
      const firstIndexes = parts.map((_, i) => 1 + parts.slice(0, i).reduce((sum, n) => sum + n, 0));
      expect(replica.sent.map((request) => ({ base: request.base, more: request.more, baseFirstIndex: request.baseFirstIndex, firstIndex: request.firstIndex, count: request.records.length }))).toEqual(
        parts.map((count, i) => ({ base: true, more: i < parts.length - 1, baseFirstIndex: 1, firstIndex: firstIndexes[i], count })),
      );
      for (const request of replica.sent) {
        expect(request.records.length).toBeLessThanOrEqual(limits.appendRecordsMax);
        expect(request.records.reduce((sum, record) => sum + record.length, 0)).toBeLessThanOrEqual(limits.logPartBytesMax);
      }
      // One copy record, at the last part: the whole base, in order (after the promise of the epoch).
      expect(replica.persisted.map((record) => record.kind)).toEqual(["promise", "copy"]);
      const copy = replica.copy();
      expect(copy.logEpoch).toBe(EPOCH);
      expect(copy.logIndex).toBe(records.length);
      expect(copy.records.length).toBe(records.length);
      expect(copy.records.every((record, i) => record.equals(records[i]!))).toBe(true);
    }
    // The third replica got the first part only, so far.
    expect(replicas[2]!.sent).toHaveLength(1);
  });

  it("starts the base over when a call fails between parts (the replica may have restarted and lost them)", () => {
    const { log, replicas, scheduler } = fixture(() => new ManualReplica());
    log.rewrite(manyRecords, () => undefined);
    log.force(() => undefined);
    const r1 = replicas[0]!;
    expect(r1.inFlight).toMatchObject({ base: true, more: true, firstIndex: 1 });
    r1.ack();
    expect(r1.inFlight).toMatchObject({ base: true, more: true, baseFirstIndex: 1, firstIndex: limits.appendRecordsMax + 1 });
    r1.fail(Code.UNAVAILABLE, "connection reset");
    scheduler.advance(limits.replicaCallTimeoutMs);
    expect(r1.inFlight).toMatchObject({ base: true, more: true, baseFirstIndex: 1, firstIndex: 1 });
    // Likewise when the replica answers a part without holding the parts before it.
    r1.ack();
    expect(r1.inFlight).toMatchObject({ firstIndex: limits.appendRecordsMax + 1 });
    r1.answer(0, 0);
    expect(r1.inFlight).toMatchObject({ base: true, more: true, baseFirstIndex: 1, firstIndex: 1 });
  });
});

describe("ReplicatedLog: rewrite then force", () => {
  it("after a rewrite (a compaction), the force is done once a majority holds the new base, and the copies follow the log", () => {
    const { log, replicas } = fixture(() => new CoreReplica());
    log.rewrite([rec("start")], () => undefined);
    log.force(() => undefined);
    log.append(rec("a"));
    log.force(() => undefined);
    for (const replica of replicas) replica.deliverAll();
    // The third replica's answer came after the first two had made "a" durable: nothing waits for
    // it there, so it gets "a" with the next force.
    expect(replicas.map((replica) => replica.copy().logIndex)).toEqual([2, 2, 1]);

    let rewritten = false;
    log.rewrite([rec("start'"), rec("live")], () => (rewritten = true));
    expect(rewritten).toBe(true);
    // Numbered on from the end of the log: 3 and 4.
    expect(log.endLsn).toBe(5);
    const compacted = doneCounter();
    log.force(compacted.done);
    replicas[2]!.deliverAll();
    expect(compacted.calls()).toBe(0);
    replicas[0]!.deliverAll();
    expect(compacted.calls()).toBe(1);
    for (const replica of [replicas[0]!, replicas[2]!]) {
      expect(replica.sent.at(-1)).toEqual({ base: true, more: false, baseFirstIndex: 3, firstIndex: 3, records: [rec("start'"), rec("live")] });
      expect(replica.copy()).toEqual({ logEpoch: EPOCH, logIndex: 4, records: [rec("start'"), rec("live")] });
    }

    // Appends follow the new base; the replica left behind gets the base first.
    expect(log.append(rec("b"))).toBe(5);
    const next = doneCounter();
    log.force(next.done);
    for (const replica of replicas) replica.deliverAll();
    expect(next.calls()).toBe(1);
    for (const replica of replicas) expect(replica.copy()).toEqual({ logEpoch: EPOCH, logIndex: 5, records: [rec("start'"), rec("live"), rec("b")] });
    expect(replicas[1]!.sent.slice(-2)).toEqual([
      { base: true, more: false, baseFirstIndex: 3, firstIndex: 3, records: [rec("start'"), rec("live")] },
      { base: false, more: false, baseFirstIndex: 0, firstIndex: 5, records: [rec("b")] },
    ]);
    expect(replicas[0]!.sent.at(-1)).toEqual({ base: false, more: false, baseFirstIndex: 0, firstIndex: 5, records: [rec("b")] });
  });
});

describe("ReplicatedLog: records nothing waits for", () => {
  it("an appended record no force waits for costs no call: it rides with the next force", () => {
    const { log, replicas } = fixture(() => new ManualReplica());
    log.rewrite([rec("start")], () => undefined);
    for (const replica of replicas) replica.ack();
    // END records are appended unforced: no call leaves for them.
    log.append(rec("end-1"));
    log.append(rec("end-2"));
    expect(replicas.map((replica) => replica.inFlight)).toEqual([undefined, undefined, undefined]);
    // The next decision is forced: one call per replica carries all three.
    log.append(rec("commit"));
    const forced = doneCounter();
    log.force(forced.done);
    for (const replica of replicas) expect(replica.inFlight).toEqual({ base: false, more: false, baseFirstIndex: 0, firstIndex: 2, records: [rec("end-1"), rec("end-2"), rec("commit")] });
    replicas[0]!.ack();
    replicas[1]!.ack();
    expect(forced.calls()).toBe(1);
    // The third answers late: nothing waits any more, so it is sent nothing further.
    log.append(rec("end-3"));
    replicas[2]!.ack();
    expect(replicas.map((replica) => replica.inFlight)).toEqual([undefined, undefined, undefined]);
  });
});
