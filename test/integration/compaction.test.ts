// Proves log compaction under load: with a tiny --compact-log-bytes, every process rewrites its
// write-ahead log many times while clients write and delete; the logs stay small; and after kill -9
// of every process in the middle of the stream and a restart, every acknowledged write is there, on
// every replica, and nothing is in doubt.
//
// A key may be missing at the end only if its last acknowledged write was a delete, or a delete whose
// outcome is unknown (its reply lost to the crash or a timeout) was invoked after the last put of the
// key was acknowledged: a delete that was refused, or sent before that put was acknowledged, cannot
// explain it. Each key has one writer, so the operations of a key are sequential and "after" is the
// writer's own order; the rule is a pure function (excusedBy), tested first on known answers.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

const compactLogBytes = 16 * 1024;

/** The last acknowledged write of a key: its value (null: a delete), version, and when it was acknowledged (a step of a counter). */
interface Acked {
  readonly value: string | null;
  readonly version: number;
  readonly ackedAt: number;
}

/**
 * Why a key may be absent at the end, or null when it may not: its last acknowledged write was a
 * delete, or a delete with an unknown outcome was invoked (at a step of the same counter) after that
 * write was acknowledged.
 */
function excusedBy(acked: Acked, unknownDeletesInvokedAt: readonly number[]): string | null {
  if (acked.value === null) return "its last acknowledged write is a delete";
  const after = unknownDeletesInvokedAt.find((invokedAt) => invokedAt > acked.ackedAt);
  return after === undefined ? null : `a delete invoked at step ${after}, after the put was acknowledged at step ${acked.ackedAt}, has an unknown outcome`;
}

describe("the excuse for a missing key", () => {
  it("is a delete of unknown outcome invoked after the put was acknowledged, never one before", () => {
    const put: Acked = { value: "v", version: 7, ackedAt: 10 };
    expect(excusedBy(put, [])).toBeNull();
    expect(excusedBy(put, [3])).toBeNull(); // sent before the put was acknowledged: it was overwritten
    expect(excusedBy(put, [3, 12])).toContain("step 12");
    expect(excusedBy({ value: null, version: 8, ackedAt: 11 }, [])).toContain("delete");
  });
});

describe("log compaction", () => {
  it("keeps the logs small and loses nothing across kill -9", async () => {
    const cluster = await TestCluster.start({ compactLogBytes });
    try {
      const acked = new Map<string, Acked>();
      // Per key, when each delete whose outcome is unknown (reply lost to a crash or a timeout) was invoked.
      const unknownDeletes = new Map<string, number[]>();
      // Orders every invocation and acknowledgement of every writer.
      let step = 0;
      let running = true;
      let writes = 0;
      const writers = Array.from({ length: 6 }, async (_, w) => {
        const kv = cluster.client(3_000);
        for (let i = 0; running; i++) {
          // Five keys of this writer's own, each put and deleted in turn (3 and 5 are coprime).
          const key = `w${w}-k${i % 5}`;
          const deleting = i % 3 === 2;
          const invokedAt = ++step;
          try {
            const value = deleting ? null : `w${w}-${i}`;
            const { version } = deleting ? await kv.del(key) : await kv.put(key, value!);
            if ((acked.get(key)?.version ?? 0) < version) acked.set(key, { value, version, ackedAt: ++step });
            writes += 1;
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
            if (deleting && (error.code === Code.UNAVAILABLE || error.code === Code.DEADLINE_EXCEEDED)) {
              unknownDeletes.set(key, [...(unknownDeletes.get(key) ?? []), invokedAt]);
            }
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

      // The decision log lives on the replicas (coordinator/replicated-log.ts): their logs hold it
      // too, and the coordinator's compaction sends them a new base.
      expect(fs.existsSync(path.join(cluster.dataDir, "coordinator", "coordinator.wal"))).toBe(false);
      const walSizes = cluster.replicaIds.map((id) => fs.statSync(path.join(cluster.dataDir, id, "replica.wal")).size);
      // A replica's log holds its own live records and its copy of the decision log (up to twice the
      // coordinator's live records, base64 in JSON), and is compacted once it has doubled: bounded by
      // the live state, not by the history. The live state here grows with the requests remembered
      // for exactly-once (one per write, kept for requestIdRetentionMs), hence a looser bound than a
      // log of prepares alone would need; without compaction 600 writes leave well over it.
      for (const size of walSizes) expect(size).toBeLessThan(16 * compactLogBytes);
      expect(new Set(await cluster.checksums()).size).toBe(1);
      for (const content of await cluster.contents()) {
        for (const [key, ack] of acked) {
          const stored = content.get(key);
          const storedVersion = stored?.version ?? 0;
          // The last acknowledged write of the key is there, or a later one (whose reply was lost).
          if (stored === undefined) {
            const deletes = unknownDeletes.get(key) ?? [];
            const lost = `key ${key} lost its acknowledged value ${ack.value} (version ${ack.version}, acknowledged at step ${ack.ackedAt}); ` +
              `deletes of unknown outcome invoked at steps: ${deletes.join(",") || "none"}`;
            expect(excusedBy(ack, deletes), lost).not.toBeNull();
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
