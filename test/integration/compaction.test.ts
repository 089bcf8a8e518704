// Proves log compaction under load: with a tiny --compact-log-bytes, every process rewrites its
// write-ahead log many times while clients write and delete; the logs stay small; and after kill -9
// of every process in the middle of the stream and a restart, every acknowledged write is there, on
// every replica, and nothing is in doubt.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

const compactLogBytes = 16 * 1024;

describe("log compaction", () => {
  it("keeps the logs small and loses nothing across kill -9", async () => {
    const cluster = await TestCluster.start({ compactLogBytes });
    try {
      const acked = new Map<string, { value: string | null; version: number }>();
      // Keys with a delete whose outcome is unknown (its reply was lost to a crash or a timeout).
      const unknownDeletes = new Set<string>();
      let running = true;
      let writes = 0;
      const writers = Array.from({ length: 6 }, async (_, w) => {
        const kv = cluster.client(3_000);
        for (let i = 0; running; i++) {
          const key = `k${(w * 7 + i) % 30}`;
          const deleting = i % 5 === 4;
          try {
            const value = deleting ? null : `w${w}-${i}`;
            const { version } = deleting ? await kv.del(key) : await kv.put(key, value!);
            if ((acked.get(key)?.version ?? 0) < version) acked.set(key, { value, version });
            writes += 1;
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
            if (deleting && (error.code === Code.UNAVAILABLE || error.code === Code.DEADLINE_EXCEEDED)) unknownDeletes.add(key);
          }
        }
      });
      await waitFor("enough writes for several compactions", () => writes >= 600, 60_000);
      const compactedBy = (proc: { output: string[] }) => proc.output.filter((line) => line.includes('"event":"log-compacted"')).length;
      expect(compactedBy(cluster.coordinator)).toBeGreaterThan(0);
      for (const replica of cluster.replicas) expect(compactedBy(replica!)).toBeGreaterThan(0);

      // Everything dies mid-stream, and comes back.
      await Promise.all([cluster.coordinator, ...cluster.replicas].map((proc) => proc!.kill("SIGKILL")));
      running = false;
      await Promise.all(writers);
      for (let i = 0; i < cluster.replicaIds.length; i++) cluster.startReplica(i);
      cluster.startCoordinator();
      await cluster.waitHealthy();
      await cluster.waitSettled();

      const walSizes = [
        fs.statSync(path.join(cluster.dataDir, "coordinator", "coordinator.wal")).size,
        ...cluster.replicaIds.map((id) => fs.statSync(path.join(cluster.dataDir, id, "replica.wal")).size),
      ];
      for (const size of walSizes) expect(size).toBeLessThan(4 * compactLogBytes);
      expect(new Set(await cluster.checksums()).size).toBe(1);
      for (const content of await cluster.contents()) {
        for (const [key, ack] of acked) {
          const stored = content.get(key);
          const storedVersion = stored?.version ?? 0;
          // The last acknowledged write of the key is there, or a later one (whose reply was lost).
          if (stored === undefined) {
            // Deleted: by the last acknowledged write, or by a delete whose reply was lost.
            if (ack.value !== null) expect(unknownDeletes.has(key), `key ${key} lost its acknowledged value`).toBe(true);
          } else {
            expect(storedVersion).toBeGreaterThanOrEqual(ack.version);
            if (storedVersion === ack.version) expect(stored.value).toBe(ack.value);
          }
        }
      }
    } finally {
      await cluster.stop();
    }
  });
});
