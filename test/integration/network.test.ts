// Proves the store rides out a network partition of one replica: a TCP proxy between the
// coordinator and replica r3 black-holes its traffic (connections stay open, nothing arrives) while
// clients keep writing and reading. r3 leaves the in-sync set within a bounded time (every call
// carries a deadline; health checks stop answering), writes go on, reads never return a stale
// value; once the network heals r3 catches up and is in sync again with identical content.
import { afterAll, describe, expect, it } from "vitest";
import { KvError } from "../../common/errors";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("a partitioned replica", () => {
  it("is removed, writes continue, reads are never stale, and it comes back after the heal", async () => {
    const cluster = await TestCluster.start({ proxied: true });
    try {
      const writer = cluster.client(8_000);
      const reader = cluster.client(8_000);
      const status = cluster.client(3_000);
      const state = async (id: string) => (await status.status()).replicas.find((replica) => replica.id === id)?.state;
      const keys = ["p", "q", "r"];
      const acked = new Map<string, number>();
      const stale: string[] = [];
      let running = true;
      let writes = 0;
      const writing = (async () => {
        for (let i = 0; running; i++) {
          const key = keys[i % keys.length]!;
          try {
            const { version } = await writer.put(key, `v${i}`);
            acked.set(key, Math.max(acked.get(key) ?? 0, version));
            writes += 1;
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
          }
        }
      })();
      const reading = (async () => {
        for (let i = 0; running; i++) {
          const key = keys[i % keys.length]!;
          const floor = acked.get(key) ?? 0;
          try {
            const version = (await reader.get(key))?.version ?? 0;
            if (version < floor) stale.push(`${key}: read version ${version} after ${floor} was acknowledged`);
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
          }
        }
      })();

      await waitFor("writes before the partition", () => writes > 30);
      cluster.proxies[2]!.blackhole();
      await waitFor("r3 out of the in-sync set", async () => (await state("r3")) === "out", 20_000);
      const during = writes;
      await waitFor("writes going on during the partition", () => writes > during + 30, 20_000);

      // Heal: forward again, and reset the connections whose bytes were swallowed.
      cluster.proxies[2]!.pass();
      cluster.proxies[2]!.cut();
      await waitFor("r3 back in sync", async () => (await state("r3")) === "in-sync", 30_000);
      const after = writes;
      await waitFor("writes after the heal", () => writes > after + 30, 20_000);
      running = false;
      await Promise.all([writing, reading]);
      expect(stale).toEqual([]);
      await cluster.waitSettled();
      expect(new Set(await cluster.checksums()).size).toBe(1);
    } finally {
      await cluster.stop();
    }
  });
});
