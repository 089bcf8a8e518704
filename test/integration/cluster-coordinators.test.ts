// Proves what `kv cluster --coordinators 2 --restart` promises (issue 12): both coordinators and the
// three replicas run as their own processes on consecutive ports (the coordinators first), every
// coordinator is told all coordinators and every replica every coordinator's address, the manifest
// DIR/cluster.json lists both coordinators as members named "coordinator..." with the addresses for
// KV_COORDINATOR, and a replica killed with kill -9 (by the pid the manifest records) is started
// again: a new pid in the manifest, running the recorded argv, back in the cluster, and reported.
// Ctrl-C then stops every pid, the restarted one included.
// Real processes on free ports of 127.0.0.1, data in a temp dir; conditions are waited for with
// deadlines; afterAll kills only the kv cluster this file started and the pids it printed or recorded
// (and only while they still run in this test's data directory).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { manifestPath, pidAlive, pidRunsArgv, readManifest, waitForPort, type ClusterManifest } from "../../tools/cluster/cluster";
import { activeOf, CoordinatorProbe } from "../../tools/cluster/coordinators";
import { freePortRun, kvScript, Proc, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-cluster-coordinators-"));
let cluster: Proc | null = null;

afterAll(async () => {
  // After a failure: Ctrl-C first, so that kv cluster stops its children (a restart it did not
  // record would outlive a kill -9 of kv cluster), then kill -9 what is left: the kv cluster, and
  // every pid it printed or recorded that still runs in this test's data directory.
  if (cluster?.alive) {
    process.kill(cluster.pid, "SIGINT");
    await Promise.race([cluster.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  await cluster?.kill("SIGKILL");
  const pids = new Set<number>();
  if (fs.existsSync(manifestPath(dataDir))) for (const member of readManifest(dataDir).members) if (member.pid !== null) pids.add(member.pid);
  for (const line of cluster?.output ?? []) {
    const match = /^kv cluster: (?:re)?started \S+ \(pid (\d+)\)/.exec(line);
    if (match) pids.add(Number(match[1]));
  }
  for (const pid of pids) if (runsIn(pid, dataDir)) process.kill(pid, "SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** True while `pid` runs a command line that names `dir` (one of this test's processes, not a reused pid). */
function runsIn(pid: number, dir: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}

/** The argument after `flag` in an argv. */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const at = argv.indexOf(flag);
  return at < 0 ? undefined : argv[at + 1];
}

describe("kv cluster --coordinators 2 --restart", () => {
  it("starts both coordinators and the replicas on consecutive ports, lists them in the manifest, and restarts a replica killed with kill -9", async () => {
    const port = await freePortRun(10);
    const child = spawn(process.execPath, [kvScript, "cluster", "--coordinators", "2", "--restart", "--port", String(port), "--data-dir", dataDir, "--log-level", "warn"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const proc = new Proc("cluster", child);
    cluster = proc;
    const host = "127.0.0.1";
    const addresses = [0, 1, 2, 3, 4].map((i) => `${host}:${port + i}`);

    // Every process listens where the layout says, the coordinators on the first two ports.
    for (let i = 0; i < 5; i++) expect(await waitForPort(host, port + i, 30_000), `port ${port + i}`).toBe(true);
    const manifest = await waitFor("cluster.json with every member's pid", (): ClusterManifest | undefined => {
      if (!fs.existsSync(manifestPath(dataDir))) return undefined;
      const read = readManifest(dataDir);
      return read.members.every((member) => member.pid !== null) ? read : undefined;
    });
    expect(manifest.state).toBe("running");
    expect(manifest.supervisorPid).toBe(proc.pid);
    expect(manifest.restart).toBe(true);
    expect(manifest.coordinator).toBe(addresses[0]);
    expect(manifest.coordinators).toBe(`${addresses[0]},${addresses[1]}`);
    expect(manifest.members.map((member) => [member.name, member.address])).toEqual([
      ["coordinator", addresses[0]],
      ["coordinator-2", addresses[1]],
      ["r1", addresses[2]],
      ["r2", addresses[3]],
      ["r3", addresses[4]],
    ]);
    for (const member of manifest.members) expect(pidRunsArgv(member.pid!, member.argv), `${member.name} runs its recorded argv`).toBe(true);
    // Each coordinator knows both, each replica both addresses; each keeps its data in DIR/<name>.
    for (const member of manifest.members) {
      expect(flagValue(member.argv, "--data-dir")).toBe(path.join(dataDir, member.name));
      if (member.name.startsWith("coordinator")) {
        expect(flagValue(member.argv, "--id")).toBe(member.name);
        expect(flagValue(member.argv, "--coordinators")).toBe(`coordinator=${addresses[0]},coordinator-2=${addresses[1]}`);
      } else {
        expect(flagValue(member.argv, "--coordinator")).toBe(`${addresses[0]},${addresses[1]}`);
      }
    }

    // Ready: it names a coordinator that serves, and says what KV_COORDINATOR to use.
    await waitFor("the ready line", () => proc.output.some((line) => line.startsWith("kv cluster: ready;")), 60_000);
    const reachLine = `kv cluster: clients reach every coordinator with KV_COORDINATOR=${addresses[0]},${addresses[1]}`;
    await waitFor("the KV_COORDINATOR line", () => proc.output.includes(reachLine), 10_000);
    const readyLine = proc.output.find((line) => line.startsWith("kv cluster: ready;"))!;
    const named = /^kv cluster: ready; (?:the active coordinator is )?(coordinator(?:-2)?) \((\S+)\)/.exec(readyLine);
    expect(named, readyLine).not.toBeNull();
    expect([addresses[0], addresses[1]]).toContain(named![2]);
    expect(manifest.members.find((member) => member.name === named![1])?.address).toBe(named![2]);
    const probes = [addresses[0]!, addresses[1]!].map((address) => new CoordinatorProbe(address));
    let kv: KvClient | null = null;
    try {
      // The coordinator to talk to: the active one, as the coordinators say now.
      const active = await waitFor("a coordinator serving", async () => activeOf(await Promise.all(probes.map((probe) => probe.report(2_000)))) ?? undefined, 30_000);
      kv = new KvClient(active.address, { timeoutMs: 5_000 });
      await waitFor("every replica up", async () => (await kv!.status()).replicas.every((replica) => replica.up));
      await kv.put("before-the-kill", "1");

      // kill -9 of r2, by the pid of the manifest: kv cluster reports it and starts it again.
      const r2 = manifest.members.find((member) => member.name === "r2")!;
      process.kill(r2.pid!, "SIGKILL");
      const restarted = await waitFor("r2 under a new pid in the manifest", () => {
        const now = readManifest(dataDir).members.find((member) => member.name === "r2")!;
        return now.pid !== null && now.pid !== r2.pid && pidRunsArgv(now.pid, now.argv) ? now : undefined;
      });
      expect(pidAlive(r2.pid!)).toBe(false);
      expect(restarted.argv).toEqual(r2.argv);
      expect(proc.output.some((line) => line.startsWith(`kv cluster: r2 (pid ${r2.pid}) exited (SIGKILL)`) && line.includes("restarting it in"))).toBe(true);
      expect(proc.output).toContain(`kv cluster: restarted r2 (pid ${restarted.pid})`);
      // The restarted replica is back in the cluster, and the store serves.
      await waitFor("r2 up again at the coordinator", async () => (await kv!.status()).replicas.find((replica) => replica.id === "r2")?.up === true, 30_000);
      await kv.put("after-the-restart", "2");
      expect((await kv.get("before-the-kill"))?.value.toString()).toBe("1");
      // The other members were left alone.
      const after = readManifest(dataDir);
      for (const member of after.members.filter((m) => m.name !== "r2")) expect(member.pid).toBe(manifest.members.find((m) => m.name === member.name)!.pid);
      expect(proc.alive).toBe(true);

      // Ctrl-C stops every pid, the restarted one included, and records it.
      process.kill(proc.pid, "SIGINT");
      expect((await proc.exited).code).toBe(0);
      const pids = [...manifest.members.map((member) => member.pid!), restarted.pid!];
      await waitFor("every pid gone", () => pids.every((pid) => !pidAlive(pid)), 10_000);
      const stopped = readManifest(dataDir);
      expect(stopped.state).toBe("stopped");
      expect(stopped.members.every((member) => member.pid === null)).toBe(true);
    } finally {
      kv?.close();
      for (const probe of probes) probe.close();
    }
  }, 120_000);
});
