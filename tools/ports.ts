// Free loopback ports for the processes a tool or a test starts (kv cluster, etcd, a replica).
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
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await Promise.all(Array.from({ length: count }, (_, i) => portFree(base + i)))).every(Boolean)) return base;
  }
}
