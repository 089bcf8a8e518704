// A local cluster whose processes this program owns: it starts the coordinator and the replicas as
// OS processes (through bin/kv.js) on 127.0.0.1, optionally behind a TcpProxy each, and can kill,
// pause, continue and restart any of them by name. `kv chaos` drives it through the ChaosCluster
// interface (client/chaos.ts), as it drives a cluster it attaches to (client/chaos-attached.ts); it
// kills only the processes it started, by pid.
import { spawn, type ChildProcess } from "node:child_process";
import type { ChaosCluster } from "./cluster-api";
import { ClusterAdmin } from "./cluster-admin";
import { waitForPort } from "../cluster/cluster";
import { consecutiveLayout, coordinatorAddresses, kvScript, processArgs, type ClusterLayout } from "../cluster/process-args";
import { TcpProxy } from "./tcp-proxy";

export interface LocalClusterOptions {
  readonly dataDir: string;
  /** The first coordinator's port; the others follow, then replica i on the ports after them (consecutiveLayout); a proxy (if any) on a free port. */
  readonly port: number;
  readonly replicas: number;
  /** How many coordinators (1 when absent): one active, the others standing by. */
  readonly coordinators?: number;
  /** Put a TcpProxy between the coordinator and each replica, for partitions. */
  readonly proxied: boolean;
  readonly logLevel: string;
  /** The coordinators' --value-cache-mib; their default when absent. */
  readonly valueCacheMib?: number | undefined;
  /** Lines the processes print, with the process name. */
  readonly onOutput?: (name: string, line: string) => void;
}

export interface Member {
  readonly name: string;
  child: ChildProcess | null;
  paused: boolean;
}

export class LocalCluster implements ChaosCluster {
  readonly replicaIds: string[];
  readonly members = new Map<string, Member>();
  readonly proxies = new Map<string, TcpProxy>();
  /** Its members share 127.0.0.1: no link of their own to fault. */
  readonly links = null;
  readonly partitionUnsupported = null;
  readonly admin: ClusterAdmin;

  private constructor(private readonly options: LocalClusterOptions) {
    const layout = consecutiveLayout("127.0.0.1", options.port, options.replicas, options.dataDir, options.coordinators ?? 1);
    this.replicaIds = layout.replicas.map((replica) => replica.id);
    this.coordinatorNames = layout.coordinators.map((coordinator) => coordinator.id);
    this.ports = [...layout.coordinators, ...layout.replicas].map((place) => place.port);
    this.admin = new ClusterAdmin(coordinatorAddresses(layout), new Map(layout.replicas.map((replica) => [replica.id, `127.0.0.1:${replica.port}`])));
  }

  /** Every coordinator's name ("coordinator", "coordinator-2", ...). */
  readonly coordinatorNames: readonly string[];
  /** Every process's port, coordinators first. */
  private readonly ports: readonly number[];

  /** Starts every process; stops the ones it started when the cluster does not come up. */
  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    const cluster = new LocalCluster(options);
    try {
      if (options.proxied) {
        const replicaPorts = cluster.ports.slice(cluster.coordinatorNames.length);
        for (const [i, id] of cluster.replicaIds.entries()) cluster.proxies.set(id, await TcpProxy.start(replicaPorts[i]!));
      }
      for (const id of cluster.replicaIds) cluster.startProcess(id);
      for (const name of cluster.coordinatorNames) cluster.startProcess(name);
      const up = await Promise.all(cluster.ports.map((port) => waitForPort("127.0.0.1", port, 20_000)));
      if (!up.every(Boolean)) throw new Error("the local cluster did not start listening within 20 s");
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Every coordinator's address, comma-separated (the client library finds the active one). */
  get coordinatorAddress(): string {
    return this.admin.coordinatorAddress;
  }


  get memberNames(): string[] {
    return [...this.coordinatorNames, ...this.replicaIds];
  }

  async kill(name: string): Promise<void> {
    await this.signal(name, "SIGKILL");
  }

  async start(name: string, failpoints?: string): Promise<void> {
    this.startProcess(name, failpoints);
  }

  async pause(name: string): Promise<void> {
    await this.signal(name, "SIGSTOP");
  }

  async resume(name: string): Promise<void> {
    await this.signal(name, "SIGCONT");
  }

  isolate(replicaId: string): void {
    this.proxy(replicaId).blackhole();
  }

  reconnect(replicaId: string): void {
    const proxy = this.proxy(replicaId);
    proxy.pass();
    proxy.cut();
  }

  /** Continues every paused process, starts every stopped one, and lets every proxy pass. */
  async heal(): Promise<void> {
    for (const name of this.memberNames) {
      const member = this.members.get(name);
      if (member?.paused) await this.signal(name, "SIGCONT");
      if (!this.isRunning(name)) this.startProcess(name);
    }
    for (const proxy of this.proxies.values()) proxy.pass();
  }

  /** Chaos is done with a cluster it started: stop it. */
  release(): Promise<void> {
    return this.stop();
  }

  private proxy(replicaId: string): TcpProxy {
    const proxy = this.proxies.get(replicaId);
    if (proxy === undefined) throw new Error(`${replicaId} has no proxy: this local cluster was started without proxies`);
    return proxy;
  }

  /** Where each process listens: consecutive ports, the coordinator reaching each replica through its proxy if it has one. */
  private get layout(): ClusterLayout {
    const layout = consecutiveLayout("127.0.0.1", this.options.port, this.options.replicas, this.options.dataDir, this.options.coordinators ?? 1);
    return { ...layout, replicas: layout.replicas.map((replica) => ({ ...replica, coordinatorReachesAt: this.proxies.get(replica.id)?.port })) };
  }

  /** Starts (or restarts) a process by name, with failpoints armed when given. */
  startProcess(name: string, failpoints?: string): void {
    const member = this.members.get(name) ?? { name, child: null, paused: false };
    if (member.child !== null) throw new Error(`${name} is already running`);
    const args = processArgs(this.layout, name, {
      logLevel: this.options.logLevel,
      failpoints,
      valueCacheMib: this.coordinatorNames.includes(name) ? this.options.valueCacheMib : undefined,
    });
    const child = spawn(process.execPath, [kvScript, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const emit = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.length > 0) this.options.onOutput?.(name, line);
    };
    child.stdout.on("data", emit);
    child.stderr.on("data", emit);
    child.on("exit", () => {
      if (member.child === child) {
        member.child = null;
        member.paused = false;
      }
    });
    member.child = child;
    member.paused = false;
    this.members.set(name, member);
  }

  isRunning(name: string): boolean {
    return this.members.get(name)?.child != null;
  }

  /** Sends a signal to a running process: SIGKILL (kill -9), SIGSTOP (pause) or SIGCONT. */
  async signal(name: string, signal: "SIGKILL" | "SIGSTOP" | "SIGCONT" | "SIGTERM"): Promise<void> {
    const member = this.members.get(name);
    const child = member?.child;
    if (member === undefined || child === null || child === undefined || child.pid === undefined) return;
    if (signal === "SIGKILL" || signal === "SIGTERM") {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (member.paused && signal === "SIGTERM") process.kill(child.pid, "SIGCONT");
      process.kill(child.pid, signal);
      await exited;
      return;
    }
    process.kill(child.pid, signal);
    member.paused = signal === "SIGSTOP";
  }

  /** Waits for a process started with a crash failpoint to die; false if it is still alive at the deadline. */
  async waitExit(name: string, timeoutMs: number): Promise<boolean> {
    const child = this.members.get(name)?.child;
    if (child == null) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }


  /** Stops every process (SIGTERM, after SIGCONT for a paused one), the proxies and the clients. */
  async stop(): Promise<void> {
    this.admin.close();
    await Promise.all([...this.members.keys()].map((name) => this.signal(name, "SIGTERM")));
    for (const proxy of this.proxies.values()) await proxy.close();
  }
}
