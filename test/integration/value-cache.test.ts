// Proves `kv coordinator --value-cache-mib` reaches the core (coordinator/value-cache.ts, issue 15):
// with the default, the second of two increments of one key is evaluated over the state the first
// committed (its metrics count a hit); with --value-cache-mib 0 both read the key from a replica (no
// hit, no entry), and the increments still add up; a value that is not a whole number of MiB is
// refused at start, naming the flag. Real processes, the metrics scraped over HTTP.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/ports";
import { killAllStarted, runKv, TestCluster, waitFor } from "./harness";

afterAll(killAllStarted);

/** A sample's value in a Prometheus text scrape (0 when the scrape lacks it). */
async function sample(address: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

describe("kv coordinator --value-cache-mib", () => {
  it("the default cache answers a second increment of a key without a read; --value-cache-mib 0 reads every time", async () => {
    const cluster = await TestCluster.start();
    try {
      for (const [mib, hitsExpected] of [[null, true] as const, ["0", false] as const]) {
        await cluster.coordinator.kill("SIGKILL");
        const metrics = `127.0.0.1:${await freePort()}`;
        cluster.startCoordinator({ args: ["--metrics-listen", metrics, ...(mib === null ? [] : ["--value-cache-mib", mib])] });
        await cluster.waitHealthy();
        const kv = cluster.client(10_000, 10_000);
        const key = `counter-${mib ?? "default"}`;
        await kv.increment(key, 1);
        const second = await kv.increment(key, 1);
        expect(second.value).toBe(2);
        const hit = 'kv_coordinator_value_cache_lookups_total{result="hit"}';
        const missed = await waitFor("both increments counted", async () => {
          const misses = await sample(metrics, 'kv_coordinator_value_cache_lookups_total{result="miss"}');
          return misses + (await sample(metrics, hit)) >= 2 ? misses : undefined;
        });
        if (hitsExpected) {
          expect(await sample(metrics, hit)).toBe(1);
          expect(missed).toBe(1);
          expect(await sample(metrics, "kv_coordinator_value_cache_entries")).toBeGreaterThanOrEqual(1);
        } else {
          expect(await sample(metrics, hit)).toBe(0);
          expect(missed).toBe(2);
          expect(await sample(metrics, "kv_coordinator_value_cache_entries")).toBe(0);
        }
      }
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it("refuses a value that is not a whole number of MiB, naming the flag", async () => {
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-value-cache-"));
    // A coordinator that took the flag would start serving: killed after 20 s, it fails the test.
    const args = ["coordinator", "--id", "c", "--listen", `127.0.0.1:${port}`, "--replicas", "r1=127.0.0.1:1", "--data-dir", dataDir, "--value-cache-mib", "1.5"];
    const { code, stderr } = await runKv(args, {}, 20_000).finally(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    expect(code).not.toBe(0);
    expect(stderr).toContain("--value-cache-mib must be a whole number of MiB");
  });
});
