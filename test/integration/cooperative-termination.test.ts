// Proves cooperative termination: the coordinator crashes (failpoint mid-commit-fanout) after its
// COMMIT reached one replica only. With the coordinator still down, the two replicas in doubt ask
// their peers, learn COMMIT from the one that has it, and apply the write: all three hold it and
// nothing stays prepared, before the coordinator ever comes back.
import { afterAll, describe, expect, it } from "vitest";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("cooperative termination", () => {
  it("replicas in doubt learn the outcome from a peer while the coordinator stays down", async () => {
    const cluster = await TestCluster.start({ failpoints: "coordinator:mid-commit-fanout=crash@1" });
    try {
      const kv = cluster.client(5_000);
      // The client hears "committed" once the decision is durable on a majority (issue 13); the
      // coordinator then crashes once one replica acknowledged the COMMIT.
      await expect(kv.put("decided", "committed")).resolves.toMatchObject({ version: 1 });
      const exit = await cluster.coordinator.exited;
      expect(exit.signal).toBe("SIGKILL");

      await waitFor(
        "every replica settled without the coordinator",
        async () => {
          const statuses = await Promise.all(cluster.replicaIds.map((_, i) => cluster.replicaStatus(i)));
          return statuses.every((status) => status.prepared.length === 0);
        },
        20_000,
      );
      expect(cluster.coordinator.alive).toBe(false);
      const contents = await cluster.contents();
      for (const content of contents) expect(content.get("decided")?.value).toBe("committed");
      const learned = cluster.replicas.filter((proc) => proc!.output.some((line) => line.includes('"event":"in-doubt-settled-by-peer"')));
      expect(learned).toHaveLength(2);
    } finally {
      await cluster.stop();
    }
  });
});
