// `kv demo shop` as a user runs it (issue 15): a real process that starts its own cluster and shop,
// runs the consistency scenario without faults and with kill -9 of the active coordinator and of r2,
// and prints each table. Smaller than its defaults (300 users, stock 30) to stay quick; the full
// scenario's numbers are test/integration/shop-consistency.test.ts's.
import { afterAll, describe, expect, it } from "vitest";
import { freePortRun, killAllStarted, runKv } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

/** The "actual" column of a table row, by its label. */
function figure(table: string, label: string): number {
  const row = new RegExp(`^${label}\\s+(\\d+)`, "m").exec(table);
  if (row === null) throw new Error(`no row "${label}" in:\n${table}`);
  return Number(row[1]);
}

describe("kv demo shop", () => {
  it("runs the scenario without faults and with kill -9 of the active coordinator and r2, and both pass", async () => {
    const port = await freePortRun();
    const run = await runKv(["demo", "shop", "--users", "300", "--shop-stock", "30", "--in-flight", "300", "--port", String(port)]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const [quiet, faulted] = run.stdout.split(/^(?=without faults:|with kill -9 of the active coordinator and of r2:)/m).slice(1);
    expect(quiet).toMatch(/^without faults: 300 orders by 300 users of 1 item \(stock 30, price 1\)/);
    expect(faulted).toMatch(/^with kill -9 of the active coordinator and of r2: 300 orders/);
    for (const table of [quiet!, faulted!]) {
      expect(table).toContain("PASSED");
      expect(figure(table, "successful checkouts")).toBe(30);
      expect(figure(table, "final stock")).toBe(0);
      expect(figure(table, "sum of credits")).toBe(270);
      expect(figure(table, "paid orders")).toBe(30);
      expect(figure(table, "outcome still unknown at the end")).toBe(0);
    }
    // The faults were injected, during the checkouts.
    expect(run.stdout).toMatch(/shop demo: kill -9 coordinator(-2)? and r2 after \d+ checkouts answered/);
    expect(run.stdout).toContain("a standby took over");
  }, 180_000);
});
