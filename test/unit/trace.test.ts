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
  it("splits a write's life into the gaps between its marks, up to the answer with the durable decision", () => {
    const { trace, advance } = tracer();
    trace.requestArrived(1);
    const steps = [
      ["prepareSent", 100],
      ["votesIn", 2_000],
      ["decisionStepped", 30],
      ["decisionDurable", 1_500],
    ] as const;
    for (const [mark, gap] of steps) {
      advance(gap);
      trace.mark(mark, ["1.1"]);
    }
    advance(40);
    trace.replied(1, "1.1");
    const gaps = [100, 2_000, 30, 1_500];
    writePhases.forEach((name, i) => {
      expect(phase(trace, name).count).toBe(1);
      expectAbout(phase(trace, name).p50Us, gaps[i]!);
    });
    expectAbout(phase(trace, "write-total").p50Us, 100 + 2_000 + 30 + 1_500 + 40);
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
