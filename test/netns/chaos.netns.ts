// `kv chaos --faults netem` as a user runs it (issue 14 §5): a real `kv chaos` process, which makes a
// network of namespaces (one per coordinator and replica, a client's, a hub with the bridge), runs
// its load from the client namespace and injects faults on the members' links: partitions (a bridge
// port disabled), loss (netem, or nftables drops on a kernel without netem), delay with jitter (netem
// only) and throttles (tbf). What it proves:
// - a 25 s run injects every link fault this machine can make (the test works out which on its own:
//   netem, else nft, present or not), completes work, and passes every check (linearizable, nothing
//   acknowledged lost, replicas equal, nothing in doubt, in sync after the last heal);
// - afterwards nothing of the run is left: no namespace named kv-RUNID-*, no process of its data
//   directory, no data directory;
// - interrupted with two Ctrl-Cs (the second makes the inner run exit at once, its members still
//   running), it still leaves nothing behind: the outer run kills what runs in its namespaces;
// - it refuses, with exit 2 and the reason, what cannot be done: not root, --cluster, a proxy
//   partition beside link faults.
// The seed is chosen by the schedule's own draw (drawFault), so that every available kind comes
// within the first few faults whatever this kernel has: the kinds drawn decide the sequence.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { drawFault, netFaultKinds, type ChaosReport, type NetFaultKind } from "../../tools/chaos/chaos";
import { netnsRunTempPrefix } from "../../tools/chaos/netns-cluster";
import { namespacesOfRun, netemUnavailable, netnsUnavailable, nftUnavailable } from "../../tools/netns/network";
import { Prng } from "../../common/prng";
import { kvScript, runKv, waitFor } from "../integration/harness";

const unavailable = netnsUnavailable();
if (unavailable !== null) console.warn(`test:netns: kv chaos --faults netem skipped: ${unavailable}`);

/** The link faults this machine can make: partitions and throttles always; loss with netem or nft; delay with netem only. */
function expectedKinds(): NetFaultKind[] {
  const netem = netemUnavailable() === null;
  const loss = netem || nftUnavailable() === null;
  return netFaultKinds.filter((kind) => kind === "net-partition" || kind === "net-throttle" || (kind === "net-loss" && loss) || (kind === "net-delay" && netem));
}

const intervalMs = 1_500;

/** The first seed whose schedule draws every kind within its first kinds.length + 1 faults (about 10 fit in 25 s). */
function seedCovering(kinds: readonly NetFaultKind[]): number {
  const members = { coordinatorNames: ["coordinator", "coordinator-2"], replicaIds: ["r1", "r2", "r3"] };
  for (let seed = 1; seed < 1_000; seed += 1) {
    const prng = new Prng(seed);
    const drawn = new Set(Array.from({ length: kinds.length + 1 }, () => drawFault(prng, kinds, members, intervalMs).kind));
    if (kinds.every((kind) => drawn.has(kind))) return seed;
  }
  throw new Error(`no seed below 1000 draws every one of ${kinds.join(", ")} early`);
}

/** Pids of running processes whose command line mentions `text` (the run's data directory names its network). */
function processesMentioning(text: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(text);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

/** Checks that nothing of run `runId` is left: namespaces, processes, its temp directory. */
function expectNothingLeft(runId: string): void {
  expect(runId).toMatch(/^[0-9a-f]{8}$/);
  expect(namespacesOfRun(runId), "namespaces of the run").toEqual([]);
  expect(processesMentioning(netnsRunTempPrefix(runId)), "processes of the run").toEqual([]);
  expect(fs.readdirSync(os.tmpdir()).filter((name) => name.startsWith(netnsRunTempPrefix(runId))), "data directories of the run").toEqual([]);
}

describe.skipIf(unavailable !== null)("kv chaos --faults netem, across network namespaces", () => {
  it("injects every link fault this machine can make, does work, passes every check, and leaves nothing behind", async () => {
    const kinds = expectedKinds();
    const seed = seedCovering(kinds);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-netns-chaos-test-"));
    try {
      const json = path.join(scratch, "report.json");
      const run = await runKv(["chaos", "--faults", "netem", "--duration", "25s", "--interval", `${intervalMs}ms`, "--seed", String(seed), "--json", json]);
      const output = `${run.stdout}\n${run.stderr}`;
      expect(run.code, output).toBe(0);
      expect(run.stdout).toContain(`seed ${seed}: PASSED`);
      const report = JSON.parse(fs.readFileSync(json, "utf8")) as ChaosReport;
      expect(report.kinds).toEqual(kinds);
      for (const kind of kinds) expect(report.faults[kind], `${kind} injected (${JSON.stringify(report.faults)})`).toBeGreaterThan(0);
      for (const kind of netFaultKinds.filter((kind) => !kinds.includes(kind))) {
        expect(report.faults[kind]).toBe(0);
        expect(run.stdout).toContain(`chaos: ${kind} is unavailable`);
      }
      // Each fault is logged as injected with what it did, and the run's table lists the kinds drawn.
      expect(run.stdout).toMatch(new RegExp(`faults injected\\s+${kinds.map((kind) => `${kind} [1-9]\\d*`).join(", ")}\\s+ok`));
      expect(report.operations.ok).toBeGreaterThan(0);
      expect(report.progress.problems).toEqual([]);
      expect(report.linearizability, report.linearizabilityDetails).toBe("linearizable");
      expect(report.missingAcknowledgedWrites).toBe(0);
      expect(report.replicasDiffering).toBe(0);
      expect(report.inDoubt).toBe(0);
      expect(report.syncAfterHealMs).not.toBeNull();
      expect(report.passed).toBe(true);
      expect(report.network?.lossBy).toBe(kinds.includes("net-loss") ? (kinds.includes("net-delay") ? "netem" : "nftables") : null);
      expectNothingLeft(report.network?.runId ?? "");
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }, 180_000);

  it("leaves nothing behind when interrupted twice (the inner run exits at once, its members still running)", async () => {
    const child = spawn(process.execPath, [kvScript, "chaos", "--faults", "netem", "--duration", "60s", "--interval", "500ms", "--seed", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      // Interrupted in the middle of the load, once a fault is on: the members, the faults and the load all run.
      await waitFor("a link fault injected", () => /chaos: net-\w+ \S+ \(/.test(stdout), 60_000);
      const runId = /network ([0-9a-f]{8}):/.exec(stdout)?.[1] ?? "";
      expect(namespacesOfRun(runId).length, "the run's namespaces exist while it runs").toBe(7);
      expect(processesMentioning(netnsRunTempPrefix(runId)).length, "its five members run").toBeGreaterThanOrEqual(5);
      process.kill(child.pid!, "SIGINT");
      await waitFor("the first Ctrl-C reached the inner run", () => stderr.includes("kv chaos: interrupted"), 10_000);
      process.kill(child.pid!, "SIGINT");
      const code = await exited;
      expect(code, `${stdout}\n${stderr}`).toBe(130);
      expectNothingLeft(runId);
      expect(stdout).toMatch(/chaos: killed \d+ process\(es\) the run left in its namespaces/);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) {
        process.kill(child.pid, "SIGINT");
        await exited;
      }
    }
  }, 120_000);

  it("refuses with exit 2 and the reason: not root, --cluster, a proxy partition beside link faults", async () => {
    const notRoot = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      // nobody (65534): the test runs as root, so that it can be anyone.
      const child = spawn(process.execPath, [kvScript, "chaos", "--faults", "netem", "--duration", "5s"], { uid: 65534, gid: 65534, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      child.on("exit", (code) => resolve({ code, stderr }));
    });
    expect(notRoot.code, notRoot.stderr).toBe(2);
    expect(notRoot.stderr).toContain("--faults netem needs a cluster across network namespaces, which cannot be made here: network namespaces need root");
    const attached = await runKv(["chaos", "--faults", "netem", "--cluster", os.tmpdir()]);
    expect(attached.code, attached.stderr).toBe(2);
    expect(attached.stderr).toContain("cannot be used with --cluster");
    const proxied = await runKv(["chaos", "--faults", "partition,net-partition"]);
    expect(proxied.code, proxied.stderr).toBe(2);
    expect(proxied.stderr).toContain("--faults partition (behind a TCP proxy, on 127.0.0.1) cannot be used with link faults");
  });
});
