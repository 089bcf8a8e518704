// Free loopback ports for the processes a tool or a test starts (kv cluster, etcd, a replica).
import * as fs from "node:fs";
import * as net from "node:net";

/** A port that was free a moment ago (the OS picked it for a socket we then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A base port with the `count - 1` after it free too: a `kv cluster` takes consecutive ports, ten
 * with its defaults (two coordinators and three replicas, then their five metrics ports).
 */
export async function freePortRun(count = 10): Promise<number> {
  // Below the kernel's ephemeral range: a port found free there can be taken, before the process
  // that is to listen on it does, as the local port of any outgoing connection on the machine (a CI
  // run once lost a coordinator of kv cluster's test that way). Up there only on a kernel whose range
  // leaves no room below.
  const ephemeralFirst = ephemeralPortFirst();
  const low = 10_000;
  const span = ephemeralFirst - count - low;
  for (;;) {
    const base = span >= 1_000 ? low + Math.floor(Math.random() * span) : 20_000 + Math.floor(Math.random() * 40_000);
    if ((await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)))).every(Boolean)) return base;
  }
}

/** The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range), or 32768, its usual value. */
function ephemeralPortFirst(): number {
  try {
    const first = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > 1_024 ? first : 32_768;
  } catch {
    return 32_768;
  }
}
