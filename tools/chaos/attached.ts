// The cluster `kv chaos --cluster DIR` attaches to: the one a `kv cluster` runs, as its manifest
// DIR/cluster.json describes it (tools/cluster/manifest.ts). Its processes are not ours, so a fault works by
// pid: kill -9 and SIGSTOP/SIGCONT the pid the manifest records, and a restart runs the recorded
// argv again, detached (it outlives kv chaos), its output appended to DIR/<name>.log, and its new
// pid written to the manifest so that kv cluster follows it and stops it on Ctrl-C. A pid is
// signalled only while it still runs the recorded argv (pids get reused). It has no proxies between
// the coordinator and the replicas, so it cannot partition them. A kv cluster started with --restart
// (its default) would restart a member kv chaos killed while kv chaos restarts it too: two processes
// on one data directory. So kv chaos holds the restarts while attached (the manifest's
// restartsHeldBy: its pid) and lets go on release; a kv chaos that dies lets go by dying.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { assert } from "../../common/assert";
import { InvalidArgument } from "../../common/errors";
import type { ChaosCluster } from "./cluster-api";
import { liveRestartHolder, manifestPath, memberLogPath, pidAlive, pidRunsArgv, readManifest, replicaMembers, updateManifest, type ManifestMember } from "../cluster/manifest";
import { isCoordinatorName } from "../cluster/process-args";
import { ClusterAdmin } from "./cluster-admin";

/** The longest a kill -9 may take to make a process disappear (its parent reaps it). */
const killWaitMs = 10_000;
/** How often a wait for a process that is not our child looks at its pid. */
const pidPollMs = 20;

interface AttachedMember {
  readonly name: string;
  readonly argv: readonly string[];
  pid: number | null;
  paused: boolean;
}

export class AttachedCluster implements ChaosCluster {
  readonly replicaIds: string[];
  readonly coordinatorNames: string[];
  /** Its members share 127.0.0.1: no link of their own to fault. */
  readonly links = null;
  readonly partitionUnsupported =
    "an attached cluster (--cluster) has no proxies between the coordinator and the replicas; partitions need a cluster kv chaos starts itself";
  private readonly members = new Map<string, AttachedMember>();

  private constructor(
    private readonly dir: string,
    readonly coordinatorAddress: string,
    members: readonly ManifestMember[],
    readonly admin: ClusterAdmin,
  ) {
    for (const member of members) this.members.set(member.name, { name: member.name, argv: member.argv, pid: member.pid, paused: false });
    this.replicaIds = members.filter((member) => !isCoordinatorName(member.name)).map((member) => member.name);
    this.coordinatorNames = members.filter((member) => isCoordinatorName(member.name)).map((member) => member.name);
  }

  /** Reads DIR/cluster.json; refuses a cluster whose kv cluster is gone or that has a member down. */
  static async open(dir: string): Promise<AttachedCluster> {
    const file = manifestPath(dir);
    if (!fs.existsSync(file)) {
      throw new InvalidArgument("--cluster", `--cluster: ${file} does not exist; give the --data-dir of a running kv cluster`);
    }
    const manifest = readManifest(dir);
    if (manifest.state !== "running" || !pidAlive(manifest.supervisorPid)) {
      throw new InvalidArgument("--cluster", `--cluster: the kv cluster of ${file} (pid ${manifest.supervisorPid}) is not running`);
    }
    const down = manifest.members.filter((member) => member.pid === null || !pidRunsArgv(member.pid, member.argv)).map((member) => member.name);
    if (down.length > 0) {
      throw new InvalidArgument("--cluster", `--cluster: ${down.join(", ")} of ${file} ${down.length === 1 ? "is" : "are"} not running; start ${down.length === 1 ? "it" : "them"} first`);
    }
    const replicaCount = replicaMembers(manifest).length;
    if (replicaCount < 3) {
      throw new InvalidArgument("--cluster", `--cluster: ${file} has ${replicaCount} replicas; kv chaos needs at least 3`);
    }
    if (manifest.tls !== undefined) {
      // Its load, status and fault calls are plaintext (tools/chaos/local-cluster.ts), and a TLS cluster refuses them all.
      throw new InvalidArgument("--cluster", `--cluster: the kv cluster of ${file} runs TLS (kv cluster --tls), which kv chaos does not speak yet; attach it to a plaintext cluster`);
    }
    const holder = liveRestartHolder(manifest);
    if (holder !== null && holder !== process.pid) {
      throw new InvalidArgument("--cluster", `--cluster: another kv chaos (pid ${holder}) is attached to the kv cluster of ${file}; one at a time`);
    }
    // Hold kv cluster's restarts (if it restarts at all) before the first fault.
    if (manifest.restart) await updateManifest(dir, (current) => ({ ...current, restartsHeldBy: process.pid }));
    const replicas = new Map(replicaMembers(manifest).map((member) => [member.name, member.address]));
    // Every coordinator: the client library finds the active one (the first may be a standby, or down).
    return new AttachedCluster(dir, manifest.coordinators, manifest.members, new ClusterAdmin(manifest.coordinators, replicas));
  }

  async kill(name: string): Promise<void> {
    const member = this.member(name);
    const pid = member.pid;
    if (pid === null) return;
    if (pidRunsArgv(pid, member.argv)) signal(pid, "SIGKILL");
    if (!(await this.waitGone(member, pid, killWaitMs))) throw new Error(`${name} (pid ${pid}) still runs ${killWaitMs} ms after kill -9`);
    await this.recordPid(member, pid, null);
  }

  async start(name: string, failpoints?: string): Promise<void> {
    const member = this.member(name);
    if (member.pid !== null && pidRunsArgv(member.pid, member.argv)) throw new Error(`${name} is already running (pid ${member.pid})`);
    // A failpoint goes in the environment, so that the process runs exactly the recorded argv.
    const env = { ...process.env };
    delete env.KV_FAILPOINTS;
    if (failpoints !== undefined) env.KV_FAILPOINTS = `${name}:${failpoints}`;
    const logFile = memberLogPath(this.dir, name);
    fs.appendFileSync(logFile, `--- kv chaos ${new Date().toISOString()}: starting ${name}${failpoints === undefined ? "" : ` with KV_FAILPOINTS=${env.KV_FAILPOINTS}`}\n`);
    const fd = fs.openSync(logFile, "a");
    const [command, ...args] = member.argv;
    assert(command !== undefined, "a manifest member's argv is never empty (parseManifest)");
    let pid: number | undefined;
    try {
      // Detached, in a session of its own: it outlives kv chaos, and a Ctrl-C in kv chaos's terminal does not reach it.
      const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env });
      child.once("error", () => {}); // a spawn that fails has no pid: reported below
      child.unref();
      pid = child.pid;
    } finally {
      fs.closeSync(fd);
    }
    if (pid === undefined) throw new Error(`cannot start ${name}: ${member.argv.join(" ")}`);
    member.paused = false;
    await this.recordPid(member, member.pid, pid);
  }

  async pause(name: string): Promise<void> {
    const member = this.member(name);
    if (member.pid === null || !pidRunsArgv(member.pid, member.argv)) return;
    signal(member.pid, "SIGSTOP");
    member.paused = true;
  }

  async resume(name: string): Promise<void> {
    const member = this.member(name);
    if (member.pid !== null && pidRunsArgv(member.pid, member.argv)) signal(member.pid, "SIGCONT");
    member.paused = false;
  }

  async waitExit(name: string, timeoutMs: number): Promise<boolean> {
    const member = this.member(name);
    const pid = member.pid;
    if (pid === null) return true;
    if (!(await this.waitGone(member, pid, timeoutMs))) return false;
    await this.recordPid(member, pid, null);
    return true;
  }

  isolate(replicaId: string): void {
    throw new Error(`cannot partition ${replicaId}: ${this.partitionUnsupported}`);
  }

  reconnect(replicaId: string): void {
    throw new Error(`cannot partition ${replicaId}: ${this.partitionUnsupported}`);
  }

  async heal(): Promise<void> {
    for (const member of this.members.values()) {
      if (member.paused) await this.resume(member.name);
      if (member.pid === null || !pidRunsArgv(member.pid, member.argv)) {
        if (member.pid !== null) await this.recordPid(member, member.pid, null);
        await this.start(member.name);
      }
    }
  }



  /** Leaves the cluster running (healed by then); only our clients close, and kv cluster may restart again. */
  async release(): Promise<void> {
    this.admin.close();
    await updateManifest(this.dir, (manifest) => (manifest.restartsHeldBy === process.pid ? { ...manifest, restartsHeldBy: null } : manifest));
  }

  private member(name: string): AttachedMember {
    const member = this.members.get(name);
    if (member === undefined) throw new Error(`${manifestPath(this.dir)} has no member ${name}`);
    return member;
  }

  /** Waits until `pid` no longer runs the member's argv; false at the deadline. */
  private async waitGone(member: AttachedMember, pid: number, timeoutMs: number): Promise<boolean> {
    const deadlineMs = Date.now() + timeoutMs;
    while (pidRunsArgv(pid, member.argv)) {
      if (Date.now() > deadlineMs) return false;
      await new Promise((resolve) => setTimeout(resolve, pidPollMs));
    }
    return true;
  }

  /** Moves the member from pid `from` to `to` here and in the manifest (if the manifest still says `from`). */
  private async recordPid(member: AttachedMember, from: number | null, to: number | null): Promise<void> {
    member.pid = to;
    await updateManifest(this.dir, (manifest) => ({
      ...manifest,
      members: manifest.members.map((entry) => (entry.name === member.name && (entry.pid === from || entry.pid === null) ? { ...entry, pid: to } : entry)),
    }));
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
