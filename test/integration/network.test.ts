// Proves the store rides out a network partition of one replica: a TCP proxy between the
// coordinator and replica r3 black-holes its traffic (connections stay open, nothing arrives) while
// clients keep writing and reading. r3 leaves the in-sync set within a bounded time (every call
// carries a deadline; health checks stop answering), writes go on, reads never return a stale
// value; once the network heals r3 catches up and is in sync again with identical content.
import { afterAll, describe, expect, it } from "vitest";
import { killAllStarted, ReadWriteLoad, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("a partitioned replica", () => {
  it("is removed, writes continue, reads are never stale, and it comes back after the heal", async () => {
    const cluster = await TestCluster.start({ proxied: true });
    try {
      const status = cluster.client(3_000);
      const state = async (id: string) => (await status.status()).replicas.find((replica) => replica.id === id)?.state;
      const load = new ReadWriteLoad(cluster, ["p", "q", "r"]);
      await load.moreWrites(30);
      cluster.proxies[2]!.blackhole();
      await waitFor("r3 out of the in-sync set", async () => (await state("r3")) === "out", 20_000);
      await load.moreWrites(30);

      // Heal: forward again, and reset the connections whose bytes were swallowed.
      cluster.proxies[2]!.pass();
      cluster.proxies[2]!.cut();
      await waitFor("r3 back in sync", async () => (await state("r3")) === "in-sync", 30_000);
      await load.moreWrites(30);
      await load.moreReads(30);
      await load.stop();
      expect(load.stale).toEqual([]);
      await cluster.waitSettled();
      expect(new Set(await cluster.checksums()).size).toBe(1);
    } finally {
      await cluster.stop();
    }
  });
});
