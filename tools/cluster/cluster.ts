// `kv cluster`: a local cluster, each process its own OS process. It starts N coordinators (one
// active, the others standing by to take over; issue 12) and M replicas on consecutive ports, prints
// the command that runs each one alone (to restart a process by hand on the same data), passes their
// output through, and stops them all on Ctrl-C.
//
// With --restart (the default) it is the cluster's supervisor: a process that fails (killed by a
// signal, or a non-zero exit code) is started again with the same argv after a backoff
// (tools/cluster/restart-policy.ts decides; systemd's Restart=on-failure is the model). With
// --no-restart a process that dies stays dead: a crash test or a benchmark that kills on purpose must
// see it stay down. Every death and every restart is reported.
//
// Once the cluster listens it writes a manifest, <data-dir>/cluster.json (tools/cluster/manifest.ts):
// the coordinators' addresses and, for each member, its address, its pid, the exact argv that
// restarts it and, for a coordinator, its role. `kv chaos --cluster DIR` reads it to kill, pause and
// restart members, and records there the pid of a member it restarted; such a member is no longer a
// child of `kv cluster`, which therefore watches the pids of the manifest too and, on Ctrl-C, stops
// them along with its own children. While a kv chaos is attached it holds the restarts
// (restartsHeldBy): kv chaos restarts what it kills, and two restarts of one member would run two
// processes on one data directory. kv cluster signals only pids the manifest records (which it or kv
// chaos started), and only while they still run the recorded argv.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as readline from "node:readline";
import { assertNever } from "../../common/assert";
import { activeOf, CoordinatorProbe, type CoordinatorReport, type CoordinatorRole } from "./coordinators";
import {
  liveRestartHolder,
  manifestPath,
  markDead,
  memberLogPath,
  pidRunsArgv,
  readManifest,
  updateManifest,
  manifestVersion,
  type ClusterManifest,
  type ManifestMember,
  type ManifestTls,
} from "./manifest";
import { loadTls, serverTlsFlags } from "../../proto/tls";
import { clientTlsEnvironment, ensureClusterTls, type ClusterTlsFiles } from "./tls-files";
import { consecutiveLayout, coordinatorAddresses, coordinatorArgs, kvScript, memberIds, replicaArgs, type ClusterLayout } from "./process-args";
import { decideOnExit, defaultRestartPolicy, describeRestartPolicy, type ProcessExit, type RestartPolicy, type StayDownReason } from "./restart-policy";

// The manifest's API, where its readers have always imported it from.
export {
  coordinatorMembers,
  manifestPath,
  manifestVersion,
  markDead,
  memberLogPath,
  parseManifest,
  pidAlive,
  pidRunsArgv,
  readManifest,
  replicaMembers,
  updateManifest,
  type ClusterManifest,
  type ManifestMember,
  type ManifestTls,
} from "./manifest";

export interface ClusterOptions {
  readonly dataDir: string;
  readonly host: string;
  /** The first coordinator's port; the other coordinators take the next ports, then the replicas. */
  readonly port: number;
  /**
   * The first member's metrics port, the others' on the ports after it, in the same order; absent:
   * right after the members' own ports (with the defaults, 50056-50060).
   */
  readonly metricsPort?: number;
  /** How many coordinators (at least 1). */
  readonly coordinators: number;
  readonly replicas: number;
  /** Restart a member that fails, per restartPolicy. */
  readonly restart: boolean;
  /** The backoff of restarts; defaultRestartPolicy when absent. */
  readonly restartPolicy?: RestartPolicy;
  /** The coordinators' --on-conflict; their default when absent. */
  readonly onConflict?: "abort" | "wait";
  /** The coordinators' --min-in-sync; their default when absent. */
  readonly minInSync?: number;
  /** The coordinators' --value-cache-mib; their default when absent. */
  readonly valueCacheMib?: number;
  /** The replicas' --tombstone-retention-ms; their default when absent. */
  readonly tombstoneRetentionMs?: number;
  /** Every process's --compact-log-bytes; its default when absent. */
  readonly compactLogBytes?: number;
  readonly logLevel: string;
  /** Pass the processes' JSON log lines through as they are, instead of one readable line each. */
  readonly jsonLogs: boolean;
  /** Run every link with mutual TLS, on a private CA and certificates made under DIR/tls (tools/cluster/tls-files.ts). */
  readonly tls?: boolean;
}

/** Where a member's process stands, as the supervisor sees it. */
type MemberState =
  /** Our child, started at startedAtMs. */
  | { readonly kind: "child"; readonly child: ChildProcess; readonly pid: number; readonly startedAtMs: number }
  /** Runs as a pid the manifest records, started by kv chaos: not our child; followed through the manifest. */
  | { readonly kind: "adopted"; readonly pid: number }
  /** Down; started again when the timer fires. */
  | { readonly kind: "restart-pending"; readonly timer: NodeJS.Timeout }
  | { readonly kind: "down"; readonly why: StayDownReason };

interface Member {
  readonly name: string;
  readonly address: string;
  /** HOST:PORT of its /metrics. */
  readonly metrics: string;
  readonly port: number;
  readonly argv: readonly string[];
  readonly isCoordinator: boolean;
  state: MemberState;
  /** Failures in a row, for the backoff (restart-policy.ts). */
  failuresInARow: number;
  /** A coordinator's role as it last answered; null while unknown. */
  role: CoordinatorRole | null;
}

const stopGraceMs = 5_000;
/** How often kv cluster looks at the manifest for members it did not start (restarted by kv chaos). */
const manifestPollMs = 500;
/** How often kv cluster asks each coordinator its role, once the cluster is ready. */
const rolePollMs = 1_000;
/** The deadline of each of those calls. */
const roleProbeTimeoutMs = 800;
/** How long kv cluster waits for every port to answer before it says it is still waiting. */
const portWaitMs = 15_000;
/** How often it says why the cluster is not ready yet. */
const readyReportMs = 10_000;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function manifestTls(files: ClusterTlsFiles): ManifestTls {
  return { ca: files.ca, client: files.client, members: Object.fromEntries(files.members) };
}

export async function runCluster(options: ClusterOptions): Promise<number> {
  return new ClusterSupervisor(options).run();
}

class ClusterSupervisor {
  private readonly dataDir: string;
  private readonly layout: ClusterLayout;
  private readonly policy: RestartPolicy;
  private readonly members: Member[];
  /** One probe per coordinator, by name. */
  private readonly probes = new Map<string, CoordinatorProbe>();
  private stopping = false;
  private manifestWritten = false;
  private resolveAllExited: () => void = () => {};
  private readonly allExited = new Promise<void>((resolve) => (this.resolveAllExited = resolve));
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tlsFiles: ClusterTlsFiles | undefined;

  constructor(private readonly options: ClusterOptions) {
    // Absolute, so that the argv recorded in the manifest restarts a member from any directory.
    this.dataDir = path.resolve(options.dataDir);
    const metricsPort = options.metricsPort ?? options.port + options.coordinators + options.replicas;
    this.layout = consecutiveLayout(options.host, options.port, options.replicas, this.dataDir, options.coordinators, metricsPort);
    this.policy = options.restartPolicy ?? defaultRestartPolicy;
    this.tlsFiles = options.tls === true ? ensureClusterTls(path.join(this.dataDir, "tls"), memberIds(this.layout), options.host) : undefined;
    const tls = this.tlsFiles;
    const flags = { logLevel: options.logLevel, onConflict: options.onConflict, minInSync: options.minInSync, valueCacheMib: options.valueCacheMib, compactLogBytes: options.compactLogBytes, ...(tls === undefined ? {} : { tls }) };
    const member = (name: string, port: number, metricsAt: number, args: string[], isCoordinator: boolean): Member => ({
      name,
      address: `${options.host}:${port}`,
      metrics: `${options.host}:${metricsAt}`,
      port,
      argv: [process.execPath, kvScript, ...args],
      isCoordinator,
      state: { kind: "down", why: "restart-off" }, // until start()
      failuresInARow: 0,
      role: null,
    });
    this.members = [
      ...this.layout.coordinators.map((coordinator, i) => member(coordinator.id, coordinator.port, metricsPort + i, coordinatorArgs(this.layout, flags, coordinator.id), true)),
      ...this.layout.replicas.map((replica, i) => member(replica.id, replica.port, metricsPort + options.coordinators + i, replicaArgs(this.layout, replica.id, { logLevel: options.logLevel, compactLogBytes: options.compactLogBytes, tombstoneRetentionMs: options.tombstoneRetentionMs, ...(tls === undefined ? {} : { tls }) }), false)),
    ];
    // The supervisor asks its coordinators as a client would, with the client certificate.
    const probeTls = tls === undefined ? null : loadTls({ ca: tls.ca, cert: tls.client.cert, key: tls.client.key }, serverTlsFlags);
    for (const coordinator of this.coordinators) this.probes.set(coordinator.name, new CoordinatorProbe(coordinator.address, probeTls));
  }

  private get coordinators(): Member[] {
    return this.members.filter((member) => member.isCoordinator);
  }

  async run(): Promise<number> {
    const { options } = this;
    fs.mkdirSync(this.dataDir, { recursive: true });
    console.log(
      `kv cluster: ${options.coordinators === 1 ? "1 coordinator" : `${options.coordinators} coordinators (one active, the others stand by)`}, ` +
        `${options.replicas} replicas, data under ${this.dataDir}`,
    );
    console.log(options.restart ? `kv cluster: --restart: ${describeRestartPolicy(this.policy)}` : "kv cluster: --no-restart: a process that dies stays down");
    console.log("Each process can be run alone (to restart one by hand on the same data):");
    for (const member of this.members) console.log(`  ${member.name}: ${member.argv.map(quote).join(" ")}`);

    for (const member of this.members) {
      const pid = this.spawnMember(member);
      if (pid !== null) console.log(`kv cluster: started ${member.name} (pid ${pid})`);
    }
    this.every(manifestPollMs, () => this.watchManifest());
    process.on("SIGINT", () => this.stop());
    process.on("SIGTERM", () => this.stop());

    const up = await Promise.all(this.members.map((member) => waitForPort(options.host, member.port, portWaitMs)));
    const silent = this.members.filter((_, i) => !up[i]).map((member) => member.port);
    if (silent.length > 0 && !this.stopping) console.log(`kv cluster: nothing listens yet on port(s) ${silent.join(", ")} after ${portWaitMs / 1000} s; still waiting`);
    if (!this.stopping) {
      await updateManifest(this.dataDir, () => this.manifest());
      this.manifestWritten = true;
    }
    const active = this.stopping ? null : await this.waitUntilReady();
    if (active !== null && !this.stopping) {
      const member = this.coordinators.find((coordinator) => coordinator.address === active.address);
      const name = member?.name ?? active.id ?? active.address;
      const which = active.role === "active" ? `the active coordinator is ${name} (${active.address})` : `${name} (${active.address}) serves (the coordinators report no role)`;
      console.log(`kv cluster: ready; ${which}. Try: npx kv put hello world && npx kv get hello`);
      console.log(`kv cluster: clients reach every coordinator with KV_COORDINATOR=${coordinatorAddresses(this.layout)}`);
      if (this.tlsFiles !== undefined) {
        const env = Object.entries(clientTlsEnvironment(this.tlsFiles)).map(([name, value]) => `${name}=${quote(value)}`);
        console.log(`kv cluster: every link is mutual TLS (certificates under ${this.tlsFiles.dir}); kv commands need: export ${env.join(" ")}`);
      }
      console.log(`kv cluster: the manifest (addresses, pids, roles, argv) is ${manifestPath(this.dataDir)}`);
      console.log(`kv cluster: Prometheus metrics at ${this.members.map((m) => `${m.name} http://${m.metrics}/metrics`).join(", ")}`);
      this.every(rolePollMs, () => this.watchRoles());
    }
    this.checkAllExited();
    await this.allExited;
    for (const timer of this.timers) clearInterval(timer);
    for (const probe of this.probes.values()) probe.close();
    if (this.manifestWritten) {
      await updateManifest(this.dataDir, (manifest) => ({
        ...manifest,
        state: "stopped",
        restartsHeldBy: null,
        members: manifest.members.map((entry) => ({ ...entry, pid: null, ...(entry.role === undefined ? {} : { role: null }) })),
      }));
    }
    console.log("kv cluster: stopped");
    return 0;
  }

  /** The manifest as this supervisor knows the cluster now. */
  private manifest(): ClusterManifest {
    return {
      version: manifestVersion,
      state: "running",
      supervisorPid: process.pid,
      coordinator: this.members[0]!.address,
      coordinators: coordinatorAddresses(this.layout),
      restart: this.options.restart,
      restartsHeldBy: null,
      members: this.members.map((member): ManifestMember => ({
        name: member.name,
        address: member.address,
        metrics: member.metrics,
        pid: pidOf(member.state),
        argv: member.argv,
        ...(member.isCoordinator ? { role: member.role } : {}),
      })),
      ...(this.tlsFiles === undefined ? {} : { tls: manifestTls(this.tlsFiles) }),
    };
  }

  /** Runs `poll` every periodMs, never two at once; errors are reported, not fatal. */
  private every(periodMs: number, poll: () => Promise<void>): void {
    let running = false;
    this.timers.push(
      setInterval(() => {
        if (running) return;
        running = true;
        poll()
          .catch((error: unknown) => console.error(`kv cluster: ${errorMessage(error)}`))
          .finally(() => (running = false));
      }, periodMs),
    );
  }

  /** Starts the member's process as our child; its pid, or null when the spawn failed (onExit then decides). */
  private spawnMember(member: Member): number | null {
    const [command, ...args] = member.argv;
    const child = spawn(command!, args, { stdio: ["ignore", "pipe", "pipe"] });
    if (child.pid === undefined) {
      // A spawn that fails has no pid and emits "error" (not "exit"): a failure like any other.
      child.once("error", (error) => {
        console.error(`kv cluster: cannot start ${member.name}: ${error.message}`);
        this.onExit(member, null, { code: null, signal: null }, 0);
      });
      return null;
    }
    const pid = child.pid;
    const startedAtMs = Date.now();
    member.state = { kind: "child", child, pid, startedAtMs };
    member.role = null;
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => console.log(this.options.jsonLogs ? line : readable(member.name, line)));
    }
    child.on("error", (error) => console.error(`kv cluster: ${member.name} (pid ${pid}): ${error.message}`));
    child.on("exit", (code, signal) => this.onExit(member, pid, { code, signal }, Date.now() - startedAtMs));
    return pid;
  }

  /** A child of ours ended (pid), or a process kv chaos started did (found gone by watchManifest). */
  /** upMs null: unknown (a process kv chaos started: its start and its exit status are not ours to see). */
  private onExit(member: Member, pid: number | null, exit: ProcessExit, upMs: number | null): void {
    const state = member.state;
    if ((state.kind === "child" || state.kind === "adopted") && state.pid !== pid) return; // an older process of this member
    const heldBy = this.manifestWritten ? this.restartHolder() : null;
    const decision = decideOnExit(this.policy, { restart: this.options.restart, stopping: this.stopping, heldBy, exit, upMs: upMs ?? 0, failuresInARow: member.failuresInARow });
    const how = exit.signal ?? (exit.code === null ? "exit status unknown" : `code ${exit.code}`);
    const what = `kv cluster: ${member.name}${pid === null ? "" : ` (pid ${pid})`} exited (${how})${upMs === null ? "" : ` after ${formatMs(upMs)}`}`;
    switch (decision.kind) {
      case "restart": {
        member.failuresInARow = decision.failuresInARow;
        console.error(`${what}; restarting it in ${decision.delayMs} ms (failure ${decision.failuresInARow} in a row)`);
        member.state = {
          kind: "restart-pending",
          timer: setTimeout(() => this.restart(member), decision.delayMs),
        };
        break;
      }
      case "stay-down":
        member.state = { kind: "down", why: decision.why };
        if (decision.why !== "stopping") console.error(`${what}; ${stayDownMessage(decision.why, heldBy)}`);
        break;
      default:
        assertNever(decision);
    }
    member.role = null;
    const recorded = this.manifestWritten && pid !== null ? markDead(this.dataDir, member.name, pid) : Promise.resolve();
    void recorded.catch((error: unknown) => console.error(`kv cluster: cannot update ${manifestPath(this.dataDir)}: ${errorMessage(error)}`)).finally(() => this.checkAllExited());
  }

  /** The restart timer fired: start the member again, unless the cluster stops or kv chaos took over meanwhile. */
  private restart(member: Member): void {
    if (this.stopping || member.state.kind !== "restart-pending") return;
    const heldBy = this.manifestWritten ? this.restartHolder() : null;
    if (heldBy !== null) {
      member.state = { kind: "down", why: "held" };
      console.error(`kv cluster: ${member.name} is not restarted: ${stayDownMessage("held", heldBy)}`);
      return;
    }
    const pid = this.spawnMember(member);
    if (pid === null) return; // the spawn failed: onExit decides
    console.log(`kv cluster: restarted ${member.name} (pid ${pid})`);
    if (this.manifestWritten) {
      void updateManifest(this.dataDir, (manifest) => ({
        ...manifest,
        members: manifest.members.map((entry) => (entry.name === member.name ? { ...entry, pid, ...(entry.role === undefined ? {} : { role: null }) } : entry)),
      })).catch((error: unknown) => console.error(`kv cluster: cannot update ${manifestPath(this.dataDir)}: ${errorMessage(error)}`));
    }
  }

  /** The live kv chaos that holds restarts, per the manifest; null when none (or the manifest cannot be read: then restarts go on). */
  private restartHolder(): number | null {
    try {
      return liveRestartHolder(readManifest(this.dataDir));
    } catch (error) {
      console.error(`kv cluster: cannot read ${manifestPath(this.dataDir)}: ${errorMessage(error)}`);
      return null;
    }
  }

  /**
   * Follows the members kv chaos restarted (they run outside our process tree) through the manifest,
   * and once no kv chaos holds the restarts any more, restarts (with --restart) what stayed down
   * because one did.
   */
  private async watchManifest(): Promise<void> {
    if (!this.manifestWritten) return;
    const manifest = readManifest(this.dataDir);
    const holder = liveRestartHolder(manifest);
    for (const member of this.members) {
      const recorded = manifest.members.find((entry) => entry.name === member.name)?.pid ?? null;
      const before = member.state;
      // A process kv chaos started is gone, whatever the manifest says by now. Not our child, its
      // exit status is unknown: it counts as a failure.
      if (before.kind === "adopted" && !pidRunsArgv(before.pid, member.argv)) this.onExit(member, before.pid, { code: null, signal: null }, null);
      const state = member.state;
      if (state.kind === "child" || state.kind === "restart-pending") continue;
      if (recorded !== null && !(state.kind === "adopted" && state.pid === recorded)) {
        if (pidRunsArgv(recorded, member.argv)) {
          if (!this.stopping) {
            console.log(
              `kv cluster: ${member.name} now runs as pid ${recorded}, restarted outside kv cluster (its output goes to ${memberLogPath(this.dataDir, member.name)})`,
            );
          }
          member.state = { kind: "adopted", pid: recorded };
        } else {
          await markDead(this.dataDir, member.name, recorded);
        }
        continue;
      }
      if (state.kind === "down" && state.why === "held" && holder === null && this.options.restart && !this.stopping) {
        console.log(`kv cluster: no kv chaos holds the restarts any more; restarting ${member.name}`);
        member.state = { kind: "restart-pending", timer: setTimeout(() => this.restart(member), 0) };
      }
    }
    this.checkAllExited();
  }

  /** Asks every running coordinator its role; records changes in the manifest and reports them. */
  private async watchRoles(): Promise<void> {
    if (this.stopping) return;
    const changed: Member[] = [];
    await Promise.all(
      this.coordinators.map(async (coordinator) => {
        const running = coordinator.state.kind === "child" || coordinator.state.kind === "adopted";
        const role = running ? (await this.probes.get(coordinator.name)!.report(roleProbeTimeoutMs)).role : null;
        if (role === coordinator.role) return;
        coordinator.role = role;
        changed.push(coordinator);
      }),
    );
    if (changed.length === 0 || this.stopping) return;
    for (const coordinator of changed) {
      if (coordinator.role !== null) console.log(`kv cluster: ${coordinator.name} (${coordinator.address}) is ${coordinator.role}`);
    }
    const roles = new Map(changed.map((coordinator) => [coordinator.name, coordinator.role]));
    await updateManifest(this.dataDir, (manifest) => ({
      ...manifest,
      members: manifest.members.map((entry) => (roles.has(entry.name) ? { ...entry, role: roles.get(entry.name) ?? null } : entry)),
    }));
  }

  /**
   * Waits until some coordinator is ready (its health service answers SERVING), and returns the
   * active one (coordinators.ts activeOf); says every readyReportMs why not yet. Null once stopping.
   */
  private async waitUntilReady(): Promise<CoordinatorReport | null> {
    let reportAtMs = Date.now() + readyReportMs;
    while (!this.stopping) {
      const reports = await Promise.all([...this.probes.values()].map((probe) => probe.report(2_000)));
      const active = activeOf(reports);
      if (active !== null) return active;
      if (Date.now() >= reportAtMs) {
        const why = reports.map((report) => `${report.address}: ${report.error ?? report.notReadyReason ?? (report.roleWire || "not serving")}`);
        console.log(`kv cluster: not ready yet: ${why.join("; ")}`);
        reportAtMs = Date.now() + readyReportMs;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return null;
  }

  /** The cluster is over when no member runs or waits to restart: neither a child of ours nor a pid kv chaos recorded in the manifest. */
  private checkAllExited(): void {
    if (this.members.every((member) => member.state.kind === "down")) this.resolveAllExited();
  }

  /** Ctrl-C: cancels pending restarts, stops our children and the members the manifest records (SIGTERM, SIGCONT in case one is paused; SIGKILL after stopGraceMs). */
  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    console.log("kv cluster: stopping");
    for (const member of this.members) {
      if (member.state.kind === "restart-pending") {
        clearTimeout(member.state.timer);
        member.state = { kind: "down", why: "stopping" };
      }
    }
    this.signalAll("SIGTERM");
    this.signalAll("SIGCONT");
    setTimeout(() => this.signalAll("SIGKILL"), stopGraceMs).unref();
    this.checkAllExited();
  }

  private signalAll(signal: NodeJS.Signals): void {
    const ours = new Set<number>();
    for (const member of this.members) {
      if (member.state.kind === "child") {
        ours.add(member.state.pid);
        sendSignal(member.state.pid, signal);
      }
    }
    if (!this.manifestWritten) return;
    let manifest: ClusterManifest;
    try {
      manifest = readManifest(this.dataDir);
    } catch (error) {
      console.error(`kv cluster: cannot read ${manifestPath(this.dataDir)}: ${errorMessage(error)}`);
      return;
    }
    for (const entry of manifest.members) {
      if (entry.pid !== null && !ours.has(entry.pid) && pidRunsArgv(entry.pid, entry.argv)) sendSignal(entry.pid, signal);
    }
  }
}

function pidOf(state: MemberState): number | null {
  switch (state.kind) {
    case "child":
    case "adopted":
      return state.pid;
    case "restart-pending":
    case "down":
      return null;
    default:
      return assertNever(state);
  }
}

function stayDownMessage(why: StayDownReason, heldBy: number | null): string {
  switch (why) {
    case "stopping":
      return "the cluster is stopping";
    case "clean-exit":
      return "it exited cleanly (stopped on purpose), so it is not restarted. Restart it with the command printed above.";
    case "restart-off":
      return "the others keep running and it is not restarted (--no-restart). Restart it with the command printed above.";
    case "held":
      return `it is not restarted: kv chaos (pid ${heldBy ?? "?"}) is attached to this cluster and restarts what it kills`;
    default:
      return assertNever(why);
  }
}

function formatMs(ms: number): string {
  return ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const levelNames: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };

/** One pino JSON line as "12:00:01.234 r1 INFO message"; any other line as it is, prefixed. */
function readable(name: string, line: string): string {
  let entry: { time?: unknown; level?: unknown; msg?: unknown };
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    return `${name}: ${line}`;
  }
  if (typeof entry.msg !== "string" || typeof entry.time !== "number") return `${name}: ${line}`;
  const time = new Date(entry.time).toISOString().slice(11, 23);
  const level = typeof entry.level === "number" ? (levelNames[entry.level] ?? String(entry.level)) : "";
  return `${time} ${name.padEnd(13)} ${level.padEnd(5)} ${entry.msg}`;
}

/** Waits until something accepts TCP connections on host:port, or the deadline passes. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
