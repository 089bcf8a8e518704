// replica/outcome-target.ts: whom a replica asks about the outcome of its in-doubt transactions, the
// rule both the shipped transport and the simulator's use.
import { describe, expect, it } from "vitest";
import { OutcomeTarget } from "../../replica/outcome-target";

describe("OutcomeTarget", () => {
  it("asks the first configured coordinator until it promised one, then the one it promised", () => {
    const target = new OutcomeTarget(["c1", "c2"]);
    expect(target.current).toBe("c1");
    expect(target.follow("")).toBe(false);
    expect(target.current).toBe("c1");
    expect(target.follow("c2")).toBe(true);
    expect(target.current).toBe("c2");
    expect(target.follow("c2")).toBe(false);
  });

  it("moves on to the next configured coordinator after a failed query, wrapping around", () => {
    const target = new OutcomeTarget(["c1", "c2", "c3"]);
    expect(target.failed("c1")).toBe(true);
    expect(target.current).toBe("c2");
    expect(target.failed("c2")).toBe(true);
    expect(target.failed("c3")).toBe(true);
    expect(target.current).toBe("c1");
  });

  it("keeps the target when it moved on since the failed query was sent (a promise, or another failure)", () => {
    const target = new OutcomeTarget(["c1", "c2", "c3"]);
    target.follow("c3");
    // A query to c1, sent before the promise, fails now: c3 stays the target.
    expect(target.failed("c1")).toBe(false);
    expect(target.current).toBe("c3");
  });

  it("goes to the first configured one after a failed query to a coordinator it followed but was not configured with", () => {
    const target = new OutcomeTarget(["c1", "c2"]);
    target.follow("c9");
    expect(target.failed("c9")).toBe(true);
    expect(target.current).toBe("c1");
  });

  it("with one coordinator, a failed query changes nothing", () => {
    const target = new OutcomeTarget(["c1"]);
    expect(target.failed("c1")).toBe(false);
    expect(target.current).toBe("c1");
  });
});
