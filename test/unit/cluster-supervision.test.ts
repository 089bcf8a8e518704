// Proves the pure parts of `kv cluster`'s supervision (tools/cluster/restart-policy.ts, manifest.ts,
// coordinators.ts): the restart backoff (100 ms doubling to 5 s, reset after 10 s up, a clean exit
// or --no-restart or an attached kv chaos leaving the process down), the manifest's decoding (the
// fields added for failover, with defaults so that an older manifest still reads) and the choice of
// the active coordinator from the coordinators' health and Status answers.
import { describe, expect, it } from "vitest";
import { activeOf, type CoordinatorReport } from "../../tools/cluster/coordinators";
import { coordinatorMembers, parseManifest, replicaMembers } from "../../tools/cluster/manifest";
import { decideOnExit, defaultRestartPolicy, exitKind, restartDelayMs, type ExitContext } from "../../tools/cluster/restart-policy";

const killed: ExitContext = { restart: true, stopping: false, heldBy: null, exit: { code: null, signal: "SIGKILL" }, upMs: 500, failuresInARow: 0 };

describe("the restart policy", () => {
  it("restarts a failed process after 100 ms, doubling for each failure in a row up to 5 s", () => {
    const delays: number[] = [];
    let failuresInARow = 0;
    for (let i = 0; i < 9; i++) {
      const decision = decideOnExit(defaultRestartPolicy, { ...killed, failuresInARow });
      if (decision.kind !== "restart") throw new Error(`expected a restart, got ${JSON.stringify(decision)}`);
      delays.push(decision.delayMs);
      failuresInARow = decision.failuresInARow;
    }
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(restartDelayMs(defaultRestartPolicy, 10_000)).toBe(5_000);
  });

  it("starts the series again for a process that ran 10 s before it failed", () => {
    expect(decideOnExit(defaultRestartPolicy, { ...killed, failuresInARow: 6, upMs: 9_999 })).toEqual({ kind: "restart", delayMs: 5_000, failuresInARow: 7 });
    expect(decideOnExit(defaultRestartPolicy, { ...killed, failuresInARow: 6, upMs: 10_000 })).toEqual({ kind: "restart", delayMs: 100, failuresInARow: 1 });
  });

  it("counts a signal or a non-zero code as a failure, and only code 0 as clean", () => {
    expect(exitKind({ code: 0, signal: null })).toBe("clean");
    expect(exitKind({ code: 1, signal: null })).toBe("failure");
    expect(exitKind({ code: null, signal: "SIGKILL" })).toBe("failure");
    expect(exitKind({ code: null, signal: null })).toBe("failure");
  });

  it("leaves a process down when it exited cleanly, with --no-restart, while stopping, or while kv chaos holds the restarts", () => {
    expect(decideOnExit(defaultRestartPolicy, { ...killed, exit: { code: 0, signal: null } })).toEqual({ kind: "stay-down", why: "clean-exit" });
    expect(decideOnExit(defaultRestartPolicy, { ...killed, restart: false })).toEqual({ kind: "stay-down", why: "restart-off" });
    expect(decideOnExit(defaultRestartPolicy, { ...killed, stopping: true })).toEqual({ kind: "stay-down", why: "stopping" });
    expect(decideOnExit(defaultRestartPolicy, { ...killed, heldBy: 4242 })).toEqual({ kind: "stay-down", why: "held" });
  });
});

const member = (name: string, port: number, extra: Record<string, unknown> = {}) => ({ name, address: `127.0.0.1:${port}`, pid: 100 + port, argv: ["/usr/bin/node", "kv.js"], ...extra });

describe("the manifest", () => {
  it("reads the coordinators, their roles, and the restart fields", () => {
    const text = JSON.stringify({
      version: 1,
      state: "running",
      supervisorPid: 42,
      coordinator: "127.0.0.1:1",
      coordinators: "127.0.0.1:1,127.0.0.1:2",
      restart: true,
      restartsHeldBy: null,
      members: [member("coordinator", 1, { role: "standby" }), member("coordinator-2", 2, { role: "active" }), member("r1", 3), member("r2", 4)],
    });
    const manifest = parseManifest(text, "cluster.json");
    expect(manifest.coordinators).toBe("127.0.0.1:1,127.0.0.1:2");
    expect(manifest.restart).toBe(true);
    expect(coordinatorMembers(manifest).map((m) => [m.name, m.role])).toEqual([["coordinator", "standby"], ["coordinator-2", "active"]]);
    expect(replicaMembers(manifest).map((m) => m.name)).toEqual(["r1", "r2"]);
    expect(replicaMembers(manifest).every((m) => m.role === undefined)).toBe(true);
  });

  it("reads a manifest of an older kv cluster (one coordinator, no failover fields) with defaults", () => {
    const text = JSON.stringify({ version: 1, state: "running", supervisorPid: 42, coordinator: "127.0.0.1:1", members: [member("coordinator", 1), member("r1", 2)] });
    const manifest = parseManifest(text, "cluster.json");
    expect(manifest.coordinators).toBe("127.0.0.1:1");
    expect(manifest.restart).toBe(false);
    expect(manifest.restartsHeldBy).toBeNull();
    expect(coordinatorMembers(manifest)[0]!.role).toBeNull();
  });

  it("refuses a role it does not know, naming the field", () => {
    const text = JSON.stringify({ version: 1, state: "running", supervisorPid: 42, coordinator: "127.0.0.1:1", members: [member("coordinator", 1, { role: "leader" })] });
    expect(() => parseManifest(text, "cluster.json")).toThrow("cluster.json: members[0].role is none of");
  });
});

const report = (address: string, extra: Partial<CoordinatorReport>): CoordinatorReport => ({
  address,
  serving: false,
  id: null,
  role: null,
  roleWire: "",
  activeId: null,
  activeAddress: null,
  epoch: null,
  notReadyReason: null,
  error: null,
  ...extra,
});

describe("the active coordinator", () => {
  it("is the serving one that says it is active", () => {
    const reports = [report("a", { serving: false, role: "standby", activeAddress: "b" }), report("b", { serving: true, role: "active", activeAddress: "b" })];
    expect(activeOf(reports)?.address).toBe("b");
  });

  it("is none while none serves: a standby, or an active one not yet ready, does not count", () => {
    expect(activeOf([report("a", { role: "standby" }), report("b", { role: "active", notReadyReason: "too few replicas in sync" })])).toBeNull();
    expect(activeOf([report("a", { role: "taking-over", serving: false })])).toBeNull();
  });

  it("is the first serving one when the coordinators report no role (before failover)", () => {
    expect(activeOf([report("a", { serving: false }), report("b", { serving: true }), report("c", { serving: true })])?.address).toBe("b");
  });
});
