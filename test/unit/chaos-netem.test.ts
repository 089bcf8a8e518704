// The pure parts of `kv chaos --faults netem` (no namespace is made here; npm run test:netns runs it
// for real): the schedule draws link faults within their named bounds, from the seed alone; the
// nftables rules of a loss without netem; the check of what the outer run hands the inner one; and
// the table, which marks a run that injected no fault.
import { describe, expect, it } from "vitest";
import {
  drawFault,
  formatChaosReport,
  netDelayMsMax,
  netDelayMsMin,
  netFaultKinds,
  netLossPercentMax,
  netLossPercentMin,
  netThrottleKbitMax,
  netThrottleKbitMin,
  type ChaosReport,
} from "../../tools/chaos/chaos";
import { parseNetnsRun } from "../../tools/chaos/netns-cluster";
import { dropRules, qdiscArgs } from "../../tools/netns/network";
import { assertNever } from "../../common/assert";
import { Prng } from "../../common/prng";

const members = { coordinatorNames: ["coordinator", "coordinator-2"], replicaIds: ["r1", "r2", "r3"] };

describe("drawFault: link faults", () => {
  it("draws every link fault within its bounds, on any member, the same for the same seed", () => {
    const draw = (seed: number) => {
      const prng = new Prng(seed);
      return Array.from({ length: 400 }, () => drawFault(prng, netFaultKinds, members, 1_000));
    };
    const faults = draw(9);
    expect(draw(9)).toEqual(faults);
    expect(new Set(faults.map((fault) => fault.kind))).toEqual(new Set(netFaultKinds));
    expect(new Set(faults.map((fault) => fault.target))).toEqual(new Set([...members.coordinatorNames, ...members.replicaIds]));
    for (const fault of faults) {
      expect(fault.waitMs).toBeGreaterThanOrEqual(500);
      expect(fault.waitMs).toBeLessThanOrEqual(1_500);
      if (!("link" in fault)) throw new Error(`${fault.kind} is not a link fault`);
      const link = fault.link;
      switch (link.kind) {
        case "partition":
          expect(fault.kind).toBe("net-partition");
          break;
        case "loss":
          expect(fault.kind).toBe("net-loss");
          expect(link.percent).toBeGreaterThanOrEqual(netLossPercentMin);
          expect(link.percent).toBeLessThanOrEqual(netLossPercentMax);
          break;
        case "delay":
          expect(fault.kind).toBe("net-delay");
          expect(link.delayMs).toBeGreaterThanOrEqual(netDelayMsMin);
          expect(link.delayMs).toBeLessThanOrEqual(netDelayMsMax);
          expect(link.jitterMs).toBeLessThanOrEqual(link.delayMs / 4);
          break;
        case "throttle":
          expect(fault.kind).toBe("net-throttle");
          expect(link.rateKbit).toBeGreaterThanOrEqual(netThrottleKbitMin);
          expect(link.rateKbit).toBeLessThanOrEqual(netThrottleKbitMax);
          break;
        case "drop":
          throw new Error("the schedule draws loss; the cluster makes it a drop on a kernel without netem");
        default:
          assertNever(link);
      }
      // Each drawn fault is one tc or nft can make: qdiscArgs asserts the bounds of network.ts.
      expect(() => qdiscArgs(link)).not.toThrow();
    }
  });
});

describe("dropRules: loss by nftables", () => {
  it("drops the percentage both ways on the member's link only, and refuses what numgen cannot draw", () => {
    const rules = dropRules(12);
    expect(rules).toContain('oifname "eth0" numgen random mod 100 < 12 counter drop');
    expect(rules).toContain('iifname "eth0" numgen random mod 100 < 12 counter drop');
    expect(rules).toMatch(/hook output/);
    expect(rules).toMatch(/hook input/);
    expect(qdiscArgs({ kind: "drop", percent: 12 })).toBeNull();
    expect(() => dropRules(0)).toThrow(/drop 0%/);
    expect(() => dropRules(12.5)).toThrow(/whole number/);
  });
});

describe("parseNetnsRun", () => {
  it("reads what the outer run passes, and names what is wrong in anything else", () => {
    const run = { runId: "0a1b2c3d", available: ["net-partition", "net-throttle"], lossBy: null, notes: ["net-loss is unavailable here"] };
    expect(parseNetnsRun(JSON.stringify(run))).toEqual(run);
    expect(() => parseNetnsRun("{")).toThrow(/not JSON/);
    expect(() => parseNetnsRun(JSON.stringify({ ...run, runId: "../etc" }))).toThrow(/runId/);
    expect(() => parseNetnsRun(JSON.stringify({ ...run, available: ["kill"] }))).toThrow(/available/);
    expect(() => parseNetnsRun(JSON.stringify({ ...run, lossBy: "tc" }))).toThrow(/lossBy/);
    expect(() => parseNetnsRun(JSON.stringify({ ...run, notes: "x" }))).toThrow(/notes/);
  });
});

describe("formatChaosReport", () => {
  const report: ChaosReport = {
    seed: 4,
    keyPrefix: "chaos/4/x/",
    historyFile: "/tmp/h.jsonl",
    operations: { ok: 100, fail: 0, info: 0 },
    kinds: ["net-partition", "net-loss"],
    faults: { kill: 0, pause: 0, failpoint: 0, partition: 0, "net-partition": 2, "net-loss": 1, "net-delay": 0, "net-throttle": 0 },
    network: { runId: "0a1b2c3d", lossBy: "nftables", notes: ["net-delay is unavailable on this kernel"] },
    faultLog: [],
    progress: { seconds: 10, readsOk: 50, writesOk: 50, readsOkPerSecond: 5, writesOkPerSecond: 5, problems: [] },
    linearizability: "linearizable",
    linearizabilityDetails: "",
    missingAcknowledgedWrites: 0,
    missingDetails: [],
    replicasDiffering: 0,
    inDoubt: 0,
    syncAfterHealMs: 100,
    passed: true,
  };

  it("lists the kinds a run across namespaces drew from, its namespaces and the notes", () => {
    const table = formatChaosReport(report);
    expect(table).toMatch(/faults injected\s+net-partition 2, net-loss 1\s+ok/);
    expect(table).toMatch(/network namespaces\s+kv-0a1b2c3d-\*.*loss by nftables/);
    expect(table).toContain("note: net-delay is unavailable on this kernel");
  });

  it("marks a run that injected no fault, and says why it proves nothing", () => {
    const none = { ...report, faults: { ...report.faults, "net-partition": 0, "net-loss": 0 }, passed: false };
    const table = formatChaosReport(none);
    expect(table).toMatch(/faults injected\s+net-partition 0, net-loss 0\s+VIOLATION/);
    expect(table).toContain("no fault was injected");
  });

  it("keeps the four kinds of a run on 127.0.0.1, drawn or not, as before", () => {
    const local = { ...report, kinds: ["kill" as const], faults: { ...report.faults, kill: 3, "net-partition": 0, "net-loss": 0 }, network: null };
    expect(formatChaosReport(local)).toMatch(/faults injected\s+kill 3, pause 0, failpoint 0, partition 0\s+ok/);
  });
});
