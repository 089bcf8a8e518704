import { describe, expect, it } from "vitest";
import { PhaseTrace, writePhases } from "../../coordinator/trace";
import { limits } from "../../common/limits";

/** HdrHistogram keeps 3 significant digits: a value reads back within 0.1 %. */
function expectAbout(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(expected / 1000 + 1);
}

/** A tracer over a clock the test moves by hand. */
function tracer(): { trace: PhaseTrace; advance: (us: number) => void } {
  let now = 0;
  return { trace: new PhaseTrace(() => now), advance: (us) => void (now += us) };
}

function phase(trace: PhaseTrace, name: string) {
  const found = trace.summary().find((p) => p.phase === name);
  if (found === undefined) throw new Error(`no phase ${name}`);
  return found;
}

describe("PhaseTrace", () => {
  it("splits a write's life: admit, prepare round and decide up to the answer; the decision's force apart, as it overlaps the prepare round", () => {
    const { trace, advance } = tracer();
    trace.requestArrived(1);
    // Intent commits: the COMMIT record is stepped with the PREPAREs, before they leave, and is
    // durable while the votes are on their way.
    const steps = [
      ["decisionStepped", 60],
      ["prepareSent", 40],
      ["decisionDurable", 1_500],
      ["votesIn", 500],
    ] as const;
    for (const [mark, gap] of steps) {
      advance(gap);
      trace.mark(mark, ["1.1"]);
    }
    advance(30);
    trace.replied(1, "1.1");
    const expected: Record<(typeof writePhases)[number], number> = {
      admit: 60 + 40, // arrived -> PREPARE left
      "prepare-round": 1_500 + 500, // PREPARE left -> the last vote
      decide: 30, // the last vote -> the answer
      "decision-force": 40 + 1_500, // the record stepped -> durable
    };
    for (const name of writePhases) {
      expect(phase(trace, name).count, name).toBe(1);
      expectAbout(phase(trace, name).p50Us, expected[name]);
    }
    // The total is the answer's time since arrival, not the sum of the phases (the force overlaps).
    expectAbout(phase(trace, "write-total").p50Us, 60 + 40 + 1_500 + 500 + 30);
    // After the answer: COMMIT leaves, and each replica's acknowledgement is one commit round.
    advance(10);
    trace.mark("commitSent", ["1.1"]);
    advance(700);
    trace.mark("acksIn", ["1.1"]);
    advance(300);
    trace.mark("acksIn", ["1.1"]);
    expect(phase(trace, "commit-round").count).toBe(2);
    expectAbout(phase(trace, "commit-round").maxUs, 1_000);
    // Once forgotten (END), a late acknowledgement records nothing.
    trace.forget("1.1");
    trace.mark("acksIn", ["1.1"]);
    expect(phase(trace, "commit-round").count).toBe(2);
  });

  it("a decide phase that waits for the COMMIT record's force (durable after the last vote) runs to the answer", () => {
    const { trace, advance } = tracer();
    trace.requestArrived(2);
    trace.mark("decisionStepped", ["1.9"]);
    trace.mark("prepareSent", ["1.9"]);
    advance(400);
    trace.mark("votesIn", ["1.9"]);
    advance(900);
    trace.mark("decisionDurable", ["1.9"]);
    advance(100);
    trace.replied(2, "1.9");
    expectAbout(phase(trace, "admit").p50Us, 0);
    expectAbout(phase(trace, "prepare-round").p50Us, 400);
    expectAbout(phase(trace, "decide").p50Us, 1_000);
    expectAbout(phase(trace, "decision-force").p50Us, 1_300);
    expectAbout(phase(trace, "write-total").p50Us, 1_400);
  });

  it("without a durable mark for its record, a write is recorded without decision-force", () => {
    const { trace, advance } = tracer();
    trace.requestArrived(3);
    trace.mark("prepareSent", ["1.8"]);
    advance(200);
    trace.mark("votesIn", ["1.8"]);
    trace.replied(3, "1.8");
    expect(phase(trace, "write-total").count).toBe(1);
    expect(phase(trace, "decide").count).toBe(1);
    expect(phase(trace, "decision-force").count).toBe(0);
  });

  it("keeps the first PREPARE and COMMIT sent (re-sends do not move them) and the last answer", () => {
    const { trace, advance } = tracer();
    trace.requestArrived(7);
    trace.mark("prepareSent", ["1.2"]);
    advance(500);
    trace.mark("prepareSent", ["1.2"]);
    trace.mark("votesIn", ["1.2"]);
    advance(300);
    trace.mark("votesIn", ["1.2"]);
    for (const mark of ["decisionStepped", "decisionDurable"] as const) trace.mark(mark, ["1.2"]);
    trace.replied(7, "1.2");
    expectAbout(phase(trace, "prepare-round").p50Us, 800);
  });

  it("records nothing for a failed request or one whose marks are missing, and forgets both", () => {
    const { trace } = tracer();
    trace.requestArrived(1);
    trace.replied(1, undefined);
    trace.requestArrived(2);
    trace.mark("prepareSent", ["1.3"]);
    trace.replied(2, "1.3");
    expect(phase(trace, "write-total").count).toBe(0);
    // The record stepped opens an entry, but without PREPARE sent and votes in nothing is recorded.
    trace.requestArrived(3);
    trace.mark("decisionStepped", ["1.5"]);
    trace.mark("decisionDurable", ["1.5"]);
    trace.replied(3, "1.5");
    expect(phase(trace, "write-total").count).toBe(0);
    expect(phase(trace, "decision-force").count).toBe(0);
    // A mark for a transaction never sent is ignored rather than opening an entry.
    trace.mark("acksIn", ["1.4"]);
    expect(phase(trace, "write-total").count).toBe(0);
  });

  it("reset starts every phase afresh; reads have their own phase", () => {
    const { trace, advance } = tracer();
    const start = trace.now();
    advance(1_234);
    trace.readDone(start);
    expectAbout(phase(trace, "read-round").p50Us, 1_234);
    trace.reset();
    expect(trace.summary().every((p) => p.count === 0)).toBe(true);
  });

  it("follows at most traceOpenMax transactions, dropping the oldest", () => {
    const { trace } = tracer();
    trace.requestArrived(0);
    for (let i = 0; i <= limits.traceOpenMax; i++) trace.mark("prepareSent", [`1.${i + 1}`]);
    for (const mark of ["votesIn", "decisionStepped", "decisionDurable"] as const) trace.mark(mark, ["1.1", `1.${limits.traceOpenMax + 1}`]);
    trace.replied(0, "1.1");
    expect(phase(trace, "write-total").count).toBe(0);
    trace.requestArrived(1);
    for (const mark of ["votesIn", "decisionStepped", "decisionDurable"] as const) trace.mark(mark, [`1.${limits.traceOpenMax + 1}`]);
    trace.replied(1, `1.${limits.traceOpenMax + 1}`);
    expect(phase(trace, "write-total").count).toBe(1);
  });
});
