// The manifest of a running `kv cluster`: <data-dir>/cluster.json, written by kv cluster
// (tools/cluster/cluster.ts), read and updated by `kv chaos --cluster DIR` (tools/chaos/attached.ts)
// and read by the failover benchmark and the tests. It names every process (a member): the
// coordinators (every name starts with "coordinator": "coordinator", "coordinator-2", ...) and the
// replicas, each with its address, its pid (null while down) and the exact argv that restarts it.
import * as fs from "node:fs";
import * as path from "node:path";
import { coordinatorRoles, type CoordinatorRole } from "./coordinators";
import { isCoordinatorName } from "./process-args";

/**
 * Still 1: every field added for failover (coordinators, restart, restartsHeldBy, a member's role)
 * has a default when absent, so a manifest of an older kv cluster still reads, and older readers
 * ignore the new fields.
 */
export const manifestVersion = 1;

export interface ManifestMember {
  /** "coordinator", "coordinator-2", ... (isCoordinatorName), or a replica id ("r1", ...). */
  readonly name: string;
  /** HOST:PORT it serves on (clients and replicas for a coordinator; the coordinators and the admin API for a replica). */
  readonly address: string;
  /** HOST:PORT of its Prometheus metrics (http://HOST:PORT/metrics; --metrics-listen); absent when it serves none. */
  readonly metrics?: string;
  /** Null while it is not running. */
  readonly pid: number | null;
  /** What restarts it on the same data: [node, bin/kv.js, ...args], every path absolute. */
  readonly argv: readonly string[];
  /** A coordinator's role as it last reported it (Kv.Status); null while unknown (down, or no role reported). Replicas have none. */
  readonly role?: CoordinatorRole | null;
}

export interface ClusterManifest {
  readonly version: typeof manifestVersion;
  /** "stopped" once kv cluster has stopped every member. */
  readonly state: "running" | "stopped";
  /** The pid of kv cluster itself. */
  readonly supervisorPid: number;
  /** The first coordinator's address (the member "coordinator"). */
  readonly coordinator: string;
  /** Every coordinator's address, comma-separated, in order: a value for KV_COORDINATOR. */
  readonly coordinators: string;
  /** kv cluster restarts a member that fails (--restart). */
  readonly restart: boolean;
  /**
   * The pid of a `kv chaos --cluster` attached to this cluster, which kills and restarts members
   * itself: while it lives, kv cluster restarts nothing (two restarts of one member would run two
   * processes on one data directory). Null when none.
   */
  readonly restartsHeldBy: number | null;
  readonly members: readonly ManifestMember[];
  /** The TLS files of a `kv cluster --tls` (absent: plaintext): the CA, the client certificate for `kv` commands, each member's. */
  readonly tls?: ManifestTls;
}

export interface ManifestTls {
  readonly ca: string;
  readonly client: { readonly cert: string; readonly key: string };
  /** Each member's certificate and key, by its name. */
  readonly members: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
}

export function manifestPath(dataDir: string): string {
  return path.join(dataDir, "cluster.json");
}

/** Where the output of a member goes once kv chaos restarted it (kv cluster no longer sees it). */
export function memberLogPath(dataDir: string, name: string): string {
  return path.join(dataDir, `${name}.log`);
}

/** The coordinators among the members, in manifest order (the first is "coordinator"). */
export function coordinatorMembers(manifest: ClusterManifest): ManifestMember[] {
  return manifest.members.filter((member) => isCoordinatorName(member.name));
}

/** The replicas among the members. */
export function replicaMembers(manifest: ClusterManifest): ManifestMember[] {
  return manifest.members.filter((member) => !isCoordinatorName(member.name));
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
  const role = (value: unknown, field: string): CoordinatorRole | null =>
    value === null || value === undefined
      ? null
      : typeof value === "string" && (coordinatorRoles as readonly string[]).includes(value)
        ? (value as CoordinatorRole)
        : fail(field, `is none of ${coordinatorRoles.map((r) => JSON.stringify(r)).join(", ")}, null`);
  const top = object(json, "the manifest");
  if (top.version !== manifestVersion) fail("version", `is ${JSON.stringify(top.version)}; this kv reads version ${manifestVersion}`);
  const state = top.state === "running" || top.state === "stopped" ? top.state : fail("state", 'is neither "running" nor "stopped"');
  if (!Array.isArray(top.members) || top.members.length === 0) fail("members", "is not a non-empty array");
  const members = (top.members as unknown[]).map((value, i): ManifestMember => {
    const field = `members[${i}]`;
    const member = object(value, field);
    const argv = member.argv;
    if (!Array.isArray(argv) || argv.length < 2) fail(`${field}.argv`, "is not an array of at least 2 strings");
    const name = string(member.name, `${field}.name`);
    return {
      name,
      address: string(member.address, `${field}.address`),
      ...(member.metrics === undefined ? {} : { metrics: string(member.metrics, `${field}.metrics`) }),
      pid: member.pid === null ? null : pid(member.pid, `${field}.pid`),
      argv: (argv as unknown[]).map((arg, j) => (typeof arg === "string" ? arg : fail(`${field}.argv[${j}]`, "is not a string"))),
      ...(isCoordinatorName(name) ? { role: role(member.role, `${field}.role`) } : {}),
    };
  });
  if (!members.some((member) => member.name === "coordinator")) fail("members", 'names no "coordinator"');
  if (new Set(members.map((member) => member.name)).size !== members.length) fail("members", "names a member twice");
  const coordinator = string(top.coordinator, "coordinator");
  const restart = top.restart === undefined ? false : typeof top.restart === "boolean" ? top.restart : fail("restart", "is not true or false");
  const certFiles = (value: unknown, field: string) => {
    const files = object(value, field);
    return { cert: string(files.cert, `${field}.cert`), key: string(files.key, `${field}.key`) };
  };
  const tlsObject = top.tls === undefined ? undefined : object(top.tls, "tls");
  const tls: ManifestTls | undefined =
    tlsObject === undefined
      ? undefined
      : {
          ca: string(tlsObject.ca, "tls.ca"),
          client: certFiles(tlsObject.client, "tls.client"),
          members: Object.fromEntries(Object.entries(object(tlsObject.members, "tls.members")).map(([name, files]) => [name, certFiles(files, `tls.members.${name}`)])),
        };
  return {
    version: manifestVersion,
    state,
    supervisorPid: pid(top.supervisorPid, "supervisorPid"),
    coordinator,
    coordinators: top.coordinators === undefined ? coordinator : string(top.coordinators, "coordinators"),
    restart,
    restartsHeldBy: top.restartsHeldBy === undefined || top.restartsHeldBy === null ? null : pid(top.restartsHeldBy, "restartsHeldBy"),
    members,
    ...(tls === undefined ? {} : { tls }),
  };
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
      : ({
          version: manifestVersion,
          state: "stopped",
          supervisorPid: process.pid,
          coordinator: "",
          coordinators: "",
          restart: false,
          restartsHeldBy: null,
          members: [],
        } satisfies ClusterManifest);
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
    members: manifest.members.map((entry) => (entry.name === name && entry.pid === pid ? { ...entry, pid: null, ...(entry.role === undefined ? {} : { role: null }) } : entry)),
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

/** The pid holding kv cluster's restarts (a live kv chaos), or null when none holds them or its holder has died. */
export function liveRestartHolder(manifest: ClusterManifest): number | null {
  return manifest.restartsHeldBy !== null && pidAlive(manifest.restartsHeldBy) ? manifest.restartsHeldBy : null;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
