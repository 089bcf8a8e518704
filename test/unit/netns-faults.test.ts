// The tc arguments of each network fault of tools/netns/network.ts (pure: no namespace is made
// here; npm run test:netns applies them for real). A fault outside its bounds is a bug of the
// caller, so it fails an assertion naming the bound.
import { describe, expect, it } from "vitest";
import { netemDelayMsMax, qdiscArgs, throttleKbitMin } from "../../tools/netns/network";

describe("qdiscArgs", () => {
  it("turns each fault into the qdisc that makes it, and a partition into none (the bridge port is disabled instead)", () => {
    expect(qdiscArgs({ kind: "delay", delayMs: 40, jitterMs: 10 })).toEqual(["netem", "delay", "40ms", "10ms"]);
    expect(qdiscArgs({ kind: "loss", percent: 12.5 })).toEqual(["netem", "loss", "12.5%"]);
    expect(qdiscArgs({ kind: "throttle", rateKbit: 64 })).toEqual(["tbf", "rate", "64kbit", "burst", "1600", "limit", "3000"]);
    expect(qdiscArgs({ kind: "partition" })).toBeNull();
  });

  it("refuses parameters outside their bounds, naming the bound", () => {
    expect(() => qdiscArgs({ kind: "delay", delayMs: netemDelayMsMax + 1, jitterMs: 0 })).toThrow(/netemDelayMsMax/);
    expect(() => qdiscArgs({ kind: "delay", delayMs: 10, jitterMs: 11 })).toThrow(/jitterMs/);
    expect(() => qdiscArgs({ kind: "loss", percent: 0 })).toThrow(/loss 0%/);
    expect(() => qdiscArgs({ kind: "loss", percent: 101 })).toThrow(/loss 101%/);
    expect(() => qdiscArgs({ kind: "throttle", rateKbit: throttleKbitMin - 1 })).toThrow(/throttleKbitMin/);
  });
});
