// Real processes for integration tests: a coordinator and replicas, each started with the `kv`
// command as its own OS process, on random free ports of 127.0.0.1, with data in a temp directory.
// Tests wait on conditions with deadlines, never fixed sleeps, and kill only the processes they
// started, by pid. The command lines come from client/process-args.ts, as those of `kv cluster` and
// `kv chaos` do: a flag a test does not ask for is the product's default (--on-conflict wait).
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isActiveStatus, KvClient } from "../../client/client";
import { KvError } from "../../common/errors";
import { coordinatorArgs, coordinatorName, memberIds, replicaArgs, type ClusterLayout, type ProcessFlags } from "../../tools/cluster/process-args";
import { ensureClusterTls, type ClusterTlsFiles } from "../../tools/cluster/tls-files";
import { channelCredentials, clientTlsEnv, loadTls, type Tls } from "../../proto/tls";
import { TcpProxy } from "../../tools/chaos/tcp-proxy";
import { freePort } from "../../tools/ports";
export { freePort, freePortRun } from "../../tools/ports";
import { channelOptions, participantProto } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import type { DumpResponse__Output } from "../../proto/gen/twopc/participant/DumpResponse";
import type { ParticipantStatusResponse__Output } from "../../proto/gen/twopc/participant/ParticipantStatusResponse";

export const repoRoot = path.resolve(__dirname, "..", "..");
export const kvScript = path.join(repoRoot, "bin", "kv.js");

/** Polls until check() returns a value other than undefined/false, or fails after timeoutMs. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadlineMs = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadlineMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** True while a process with this pid exists (signal 0 checks without signalling). */
/** Retries a write through the short window in which a dead replica is being noticed. */
export async function putEventually(kv: KvClient, key: string, value: string): Promise<number> {
  return waitFor(`put ${key}`, async () => (await kv.put(key, value)).version, 10_000);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The KvError a call fails with; fails the test if the call succeeds or fails otherwise. */
export async function failure(promise: Promise<unknown>): Promise<KvError> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof KvError)) throw new Error(`expected a KvError, got ${String(error)}`);
    return error;
  }
  throw new Error("expected the call to fail");
}

export class Proc {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitedFlag = false;

  constructor(readonly name: string, readonly child: ChildProcess) {
    const collect = (chunk: Buffer) => this.output.push(...chunk.toString("utf8").split("\n").filter((line) => line.length > 0));
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return !this.exitedFlag;
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!this.alive) return;
    process.kill(this.pid, signal);
    await this.exited;
  }
}

/**
 * Stops a `kv cluster` this test started: SIGINT first, so that it stops its children (a SIGKILL
 * would leave them running, as a failed test's afterAll once did), then SIGKILL after waitMs.
 */
export async function stopClusterProc(proc: Proc, waitMs = 15_000): Promise<void> {
  if (!proc.alive) return;
  process.kill(proc.pid, "SIGINT");
  await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, waitMs))]);
  await proc.kill("SIGKILL");
}

/**
 * Runs `kv ARGS` to its exit. With killAfterMs, a run still going then is killed (SIGKILL) and
 * resolves with code null: a command expected to refuse at once that starts serving instead fails
 * its test rather than outliving it.
 */
export function runKv(args: string[], env: NodeJS.ProcessEnv = {}, killAfterMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [kvScript, ...args], { env: { ...process.env, ...env } });
    const killer = killAfterMs === undefined ? null : setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("exit", () => {
      if (killer !== null) clearTimeout(killer);
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ClusterOptions {
  readonly replicas?: number;
  /** The coordinator's --on-conflict; its default (wait) when absent. A test that asks for abort says why. */
  readonly onConflict?: "abort" | "wait";
  readonly logLevel?: string;
  /**
   * Failpoints armed in every process of the first start, as `kv --failpoint` takes them
   * ([ID:]NAME=ACTION[@N],...; each process arms the items scoped to its id and the unscoped ones).
   * A process restarted later with startCoordinator() or startReplica() runs without them.
   */
  readonly failpoints?: string;
  /** Put a TcpProxy between the coordinator and each replica (cluster.proxies[i]) for network faults. */
  readonly proxied?: boolean;
  /** The coordinator's --min-in-sync (its default when absent). */
  readonly minInSync?: number;
  /** Every process's --compact-log-bytes (its default when absent). */
  readonly compactLogBytes?: number;
  /** The replicas' --tombstone-retention-ms (their default when absent). */
  readonly tombstoneRetentionMs?: number;
  /** How many coordinators (1 when absent): the first is active at start, the others stand by. */
  readonly coordinators?: number;
  /**
   * Mutual TLS on every link, as `kv cluster --tls` runs it (certificates under DATA/tls): the
   * cluster's clients present the client certificate, its participant clients the first
   * coordinator's (they inspect replicas as a coordinator would).
   */
  readonly tls?: boolean;
}

/** Per-process additions for one start of a coordinator or a replica. */
export interface SpawnOptions {
  /** Failpoints to arm in this process: [ID:]NAME=ACTION[@N],... (passed as --failpoint). */
  readonly failpoints?: string;
  /** Log level of this process, instead of the cluster's. */
  readonly logLevel?: string;
  /** Environment variables added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Flags added after the ones the cluster gives this process (e.g. a replica's --catch-up-snapshot-rows). */
  readonly args?: readonly string[];
}

/** How many times TestCluster.start tries new ports when a port it picked was taken meanwhile. */
const startAttemptsMax = 3;

/** A process of a starting cluster could not listen: its port was taken after freePort() picked it. */
class PortTaken extends Error {
  override readonly name = "PortTaken";
}

/** Every process a test file started, so that afterAll can make sure none outlives it. */
const started = new Set<Proc>();

export async function killAllStarted(): Promise<void> {
  await Promise.all([...started].map((proc) => proc.kill("SIGKILL")));
  started.clear();
}

export class TestCluster {
  readonly dataDir: string;
  /** The first coordinator ("coordinator"), as started last. */
  coordinator!: Proc;
  /** Every coordinator, by index (coordinatorName(i)). */
  readonly coordinatorProcs: (Proc | null)[] = [];
  readonly replicas: (Proc | null)[] = [];
  readonly replicaIds: string[];
  coordinatorPort = 0;
  /** The ports of every coordinator, the first's being coordinatorPort. */
  coordinatorPorts: number[] = [];
  replicaPorts: number[] = [];
  /** With `proxied`, the proxy the coordinator reaches each replica through. */
  readonly proxies: TcpProxy[] = [];
  private readonly participantClients: ParticipantClient[] = [];
  private readonly clients: KvClient[] = [];
  /** With `tls`, the files under DATA/tls. */
  tlsFiles: ClusterTlsFiles | undefined;
  /** The TLS of the cluster's clients (the client certificate); null without `tls`. */
  clientTls: Tls | null = null;

  private constructor(private readonly options: ClusterOptions) {
    this.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-test-"));
    this.replicaIds = Array.from({ length: options.replicas ?? 3 }, (_, i) => `r${i + 1}`);
  }

  /**
   * Starts a cluster and waits until it is healthy. The ports were free a moment ago, but another
   * program may take one before our process binds it: a start where a process could not listen
   * (EADDRINUSE) is stopped and tried again on new ports, up to startAttemptsMax times. Any other
   * process that exits before the cluster is healthy fails the start at once, with its output.
   */
  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    for (let attempt = 1; ; attempt++) {
      const cluster = new TestCluster(options);
      const failed = await cluster.startOnce().then(
        () => null,
        (error: unknown) => error,
      );
      if (failed === null) return cluster;
      await cluster.stop();
      if (!(failed instanceof PortTaken) || attempt >= startAttemptsMax) throw failed;
    }
  }

  private async startOnce(): Promise<void> {
    this.coordinatorPort = await freePort();
    this.coordinatorPorts = [this.coordinatorPort];
    for (let i = 1; i < (this.options.coordinators ?? 1); i++) this.coordinatorPorts.push(await freePort());
    for (const _ of this.replicaIds) this.replicaPorts.push(await freePort());
    if (this.options.proxied) for (const port of this.replicaPorts) this.proxies.push(await TcpProxy.start(port));
    let participantTls: Tls | null = null;
    if (this.options.tls === true) {
      const files = ensureClusterTls(path.join(this.dataDir, "tls"), memberIds(this.layout), "127.0.0.1");
      this.tlsFiles = files;
      this.clientTls = loadTls({ ca: files.ca, ...files.client }, clientTlsEnv);
      participantTls = loadTls({ ca: files.ca, ...files.members.get(coordinatorName(0))! }, clientTlsEnv);
    }
    const first: SpawnOptions = this.options.failpoints === undefined ? {} : { failpoints: this.options.failpoints };
    for (let i = 0; i < this.replicaIds.length; i++) this.startReplica(i, first);
    // The first coordinator first, and the others once it is active: then they find it so and stand
    // by, and a test knows which one is active (a race at the start would be safe, but either could win).
    this.startCoordinator(first);
    if (this.coordinatorPorts.length > 1) {
      await waitFor("the first coordinator active", async () => !this.coordinator.alive || (await this.roleOf(0)) === "active", 30_000);
      for (let i = 1; i < this.coordinatorPorts.length; i++) this.startCoordinator(first, i);
    }
    for (const port of this.replicaPorts) {
      this.participantClients.push(
        new participantProto.Participant(`127.0.0.1:${port}`, channelCredentials(participantTls), channelOptions) as unknown as ParticipantClient,
      );
    }
    const procs = [...this.coordinatorProcs, ...this.replicas].filter((proc): proc is Proc => proc !== null);
    const client = this.client(2_000);
    const dead = await waitFor(
      "every replica up",
      async () => {
        const dead = procs.find((proc) => !proc.alive);
        if (dead !== undefined) return dead;
        // A coordinator is active (it took over) and reaches every replica.
        const status = await client.status();
        return isActiveStatus(status) && status.replicas.length > 0 && status.replicas.every((replica) => replica.up) ? null : undefined;
      },
      30_000,
    );
    if (dead === null) return;
    const output = dead.output.slice(-3).join(" | ");
    const why = `${dead.name} (pid ${dead.pid}) exited before the cluster was healthy; last output: ${output}`;
    throw output.includes("EADDRINUSE") ? new PortTaken(why) : new Error(why);
  }

  /** Every coordinator's address, comma-separated (what the client library and KV_COORDINATOR take). */
  get coordinatorAddress(): string {
    return this.coordinatorPorts.map((port) => `127.0.0.1:${port}`).join(",");
  }

  /** The address of the coordinator at `index`. */
  coordinatorAddressOf(index: number): string {
    return `127.0.0.1:${this.coordinatorPorts[index]!}`;
  }

  /** Where each process listens (random free ports), the coordinator reaching each replica through its proxy if proxied. */
  private get layout(): ClusterLayout {
    return {
      host: "127.0.0.1",
      coordinators: this.coordinatorPorts.map((port, i) => ({ id: coordinatorName(i), port })),
      replicas: this.replicaIds.map((id, i) => ({ id, port: this.replicaPorts[i]!, coordinatorReachesAt: this.proxies[i]?.port })),
      dataDir: this.dataDir,
    };
  }

  /** The flags of one start: the cluster's, with this start's failpoints and log level. */
  private flags(extra: SpawnOptions): ProcessFlags {
    return {
      logLevel: extra.logLevel ?? this.options.logLevel ?? "info",
      failpoints: extra.failpoints,
      compactLogBytes: this.options.compactLogBytes,
      tombstoneRetentionMs: this.options.tombstoneRetentionMs,
      ...(this.tlsFiles === undefined ? {} : { tls: this.tlsFiles }),
    };
  }

  private spawnKv(name: string, args: string[], extra: SpawnOptions): Proc {
    const env = extra.env === undefined ? undefined : { ...process.env, ...extra.env };
    const child = spawn(process.execPath, [kvScript, ...args, ...(extra.args ?? [])], { stdio: ["ignore", "pipe", "pipe"], env });
    const proc = new Proc(name, child);
    started.add(proc);
    return proc;
  }

  /** Starts the coordinator at `index` (the first when absent). */
  startCoordinator(extra: SpawnOptions = {}, index = 0): Proc {
    const flags = { ...this.flags(extra), onConflict: this.options.onConflict, minInSync: this.options.minInSync };
    const name = coordinatorName(index);
    const proc = this.spawnKv(name, coordinatorArgs(this.layout, flags, name), extra);
    this.coordinatorProcs[index] = proc;
    if (index === 0) this.coordinator = proc;
    return proc;
  }

  /** The role the coordinator at `index` reports of itself ("down" when it does not answer); never sent on elsewhere. */
  async roleOf(index: number): Promise<string> {
    const kv = new KvClient(this.coordinatorAddressOf(index), { timeoutMs: 1_000, retryForMs: 0, tls: this.clientTls });
    try {
      const [probe] = await kv.probeCoordinators();
      return probe?.reachable === true ? probe.status.role : "down";
    } finally {
      kv.close();
    }
  }

  /** The index of the one coordinator that says it is active, or null when none (or more than one) does. */
  async activeCoordinator(): Promise<number | null> {
    const roles = await Promise.all(this.coordinatorPorts.map((_, i) => this.roleOf(i)));
    const active = roles.flatMap((role, i) => (role === "active" ? [i] : []));
    return active.length === 1 ? active[0]! : null;
  }

  startReplica(index: number, extra: SpawnOptions = {}): Proc {
    const id = this.replicaIds[index]!;
    const proc = this.spawnKv(id, replicaArgs(this.layout, id, this.flags(extra)), extra);
    this.replicas[index] = proc;
    return proc;
  }

  /** A replica's state in the active coordinator's status ("in-sync", "catching-up", "out"; undefined if unknown). */
  async replicaState(id: string): Promise<string | undefined> {
    const status = await this.client(2_000).status();
    return status.replicas.find((replica) => replica.id === id)?.state;
  }

  /**
   * A client of the coordinator. It does not retry (retryForMs 0) unless asked: most tests look at
   * each attempt's error.
   */
  client(timeoutMs = 10_000, retryForMs = 0): KvClient {
    const client = new KvClient(this.coordinatorAddress, { timeoutMs, retryForMs, tls: this.clientTls });
    this.clients.push(client);
    return client;
  }

  /**
   * Waits until the coordinator answers, reports every replica up, and says it is ready (a write
   * sent now goes ahead at once: it has reached every in-sync replica since it started).
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const client = this.client(2_000);
    await waitFor(
      "every replica up and the coordinator ready",
      async () => {
        const status = await client.status();
        // Only an active coordinator's status counts: a standby's says nothing of the replicas.
        return isActiveStatus(status) && status.ready && status.replicas.every((replica) => replica.up);
      },
      timeoutMs,
    );
  }

  /** Waits until no transaction is in flight at the coordinator or prepared on any replica. */
  async waitSettled(timeoutMs = 30_000): Promise<void> {
    const client = this.client(2_000);
    await waitFor(
      "no transaction in flight or in doubt",
      async () => {
        const status = await client.status();
        // A standby reports nothing in flight whatever the cluster does: only the active one counts.
        if (!isActiveStatus(status) || status.inFlight.length > 0 || status.lockedKeys > 0) return false;
        const replicas = await Promise.all(this.participantClients.map((_, i) => this.replicaStatus(i)));
        return replicas.every((replica) => replica.prepared.length === 0);
      },
      timeoutMs,
    );
  }

  replicaStatus(index: number): Promise<ParticipantStatusResponse__Output> {
    return new Promise((resolve, reject) =>
      this.participantClients[index]!.Status({}, { deadline: new Date(Date.now() + 2_000) }, (error, response) =>
        error || !response ? reject(error ?? new Error("no response")) : resolve(response),
      ),
    );
  }

  dump(index: number): Promise<DumpResponse__Output> {
    return new Promise((resolve, reject) =>
      this.participantClients[index]!.Dump({}, { deadline: new Date(Date.now() + 10_000) }, (error, response) =>
        error || !response ? reject(error ?? new Error("no response")) : resolve(response),
      ),
    );
  }

  /** Every replica's content, as key -> {value, version}. */
  async contents(): Promise<Map<string, { value: string; version: number }>[]> {
    const dumps = await Promise.all(this.replicaIds.map((_, i) => this.dump(i)));
    return dumps.map((dump) => new Map(dump.entries.map((entry) => [entry.key, { value: entry.value.toString("utf8"), version: entry.version }])));
  }

  async checksums(): Promise<string[]> {
    return (await Promise.all(this.replicaIds.map((_, i) => this.dump(i)))).map((dump) => dump.checksum);
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    for (const client of this.participantClients) client.close();
    const procs = [...this.coordinatorProcs, ...this.replicas].filter((proc): proc is Proc => proc !== null && proc !== undefined);
    await Promise.all(procs.map(async (proc) => {
      if (!proc.alive) return;
      process.kill(proc.pid, "SIGTERM");
      const timer = setTimeout(() => proc.alive && process.kill(proc.pid, "SIGKILL"), 10_000);
      await proc.exited;
      clearTimeout(timer);
    }));
    for (const proc of procs) started.delete(proc);
    for (const proxy of this.proxies) await proxy.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * A writer and a reader hammering a few keys, checking every read against the writes acknowledged
 * before it was sent: a read whose version is older than one of those is stale (a linearizability
 * violation). Failed calls are counted, not fatal: the tests inject faults.
 */
export class ReadWriteLoad {
  /** Per key, the highest version acknowledged so far. */
  readonly acked = new Map<string, number>();
  readonly stale: string[] = [];
  writes = 0;
  reads = 0;
  private running = true;
  private readonly loops: Promise<void>[];

  constructor(cluster: TestCluster, readonly keys: readonly string[]) {
    const writer = cluster.client(8_000);
    const reader = cluster.client(8_000);
    this.loops = [
      (async () => {
        for (let i = 0; this.running; i++) {
          const key = keys[i % keys.length]!;
          try {
            const { version } = await writer.put(key, `v${i}`);
            this.acked.set(key, Math.max(this.acked.get(key) ?? 0, version));
            this.writes += 1;
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
          }
        }
      })(),
      (async () => {
        for (let i = 0; this.running; i++) {
          const key = keys[i % keys.length]!;
          const floor = this.acked.get(key) ?? 0; // acknowledged before this read was sent
          try {
            const version = (await reader.get(key))?.version ?? 0;
            this.reads += 1;
            if (version < floor) this.stale.push(`${key}: read version ${version}, but ${floor} was acknowledged before the read`);
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
          }
        }
      })(),
    ];
  }

  /** Waits until `count` more writes (or reads) have succeeded. */
  async moreWrites(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.writes + count;
    await waitFor(`${count} more writes`, () => this.writes >= target, timeoutMs);
  }

  async moreReads(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.reads + count;
    await waitFor(`${count} more reads`, () => this.reads >= target, timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}
