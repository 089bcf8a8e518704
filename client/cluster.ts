// `kv cluster`: a local cluster, each process its own OS process. It starts one coordinator and N
// replicas on consecutive ports, prints the command that runs each one alone (to restart a process
// by hand on the same data), passes their output through, and stops them all on Ctrl-C. A process
// that dies stays dead: a crash test must see it stay down.
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import * as readline from "node:readline";

export interface ClusterOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly replicas: number;
  /** Flags passed on to the coordinator (such as --on-conflict wait). */
  readonly coordinatorFlags: readonly string[];
  readonly logLevel: string;
  /** Pass the processes' JSON log lines through as they are, instead of one readable line each. */
  readonly jsonLogs: boolean;
}

interface Member {
  readonly name: string;
  readonly args: string[];
  child: ChildProcess | null;
}

const kvScript = path.resolve(__dirname, "..", "..", "bin", "kv.js");
const stopGraceMs = 5_000;

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export async function runCluster(options: ClusterOptions): Promise<number> {
  const coordinatorAddress = `${options.host}:${options.port}`;
  const replicaIds = Array.from({ length: options.replicas }, (_, i) => `r${i + 1}`);
  const replicaAddresses = replicaIds.map((id, i) => `${id}=${options.host}:${options.port + 1 + i}`);
  const members: Member[] = [
    {
      name: "coordinator",
      args: [
        "coordinator",
        "--id", "coordinator",
        "--listen", coordinatorAddress,
        "--data-dir", path.join(options.dataDir, "coordinator"),
        "--replicas", replicaAddresses.join(","),
        "--log-level", options.logLevel,
        ...options.coordinatorFlags,
      ],
      child: null,
    },
    ...replicaIds.map((id, i) => ({
      name: id,
      args: [
        "replica",
        "--id", id,
        "--listen", `${options.host}:${options.port + 1 + i}`,
        "--data-dir", path.join(options.dataDir, id),
        "--coordinator", coordinatorAddress,
        "--peers", replicaAddresses.join(","),
        "--log-level", options.logLevel,
      ],
      child: null,
    })),
  ];

  console.log(`kv cluster: ${options.replicas} replicas, data under ${path.resolve(options.dataDir)}`);
  console.log("Each process can be run alone (to restart one by hand on the same data):");
  for (const member of members) console.log(`  ${member.name}: ${[process.execPath, kvScript, ...member.args].map(quote).join(" ")}`);

  let stopping = false;
  let running = 0;
  let resolveAllExited: () => void = () => {};
  const allExited = new Promise<void>((resolve) => (resolveAllExited = resolve));

  for (const member of members) {
    const child = spawn(process.execPath, [kvScript, ...member.args], { stdio: ["ignore", "pipe", "pipe"] });
    member.child = child;
    running += 1;
    console.log(`kv cluster: started ${member.name} (pid ${child.pid})`);
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on("line", (line) => console.log(options.jsonLogs ? line : readable(member.name, line)));
    }
    child.on("exit", (code, signal) => {
      running -= 1;
      member.child = null;
      if (!stopping) {
        console.error(
          `kv cluster: ${member.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); the others keep running and ` +
            `it is not restarted. Restart it with the command printed above.`,
        );
      }
      if (running === 0) resolveAllExited();
    });
  }

  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    console.log("kv cluster: stopping");
    for (const member of members) member.child?.kill("SIGTERM");
    setTimeout(() => {
      for (const member of members) member.child?.kill("SIGKILL");
    }, stopGraceMs).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  const ports = [options.port, ...replicaIds.map((_, i) => options.port + 1 + i)];
  const up = await Promise.all(ports.map((port) => waitForPort(options.host, port, 15_000)));
  if (up.every(Boolean) && !stopping) {
    console.log(`kv cluster: ready; the coordinator listens on ${coordinatorAddress}. Try: npx kv put hello world && npx kv get hello`);
  }
  await allExited;
  console.log("kv cluster: stopped");
  return 0;
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
