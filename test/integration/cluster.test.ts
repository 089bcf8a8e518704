// Proves what `npm start` promises: `kv cluster` starts two coordinators and three replicas as
// separate processes, a second start on the same data dir finds every write, SIGINT (Ctrl-C) stops
// every process cleanly, and with --no-restart a process that dies stays dead while the others keep
// serving. (Restarts, the default: cluster-coordinators.test.ts.)
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { freePortRun, isAlive, kvScript, Proc, stopClusterProc, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-cluster-"));
const procs: Proc[] = [];

afterAll(async () => {
  for (const proc of procs) await stopClusterProc(proc);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function startCluster(port: number): Proc {
  const child = spawn(process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dataDir, "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
  const proc = new Proc("cluster", child);
  procs.push(proc);
  return proc;
}

function childPids(proc: Proc): Map<string, number> {
  const pids = new Map<string, number>();
  for (const line of proc.output) {
    const match = /^kv cluster: started (\S+) \(pid (\d+)\)/.exec(line);
    if (match) pids.set(match[1]!, Number(match[2]));
  }
  return pids;
}

describe("kv cluster", () => {
  it("starts, keeps data across a restart, and stops every process on SIGINT", async () => {
    const port = await freePortRun();
    const first = startCluster(port);
    await waitFor("cluster ready", () => first.output.some((line) => line.startsWith("kv cluster: ready")));
    const kv = new KvClient(`127.0.0.1:${port}`);
    try {
      await waitFor("every replica up", async () => (await kv.status()).replicas.every((replica) => replica.up));
      await kv.put("survives", "a restart");
      const pids = childPids(first);
      expect([...pids.keys()].sort()).toEqual(["coordinator", "coordinator-2", "r1", "r2", "r3"]);
      // It prints the command that runs each process alone.
      expect(first.output.some((line) => line.includes(`coordinator --id coordinator --listen 127.0.0.1:${port}`))).toBe(true);

      process.kill(first.pid, "SIGINT");
      const exit = await first.exited;
      expect(exit.code).toBe(0);
      for (const pid of pids.values()) expect(isAlive(pid)).toBe(false);
      expect(first.output.filter((line) => /INFO +(coordinator \S+|replica \S+) stopped$/.test(line))).toHaveLength(5);

      const second = startCluster(port);
      await waitFor("cluster ready again", () => second.output.some((line) => line.startsWith("kv cluster: ready")));
      await waitFor("every replica up", async () => (await kv.status()).replicas.every((replica) => replica.up));
      expect((await kv.get("survives"))?.value.toString()).toBe("a restart");

      // A replica that dies is not restarted; the others keep running.
      const r2 = childPids(second).get("r2")!;
      process.kill(r2, "SIGKILL");
      await waitFor("the cluster to report r2's death", () => second.output.some((line) => line.includes("r2 (pid") && line.includes("not restarted")));
      const status = await kv.status();
      expect(status.replicas.find((replica) => replica.id === "r2")?.up).toBe(false);
      expect(status.replicas.filter((replica) => replica.up)).toHaveLength(2);
      expect((await kv.get("survives"))?.value.toString()).toBe("a restart");
      expect(second.alive).toBe(true);

      process.kill(second.pid, "SIGINT");
      expect((await second.exited).code).toBe(0);
      for (const pid of childPids(second).values()) expect(isAlive(pid)).toBe(false);
    } finally {
      kv.close();
    }
  });
});
