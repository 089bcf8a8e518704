// The three servers of the comparison benchmark (tools/bench/compare.ts), each started fresh in a
// temp directory on random free loopback ports, and stopped by the pids this benchmark started:
// - etcd: three members of Debian's etcd-server (binary `etcd`) with etcd's default settings (fsync
//   on every commit), each with its own data directory;
// - twopc-kv: `kv cluster --no-restart` with its defaults (2 coordinators, 3 replicas);
// - the grpc-js echo server (tools/bench/echo-server.ts).
// Each gives a Driver (compare-load.ts) over several channels and the pids whose CPU counts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import * as grpc from "@grpc/grpc-js";
import { assert, assertNever } from "../../common/assert";
import { kvProto } from "../../proto/load";
import type { KvClient as KvStub } from "../../proto/gen/twopc/kv/Kv";
import { readManifest, manifestPath, pidAlive, pidRunsArgv, type ClusterManifest } from "../cluster/manifest";
import { kvScript } from "../cluster/process-args";
import { freePort, freePortRun } from "../ports";
import { activeCoordinatorMetadataKey, coordinatorSessionError } from "../../client/coordinators";
import { callTimeoutMs, isCallError, type Driver, type Op } from "./compare-load";
import { echoStub, etcdKvStub, etcdMaintenanceStub, type EchoStub, type EtcdKvStub, type EtcdRangeResponse, type EtcdStatusResponse } from "./compare-protos";
import type { KvSessionRequest } from "../../proto/gen/twopc/kv/KvSessionRequest";
import type { KvSessionResponse__Output } from "../../proto/gen/twopc/kv/KvSessionResponse";
import { ClientSession } from "../../proto/session";

/** How long a system may take to start and be ready. */
export const startTimeoutMs = 60_000;
/** How long a stopped process may take to exit before it is killed (SIGKILL). */
export const stopGraceMs = 15_000;
/** Lines of a child's output kept to explain a failure. */
const outputLinesKept = 40;
/** Ports a `kv cluster` with its defaults takes, consecutive: 2 coordinators and 3 replicas, then their metrics ports. */
export const storePorts = 10;
export const etcdMembers = 3;
/** Starting a system on ports that were free when picked can still lose a race for them: this many attempts. */
export const startAttemptsMax = 3;

/**
 * The channel options of every driver, the same for the three targets. A local subchannel pool
 * gives each channel its own TCP connection (grpc-js would otherwise share one between channels of
 * equal target and options).
 */
export const driverChannelOptions: grpc.ChannelOptions = { "grpc.use_local_subchannel_pool": 1 };

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function callDeadline(): grpc.CallOptions {
  return { deadline: Date.now() + callTimeoutMs };
}

// ---------------------------------------------------------------------------------------------
// Ports and processes.

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** A process this benchmark started: its output (the last lines), its exit, and a stop by its pid. */
export class Child {
  readonly output: string[] = [];
  readonly exited: Promise<void>;
  private exitedNow = false;
  readonly pid: number;

  constructor(
    readonly name: string,
    private readonly childProcess: ChildProcess,
  ) {
    assert(childProcess.pid !== undefined, `${name} was spawned`);
    this.pid = childProcess.pid;
    for (const stream of [childProcess.stdout, childProcess.stderr]) {
      if (stream === null) continue;
      readline.createInterface({ input: stream }).on("line", (line) => {
        this.output.push(line);
        if (this.output.length > outputLinesKept) this.output.shift();
      });
    }
    this.exited = new Promise((resolve) =>
      childProcess.once("exit", () => {
        this.exitedNow = true;
        resolve();
      }),
    );
  }

  static spawn(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Child {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
    // A binary that cannot be run at all fails here, not as an exit.
    child.once("error", (error) => console.error(`${name}: ${error.message}`));
    if (child.pid === undefined) throw new Error(`cannot start ${name}: ${command} ${args.join(" ")}`);
    return new Child(name, child);
  }

  get running(): boolean {
    return !this.exitedNow;
  }

  describeExit(): string {
    return `exited (code ${this.childProcess.exitCode ?? "none"}, signal ${this.childProcess.signalCode ?? "none"})`;
  }

  /** Sends `signal` to its pid, waits stopGraceMs for it to exit, then SIGKILLs it and waits. */
  async stop(signal: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.childProcess.kill(signal);
    const exited = await Promise.race([this.exited.then(() => true), sleep(stopGraceMs).then(() => false)]);
    if (!exited) {
      console.error(`${this.name} (pid ${this.pid}) did not exit ${stopGraceMs} ms after ${signal} (stopGraceMs): killing it`);
      this.childProcess.kill("SIGKILL");
      await this.exited;
    }
  }

  tail(): string {
    return this.output.map((line) => `  ${this.name}: ${line}`).join("\n");
  }
}

/** A running system: what the generator drives, the pids whose CPU counts, and its stop. */
export interface Running {
  readonly description: string;
  readonly serverPids: readonly number[];
  /** A name for each of serverPids, in the same order (its CPU is reported per process too). */
  readonly serverNames: readonly string[];
  /** A new driver over `channels` channels; the caller closes it. */
  driver(channels: number): Driver;
  /** Stops every process it started (by pid) and removes its temp directory. */
  stop(): Promise<void>;
  /** The last lines its processes printed, to explain failed calls. */
  recentOutput(): string;
}

/** Calls `check` until it returns a value, a child exits, or startTimeoutMs passes. */
async function waitUntil<T>(what: string, children: readonly Child[], check: () => Promise<T | null>): Promise<T> {
  const deadlineMs = Date.now() + startTimeoutMs;
  let lastError = "";
  for (;;) {
    const dead = children.find((child) => !child.running);
    if (dead !== undefined) throw new Error(`${dead.name} ${dead.describeExit()} while waiting for ${what}:\n${children.map((c) => c.tail()).join("\n")}`);
    try {
      const value = await check();
      if (value !== null) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadlineMs) {
      throw new Error(`no ${what} after ${startTimeoutMs} ms (startTimeoutMs)${lastError === "" ? "" : `; last error: ${lastError}`}:\n${children.map((c) => c.tail()).join("\n")}`);
    }
    await sleep(100);
  }
}

/** A unary call as a promise. */
function unary<T>(start: (callback: grpc.requestCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    start((error, response) => {
      if (error !== null) reject(error);
      else if (response === undefined) reject(new Error("a call succeeded without a response"));
      else resolve(response);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// etcd.

/** Every pid whose command name is `etcd` (from /proc/PID/comm). */
export function etcdPids(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "etcd") pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function onPath(binary: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export const etcdInstallCommand = "apt-get install -y etcd-server";

/** The benchmark cannot set up what it needs (etcd missing, or its install failed): exit with the message, no stack. */
export class SetupError extends Error {
  override readonly name = "SetupError";
}

/**
 * The etcd binary. When it is missing: as root, installs Debian's etcd-server (saying so on stderr)
 * and stops any etcd the package's postinst started (only the etcd processes that appeared during
 * the install); otherwise fails with the command to run.
 */
export async function ensureEtcd(): Promise<string> {
  const found = onPath("etcd");
  if (found !== null) return found;
  if (process.getuid?.() !== 0) {
    throw new SetupError(`etcd is not installed (no etcd on PATH). Install Debian's etcd-server as root: sudo ${etcdInstallCommand}`);
  }
  console.error(`bench:compare: etcd is not installed; installing Debian's etcd-server (${etcdInstallCommand})`);
  const before = new Set(etcdPids());
  const result = spawnSync("apt-get", ["install", "-y", "etcd-server"], { stdio: ["ignore", process.stderr, process.stderr], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) {
    const why = result.error !== undefined ? result.error.message : `exit ${result.status ?? result.signal}`;
    throw new SetupError(`${etcdInstallCommand} failed (${why}); if the package is unknown, run apt-get update first`);
  }
  // The package's postinst may have started a system etcd (where services may start): it must not
  // run beside the benchmark. Stop the ones that appeared during the install, by pid.
  const started = etcdPids().filter((pid) => !before.has(pid));
  for (const pid of started) {
    console.error(`bench:compare: stopping the etcd (pid ${pid}) the etcd-server package started`);
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
  }
  const deadlineMs = Date.now() + stopGraceMs;
  while (started.some(pidAlive) && Date.now() < deadlineMs) await sleep(100);
  for (const pid of started.filter(pidAlive)) {
    console.error(`bench:compare: the etcd (pid ${pid}) the package started did not exit after SIGTERM: killing it`);
    process.kill(pid, "SIGKILL");
  }
  const installed = onPath("etcd");
  if (installed === null) throw new SetupError(`${etcdInstallCommand} succeeded but there is still no etcd on PATH`);
  return installed;
}

/** etcd's version line ("etcd Version: 3.4.23"). */
export function etcdVersion(binary: string): string {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  return result.stdout.split("\n")[0]?.trim() ?? "unknown";
}

export type EtcdEndpoints = "leader" | "all";

interface EtcdMember {
  readonly name: string;
  readonly clientAddress: string;
  readonly child: Child;
}

/** The environment of an etcd member: ours without ETCD_* variables, so that only the flags configure it. */
function etcdEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("ETCD_")));
}

/** Each member's Status; the leader's client address once all agree on one. */
async function etcdLeader(members: readonly EtcdMember[]): Promise<string | null> {
  const statuses = await Promise.all(
    members.map(async (member) => {
      const stub = etcdMaintenanceStub(member.clientAddress, {});
      try {
        return await unary<EtcdStatusResponse>((callback) => stub.Status({}, { deadline: Date.now() + 1_000 }, callback));
      } finally {
        stub.close();
      }
    }),
  );
  const leader = statuses[0]!.leader;
  if (leader === "0" || !statuses.every((status) => status.leader === leader)) return null;
  const index = statuses.findIndex((status) => status.header?.memberId === leader);
  return index < 0 ? null : members[index]!.clientAddress;
}

export async function startEtcd(binary: string, tmpRoot: string, endpoints: EtcdEndpoints): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(tmpRoot, "twopc-kv-compare-etcd-"));
    const ports = await freePorts(2 * etcdMembers);
    const names = Array.from({ length: etcdMembers }, (_, i) => `etcd-${i + 1}`);
    const peerUrl = (i: number): string => `http://127.0.0.1:${ports[etcdMembers + i]}`;
    const initialCluster = names.map((name, i) => `${name}=${peerUrl(i)}`).join(",");
    const token = `twopc-kv-compare-${randomUUID()}`;
    const members: EtcdMember[] = names.map((name, i) => {
      const clientUrl = `http://127.0.0.1:${ports[i]}`;
      // Only what a cluster of three on one host needs; everything else (fsync on every commit,
      // snapshot count, heartbeat and election timeouts) is etcd's default.
      const args = [
        "--name", name,
        "--data-dir", path.join(dir, name),
        "--listen-client-urls", clientUrl,
        "--advertise-client-urls", clientUrl,
        "--listen-peer-urls", peerUrl(i),
        "--initial-advertise-peer-urls", peerUrl(i),
        "--initial-cluster", initialCluster,
        "--initial-cluster-state", "new",
        "--initial-cluster-token", token,
      ];
      return { name, clientAddress: `127.0.0.1:${ports[i]}`, child: Child.spawn(name, binary, args, etcdEnv()) };
    });
    const children = members.map((member) => member.child);
    const stop = async (): Promise<void> => {
      await Promise.all(children.map((child) => child.stop("SIGTERM")));
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      const leader = await waitUntil("etcd leader", children, () => etcdLeader(members));
      // A linearizable read on the leader: the cluster serves.
      const probe = etcdKvStub(leader, {});
      try {
        await waitUntil("linearizable read on etcd", children, () =>
          unary((callback) => probe.Range({ key: Buffer.from("probe"), serializable: false }, callDeadline(), callback)).then(() => true),
        );
      } finally {
        probe.close();
      }
      const targets = endpoints === "leader" ? [leader] : members.map((member) => member.clientAddress);
      return {
        description: `etcd: ${etcdMembers} members (${members.map((m) => `${m.name} ${m.clientAddress} pid ${m.child.pid}`).join(", ")}), leader ${leader}; clients call ${endpoints === "leader" ? "the leader" : "every member, channel by channel"}`,
        serverPids: children.map((child) => child.pid),
        serverNames: members.map((member) => (member.clientAddress === leader ? `${member.name} (leader)` : member.name)),
        driver: (channels) => new EtcdDriver(targets, channels),
        stop,
        recentOutput: () => children.map((child) => child.tail()).join("\n"),
      };
    } catch (error) {
      await stop();
      // A member that lost a race for its port exits at once: try again on new ports.
      if (attempt >= startAttemptsMax) throw error;
      console.error(`bench:compare: etcd did not start (attempt ${attempt} of ${startAttemptsMax}): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
}

class EtcdDriver implements Driver {
  readonly target = "etcd" as const;
  private readonly stubs: EtcdKvStub[];

  constructor(
    targets: readonly string[],
    readonly channels: number,
  ) {
    this.stubs = Array.from({ length: channels }, (_, i) => etcdKvStub(targets[i % targets.length]!, driverChannelOptions));
  }

  call(channel: number, op: Op, key: string, value: Buffer): Promise<boolean> {
    const stub = this.stubs[channel]!;
    switch (op) {
      case "put":
        return unary((callback) => stub.Put({ key: Buffer.from(key), value }, callDeadline(), callback)).then(() => true);
      case "get":
        // serializable false: linearizable (ReadIndex through the leader).
        return unary<EtcdRangeResponse>((callback) => stub.Range({ key: Buffer.from(key), serializable: false }, callDeadline(), callback)).then((response) => response.kvs.length > 0);
      case "echo":
        throw new Error("etcd has no echo");
      default:
        return assertNever(op);
    }
  }

  close(): void {
    for (const stub of this.stubs) stub.close();
  }
}

// ---------------------------------------------------------------------------------------------
// twopc-kv.

const readyLine = /^kv cluster: ready; the active coordinator is \S+ \((\S+)\)/;

export async function startStore(tmpRoot: string): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(tmpRoot, "twopc-kv-compare-store-"));
    const port = await freePortRun(storePorts);
    // kv cluster with its defaults (2 coordinators, 3 replicas, their default flags); --no-restart:
    // a process that dies stays dead, and the run shows it as errors.
    const child = Child.spawn("kv cluster", process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dir, "--port", String(port)]);
    let manifest: ClusterManifest | null = null;
    const stop = async (): Promise<void> => {
      await child.stop("SIGINT");
      // kv cluster stops its members; any it left (it was killed) are stopped here, by the
      // manifest's pids, while they still run the recorded argv.
      for (const member of manifest?.members ?? []) {
        if (member.pid === null || !pidRunsArgv(member.pid, member.argv)) continue;
        console.error(`bench:compare: ${member.name} (pid ${member.pid}) outlived kv cluster: killing it`);
        process.kill(member.pid, "SIGKILL");
        for (let i = 0; i < 100 && pidAlive(member.pid); i++) await sleep(50);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      const active = await waitUntil("twopc-kv ready line", [child], async () => {
        for (const line of child.output) {
          const match = readyLine.exec(line);
          if (match !== null) return match[1]!;
        }
        return null;
      });
      manifest = await waitUntil("twopc-kv manifest with every member running", [child], async () => {
        if (!fs.existsSync(manifestPath(dir))) return null;
        const read = readManifest(dir);
        return read.members.every((member) => member.pid !== null && pidRunsArgv(member.pid, member.argv)) ? read : null;
      });
      const members = manifest.members;
      const pids = members.map((member) => member.pid).filter((pid): pid is number => pid !== null);
      assert(pids.length === members.length, "every member has a pid");
      return {
        description: `twopc-kv: kv cluster (pid ${child.pid}) with ${members.map((m) => `${m.name} ${m.address} pid ${m.pid}`).join(", ")}; clients call the active coordinator ${active}`,
        serverPids: pids,
        serverNames: members.map((member) => (member.address === active ? `${member.name} (active)` : member.name)),
        driver: (channels) => new StoreDriver(active, channels),
        stop,
        recentOutput: () => child.tail(),
      };
    } catch (error) {
      await stop();
      if (attempt >= startAttemptsMax) throw error;
      console.error(`bench:compare: twopc-kv did not start (attempt ${attempt} of ${startAttemptsMax}): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
    }
  }
}

/**
 * The coordinator's Kv service, raw: no client library, no retries; a fresh request id per write,
 * and every call a message of a Session stream per channel, as the library sends them. One thing of
 * the library it does: when the coordinator it calls has stood down (a standby took over, which a
 * loaded machine can cause), it answers UNAVAILABLE naming the active one, and the driver moves every
 * channel there. The refused call still counts as an error.
 */
class StoreDriver implements Driver {
  readonly target = "twopc-kv" as const;
  private stubs: { readonly stub: KvStub; readonly session: ClientSession<KvSessionRequest, KvSessionResponse__Output> }[];

  constructor(
    private address: string,
    readonly channels: number,
  ) {
    this.stubs = this.connect(address);
  }

  private connect(address: string): { stub: KvStub; session: ClientSession<KvSessionRequest, KvSessionResponse__Output> }[] {
    return Array.from({ length: this.channels }, () => {
      const stub = new kvProto.Kv(address, grpc.credentials.createInsecure(), driverChannelOptions) as unknown as KvStub;
      return { stub, session: new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "the coordinator") };
    });
  }

  call(channel: number, op: Op, key: string, value: Buffer): Promise<boolean> {
    const { session } = this.stubs[channel]!;
    const called = this.address;
    const onSession = (request: Omit<KvSessionRequest, "callId">): Promise<KvSessionResponse__Output> =>
      new Promise((resolve, reject) =>
        session.call(request, new Date(Date.now() + callTimeoutMs), (status, answer) => {
          if (status !== null) reject(coordinatorSessionError(status, answer));
          else if (answer === undefined) reject(new Error("a call succeeded without a response"));
          else resolve(answer);
        }),
      );
    let result: Promise<boolean>;
    switch (op) {
      case "put":
        result = onSession({ put: { key, value, requestId: randomUUID() } }).then(() => true);
        break;
      case "get":
        result = onSession({ get: { key } }).then((answer) => answer.get?.found ?? false);
        break;
      case "echo":
        throw new Error("twopc-kv has no echo");
      default:
        return assertNever(op);
    }
    return result.catch((error: unknown) => {
      this.followActive(called, error);
      throw error;
    });
  }

  /** Moves to the coordinator a standby named (once per change: later refusals from the old one find the driver moved). */
  private followActive(called: string, error: unknown): void {
    if (called !== this.address || !isCallError(error) || error.code !== grpc.status.UNAVAILABLE) return;
    const named = (error as Partial<grpc.ServiceError>).metadata?.get(activeCoordinatorMetadataKey)[0];
    if (typeof named !== "string" || named === "" || named === called) return;
    console.error(`bench:compare: twopc-kv: the coordinator at ${called} says the active one is ${named}: the driver moves there`);
    this.close();
    this.address = named;
    this.stubs = this.connect(named);
  }

  close(): void {
    for (const { stub, session } of this.stubs) {
      session.close("the driver moved or stopped");
      stub.close();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The echo server.

const echoServerScript = path.join(__dirname, "echo-server.js");

export async function startEcho(): Promise<Running> {
  const child = Child.spawn("echo-server", process.execPath, [echoServerScript]);
  const stop = (): Promise<void> => child.stop("SIGTERM");
  try {
    const address = await waitUntil("echo server listening", [child], async () => {
      for (const line of child.output) {
        const match = /^listening (\S+)$/.exec(line);
        if (match !== null) return match[1]!;
      }
      return null;
    });
    return {
      description: `echo: grpc-js echo server ${address} pid ${child.pid}`,
      serverPids: [child.pid],
      serverNames: ["echo-server"],
      driver: (channels) => new EchoDriver(address, channels),
      stop,
      recentOutput: () => child.tail(),
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

class EchoDriver implements Driver {
  readonly target = "echo" as const;
  private readonly stubs: EchoStub[];

  constructor(
    address: string,
    readonly channels: number,
  ) {
    this.stubs = Array.from({ length: channels }, () => echoStub(address, driverChannelOptions));
  }

  call(channel: number, op: Op, _key: string, value: Buffer): Promise<boolean> {
    assert(op === "echo", "the echo server only echoes");
    return unary((callback) => this.stubs[channel]!.Echo({ payload: value }, callDeadline(), callback)).then(() => true);
  }

  close(): void {
    for (const stub of this.stubs) stub.close();
  }
}

/** The file system type a directory is on (from /proc/mounts: the longest mount point above it). */
export function fileSystemOf(dir: string): string {
  let best = { mountPoint: "", type: "unknown" };
  try {
    const real = fs.realpathSync(dir);
    for (const line of fs.readFileSync("/proc/mounts", "utf8").split("\n")) {
      const [, mountPoint, type] = line.split(" ");
      if (mountPoint === undefined || type === undefined) continue;
      const above = real === mountPoint || real.startsWith(mountPoint.endsWith("/") ? mountPoint : `${mountPoint}/`);
      if (above && mountPoint.length > best.mountPoint.length) best = { mountPoint, type };
    }
  } catch {
    // no /proc/mounts: unknown
  }
  return best.type;
}

export const defaultTmpRoot = os.tmpdir();
