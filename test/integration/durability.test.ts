// Proves durability under kill -9: while clients stream writes, the coordinator and then each
// replica in turn is killed with SIGKILL in the middle of the stream and restarted on the same data.
// Afterwards every acknowledged write is on every replica (each key holds its last acknowledged
// write, or a later write whose reply was lost in the crash), no replica holds a value no client
// wrote, no transaction stays in doubt, and the replicas are identical.
import { afterAll, describe, expect, it } from "vitest";
import { KvError } from "../../common/errors";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

interface Ack {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

/** Writers that keep writing until stopped, recording what was acknowledged and what was tried. */
class WriteStream {
  readonly acked: Ack[] = [];
  readonly attempted = new Map<string, string>(); // value -> key
  failures = 0;
  private running = true;
  private readonly done: Promise<void>[];

  constructor(cluster: TestCluster, writers: number, keys: number) {
    this.done = Array.from({ length: writers }, async (_, w) => {
      const kv = cluster.client(3_000);
      for (let i = 0; this.running; i++) {
        const key = `k${(w * 31 + i) % keys}`;
        const value = `w${w}-${i}`;
        this.attempted.set(value, key);
        try {
          const { version } = await kv.put(key, value);
          this.acked.push({ key, value, version });
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
          this.failures += 1;
          // The cluster is partly down: back off a little before the next try.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
  }

  /** Resolves once `count` more writes have been acknowledged. */
  async waitForAcks(count: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.length + count;
    await waitFor(`${count} more acknowledged writes`, () => this.acked.length >= target, timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }
}

describe("kill -9 in the middle of a stream of writes", () => {
  it("loses no acknowledged write and applies nothing half-way", async () => {
    const cluster = await TestCluster.start();
    try {
      const stream = new WriteStream(cluster, 8, 40);
      await stream.waitForAcks(100);

      // The coordinator dies with transactions at every stage; replicas hold some prepared.
      await cluster.coordinator.kill("SIGKILL");
      cluster.startCoordinator();
      await cluster.waitHealthy();
      await stream.waitForAcks(100);

      for (let i = 0; i < cluster.replicaIds.length; i++) {
        await cluster.replicas[i]!.kill("SIGKILL");
        cluster.startReplica(i);
        await cluster.waitHealthy();
        await stream.waitForAcks(100);
      }
      await stream.stop();
      await cluster.waitSettled();

      const contents = await cluster.contents();
      // Identical replicas.
      expect(new Set(await cluster.checksums()).size).toBe(1);
      const lastAcked = new Map<string, Ack>();
      for (const ack of stream.acked) {
        const previous = lastAcked.get(ack.key);
        if (previous === undefined || ack.version > previous.version) lastAcked.set(ack.key, ack);
      }
      for (const content of contents) {
        // Every acknowledged write is there, or was overwritten by a later write of the same key.
        for (const [key, ack] of lastAcked) {
          const stored = content.get(key);
          expect(stored, `key ${key}`).toBeDefined();
          expect(stored!.version).toBeGreaterThanOrEqual(ack.version);
          if (stored!.version === ack.version) expect(stored!.value).toBe(ack.value);
        }
        // Nothing that no client wrote, and each value under the key it was written to.
        for (const [key, stored] of content) expect(stream.attempted.get(stored.value), `value ${stored.value}`).toBe(key);
      }
      expect(stream.acked.length).toBeGreaterThanOrEqual(500);

      // The restarted processes logged their recovery.
      expect(cluster.coordinator.output.some((line) => line.includes('"event":"recovered"'))).toBe(true);
    } finally {
      await cluster.stop();
    }
  });
});
