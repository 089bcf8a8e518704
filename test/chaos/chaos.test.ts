// The short chaos run of CI: `kv chaos` for about 60 s with a fixed seed, kill and pause faults,
// against its own local cluster on free ports. It must pass every check (linearizable history, no
// acknowledged write missing, identical replicas, nothing in doubt, back in sync after the last
// heal). A longer run: npm run chaos -- --duration 10m.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { runKv } from "../integration/harness";

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A base port with the three after it free too (the cluster takes four consecutive ports). */
async function freePortRun(): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i)))).every(Boolean)) return base;
  }
}

describe("kv chaos", () => {
  it("survives 60 s of kill -9 and SIGSTOP with every check passing", async () => {
    const port = await freePortRun();
    const run = await runKv(["chaos", "--seed", "42", "--duration", "55s", "--faults", "kill,pause", "--interval", "3s", "--port", String(port)]);
    const table = run.stdout;
    expect(table, run.stderr).toContain("seed 42: PASSED");
    expect(table).toMatch(/linearizable\s+linearizable\s+ok/);
    expect(table).toMatch(/acknowledged writes missing\s+0\s+ok/);
    expect(table).toMatch(/replicas whose content differs\s+0\s+ok/);
    expect(table).toMatch(/transactions in doubt\s+0\s+ok/);
    expect(table).toMatch(/faults injected\s+kill [1-9]\d*, pause [1-9]\d*/);
    expect(run.code).toBe(0);
  }, 240_000);
});
