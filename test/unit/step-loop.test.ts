// What this proves: common/step-loop.ts StepLoop enforces "persist before you speak".
//   (a) afterDurable for a Ready with a forced record runs only once that force has resolved;
//   (b) inputs pushed while a force is pending are stepped together in the next turn (one step
//       call with all of them), and their afterDurable waits for their own force;
//   (c) a Ready whose records are all force:false appends them, calls no force(), and proceeds;
//   (d) a later turn with no records of its own is still handed to afterDurable only after the
//       earlier turn's force resolved, and afterDurable calls follow turn order;
//   (e) records are appended in order, all before the force, and lastLsn given to afterDurable is
//       the LSN of the last appended record (-1 before any);
//   (f) pipelined (turnsInFlightMax 3): inputs pushed during a force are stepped at once in turns of
//       their own, at most 3 turns wait at a time, and each Ready is delivered in turn order once
//       its own records and every earlier turn's are durable, even when a later force resolves
//       first.
//   (g) a lazy record's turn is not forced until the next turn steps (even with turnsInFlightMax 1:
//       that turn is its company), then one force serves both, and both wait for it, in order;
//   (h) with no input after it, a lazy turn is forced when its timer fires, and not before;
//   (i) a next turn with no records of its own (a read) brings the lazy force too;
//   (j) immediate runs for every turn as soon as it is stepped, while an earlier force is pending;
//   (k) with merge, turns that log nothing fold into the last waiting turn: a force that does not
//       come holds up their delivery, not their stepping (past turnsInFlightMax), and they are
//       carried out in order once it comes.
// How: a fake DurableLog whose force(done) holds done until the test releases it by hand; the fake
// records at every force call how many records it covers, so afterDurable can check that each
// forced record of its Ready is covered by a resolved force. The test lets the event loop run
// (several setImmediate turns) to show nothing happens early, and waits on conditions with
// vi.waitFor (a deadline, no fixed sleeps) for what must happen.
import { describe, expect, it, vi } from "vitest";
import { StepLoop, type DurableLog, type PersistedRecord } from "../../common/step-loop";

interface PendingForce {
  /** How many records had been appended when force() was called: the ones it makes durable. */
  readonly covers: number;
  resolved: boolean;
  readonly resolve: () => void;
}

class FakeLog implements DurableLog {
  readonly appended: Buffer[] = [];
  readonly forceCalls: PendingForce[] = [];
  /** Records with an index below this are durable. */
  durableCount = 0;

  constructor(private readonly firstLsn = 0) {}

  append(payload: Buffer): number {
    this.appended.push(payload);
    return this.firstLsn + this.appended.length - 1;
  }

  force(done: () => void): void {
    const pending: PendingForce = {
      covers: this.appended.length,
      resolved: false,
      resolve: () => {
        pending.resolved = true;
        this.durableCount = Math.max(this.durableCount, pending.covers);
        done();
      },
    };
    this.forceCalls.push(pending);
  }

  /** Resolves force call i (0-based). */
  release(i: number): void {
    const call = this.forceCalls[i];
    if (call === undefined) throw new Error(`no force call ${i} yet`);
    call.resolve();
  }
}

/** An input names the records its step produces and the message it sends. */
interface Input {
  readonly id: string;
  readonly records: readonly { readonly text: string; readonly force: boolean; readonly lazy?: boolean }[];
}

interface Ready {
  readonly inputs: readonly Input[];
  readonly records: readonly PersistedRecord[];
  readonly messages: readonly string[];
}

interface Delivery {
  readonly messages: readonly string[];
  readonly lastLsn: number;
  /** Force calls resolved at the moment of delivery. */
  readonly forcesResolved: number;
}

function harness(firstLsn = 0, turnsInFlightMax = 1, merge = false) {
  const log = new FakeLog(firstLsn);
  // The lazy force's timer fires only when the test fires it.
  const lazyTimers: { readonly fire: () => void; cancelled: boolean }[] = [];
  const timers = {
    soon: (fn: () => void) => void setImmediate(fn),
    after: (_delayMs: number, fn: () => void) => {
      const timer = { fire: fn, cancelled: false };
      lazyTimers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  };
  const steps: string[][] = [];
  const deliveries: Delivery[] = [];
  const violations: string[] = [];
  // Index in log.appended of the first record of each Ready, to check persist-before-speak.
  const firstRecordIndex = new Map<Ready, number>();

  // What immediate saw, and how many forces had resolved then.
  const immediates: { readonly messages: readonly string[]; readonly forcesResolved: number }[] = [];
  const loop = new StepLoop<Input, Ready>({
    immediate: (ready) => immediates.push({ messages: ready.messages, forcesResolved: log.forceCalls.filter((call) => call.resolved).length }),
    step: (inputs) => {
      steps.push(inputs.map((input) => input.id));
      const records = inputs.flatMap((input) =>
        input.records.map((r) => ({ payload: Buffer.from(r.text), force: r.force, lazy: r.lazy === true })),
      );
      const ready: Ready = { inputs, records, messages: inputs.map((input) => `reply:${input.id}`) };
      firstRecordIndex.set(ready, log.appended.length);
      return ready;
    },
    records: (ready) => ready.records,
    log,
    timers,
    lazyForceMs: 1,
    turnsInFlightMax,
    ...(merge ? { merge: (into: Ready, from: Ready): Ready => ({ inputs: [...into.inputs, ...from.inputs], records: into.records, messages: [...into.messages, ...from.messages] }) } : {}),
    afterDurable: (ready, lastLsn) => {
      // Persist before speak: every forced record of this Ready is covered by a resolved force.
      const first = firstRecordIndex.get(ready)!;
      ready.records.forEach((record, i) => {
        if (record.force && first + i >= log.durableCount) {
          violations.push(`${ready.messages.join(",")}: record ${first + i} not durable when delivered`);
        }
      });
      deliveries.push({
        messages: ready.messages,
        lastLsn,
        forcesResolved: log.forceCalls.filter((call) => call.resolved).length,
      });
    },
  });
  return { log, loop, steps, deliveries, violations, lazyTimers, immediates };
}

function input(id: string, ...records: { text: string; force: boolean; lazy?: boolean }[]): Input {
  return { id, records };
}

const forced = (text: string) => ({ text, force: true });
const unforced = (text: string) => ({ text, force: false });
/** Forced, but its force may wait for company (a lazy force). */
const waits = (text: string) => ({ text, force: true, lazy: true });

/** Lets the event loop run several full turns (timers aside): nothing is waiting on a fixed time. */
async function macrotasks(count = 10): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

const wait = { timeout: 5_000, interval: 1 };

describe("StepLoop persist before speak", () => {
  it("(a) afterDurable of a Ready with a forced record waits for its force", async () => {
    const { log, loop, steps, deliveries, violations } = harness();
    loop.push(input("t1", forced("prepare t1")));

    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    expect(steps).toEqual([["t1"]]);
    expect(log.forceCalls[0]!.covers).toBe(1);
    await macrotasks(10);
    expect(deliveries).toEqual([]);
    expect(loop.busy).toBe(true);

    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(1), wait);
    expect(deliveries[0]).toEqual({ messages: ["reply:t1"], lastLsn: 0, forcesResolved: 1 });
    expect(violations).toEqual([]);
    await vi.waitFor(() => expect(loop.busy).toBe(false), wait);
    expect(log.forceCalls.length).toBe(1);
  });

  it("(b) inputs pushed during a force are stepped together next turn and wait for their own force", async () => {
    const { log, loop, steps, deliveries, violations } = harness();
    loop.push(input("t1", forced("prepare t1")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);

    loop.push(input("t2", forced("prepare t2")));
    loop.push(input("t3", unforced("note t3")));
    await macrotasks(3);
    loop.push(input("t4", forced("prepare t4")));
    await macrotasks(10);
    // Nothing more is stepped while the first force is pending.
    expect(steps).toEqual([["t1"]]);
    expect(log.appended.length).toBe(1);
    expect(deliveries).toEqual([]);

    log.release(0);
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(2), wait);
    // One step call for every input that queued up, in push order, and one force for all of them.
    expect(steps).toEqual([["t1"], ["t2", "t3", "t4"]]);
    expect(log.forceCalls[1]!.covers).toBe(4);
    expect(deliveries.map((d) => d.messages)).toEqual([["reply:t1"]]);

    await macrotasks(10);
    // The second turn's replies wait for the second force, not the first.
    expect(deliveries.length).toBe(1);

    log.release(1);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(deliveries[1]).toEqual({ messages: ["reply:t2", "reply:t3", "reply:t4"], lastLsn: 3, forcesResolved: 2 });
    expect(violations).toEqual([]);
    expect(loop.turns).toBe(2);
    expect(loop.inputs).toBe(4);
  });

  it("(c) a Ready whose records are all force:false calls no force() and proceeds", async () => {
    const { log, loop, deliveries, violations } = harness();
    loop.push(input("n1", unforced("note a"), unforced("note b")));
    await vi.waitFor(() => expect(deliveries.length).toBe(1), wait);
    expect(log.forceCalls.length).toBe(0);
    expect(texts(log.appended)).toEqual(["note a", "note b"]);
    expect(deliveries[0]).toEqual({ messages: ["reply:n1"], lastLsn: 1, forcesResolved: 0 });

    // The same shape with one forced record does force: the difference is the force flag alone.
    loop.push(input("n2", unforced("note c"), forced("decision"), unforced("note d")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    await macrotasks(5);
    expect(deliveries.length).toBe(1);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(violations).toEqual([]);
  });

  it("(d) a later turn with no records is delivered only after the earlier turn's force", async () => {
    const { log, loop, steps, deliveries, violations } = harness();
    loop.push(input("commit", forced("decision commit")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);

    // A reply that depends on the decision above (for instance a status read) and logs nothing.
    loop.push(input("status"));
    await macrotasks(10);
    expect(deliveries).toEqual([]);

    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(steps).toEqual([["commit"], ["status"]]);
    expect(deliveries.map((d) => d.messages)).toEqual([["reply:commit"], ["reply:status"]]);
    // The record-less turn was handed over after the force resolved, with no force of its own.
    expect(deliveries[1]!.forcesResolved).toBe(1);
    expect(log.forceCalls.length).toBe(1);
    expect(deliveries[1]!.lastLsn).toBe(0);
    expect(violations).toEqual([]);
  });

  it("(e) records are appended in order before the force, and lastLsn is the last appended LSN", async () => {
    const { log, loop, deliveries, violations } = harness(100);

    loop.push(input("empty"));
    await vi.waitFor(() => expect(deliveries.length).toBe(1), wait);
    expect(deliveries[0]!.lastLsn).toBe(-1);

    loop.push(input("a", unforced("a1"), forced("a2"), unforced("a3")));
    loop.push(input("b", forced("b1")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    expect(texts(log.appended)).toEqual(["a1", "a2", "a3", "b1"]);
    // One force, called after every record of the turn was appended.
    expect(log.forceCalls[0]!.covers).toBe(4);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(deliveries[1]!.lastLsn).toBe(103);

    loop.push(input("c", forced("c1"), forced("c2")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(2), wait);
    log.release(1);
    await vi.waitFor(() => expect(deliveries.length).toBe(3), wait);
    expect(texts(log.appended)).toEqual(["a1", "a2", "a3", "b1", "c1", "c2"]);
    expect(deliveries[2]!.lastLsn).toBe(105);

    // A later record-less turn reports the last LSN appended so far.
    loop.push(input("after"));
    await vi.waitFor(() => expect(deliveries.length).toBe(4), wait);
    expect(deliveries[3]!.lastLsn).toBe(105);
    expect(violations).toEqual([]);
  });
});

describe("StepLoop pipelined (turnsInFlightMax)", () => {
  it("(f) steps on during a force, at most turnsInFlightMax turns at a time, and delivers in turn order once durable", async () => {
    const { log, loop, steps, deliveries, violations } = harness(0, 3);
    loop.push(input("t1", forced("decision t1")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    // Pushed while the first force runs: stepped at once, each in a turn with its own force.
    loop.push(input("t2", forced("decision t2")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(2), wait);
    loop.push(input("t3", unforced("end t3")));
    await vi.waitFor(() => expect(steps.length).toBe(3), wait);
    // Three turns wait: the next inputs queue until the first is delivered.
    loop.push(input("t4", forced("decision t4")));
    loop.push(input("t5"));
    await macrotasks(10);
    expect(steps).toEqual([["t1"], ["t2"], ["t3"]]);
    expect(log.forceCalls.length).toBe(2);
    expect(deliveries).toEqual([]);

    // The second force resolves first: nothing is delivered before t1 is durable.
    log.release(1);
    await macrotasks(10);
    expect(deliveries).toEqual([]);
    expect(steps.length).toBe(3);

    // t1 durable: t1, t2 (durable already) and t3 (no forced record) go out, in order; room for
    // more turns, and the queued inputs are stepped together.
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(3), wait);
    expect(deliveries.map((d) => d.messages)).toEqual([["reply:t1"], ["reply:t2"], ["reply:t3"]]);
    await vi.waitFor(() => expect(steps.length).toBe(4), wait);
    expect(steps[3]).toEqual(["t4", "t5"]);
    await macrotasks(10);
    expect(deliveries.length).toBe(3);
    log.release(2);
    await vi.waitFor(() => expect(deliveries.length).toBe(4), wait);
    expect(deliveries[3]!.messages).toEqual(["reply:t4", "reply:t5"]);
    expect(violations).toEqual([]);
    await vi.waitFor(() => expect(loop.busy).toBe(false), wait);
  });
});

function texts(buffers: readonly Buffer[]): string[] {
  return buffers.map((b) => b.toString());
}

describe("StepLoop lazy forces", () => {
  it("(g) a lazy turn is forced with the next turn: one force for both, each delivered once durable, in order", async () => {
    const { log, loop, steps, deliveries, violations, lazyTimers } = harness();
    loop.push(input("commit c1", waits("commit c1")));
    await vi.waitFor(() => expect(steps).toEqual([["commit c1"]]), wait);
    await macrotasks(10);
    expect(log.forceCalls.length).toBe(0);
    expect(deliveries).toEqual([]);
    expect(lazyTimers.length).toBe(1);

    loop.push(input("prepare p2", forced("prepare p2")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    expect(steps).toEqual([["commit c1"], ["prepare p2"]]);
    expect(log.forceCalls[0]!.covers).toBe(2);
    expect(lazyTimers[0]!.cancelled).toBe(true);
    await macrotasks(10);
    expect(deliveries).toEqual([]);

    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(deliveries.map((d) => d.messages)).toEqual([["reply:commit c1"], ["reply:prepare p2"]]);
    expect(violations).toEqual([]);
    await vi.waitFor(() => expect(loop.busy).toBe(false), wait);
  });

  it("(h) with nothing after it, a lazy turn is forced when its timer fires", async () => {
    const { log, loop, deliveries, violations, lazyTimers } = harness();
    loop.push(input("commit c1", waits("commit c1"), unforced("note")));
    await vi.waitFor(() => expect(lazyTimers.length).toBe(1), wait);
    await macrotasks(10);
    expect(log.forceCalls.length).toBe(0);
    expect(deliveries).toEqual([]);
    expect(loop.busy).toBe(true);

    lazyTimers[0]!.fire();
    expect(log.forceCalls.length).toBe(1);
    expect(log.forceCalls[0]!.covers).toBe(2);
    await macrotasks(10);
    expect(deliveries).toEqual([]);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(1), wait);
    expect(violations).toEqual([]);
  });

  it("(i) a next turn with no records (a read) brings the lazy force, and is delivered after it", async () => {
    const { log, loop, deliveries, violations, lazyTimers } = harness();
    loop.push(input("commit c1", waits("commit c1")));
    await vi.waitFor(() => expect(lazyTimers.length).toBe(1), wait);
    loop.push(input("read k"));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    expect(lazyTimers[0]!.cancelled).toBe(true);
    await macrotasks(10);
    expect(deliveries).toEqual([]);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(deliveries.map((d) => d.messages)).toEqual([["reply:commit c1"], ["reply:read k"]]);
    expect(violations).toEqual([]);
  });
});

describe("StepLoop immediate", () => {
  it("(j) runs for each turn as soon as it is stepped, without waiting for an earlier turn's force", async () => {
    const { log, loop, deliveries, immediates } = harness(0, 3);
    loop.push(input("t1", forced("decision t1")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    loop.push(input("refused t2"));
    await vi.waitFor(() => expect(immediates.length).toBe(2), wait);
    expect(immediates).toEqual([
      { messages: ["reply:t1"], forcesResolved: 0 },
      { messages: ["reply:refused t2"], forcesResolved: 0 },
    ]);
    // The turns themselves are still carried out in order, once durable.
    expect(deliveries).toEqual([]);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
  });
});

describe("StepLoop merge", () => {
  it("(k) folds turns that log nothing into the last waiting one: they step on while a force hangs, and go out in order after it", async () => {
    const { log, loop, steps, deliveries, immediates, violations } = harness(0, 2, true);
    loop.push(input("t1", forced("decision t1")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(1), wait);
    for (const id of ["s2", "s3", "s4", "s5"]) {
      loop.push(input(id));
      await vi.waitFor(() => expect(steps.at(-1)).toEqual([id]), wait);
    }
    // Stepped one by one past turnsInFlightMax (2), each seen by immediate at once: folded into t1.
    expect(steps).toEqual([["t1"], ["s2"], ["s3"], ["s4"], ["s5"]]);
    expect(immediates.map((i) => i.messages)).toEqual([["reply:t1"], ["reply:s2"], ["reply:s3"], ["reply:s4"], ["reply:s5"]]);
    // Turns that log do not fold: one more fits (2 waiting), the next waits for room.
    loop.push(input("t6", forced("decision t6")));
    await vi.waitFor(() => expect(log.forceCalls.length).toBe(2), wait);
    loop.push(input("t7", forced("decision t7")));
    await macrotasks(10);
    expect(steps.length).toBe(6);
    expect(deliveries).toEqual([]);
    log.release(0);
    await vi.waitFor(() => expect(deliveries.length).toBe(1), wait);
    expect(deliveries[0]!.messages).toEqual(["reply:t1", "reply:s2", "reply:s3", "reply:s4", "reply:s5"]);
    await vi.waitFor(() => expect(steps.length).toBe(7), wait);
    log.release(1);
    await vi.waitFor(() => expect(deliveries.length).toBe(2), wait);
    expect(deliveries[1]!.messages).toEqual(["reply:t6"]);
    expect(violations).toEqual([]);
  });
});
