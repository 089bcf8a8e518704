// Proves `kv backup` and `kv restore` (issue 14): four writers put and delete their own keys on a
// cluster while `kv backup` takes a snapshot; the snapshot is restored into a fresh directory, a
// `kv cluster` started on it, and every replica of the new cluster must hold exactly the snapshot's
// contents: for every key, the acknowledged write with the highest version up to the snapshot's
// commit sequence number (absent if that was a delete, or if there was none), and nothing written
// after it. A write on the restored cluster must then apply over the restored versions (new commits
// are numbered after the snapshot's). Also: the limits and refusals at the edges (chunk size over
// backupChunkBytesMax, a non-empty data directory, a file that is no backup).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient, KvError } from "../../client/client";
import { limits } from "../../common/limits";
import { channelOptions, participantProto } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import type { DumpResponse__Output } from "../../proto/gen/twopc/participant/DumpResponse";
import { freePortRun, killAllStarted, kvScript, Proc, runKv, stopClusterProc, TestCluster, waitFor } from "./harness";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-backup-"));
const procs: Proc[] = [];
let source: TestCluster | null = null;

afterAll(async () => {
  for (const proc of procs) await stopClusterProc(proc);
  await source?.stop();
  await killAllStarted();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Acked {
  readonly key: string;
  readonly value: string | null;
  readonly version: number;
}

function dumpOf(address: string): Promise<DumpResponse__Output> {
  const client = new participantProto.Participant(address, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
  return new Promise<DumpResponse__Output>((resolve, reject) =>
    client.Dump({}, { deadline: new Date(Date.now() + 10_000) }, (error, response) => (error || !response ? reject(error ?? new Error("no response")) : resolve(response))),
  ).finally(() => client.close());
}

describe("kv backup and kv restore", () => {
  it("restores exactly the snapshot's commits, taken while writes go on", async () => {
    source = await TestCluster.start({ coordinators: 1 });
    const acked: Acked[] = [];
    let running = true;
    let failed = 0;
    const writers = Array.from({ length: 4 }, (_, w) =>
      (async () => {
        const kv = new KvClient(source!.coordinatorAddress, { timeoutMs: 5_000, retryForMs: 10_000 });
        try {
          for (let i = 0; running; i++) {
            const key = `w${w}/k${i % 25}`;
            try {
              if (i % 7 === 6) acked.push({ key, value: null, version: (await kv.del(key)).version });
              else {
                const value = `w${w}-${i}`;
                acked.push({ key, value, version: (await kv.put(key, value)).version });
              }
            } catch (error) {
              if (!(error instanceof KvError)) throw error;
              failed += 1;
            }
          }
        } finally {
          kv.close();
        }
      })(),
    );
    const file = path.join(tmp, "snapshot.sqlite");
    await waitFor("writes before the backup", () => acked.length >= 300, 30_000);
    const backedUp = await runKv(["backup", file, "--coordinator", source.coordinatorAddress, "--chunk-bytes", "4096"]);
    const ackedAtBackup = acked.length;
    await waitFor("writes after the backup", () => acked.length >= ackedAtBackup + 200, 30_000);
    running = false;
    await Promise.all(writers);
    expect(backedUp.stderr).toBe("");
    expect(backedUp.code).toBe(0);
    const match = /^OK backup of commit sequence number (\d+) from replica (r\d): (\d+) keys/.exec(backedUp.stdout);
    expect(match, backedUp.stdout).not.toBeNull();
    const seq = Number(match![1]);
    // Every write's outcome is known (retried under its request id until definite), so the expected
    // contents are exact.
    expect(failed).toBe(0);
    expect(acked.some((write) => write.version <= seq)).toBe(true);
    expect(acked.some((write) => write.version > seq)).toBe(true);
    const expected = new Map<string, { value: string; version: number }>();
    const newest = new Map<string, Acked>();
    for (const write of acked) {
      if (write.version > seq) continue;
      const before = newest.get(write.key);
      if (before === undefined || write.version > before.version) newest.set(write.key, write);
    }
    for (const write of newest.values()) if (write.value !== null) expected.set(write.key, { value: write.value, version: write.version });
    expect(Number(match![3])).toBe(expected.size);

    // Restore into a fresh directory, refused over one that holds anything.
    const dataDir = path.join(tmp, "restored");
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, "something"), "x");
    const refused = await runKv(["restore", file, "--data-dir", dataDir, "--replicas", "3", "--coordinators", "1"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("is not empty");
    fs.rmSync(path.join(dataDir, "something"));
    const restored = await runKv(["restore", file, "--data-dir", dataDir, "--replicas", "3", "--coordinators", "1"]);
    expect(restored.stderr).toBe("");
    expect(restored.stdout).toContain(`OK restored commit sequence number ${seq} (${expected.size} keys)`);

    const port = await freePortRun();
    const child = spawn(process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dataDir, "--port", String(port), "--coordinators", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    const cluster = new Proc("restored cluster", child);
    procs.push(cluster);
    await waitFor("the restored cluster ready", () => cluster.output.some((line) => line.startsWith("kv cluster: ready")), 30_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; its output: ${cluster.output.slice(-15).join("\n")}`);
    });
    for (let r = 1; r <= 3; r++) {
      const dump = await dumpOf(`127.0.0.1:${port + r}`);
      const contents = new Map(dump.entries.map((entry) => [entry.key, { value: entry.value.toString("utf8"), version: Number(entry.version) }]));
      expect(contents, `replica r${r}`).toEqual(expected);
    }

    // New commits are numbered after the snapshot's: a write applies over a restored version.
    const kv = new KvClient(`127.0.0.1:${port}`, { timeoutMs: 5_000, retryForMs: 10_000 });
    try {
      const [key, restoredEntry] = [...expected.entries()][0]!;
      const { version } = await kv.put(key, "after the restore");
      expect(version).toBeGreaterThan(seq);
      expect(version).toBeGreaterThan(restoredEntry.version);
      const read = await kv.get(key);
      expect(read?.value.toString()).toBe("after the restore");
      expect(read?.version).toBe(version);
    } finally {
      kv.close();
    }
    process.kill(cluster.pid, "SIGINT");
    expect((await cluster.exited).code).toBe(0);
  }, 120_000);

  it("refuses a chunk size over backupChunkBytesMax, naming the limit, and a file that is no backup", async () => {
    expect(source).not.toBeNull();
    const replica = new participantProto.Participant(`127.0.0.1:${source!.replicaPorts[0]!}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
    try {
      const error = await new Promise<grpc.ServiceError>((resolve, reject) => {
        const call = replica.Backup({ chunkBytes: limits.backupChunkBytesMax + 1 }, { deadline: Date.now() + 10_000 });
        call.on("data", () => reject(new Error("a chunk arrived")));
        call.on("error", resolve);
        call.on("end", () => reject(new Error("the stream ended without an error")));
      });
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(error.details).toContain("backupChunkBytesMax");
    } finally {
      replica.close();
    }
    const junk = path.join(tmp, "junk.sqlite");
    fs.writeFileSync(junk, "not a database at all, just some text that is long enough to have a header".repeat(20));
    const refused = await runKv(["restore", junk, "--data-dir", path.join(tmp, "never")]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("not a backup of twopc-kv");
    expect(fs.existsSync(path.join(tmp, "never"))).toBe(false);
  }, 60_000);
});
