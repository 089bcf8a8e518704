// A network left by a run killed with kill -9 (its cleanup never ran) is deleted by the next run
// that makes one (tools/netns/network.ts sweepAbandoned, called by NetnsNetwork.create): what still
// runs in its namespaces is killed, the namespaces go, and a network whose maker still runs stays.
// Root only; skipped, saying why, where namespaces cannot be made.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { namespacesOfRun, netnsUnavailable, sweepAbandoned } from "../../tools/netns/network";

const unavailable = netnsUnavailable();
if (unavailable !== null) console.warn(`test:netns skipped: ${unavailable}`);

/** A network of one namespace, made by `owner` (an owner file as create() writes it), with a process inside. */
function fakeRun(owner: number): { runId: string; inside: number } {
  const runId = randomBytes(4).toString("hex");
  expect(spawnSync("ip", ["netns", "add", `kv-${runId}-m0`]).status).toBe(0);
  fs.mkdirSync("/run/twopc-kv-netns", { recursive: true });
  fs.writeFileSync(`/run/twopc-kv-netns/${runId}`, String(owner));
  // `ip netns exec` execs the command: the pid is sleep's own.
  const child = spawn("ip", ["netns", "exec", `kv-${runId}-m0`, "sleep", "300"], { stdio: "ignore" });
  return { runId, inside: child.pid! };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(unavailable !== null)("a network abandoned by a run killed before its cleanup", () => {
  it("is deleted, with what runs in it, by the next sweep; one whose maker runs is left alone", async () => {
    const gone = spawnSync("true");
    const dead = fakeRun(gone.pid!);
    const live = fakeRun(process.pid);
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // let sleep start inside
      expect(alive(dead.inside)).toBe(true);
      const swept = sweepAbandoned();
      expect(swept).toContain(dead.runId);
      expect(swept).not.toContain(live.runId);
      expect(namespacesOfRun(dead.runId)).toEqual([]);
      expect(fs.existsSync(`/run/twopc-kv-netns/${dead.runId}`)).toBe(false);
      const deadline = Date.now() + 5_000;
      while (alive(dead.inside) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(alive(dead.inside)).toBe(false);
      expect(namespacesOfRun(live.runId)).toEqual([`kv-${live.runId}-m0`]);
    } finally {
      for (const run of [dead, live]) {
        if (alive(run.inside)) process.kill(run.inside, "SIGKILL");
        spawnSync("ip", ["netns", "delete", `kv-${run.runId}-m0`]);
        fs.rmSync(`/run/twopc-kv-netns/${run.runId}`, { force: true });
      }
    }
  });
});
