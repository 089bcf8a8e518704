// `kv cluster`: a local cluster, each process its own OS process. It starts one coordinator and N
// replicas on consecutive ports, prints the command that runs each one alone (to restart a process
// by hand on the same data), passes their output through, and stops them all on Ctrl-C. A process
// that dies stays dead: a crash test must see it stay down.
//
// Once the cluster listens it writes a manifest, <data-dir>/cluster.json: the coordinator's address
// and, for each member, its address, its pid and the exact argv that restarts it. `kv chaos --cluster
// DIR` reads it to kill, pause and restart members, and records there the pid of a member it
// restarted; such a member is no longer a child of `kv cluster`, which therefore watches the pids of
// the manifest too and, on Ctrl-C, stops them along with its own children. It signals only pids the
// manifest records (which it or kv chaos started), and only while they still run the recorded argv.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as readline from "node:readline";
import { KvClient } from "../../client/client";
import { consecutiveLayout, coordinatorArgs, kvScript, replicaArgs } from "./process-args";

export interface ClusterOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly replicas: number;
  /** The coordinator's --on-conflict; its default when absent. */
  readonly onConflict?: "abort" | "wait";
  /** The coordinator's --min-in-sync; its default when absent. */
  readonly minInSync?: number;
  readonly logLevel: string;
  /** Pass the processes' JSON log lines through as they are, instead of one readable line each. */
  readonly jsonLogs: boolean;
}

interface Member {
  readonly name: string;
  readonly address: string;
  readonly args: string[];
  child: ChildProcess | null;
  /** The pid the manifest last gave this member when it was not our child (kv chaos restarted it). */
  adoptedPid: number | null;
}

const stopGraceMs = 5_000;
/** How often kv cluster looks at the manifest for members it did not start (restarted by kv chaos). */
const manifestPollMs = 500;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export async function runCluster(options: ClusterOptions): Promise<number> {
  // Absolute, so that the argv recorded in the manifest restarts a member from any directory.
  const dataDir = path.resolve(options.dataDir);
  const coordinatorAddress = `${options.host}:${options.port}`;
  const layout = consecutiveLayout(options.host, options.port, options.replicas, dataDir);
  const replicaIds = layout.replicas.map((replica) => replica.id);
  const members: Member[] = [
    {
      name: "coordinator",
      address: coordinatorAddress,
      args: coordinatorArgs(layout, { logLevel: options.logLevel, onConflict: options.onConflict, minInSync: options.minInSync }),
      child: null,
      adoptedPid: null,
    },
    ...layout.replicas.map((replica) => ({
      name: replica.id,
      address: `${options.host}:${replica.port}`,
      args: replicaArgs(layout, replica.id, { logLevel: options.logLevel }),
      child: null,
      adoptedPid: null,
    })),
  ];
  const argvOf = (member: Member): string[] => [process.execPath, kvScript, ...member.args];

  fs.mkdirSync(dataDir, { recursive: true });
  console.log(`kv cluster: ${options.replicas} replicas, data under ${dataDir}`);
  console.log("Each process can be run alone (to restart one by hand on the same data):");
  for (const member of members) console.log(`  ${member.name}: ${argvOf(member).map(quote).join(" ")}`);

  let stopping = false;
  let manifestWritten = false;
  let resolveAllExited: () => void = () => {};
  const allExited = new Promise<void>((resolve) => (resolveAllExited = resolve));
  // The cluster is over when no member runs any more: neither a child of ours nor a pid kv chaos
  // recorded in the manifest.
  const checkAllExited = (): void => {
    if (members.every((member) => member.child === null && member.adoptedPid === null)) resolveAllExited();
  };

  for (const member of members) {
    const child = spawn(process.execPath, [kvScript, ...member.args], { stdio: ["ignore", "pipe", "pipe"] });
    member.child = child;
    console.log(`kv cluster: started ${member.name} (pid ${child.pid})`);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => console.log(options.jsonLogs ? line : readable(member.name, line)));
    }
    child.on("exit", (code, signal) => {
      member.child = null;
      if (!stopping) {
        console.error(
          `kv cluster: ${member.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); the others keep running and ` +
            `it is not restarted. Restart it with the command printed above.`,
        );
      }
      const pid = child.pid;
      const after = manifestWritten && pid !== undefined ? markDead(dataDir, member.name, pid) : Promise.resolve();
      void after.catch((error: unknown) => console.error(`kv cluster: cannot update ${manifestPath(dataDir)}: ${errorMessage(error)}`)).finally(checkAllExited);
    });
  }

  // Members that kv chaos restarted run outside our process tree: follow them through the manifest.
  const watchManifest = async (): Promise<void> => {
    if (!manifestWritten) return;
    const manifest = readManifest(dataDir);
    for (const member of members) {
      const recorded = manifest.members.find((entry) => entry.name === member.name);
      if (recorded === undefined || recorded.pid === null || recorded.pid === member.child?.pid) {
        member.adoptedPid = null;
        continue;
      }
      if (!pidRunsArgv(recorded.pid, recorded.argv)) {
        if (!stopping) console.error(`kv cluster: ${member.name} (pid ${recorded.pid}, restarted outside kv cluster) exited; it is not restarted`);
        member.adoptedPid = null;
        await markDead(dataDir, member.name, recorded.pid);
        continue;
      }
      if (member.adoptedPid !== recorded.pid && !stopping) {
        console.log(`kv cluster: ${member.name} now runs as pid ${recorded.pid}, restarted outside kv cluster (its output goes to ${memberLogPath(dataDir, member.name)})`);
      }
      member.adoptedPid = recorded.pid;
    }
    checkAllExited();
  };
  let polling = false;
  const poller = setInterval(() => {
    if (polling) return;
    polling = true;
    watchManifest()
      .catch((error: unknown) => console.error(`kv cluster: cannot read ${manifestPath(dataDir)}: ${errorMessage(error)}`))
      .finally(() => (polling = false));
  }, manifestPollMs);

  // Stop our children and the members the manifest records (SIGTERM, then SIGCONT in case one is
  // paused; SIGKILL after the grace period).
  const signalAll = (signal: NodeJS.Signals): void => {
    for (const member of members) {
      if (member.child !== null && member.child.pid !== undefined) sendSignal(member.child.pid, signal);
    }
    if (!manifestWritten) return;
    let manifest: ClusterManifest;
    try {
      manifest = readManifest(dataDir);
    } catch (error) {
      console.error(`kv cluster: cannot read ${manifestPath(dataDir)}: ${errorMessage(error)}`);
      return;
    }
    for (const entry of manifest.members) {
      const ours = members.some((member) => member.child?.pid === entry.pid);
      if (entry.pid !== null && !ours && pidRunsArgv(entry.pid, entry.argv)) sendSignal(entry.pid, signal);
    }
  };
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("kv cluster: stopping");
    signalAll("SIGTERM");
    signalAll("SIGCONT");
    setTimeout(() => signalAll("SIGKILL"), stopGraceMs).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const ports = [options.port, ...replicaIds.map((_, i) => options.port + 1 + i)];
  const up = await Promise.all(ports.map((port) => waitForPort(options.host, port, 15_000)));
  const silent = ports.filter((_, i) => !up[i]);
  if (silent.length > 0 && !stopping) console.log(`kv cluster: nothing listens yet on port(s) ${silent.join(", ")} after 15 s; still waiting`);
  if (!stopping) {
    await updateManifest(dataDir, () => ({
      version: manifestVersion,
      state: "running",
      supervisorPid: process.pid,
      coordinator: coordinatorAddress,
      members: members.map((member) => ({ name: member.name, address: member.address, pid: member.child?.pid ?? null, argv: argvOf(member) })),
    }));
    manifestWritten = true;
  }
  if (!stopping) await waitUntilReady(coordinatorAddress, () => stopping);
  if (!stopping) {
    console.log(`kv cluster: ready; the coordinator listens on ${coordinatorAddress}. Try: npx kv put hello world && npx kv get hello`);
    console.log(`kv cluster: the manifest (addresses, pids, argv) is ${manifestPath(dataDir)}`);
  }
  checkAllExited();
  await allExited;
  clearInterval(poller);
  if (manifestWritten) {
    await updateManifest(dataDir, (manifest) => ({ ...manifest, state: "stopped", members: manifest.members.map((entry) => ({ ...entry, pid: null })) }));
  }
  console.log("kv cluster: stopped");
  return 0;
}

// ---------------------------------------------------------------------------------------------
// The manifest: <data-dir>/cluster.json, written by kv cluster, read and updated by kv chaos.

export const manifestVersion = 1;

export interface ManifestMember {
  /** "coordinator", or a replica id ("r1", ...). */
  readonly name: string;
  /** HOST:PORT it serves on (clients for the coordinator; the coordinator and the admin API for a replica). */
  readonly address: string;
  /** Null while it is not running. */
  readonly pid: number | null;
  /** What restarts it on the same data: [node, bin/kv.js, ...args], every path absolute. */
  readonly argv: readonly string[];
}

export interface ClusterManifest {
  readonly version: typeof manifestVersion;
  /** "stopped" once kv cluster has stopped every member. */
  readonly state: "running" | "stopped";
  /** The pid of kv cluster itself. */
  readonly supervisorPid: number;
  readonly coordinator: string;
  readonly members: readonly ManifestMember[];
}

export function manifestPath(dataDir: string): string {
  return path.join(dataDir, "cluster.json");
}

/** Where the output of a member goes once kv chaos restarted it (kv cluster no longer sees it). */
export function memberLogPath(dataDir: string, name: string): string {
  return path.join(dataDir, `${name}.log`);
}

/** Decodes a manifest; the error names the file and the field. */
export function parseManifest(text: string, file: string): ClusterManifest {
  const fail = (field: string, what: string): never => {
    throw new Error(`${file}: ${field} ${what}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail("", `is not JSON (${errorMessage(error)})`);
  }
  const object = (value: unknown, field: string): Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : fail(field, "is not an object");
  const string = (value: unknown, field: string): string => (typeof value === "string" && value.length > 0 ? value : fail(field, "is not a non-empty string"));
  const pid = (value: unknown, field: string): number =>
    typeof value === "number" && Number.isInteger(value) && value > 0 ? value : fail(field, "is not a pid (a whole number above 0)");
  const top = object(json, "the manifest");
  if (top.version !== manifestVersion) fail("version", `is ${JSON.stringify(top.version)}; this kv reads version ${manifestVersion}`);
  const state = top.state === "running" || top.state === "stopped" ? top.state : fail("state", 'is neither "running" nor "stopped"');
  if (!Array.isArray(top.members) || top.members.length === 0) fail("members", "is not a non-empty array");
  const members = (top.members as unknown[]).map((value, i): ManifestMember => {
    const field = `members[${i}]`;
    const member = object(value, field);
    const argv = member.argv;
    if (!Array.isArray(argv) || argv.length < 2) fail(`${field}.argv`, "is not an array of at least 2 strings");
    return {
      name: string(member.name, `${field}.name`),
      address: string(member.address, `${field}.address`),
      pid: member.pid === null ? null : pid(member.pid, `${field}.pid`),
      argv: (argv as unknown[]).map((arg, j) => (typeof arg === "string" ? arg : fail(`${field}.argv[${j}]`, "is not a string"))),
    };
  });
  if (!members.some((member) => member.name === "coordinator")) fail("members", 'names no "coordinator"');
  if (new Set(members.map((member) => member.name)).size !== members.length) fail("members", "names a member twice");
  return { version: manifestVersion, state, supervisorPid: pid(top.supervisorPid, "supervisorPid"), coordinator: string(top.coordinator, "coordinator"), members };
}

export function readManifest(dataDir: string): ClusterManifest {
  const file = manifestPath(dataDir);
  return parseManifest(fs.readFileSync(file, "utf8"), file);
}

/** The longest a manifest update waits for another process's update (kv cluster and kv chaos both write). */
const manifestLockWaitMs = 5_000;

/**
 * Reads, changes and rewrites the manifest under a lock file (<data-dir>/cluster.json.lock, holding
 * the writer's pid), so that kv cluster and kv chaos never lose each other's updates; the new
 * manifest replaces the old one by rename, so a reader never sees half of one. A lock whose holder
 * has died is broken.
 */
export async function updateManifest(dataDir: string, change: (manifest: ClusterManifest) => ClusterManifest): Promise<ClusterManifest> {
  const file = manifestPath(dataDir);
  const lock = `${file}.lock`;
  const deadlineMs = Date.now() + manifestLockWaitMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let holder: number;
    let ageMs: number;
    try {
      holder = Number(fs.readFileSync(lock, "utf8"));
      ageMs = Date.now() - fs.statSync(lock).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // released meanwhile
      throw error;
    }
    // Broken when its holder is dead, or when it never got a pid (its writer died between creating
    // and writing it).
    const holderKnown = Number.isInteger(holder) && holder > 0;
    if ((holderKnown && !pidAlive(holder)) || (!holderKnown && ageMs > manifestLockWaitMs)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadlineMs) throw new Error(`${lock} is held by pid ${holder} for more than ${manifestLockWaitMs} ms (manifestLockWaitMs)`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  try {
    // The first write of kv cluster creates the manifest: `change` then gets a placeholder.
    const current = fs.existsSync(file)
      ? parseManifest(fs.readFileSync(file, "utf8"), file)
      : ({ version: manifestVersion, state: "stopped", supervisorPid: process.pid, coordinator: "", members: [] } satisfies ClusterManifest);
    const next = change(current);
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, `${JSON.stringify(next, null, 2)}\n`);
    fs.renameSync(temp, file);
    return next;
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Records that a member's process `pid` is gone, unless the manifest already names a newer one. */
export function markDead(dataDir: string, name: string, pid: number): Promise<ClusterManifest> {
  return updateManifest(dataDir, (manifest) => ({
    ...manifest,
    members: manifest.members.map((entry) => (entry.name === name && entry.pid === pid ? { ...entry, pid: null } : entry)),
  }));
}

/** True while a process with this pid exists (a zombie counts until its parent reaps it). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when `pid` runs and, where /proc shows command lines (Linux), runs exactly `argv`: a pid the
 * manifest recorded may have been reused by an unrelated process since, which must not be signalled.
 */
export function pidRunsArgv(pid: number, argv: readonly string[]): boolean {
  if (!pidAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return !fs.existsSync("/proc/self/cmdline"); // no /proc here: the pid is all we can check
  }
  if (cmdline === "") return false; // a zombie: already dead
  const running = cmdline.split("\0").filter((arg, i, all) => i < all.length - 1 || arg !== "");
  return running.length === argv.length && running.every((arg, i) => arg === argv[i]);
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
  return `${time} ${name.padEnd(11)} ${level.padEnd(5)} ${entry.msg}`;
}

/**
 * Waits until the coordinator says it is ready (its Status: a write sent now goes ahead at once),
 * saying every readyReportMs why not yet, until stopped() is true.
 */
async function waitUntilReady(coordinatorAddress: string, stopped: () => boolean): Promise<void> {
  const readyReportMs = 10_000;
  const client = new KvClient(coordinatorAddress, { timeoutMs: 2_000, retryForMs: 0 });
  let reportAtMs = Date.now() + readyReportMs;
  try {
    while (!stopped()) {
      const reason = await client.status().then(
        (status) => (status.ready ? null : status.notReadyReason),
        (error: unknown) => errorMessage(error),
      );
      if (reason === null) return;
      if (Date.now() >= reportAtMs) {
        console.log(`kv cluster: not ready yet: ${reason}`);
        reportAtMs = Date.now() + readyReportMs;
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    client.close();
  }
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
