// A cluster whose every process runs in its own network namespace (tools/netns/network.ts): the
// coordinators and the replicas each at their own address of 10.77.0.0/24, all on the same port
// (each namespace has its own ports, so none can be taken by another program), started with the
// command lines of tools/cluster/process-args.ts like every other cluster. Clients run in the
// network's client namespace: `kv` commands there (kv()) reach the members at their addresses.
// Nothing restarts a process here; start() and kill() do it when a caller asks. `kv chaos` drives one
// from its client namespace (attach(): the network made by the `kv chaos` in the root namespace).
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { coordinatorArgs, coordinatorName, replicaArgs, type ClusterLayout } from "../cluster/process-args";
import { NetnsNetwork, type NetworkFault } from "./network";

/** The port every member listens on, inside its own namespace. */
export const netnsMemberPort = 50051;
/** bin/kv.js, found upwards from here: this module runs from dist/tools/netns/ (kv chaos) and from its source (tests). */
function findKvScript(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "bin", "kv.js");
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`no bin/kv.js above ${__dirname}`);
  }
}
const kvScript = findKvScript();
/** How many output lines of each process are kept for a failure's message. */
const outputLinesKept = 40;

export interface NetnsClusterOptions {
  readonly coordinators: number;
  readonly replicas: number;
  readonly logLevel?: string;
}

/** What `kv status --json` prints (the fields this module and its callers read). */
export interface NetnsStatus {
  readonly role: string;
  readonly coordinatorId: string;
  readonly epoch: number;
  readonly ready: boolean;
  readonly lastCommitSeq: number;
  readonly activeCoordinator: string | null;
  readonly inFlight: readonly unknown[];
  readonly lockedKeys: number;
  readonly replicas: readonly { readonly id: string; readonly up: boolean; readonly state: string; readonly appliedSeq: number; readonly prepared: number }[];
  /** Every coordinator as `kv status` found it. */
  readonly coordinators: readonly { readonly id: string | null; readonly role: string | null }[];
}

/** The members' names, as NetnsNetwork numbers them: the coordinators ("coordinator", "coordinator-2", ...), then r1, r2, ... */
export function netnsMemberNames(options: { readonly coordinators: number; readonly replicas: number }): string[] {
  return [...Array.from({ length: options.coordinators }, (_, i) => coordinatorName(i)), ...Array.from({ length: options.replicas }, (_, i) => `r${i + 1}`)];
}

class MemberProcess {
  readonly output: string[] = [];
  readonly exited: Promise<void>;
  private running = true;

  constructor(readonly name: string, readonly child: ChildProcess) {
    const collect = (chunk: Buffer): void => {
      this.output.push(...chunk.toString("utf8").split("\n").filter((line) => line.length > 0));
      this.output.splice(0, Math.max(0, this.output.length - outputLinesKept));
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exited = new Promise((resolve) => child.on("exit", () => ((this.running = false), resolve())));
  }

  get alive(): boolean {
    return this.running;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    // A stopped process would not act on SIGTERM until continued.
    if (signal !== "SIGKILL") process.kill(this.child.pid, "SIGCONT");
    process.kill(this.child.pid, signal);
    await this.exited;
  }

  /** SIGSTOP or SIGCONT, while it runs. */
  signal(signal: "SIGSTOP" | "SIGCONT"): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, signal);
  }
}

export class NetnsCluster {
  private readonly procs = new Map<string, MemberProcess>();

  private constructor(
    readonly network: NetnsNetwork,
    readonly layout: ClusterLayout,
    private readonly options: NetnsClusterOptions,
  ) {}

  /** Makes the network and the data directory; starts nothing (start() each member, or startAll()). */
  static create(options: NetnsClusterOptions): NetnsCluster {
    const network = NetnsNetwork.create(netnsMemberNames(options));
    return NetnsCluster.on(network, options, fs.mkdtempSync(path.join(os.tmpdir(), `twopc-kv-netns-${network.runId}-`)));
  }

  /**
   * A cluster on a network another process made (NetnsNetwork.attach), its data in dataDir. Its
   * stop() must not be called (the network is not its own): stopProcesses() instead.
   */
  static attach(runId: string, options: NetnsClusterOptions, dataDir: string): NetnsCluster {
    return NetnsCluster.on(NetnsNetwork.attach(runId, netnsMemberNames(options)), options, dataDir);
  }

  private static on(network: NetnsNetwork, options: NetnsClusterOptions, dataDir: string): NetnsCluster {
    const [coordinators, replicas] = [netnsMemberNames({ ...options, replicas: 0 }), netnsMemberNames({ ...options, coordinators: 0 })];
    const layout: ClusterLayout = {
      host: "0.0.0.0", // never used: every place names its own host
      coordinators: coordinators.map((id) => ({ id, port: netnsMemberPort, host: network.member(id).host })),
      replicas: replicas.map((id) => ({ id, port: netnsMemberPort, host: network.member(id).host })),
      dataDir,
    };
    return new NetnsCluster(network, layout, options);
  }

  get coordinatorNames(): string[] {
    return this.layout.coordinators.map((coordinator) => coordinator.id);
  }

  get replicaIds(): string[] {
    return this.layout.replicas.map((replica) => replica.id);
  }

  /** Every coordinator's address, comma-separated (a client's --coordinator). */
  get coordinatorAddress(): string {
    return this.layout.coordinators.map((coordinator) => `${coordinator.host}:${coordinator.port}`).join(",");
  }

  addressOf(name: string): string {
    return `${this.network.member(name).host}:${netnsMemberPort}`;
  }

  /** Starts a member that is not running, in its namespace, with failpoints armed when given ([ID:]NAME=ACTION[@N],...). */
  start(name: string, failpoints?: string): void {
    if (this.procs.get(name)?.alive === true) throw new Error(`${name} is running already`);
    const flags = { logLevel: this.options.logLevel ?? "warn", ...(failpoints === undefined ? {} : { failpoints }) };
    const args = this.coordinatorNames.includes(name) ? coordinatorArgs(this.layout, flags, name) : replicaArgs(this.layout, name, flags);
    this.procs.set(name, new MemberProcess(name, this.network.spawnIn(name, process.execPath, [kvScript, ...args])));
  }

  /** SIGSTOP a running member. */
  pause(name: string): void {
    this.procs.get(name)?.signal("SIGSTOP");
  }

  /** SIGCONT a member. */
  resume(name: string): void {
    this.procs.get(name)?.signal("SIGCONT");
  }

  /** Waits for a member to exit; false if it still runs at the deadline. */
  async waitExit(name: string, timeoutMs: number): Promise<boolean> {
    const proc = this.procs.get(name);
    if (proc === undefined || !proc.alive) return true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const exited = await Promise.race([proc.exited.then(() => true as const), deadline]);
    clearTimeout(timer);
    return exited;
  }

  /** The members that were started and have exited since. */
  get exited(): string[] {
    return [...this.procs.values()].filter((proc) => !proc.alive).map((proc) => proc.name);
  }

  isRunning(name: string): boolean {
    return this.procs.get(name)?.alive === true;
  }

  /** The last lines a member printed (for a failure's message). */
  outputOf(name: string): string {
    return this.procs.get(name)?.output.join("\n") ?? "(never started)";
  }

  async kill(name: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    await this.procs.get(name)?.kill(signal);
  }

  inject(name: string, fault: NetworkFault): void {
    this.network.inject(name, fault);
  }

  heal(name: string): void {
    this.network.heal(name);
  }

  /** Runs `kv ARGS --coordinator <every coordinator>` in the client namespace. */
  kv(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = this.network.spawnIn("client", process.execPath, [kvScript, ...args, "--coordinator", this.coordinatorAddress]);
      let stdout = "";
      let stderr = "";
      child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
      const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), timeoutMs);
      child.on("exit", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** The active coordinator's status as `kv status --json` prints it, or null when the command fails. */
  async status(): Promise<NetnsStatus | null> {
    const result = await this.kv(["status", "--json", "--timeout", "2000", "--retry-for", "0"], 15_000);
    if (result.code !== 0) return null;
    return JSON.parse(result.stdout) as NetnsStatus;
  }

  /** Stops every process: SIGTERM (after SIGCONT), SIGKILL after 10 s. */
  async stopProcesses(): Promise<void> {
    await Promise.all(
      [...this.procs.values()].map(async (proc) => {
        if (!proc.alive) return;
        const timer = setTimeout(() => void proc.kill("SIGKILL"), 10_000);
        await proc.kill("SIGTERM");
        clearTimeout(timer);
      }),
    );
  }

  /** Stops every process (SIGTERM, SIGKILL after 10 s), deletes the namespaces and the data. */
  async stop(): Promise<void> {
    await this.stopProcesses();
    try {
      this.network.destroy();
    } finally {
      fs.rmSync(this.layout.dataDir, { recursive: true, force: true });
    }
  }
}
