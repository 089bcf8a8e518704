// The short chaos run of CI: `kv chaos` for about 60 s with a fixed seed, kill and pause faults,
// against its own local cluster on free ports. It must pass every check (linearizable history, no
// acknowledged write missing, identical replicas, nothing in doubt, back in sync after the last
// heal). A longer run: npm run chaos -- --duration 10m.
import { describe, expect, it } from "vitest";
import { freePortRun, runKv } from "../integration/harness";

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
