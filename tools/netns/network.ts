// A private network of Linux network namespaces for multi-host tests (issue 14 §5): one namespace
// per member (each coordinator, each replica, and a client), each with its own address on
// 10.77.0.0/24, joined by veth pairs to a bridge that lives in a namespace of its own (the hub).
// Nothing of it touches the root namespace: every interface, address and route is inside a
// namespace this module created, so the machine's own network is never changed, and two runs cannot
// collide, since every namespace's name carries a random run id and every interface lives inside
// those namespaces. Deleting the namespaces deletes everything (a veth pair goes with either end,
// the bridge with the hub).
//
// Faults are real kernel ones, on the member's link, and heal() removes them:
// - partition: the member's bridge port is disabled (`bridge link set ... state 0`): the bridge
//   silently drops every frame from and to it, as 100% loss both ways would, while the member's own
//   link stays up (its kernel sees no error, only silence, as behind a cut cable further away).
// - throttle: a token bucket (`tc qdisc ... tbf`) on both ends of the member's veth: a slow link
//   whose small queue drops what overflows it, so the member sees delay that grows with load, and
//   real packet loss under bursts.
// - delay (with jitter) and loss: `tc qdisc ... netem` on both ends of the member's veth. They need
//   the kernel's sch_netem; netemUnavailable() says when it is missing (some VM kernels ship
//   without it), and callers skip those faults then, saying why.
// - drop: loss without netem, by nftables rules in the member's namespace that drop each packet in
//   and out of its link with a probability (`numgen random mod 100 < N drop`). It needs the `nft`
//   command (not part of iproute2, and not installed by npm ci); nftUnavailable() says when it is
//   missing.
// This is a tool for root on Linux with iproute2 (`ip`, `tc`, `bridge`); netnsUnavailable() says
// why it cannot run elsewhere.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { assert, assertNever } from "../../common/assert";

/** The private subnet the members' addresses come from (inside the run's namespaces only). */
export const netnsSubnetPrefix = "10.77.0.";
/** The client namespace's address; members take netnsMemberHostMin and up. */
export const netnsClientHost = `${netnsSubnetPrefix}2`;
const netnsMemberHostMin = 10;
/** How many members one network holds (the addresses 10.77.0.10 .. 10.77.0.(10 + max - 1)). */
export const netnsMembersMax = 32;
/** Bounds of the fault parameters, checked where a fault is made. */
export const netemDelayMsMax = 10_000;
export const throttleKbitMin = 8;

export type NetworkFault =
  /** netem delay: every packet waits delayMs, plus or minus up to jitterMs. */
  | { readonly kind: "delay"; readonly delayMs: number; readonly jitterMs: number }
  /** netem loss: each packet is dropped with this probability. */
  | { readonly kind: "loss"; readonly percent: number }
  /** A token bucket of rateKbit: slow, and dropping what overflows its small queue. */
  | { readonly kind: "throttle"; readonly rateKbit: number }
  /** No frame from or to the member crosses the bridge. */
  | { readonly kind: "partition" }
  /** nftables: each packet in or out of the member's link is dropped with this probability (loss where the kernel has no netem). */
  | { readonly kind: "drop"; readonly percent: number };

/** Why namespaces cannot be made here, or null when they can (root, and `ip netns` answers). */
export function netnsUnavailable(): string | null {
  if (process.platform !== "linux") return `network namespaces need Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "network namespaces need root (run npm run test:netns as root)";
  for (const [tool, args] of [["ip", ["netns", "list"]], ["tc", ["-V"]], ["bridge", ["-V"]]] as const) {
    const result = spawnSync(tool, args, { encoding: "utf8" });
    if (result.error !== undefined || result.status !== 0) {
      return `\`${tool} ${args.join(" ")}\` failed (iproute2 is needed): ${result.error?.message ?? result.stderr.trim()}`;
    }
  }
  // Root with iproute2 may still be refused namespaces, veths or bridges (a container without
  // CAP_SYS_ADMIN or CAP_NET_ADMIN, a kernel without the modules): try each on a throwaway namespace.
  const name = `kvprobe-${randomBytes(4).toString("hex")}`;
  try {
    for (const args of [
      ["netns", "add", name],
      ["-n", name, "link", "add", "b0", "type", "bridge"],
      ["-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"],
      ["-n", name, "link", "set", "p0", "master", "b0"],
    ]) {
      const result = spawnSync("ip", args, { encoding: "utf8" });
      if (result.error !== undefined || result.status !== 0) return `\`ip ${args.join(" ")}\` failed: ${result.error?.message ?? result.stderr.trim()}`;
    }
  } finally {
    spawnSync("ip", ["netns", "delete", name]);
  }
  return null;
}

/** Why netem faults (delay, loss) cannot be made here, or null when they can: tried on a throwaway namespace. */
export function netemUnavailable(): string | null {
  const name = `kvprobe-${randomBytes(4).toString("hex")}`;
  try {
    ip(["netns", "add", name]);
    ip(["-n", name, "link", "add", "p0", "type", "veth", "peer", "name", "p1"]);
    ip(["-n", name, "link", "set", "p0", "up"]);
    const result = spawnSync("ip", ["netns", "exec", name, "tc", "qdisc", "add", "dev", "p0", "root", "netem", "delay", "1ms"], { encoding: "utf8" });
    return result.status === 0 ? null : `the kernel has no netem qdisc (sch_netem): tc said "${result.stderr.trim()}"`;
  } finally {
    spawnSync("ip", ["netns", "delete", name]);
  }
}

/** The nftables table of a drop fault, in the member's namespace; deleting it heals. */
const dropTable = "kvchaos";

/** The nft script that makes a drop fault: one table, a chain on each direction of the member's link. */
export function dropRules(percent: number): string {
  assert(Number.isInteger(percent) && percent > 0 && percent <= 100, `drop ${percent}% is not a whole number in 1..100`);
  // numgen random mod 100 draws 0..99 for each packet: below `percent`, it is dropped.
  return [
    `table inet ${dropTable} {`,
    `  chain out { type filter hook output priority 0; policy accept; oifname "${memberLink}" numgen random mod 100 < ${percent} counter drop; }`,
    `  chain in { type filter hook input priority 0; policy accept; iifname "${memberLink}" numgen random mod 100 < ${percent} counter drop; }`,
    "}",
    "",
  ].join("\n");
}

/** Why drop faults (nftables) cannot be made here, or null when they can: tried on a throwaway namespace. */
export function nftUnavailable(): string | null {
  const version = spawnSync("nft", ["--version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) {
    return `the nft command (nftables) is missing or fails: ${version.error?.message ?? version.stderr.trim()}`;
  }
  const name = `kvprobe-${randomBytes(4).toString("hex")}`;
  try {
    ip(["netns", "add", name]);
    const result = spawnSync("ip", ["netns", "exec", name, "nft", "-f", "-"], { input: dropRules(1), encoding: "utf8" });
    return result.status === 0 ? null : `nft refused a numgen drop rule in a namespace: "${result.stderr.trim()}"`;
  } finally {
    spawnSync("ip", ["netns", "delete", name]);
  }
}

/** The arguments after `tc qdisc replace dev DEV root` that make a fault, or null for a partition or a drop (no qdisc). */
export function qdiscArgs(fault: NetworkFault): string[] | null {
  switch (fault.kind) {
    case "delay":
      assert(Number.isInteger(fault.delayMs) && fault.delayMs >= 0 && fault.delayMs <= netemDelayMsMax, `delayMs ${fault.delayMs} is outside 0..${netemDelayMsMax} (netemDelayMsMax)`);
      assert(Number.isInteger(fault.jitterMs) && fault.jitterMs >= 0 && fault.jitterMs <= fault.delayMs, `jitterMs ${fault.jitterMs} is outside 0..delayMs`);
      return ["netem", "delay", `${fault.delayMs}ms`, `${fault.jitterMs}ms`];
    case "loss":
      assert(Number.isFinite(fault.percent) && fault.percent > 0 && fault.percent <= 100, `loss ${fault.percent}% is outside (0, 100]`);
      return ["netem", "loss", `${fault.percent}%`];
    case "throttle":
      assert(Number.isInteger(fault.rateKbit) && fault.rateKbit >= throttleKbitMin, `rateKbit ${fault.rateKbit} is below ${throttleKbitMin} (throttleKbitMin)`);
      // burst: one full frame at least; limit: about two frames queued, so bursts overflow and drop.
      return ["tbf", "rate", `${fault.rateKbit}kbit`, "burst", "1600", "limit", "3000"];
    case "partition":
    case "drop":
      return null;
    default:
      return assertNever(fault);
  }
}

/** One member of the network: its namespace, its address, its port on the hub's bridge. */
export interface NetnsMember {
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  /** The hub side of its veth pair (the bridge port). */
  readonly hubLink: string;
}

/** The member side of every veth pair: the only interface of a member's namespace besides lo. */
const memberLink = "eth0";

function ip(args: readonly string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

export class NetnsNetwork {
  /** The client's namespace: commands run there reach every member at its address. */
  readonly client: NetnsMember;
  private readonly members = new Map<string, NetnsMember>();
  private readonly namespaces: string[] = [];
  private readonly faults = new Map<string, NetworkFault>();
  private destroyed = false;
  /** The abandoned networks create() deleted before it made this one (sweepAbandoned). */
  sweptBefore: readonly string[] = [];

  /** owned: this object made the namespaces and deletes them; otherwise another process did (attach()). */
  private constructor(readonly runId: string, private readonly owned: boolean) {
    this.client = { name: "client", namespace: `kv-${runId}-client`, host: netnsClientHost, hubLink: "vclient" };
  }

  /** The member of index i: its namespace, address and bridge port follow from the run id and i alone. */
  private placeMember(name: string, i: number): NetnsMember {
    return { name, namespace: `kv-${this.runId}-m${i}`, host: `${netnsSubnetPrefix}${netnsMemberHostMin + i}`, hubLink: `v${i}` };
  }

  /** The hub's namespace, holding the bridge (br0) and the hub end of every veth pair. */
  get hub(): string {
    return `kv-${this.runId}-hub`;
  }

  /**
   * Makes the hub with its bridge, the client's namespace and one namespace per member name. On any
   * failure what was made is deleted before the error goes on.
   */
  static create(memberNames: readonly string[]): NetnsNetwork {
    assert(memberNames.length <= netnsMembersMax, `${memberNames.length} members; at most ${netnsMembersMax} (netnsMembersMax)`);
    assert(new Set(memberNames).size === memberNames.length, "member names are distinct");
    const swept = sweepAbandoned();
    const network = new NetnsNetwork(randomBytes(4).toString("hex"), true);
    network.sweptBefore = swept;
    // Who made it: a later run deletes the network once this process is gone (sweepAbandoned).
    fs.mkdirSync(ownersDir, { recursive: true });
    fs.writeFileSync(path.join(ownersDir, network.runId), String(process.pid));
    try {
      network.addNamespace(network.hub);
      ip(["-n", network.hub, "link", "add", "br0", "type", "bridge"]);
      ip(["-n", network.hub, "link", "set", "br0", "up"]);
      network.join(network.client);
      memberNames.forEach((name, i) => {
        const member = network.placeMember(name, i);
        network.join(member);
        network.members.set(name, member);
      });
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  /**
   * The network of run `runId` that another process made with create(), given the same member names
   * in the same order: `kv chaos` makes it in the root namespace and runs its load from the client namespace,
   * where it drives the members and their faults through this. It cannot destroy() the network: the
   * process that made it does, once this one has exited.
   */
  static attach(runId: string, memberNames: readonly string[]): NetnsNetwork {
    assert(memberNames.length <= netnsMembersMax, `${memberNames.length} members; at most ${netnsMembersMax} (netnsMembersMax)`);
    const network = new NetnsNetwork(runId, false);
    memberNames.forEach((name, i) => network.members.set(name, network.placeMember(name, i)));
    const present = new Set(namespacesOfRun(runId));
    const missing = [network.hub, network.client.namespace, ...[...network.members.values()].map((member) => member.namespace)].filter((namespace) => !present.has(namespace));
    if (missing.length > 0) throw new Error(`network ${runId} has no namespace ${missing.join(", ")}: was it made with these ${memberNames.length} members?`);
    return network;
  }

  private addNamespace(namespace: string): void {
    ip(["netns", "add", namespace]);
    this.namespaces.push(namespace);
  }

  /** A namespace for the member, a veth pair from it to the hub's bridge, its address, links up. */
  private join(member: NetnsMember): void {
    this.addNamespace(member.namespace);
    ip(["-n", this.hub, "link", "add", member.hubLink, "type", "veth", "peer", "name", memberLink, "netns", member.namespace]);
    ip(["-n", this.hub, "link", "set", member.hubLink, "master", "br0", "up"]);
    ip(["-n", member.namespace, "addr", "add", `${member.host}/24`, "dev", memberLink]);
    ip(["-n", member.namespace, "link", "set", memberLink, "up"]);
    ip(["-n", member.namespace, "link", "set", "lo", "up"]);
  }

  member(name: string): NetnsMember {
    const member = this.members.get(name);
    if (member === undefined) throw new Error(`no member ${name} in network ${this.runId} (members: ${[...this.members.keys()].join(", ")})`);
    return member;
  }

  /** Every namespace this network made, the hub first. */
  get namespaceNames(): readonly string[] {
    return this.namespaces;
  }

  /** Starts `command args` inside the namespace of `name` (a member, or "client"): `ip netns exec` execs it, so the pid is the command's own. */
  spawnIn(name: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const namespace = name === this.client.name ? this.client.namespace : this.member(name).namespace;
    return spawn("ip", ["netns", "exec", namespace, command, ...args], { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
  }

  /** The fault on a member now, if any. */
  faultOf(name: string): NetworkFault | undefined {
    return this.faults.get(name);
  }

  /** Puts a fault on the member's link (replacing any other), both directions. */
  inject(name: string, fault: NetworkFault): void {
    const member = this.member(name);
    this.heal(name);
    const qdisc = qdiscArgs(fault);
    if (fault.kind === "partition") {
      execFileSync("bridge", ["-n", this.hub, "link", "set", "dev", member.hubLink, "state", "0"], { stdio: ["ignore", "ignore", "pipe"] });
    } else if (fault.kind === "drop") {
      // Both directions in the member's own namespace: what it sends (output) and what it receives (input).
      execFileSync("ip", ["netns", "exec", member.namespace, "nft", "-f", "-"], { input: dropRules(fault.percent), stdio: ["pipe", "ignore", "pipe"] });
    } else {
      assert(qdisc !== null, "every fault but a partition and a drop is a qdisc");
      // Egress of both ends: the member's side shapes what it sends, the hub's side what it receives.
      ip(["netns", "exec", member.namespace, "tc", "qdisc", "replace", "dev", memberLink, "root", ...qdisc]);
      ip(["netns", "exec", this.hub, "tc", "qdisc", "replace", "dev", member.hubLink, "root", ...qdisc]);
    }
    this.faults.set(name, fault);
  }

  /** Packets a drop fault on the member has dropped so far, both directions (its rules' counters); 0 without one. */
  dropped(name: string): number {
    if (this.faults.get(name)?.kind !== "drop") return 0;
    const listed = execFileSync("ip", ["netns", "exec", this.member(name).namespace, "nft", "list", "table", "inet", dropTable], { encoding: "utf8" });
    let packets = 0;
    for (const match of listed.matchAll(/counter packets (\d+)/g)) packets += Number(match[1]);
    return packets;
  }

  /** Removes the member's fault, if any: its bridge port forwards again, its qdiscs are the defaults. */
  heal(name: string): void {
    const fault = this.faults.get(name);
    if (fault === undefined) return;
    const member = this.member(name);
    if (fault.kind === "partition") {
      // 3: forwarding (the port's state before; the bridge runs no STP, so it goes straight there).
      execFileSync("bridge", ["-n", this.hub, "link", "set", "dev", member.hubLink, "state", "3"], { stdio: ["ignore", "ignore", "pipe"] });
    } else if (fault.kind === "drop") {
      ip(["netns", "exec", member.namespace, "nft", "delete", "table", "inet", dropTable]);
    } else {
      ip(["netns", "exec", member.namespace, "tc", "qdisc", "del", "dev", memberLink, "root"]);
      ip(["netns", "exec", this.hub, "tc", "qdisc", "del", "dev", member.hubLink, "root"]);
    }
    this.faults.delete(name);
  }

  healAll(): void {
    for (const name of [...this.faults.keys()]) this.heal(name);
  }

  /**
   * Deletes every namespace this network made (and with them every veth and the bridge). Safe to
   * call twice and after a failed create. Processes still running inside would keep a namespace
   * alive after its name is gone: callers stop theirs first.
   */
  destroy(): void {
    assert(this.owned, "only the process that made a network deletes it (attach() gives one that cannot)");
    if (this.destroyed) return;
    this.destroyed = true;
    const failures: string[] = [];
    for (const namespace of [...this.namespaces].reverse()) {
      const result = spawnSync("ip", ["netns", "delete", namespace], { encoding: "utf8" });
      if (result.status !== 0) failures.push(`${namespace}: ${result.stderr.trim()}`);
    }
    if (failures.length > 0) throw new Error(`could not delete namespaces: ${failures.join("; ")}`);
    fs.rmSync(path.join(ownersDir, this.runId), { force: true });
  }
}

/**
 * Kills (SIGKILL) every process still running in one of the run's namespaces and waits until they
 * are gone; returns the pids it killed. For the process that
 * made the network, after the one that ran processes in it has exited: whatever it left running
 * (it was killed, or exited at once on a second Ctrl-C) would keep its namespace alive after the
 * name is deleted. Only processes inside the run's own namespaces, which nothing else enters.
 */
export async function killProcessesOfRun(runId: string, timeoutMs: number): Promise<number[]> {
  const pidsInside = (): number[] =>
    namespacesOfRun(runId).flatMap((namespace) =>
      spawnSync("ip", ["netns", "pids", namespace], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((line) => /^\d+$/.test(line.trim()))
        .map(Number),
    );
  const killed = pidsInside();
  for (const pid of killed) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
  const deadlineMs = Date.now() + timeoutMs;
  while (pidsInside().length > 0) {
    if (Date.now() > deadlineMs) throw new Error(`processes ${pidsInside().join(", ")} still run in network ${runId} ${timeoutMs} ms after kill -9`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return killed;
}

/** The network namespaces whose names start with this run's prefix (for a test's check that none is left). */
/**
 * One file per network a process made (create()), named by its run id and holding that process's
 * pid, removed by destroy(). In /run: a tmpfs, emptied at boot as the namespaces are.
 */
const ownersDir = "/run/twopc-kv-netns";

/**
 * Deletes the networks of earlier runs whose maker is gone without deleting them (killed with kill -9
 * before its cleanup ran): kill -9 of what still runs in their namespaces (processes those runs
 * started), then the namespaces (their veths and bridge go with them). Returns their run ids. A
 * network whose maker still runs, or that no owner file names, is left alone.
 */
export function sweepAbandoned(): string[] {
  let runIds: string[];
  try {
    runIds = fs.readdirSync(ownersDir).filter((name) => /^[0-9a-f]{8}$/.test(name));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const runId of runIds) {
    const owner = Number(fs.readFileSync(path.join(ownersDir, runId), "utf8"));
    if (Number.isSafeInteger(owner) && owner > 0 && processAlive(owner)) continue;
    const namespaces = namespacesOfRun(runId);
    for (const namespace of namespaces) {
      const pids = spawnSync("ip", ["netns", "pids", namespace], { encoding: "utf8" }).stdout.split("\n").filter((line) => /^\d+$/.test(line.trim()));
      for (const pid of pids) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
        }
      }
    }
    for (const namespace of namespaces) spawnSync("ip", ["netns", "delete", namespace]);
    fs.rmSync(path.join(ownersDir, runId), { force: true });
    swept.push(runId);
  }
  return swept;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function namespacesOfRun(runId: string): string[] {
  const result = spawnSync("ip", ["netns", "list"], { encoding: "utf8" });
  return result.stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(`kv-${runId}-`));
}
