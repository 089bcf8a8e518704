// Proves the web shop's checkout is one all-or-nothing transaction under load and under kill -9
// (issue 15's consistency scenario, tools/demo/shop.ts): one item with stock 100 and price 1, 1,000
// users with credit 1, 1,000 orders of that item by users picked at random, all 1,000 checkouts sent
// at once (1,000 in flight) through a real `kv shop` process to a real cluster of two coordinators
// and three replicas. Exactly 100 succeed, the stock ends at 0, the credits sum to 900, and the paid
// orders are exactly the successful checkouts. Then again, on fresh keys, while the active
// coordinator is killed with SIGKILL (the standby takes over; the killed one is restarted) and a
// replica is killed and restarted, and then the new active coordinator kills itself (a failpoint)
// right after a commit, before its reply: the same numbers, once the checkouts whose outcome was
// unknown were sent again with their Idempotency-Key; and every replica ends with the same contents.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runShopScenario, formatShopReport, type ShopScenarioReport } from "../../tools/demo/shop";
import { coordinatorName } from "../../tools/cluster/process-args";
import { killAllStarted, Proc, TestCluster, waitFor } from "./harness";
import { startShopProc } from "./shop-process";

let cluster: TestCluster;
const shops: Proc[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ coordinators: 2, logLevel: "warn" });
});

afterAll(async () => {
  for (const shop of shops) await shop.kill("SIGKILL");
  await cluster?.stop();
  await killAllStarted();
});

function expectConsistent(report: ShopScenarioReport): void {
  const text = formatShopReport("shop", report);
  expect(report.checkoutsSucceeded, text).toBe(100);
  expect(report.finalStock, text).toBe(0);
  expect(report.creditSum, text).toBe(900);
  expect(report.paidOrders, text).toBe(100);
  expect(report.paidWithoutSuccess, text).toEqual([]);
  expect(report.successWithoutPaid, text).toEqual([]);
  expect(report.refusedOther, text).toBe(0);
  expect(report.unresolved, text).toBe(0);
  expect(report.refusedStock + report.refusedCredit, text).toBe(900);
  expect(report.inFlightMax, text).toBeGreaterThanOrEqual(100);
  expect(report.passed, text).toBe(true);
}

/** A shop on its own prefix; retryForMs: how long its client library retries a call before the shop answers 503. */
async function shopFor(prefix: string, retryForMs: number): Promise<string> {
  const { proc, url } = await startShopProc(cluster.coordinatorAddress, prefix, ["--retry-for", String(retryForMs)]);
  shops.push(proc);
  return url;
}

describe("the consistency scenario", () => {
  it("1,000 concurrent checkouts of 1,000 orders for a stock of 100: exactly 100 pay", async () => {
    const url = await shopFor("consistency/quiet/", 20_000);
    const report = await runShopScenario({ url, stock: 100, users: 1_000, inFlight: 1_000, seed: 1, retryForMs: 60_000, faults: null });
    console.log(formatShopReport("no faults", report));
    expectConsistent(report);
  });

  it("the same with kill -9 of the active coordinator and of a replica during the checkouts", async () => {
    // The standby is restarted with a failpoint that kills it (SIGKILL of itself) right after its
    // 20th commit, before it replies: a checkout that committed but whose client never heard so,
    // the case an Idempotency-Key retry must answer 200 for without paying twice.
    const active = await cluster.activeCoordinator();
    if (active === null) throw new Error("no active coordinator");
    const standby = 1 - active;
    await cluster.coordinatorProcs[standby]!.kill("SIGKILL");
    const crashing = cluster.startCoordinator({ failpoints: `${coordinatorName(standby)}:after-commit-before-reply=crash@20` }, standby);
    await waitFor("the restarted coordinator standing by", async () => (await cluster.roleOf(standby)) === "standby", 30_000);

    // A short retry window, shorter than a takeover: checkouts whose outcome is unknown reach the
    // shop (which asks txnStatus) and the HTTP client (503, sent again with the same key), rather
    // than being absorbed by the library's own retries.
    const url = await shopFor("consistency/faults/", 300);
    const faults: string[] = [];
    const report = await runShopScenario({
      url,
      stock: 100,
      users: 1_000,
      inFlight: 1_000,
      seed: 2,
      retryForMs: 60_000,
      faults: async (answered) => {
        await waitFor("20 checkouts answered", () => answered() >= 20, 30_000);
        await cluster.coordinatorProcs[active]!.kill("SIGKILL");
        await cluster.replicas[1]!.kill("SIGKILL");
        faults.push(`kill -9 of ${coordinatorName(active)} and r2 after ${answered()} answers`);
        // The standby takes over; then the dead come back (the coordinator as a standby).
        await waitFor("the standby active", async () => (await cluster.activeCoordinator()) === standby, 30_000);
        cluster.startCoordinator({}, active);
        cluster.startReplica(1);
        // The new active coordinator kills itself after its 20th commit; the first takes over again.
        await waitFor(`${coordinatorName(standby)} crashed at its failpoint`, () => !crashing.alive, 60_000);
        faults.push(`${coordinatorName(standby)} killed itself after a commit, before replying, after ${answered()} answers`);
        await waitFor("the first coordinator active again", async () => (await cluster.activeCoordinator()) === active, 30_000);
        cluster.startCoordinator({}, standby);
      },
    });
    const faultsDone = faults.join("; ");
    console.log(`${faultsDone}\n${formatShopReport("kill -9 of the active coordinator and of r2", report)}`);
    expect(faults.length, faultsDone).toBe(2);
    expect(report.retried, "no checkout met the faults").toBeGreaterThan(0);
    expectConsistent(report);
    // Every replica, r2 caught up, holds the same data.
    await cluster.waitHealthy(60_000);
    await waitFor("every replica in sync with the same contents", async () => {
      const states = await Promise.all(cluster.replicaIds.map((id) => cluster.replicaState(id)));
      if (!states.every((state) => state === "in-sync")) return false;
      const sums = await cluster.checksums();
      return sums.every((sum) => sum === sums[0]);
    }, 60_000);
  });
});
