// The bookstore demo under chaos: order executors place multi-key orders (decrement each book's stock
// with floor 0, record the order) while the coordinator or a replica is killed with SIGKILL and
// restarted; the demo's own checks (initial - sold + restocked = final per book, stock never
// negative, one record per successful order) must pass, and the run must have injected faults.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePortRun, killAllStarted, runKv } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("kv demo bookstore --chaos", () => {
  it("passes its invariant checks while processes are killed and restarted", async () => {
    const port = await freePortRun();
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bookstore-report-")), "bookstore.html");
    const run = await runKv([
      "demo", "bookstore", "--chaos", "--seed", "5", "--orders", "400", "--executors", "6", "--books", "6", "--stock", "30",
      "--interval", "400ms", "--port", String(port), "--report", report,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code, run.stdout.split("\n").filter((line) => !line.startsWith("bookstore chaos:")).join("\n")).toBe(0);
    expect(run.stdout).toContain("PASSED");
    const faults = /faults injected: (\d+)/.exec(run.stdout);
    expect(Number(faults?.[1])).toBeGreaterThan(0);
    const orders = /orders: (\d+) placed, (\d+) succeeded, (\d+) refused/.exec(run.stdout);
    expect(Number(orders?.[1])).toBe(400);
    expect(Number(orders?.[2]) + Number(orders?.[3])).toBe(400); // every order's outcome is known
    expect(Number(orders?.[2])).toBeGreaterThan(0);
    const records = /order records: (\d+)/.exec(run.stdout);
    expect(Number(records?.[1])).toBe(Number(orders?.[2]));
    // --report: one self-contained page whose order series adds up to the orders placed.
    expect(run.stdout.trim().split("\n").at(-1)).toBe(`html report: ${report}`);
    const html = fs.readFileSync(report, "utf8");
    expect(html.match(/<svg/g)).toHaveLength(3);
    expect(html).not.toMatch(/https?:|<script|src=/);
    expect(html).toMatch(/<g class="series" data-series="order[^"]*" data-points="[1-9]/);
  }, 300_000); // about 30 s alone; a loaded machine has taken 165 s

  it("refuses --chaos with --coordinator, naming the flag", async () => {
    const run = await runKv(["demo", "bookstore", "--chaos", "--coordinator", "127.0.0.1:1"]);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("--chaos");
  });

  it("refuses a flag of the other demo, naming it and the demo it belongs to, before starting anything", async () => {
    // A demo that took the flag would run: killed after 20 s, it fails the test.
    const shop = await runKv(["demo", "shop", "--chaos"], {}, 20_000);
    expect(shop.code).toBe(3);
    expect(shop.stderr).toContain("--chaos is a flag of kv demo bookstore, not of kv demo shop");
    const bookstore = await runKv(["demo", "bookstore", "--shop-stock", "5"], {}, 20_000);
    expect(bookstore.code).toBe(3);
    expect(bookstore.stderr).toContain("--shop-stock is a flag of kv demo shop, not of kv demo bookstore");
    // --no-restock counts as given too.
    expect((await runKv(["demo", "shop", "--no-restock"], {}, 20_000)).stderr).toContain("--restock is a flag of kv demo bookstore");
  });
});
