// The client's belief of which coordinator is active (client/coordinators.ts), without a network:
// how a list is parsed, what a failed attempt says (redirect, not sent, unknown), and where the
// belief goes after it. The fake-server test (test/integration/client-failover.test.ts) checks the
// same rules through gRPC.
import { describe, expect, it } from "vitest";
import { classifyFailure, CoordinatorRing, learnedCoordinatorsMax, parseCoordinators } from "../../client/coordinators";
import { Code, KvError } from "../../common/errors";

const a = "127.0.0.1:1001";
const b = "127.0.0.1:1002";
const c = "127.0.0.1:1003";

describe("parseCoordinators", () => {
  it("takes one address, a comma-separated list or an array; trims, drops empty items and duplicates", () => {
    expect(parseCoordinators(a)).toEqual([a]);
    expect(parseCoordinators(` ${a}, ${b},,${a} `)).toEqual([a, b]);
    expect(parseCoordinators([b, a])).toEqual([b, a]);
  });
  it("refuses an empty list and an item that is not HOST:PORT, naming the field", () => {
    for (const bad of ["", " , ", `${a},nonsense`, "host:0", "host:70000"]) {
      let error: unknown;
      try {
        parseCoordinators(bad, "--coordinator");
      } catch (caught) {
        error = caught;
      }
      expect(error, bad).toBeInstanceOf(KvError);
      expect((error as KvError).code).toBe(Code.INVALID_ARGUMENT);
      expect((error as KvError).message).toContain("--coordinator");
    }
  });
});

describe("classifyFailure", () => {
  it("a named active coordinator is a redirect; an empty, bad or self-naming one, or a connection never made, is not-sent; else unknown", () => {
    expect(classifyFailure(a, b, "coordinator x is a standby")).toEqual({ kind: "redirect", to: b });
    expect(classifyFailure(a, ` ${b} `, "")).toEqual({ kind: "redirect", to: b });
    expect(classifyFailure(a, "", "standby")).toEqual({ kind: "not-sent" });
    expect(classifyFailure(a, a, "standby")).toEqual({ kind: "not-sent" });
    expect(classifyFailure(a, "not an address", "standby")).toEqual({ kind: "not-sent" });
    expect(classifyFailure(a, null, "No connection established. Last error: connect ECONNREFUSED")).toEqual({ kind: "not-sent" });
    expect(classifyFailure(a, null, "coordinator x is a standby; no active coordinator is known")).toEqual({ kind: "unknown" });
    expect(classifyFailure(a, null, "Deadline exceeded")).toEqual({ kind: "unknown" });
  });
});

describe("CoordinatorRing", () => {
  it("starts at the first, goes round robin on failures, and believes a redirect at once", () => {
    const ring = new CoordinatorRing([a, b, c]);
    expect(ring.current).toBe(a);
    ring.failed(a, { kind: "unknown" });
    expect(ring.current).toBe(b);
    ring.failed(b, { kind: "not-sent" });
    expect(ring.current).toBe(c);
    ring.failed(c, { kind: "unknown" });
    expect(ring.current).toBe(a);
    ring.failed(a, { kind: "redirect", to: c });
    expect(ring.current).toBe(c);
    // Round robin goes on after the redirect's target.
    ring.failed(c, { kind: "unknown" });
    expect(ring.current).toBe(a);
  });

  it("a late failure at an address no longer believed does not undo a move", () => {
    const ring = new CoordinatorRing([a, b, c]);
    ring.failed(a, { kind: "unknown" });
    expect(ring.current).toBe(b);
    ring.failed(a, { kind: "unknown" });
    expect(ring.current).toBe(b);
  });

  it("learns a redirect outside the list, up to learnedCoordinatorsMax; past that, goes round robin", () => {
    const ring = new CoordinatorRing([a, b]);
    const outside = Array.from({ length: learnedCoordinatorsMax + 1 }, (_, i) => `10.0.0.${i + 1}:50051`);
    for (const address of outside.slice(0, learnedCoordinatorsMax)) {
      ring.failed(ring.current, { kind: "redirect", to: address });
      expect(ring.current).toBe(address);
    }
    expect(ring.known).toEqual([a, b, ...outside.slice(0, learnedCoordinatorsMax)]);
    // A learned one fails: back to the list, after the last configured address pointed at.
    ring.failed(ring.current, { kind: "redirect", to: outside[learnedCoordinatorsMax]! });
    expect(ring.known).toHaveLength(2 + learnedCoordinatorsMax);
    expect([a, b]).toContain(ring.current);
  });
});
