// Proves that `kv chaos --cluster DIR` works on a cluster it did not start: a `kv cluster` writes
// DIR/cluster.json once ready; kv chaos kills (-9), pauses and restarts that cluster's processes by
// the pids and argv the manifest records, passes every check, and leaves the cluster serving; then
// Ctrl-C on kv cluster stops every process the manifest names, including those kv chaos restarted
// (which are not kv cluster's children). The kv cluster runs with its defaults: two coordinators, and
// --restart, which kv chaos holds while attached (the manifest's restartsHeldBy) so that a member it
// kills is restarted by kv chaos alone, and lets go of at the end. Also: partitions are refused with
// --cluster, naming the flag.
// Real processes on free ports, data in a temp dir; afterAll kills only the kv cluster this file
// started and the pids its manifest records.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { manifestPath, pidAlive, pidRunsArgv, readManifest, type ClusterManifest } from "../../tools/cluster/cluster";
import { freePortRun, kvScript, Proc, runKv, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-chaos-attached-"));
let cluster: Proc | null = null;

afterAll(async () => {
  // The members kv chaos restarted are not children of kv cluster: kill them by the manifest too.
  if (fs.existsSync(manifestPath(dataDir))) {
    for (const member of readManifest(dataDir).members) {
      if (member.pid !== null && pidRunsArgv(member.pid, member.argv)) process.kill(member.pid, "SIGKILL");
    }
  }
  await cluster?.kill("SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("kv chaos --cluster", () => {
  it("hammers a running kv cluster, passes every check, leaves it serving, and kv cluster then stops every pid", async () => {
    const port = await freePortRun();
    const child = spawn(process.execPath, [kvScript, "cluster", "--port", String(port), "--data-dir", dataDir, "--log-level", "warn"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = new Proc("cluster", child);
    cluster = proc;
    const manifest = await waitFor("cluster.json", (): ClusterManifest | undefined => {
      if (!fs.existsSync(manifestPath(dataDir))) return undefined;
      const read = readManifest(dataDir);
      return read.members.every((member) => member.pid !== null) ? read : undefined;
    });
    expect(manifest.state).toBe("running");
    expect(manifest.supervisorPid).toBe(proc.pid);
    expect(manifest.coordinator).toBe(`127.0.0.1:${port}`);
    expect(manifest.members.map((member) => member.name)).toEqual(["coordinator", "coordinator-2", "r1", "r2", "r3"]);
    expect(manifest.restart).toBe(true);

    const run = await runKv(["chaos", "--cluster", dataDir, "--duration", "15s", "--faults", "kill,pause", "--seed", "3"]);
    const table = run.stdout;
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(table).toContain("seed 3: PASSED");
    const faults = /faults injected\s+kill (\d+), pause (\d+)/.exec(table);
    expect(faults, table).not.toBeNull();
    expect(Number(faults![1]) + Number(faults![2])).toBeGreaterThan(0);
    expect(table).toMatch(/linearizable\s+linearizable\s+ok/);
    expect(table).toMatch(/acknowledged writes missing\s+0\s+ok/);
    expect(table).toMatch(/replicas whose content differs\s+0\s+ok/);
    expect(table).toMatch(/transactions in doubt\s+0\s+ok/);
    expect(fs.existsSync(path.join(dataDir, "chaos-history.jsonl"))).toBe(true);

    // Still serving, every member up, kv cluster still in charge.
    const kv = new KvClient(`127.0.0.1:${port}`, { timeoutMs: 5_000 });
    try {
      await waitFor("every replica up", async () => (await kv.status()).replicas.every((replica) => replica.up));
      await kv.put("after-chaos", "still serving");
      expect((await kv.get("after-chaos"))?.value.toString()).toBe("still serving");
    } finally {
      kv.close();
    }
    expect(proc.alive).toBe(true);
    const after = readManifest(dataDir);
    expect(after.members.every((member) => member.pid !== null && pidAlive(member.pid))).toBe(true);
    // Seed 3 begins with a kill -9: at least one member now runs as a process kv chaos started.
    const restarted = after.members.filter((member) => member.pid !== manifest.members.find((first) => first.name === member.name)?.pid);
    expect(restarted.length).toBeGreaterThan(0);
    // kv chaos held kv cluster's restarts while it ran (kv cluster said so at its kills), and let go.
    expect(proc.output.some((line) => /^kv cluster: .*it is not restarted: kv chaos \(pid \d+\) is attached/.test(line))).toBe(true);
    expect(proc.output.some((line) => line.startsWith("kv cluster: restarted "))).toBe(false);
    expect(after.restartsHeldBy).toBeNull();

    // Ctrl-C: kv cluster stops its children and the members kv chaos restarted.
    process.kill(proc.pid, "SIGINT");
    expect((await proc.exited).code).toBe(0);
    const pids = [...manifest.members, ...after.members].map((member) => member.pid).filter((pid): pid is number => pid !== null);
    await waitFor("every pid of the manifest gone", () => pids.every((pid) => !pidAlive(pid)), 5_000);
    const stopped = readManifest(dataDir);
    expect(stopped.state).toBe("stopped");
    expect(stopped.members.every((member) => member.pid === null)).toBe(true);
  }, 90_000);

  it("refuses partitions with --cluster, naming the flag", async () => {
    const run = await runKv(["chaos", "--cluster", dataDir, "--faults", "kill,partition"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--faults partition cannot be used with --cluster");
  });

  it("refuses a --cluster directory without a manifest, naming the flag", async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-chaos-empty-"));
    try {
      const run = await runKv(["chaos", "--cluster", empty, "--duration", "1s"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`--cluster: ${path.join(empty, "cluster.json")} does not exist`);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
