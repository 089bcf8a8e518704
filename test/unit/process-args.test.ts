// Proves the one builder of process command lines (tools/cluster/process-args.ts) that `kv cluster`,
// the local cluster of `kv chaos` and the test harness share: a flag the caller does not give is not
// passed, so the process runs the product's default (--on-conflict wait above all); the coordinator
// reaches a replica through its proxy when it has one, while replicas reach their peers directly.
// With several coordinators (issue 12): they take the first ports, the first keeps the name
// "coordinator", each is told all of them, and each replica is told every coordinator's address.
// With a metrics port (issue 14), each process serves its metrics on its own port from it.
import { describe, expect, it } from "vitest";
import { consecutiveLayout, coordinatorAddresses, coordinatorArgs, coordinatorName, isCoordinatorName, processArgs, replicaArgs } from "../../tools/cluster/process-args";

const layout = consecutiveLayout("127.0.0.1", 7000, 3, "/data");

describe("process command lines", () => {
  it("pass no flag the caller did not give: the processes run the product's defaults", () => {
    expect(coordinatorArgs(layout)).toEqual([
      "coordinator", "--id", "coordinator", "--listen", "127.0.0.1:7000", "--data-dir", "/data/coordinator",
      "--replicas", "r1=127.0.0.1:7001,r2=127.0.0.1:7002,r3=127.0.0.1:7003",
    ]);
    expect(replicaArgs(layout, "r2")).toEqual([
      "replica", "--id", "r2", "--listen", "127.0.0.1:7002", "--data-dir", "/data/r2", "--coordinator", "127.0.0.1:7000",
      "--peers", "r1=127.0.0.1:7001,r2=127.0.0.1:7002,r3=127.0.0.1:7003",
    ]);
  });

  it("pass the flags asked for, the coordinator's to the coordinator only", () => {
    const args = coordinatorArgs(layout, { onConflict: "abort", minInSync: 3, valueCacheMib: 0, logLevel: "debug", compactLogBytes: 4096, failpoints: "coordinator:before-decision-log=crash@2" });
    expect(args.join(" ")).toContain("--on-conflict abort --min-in-sync 3 --value-cache-mib 0 --log-level debug --compact-log-bytes 4096 --failpoint coordinator:before-decision-log=crash@2");
    expect(() => replicaArgs(layout, "r1", { onConflict: "wait" })).toThrow("coordinator's flags");
    expect(() => replicaArgs(layout, "r1", { valueCacheMib: 1 })).toThrow("coordinator's flags");
    // The replicas' tombstone retention goes to the replicas only (one set of flags serves both).
    expect(replicaArgs(layout, "r1", { tombstoneRetentionMs: 0 }).join(" ")).toContain("--tombstone-retention-ms 0");
    expect(coordinatorArgs(layout, { tombstoneRetentionMs: 0 }).join(" ")).not.toContain("tombstone");
    expect(() => processArgs(layout, "r9")).toThrow("no replica r9");
  });

  it("route the coordinator through a replica's proxy, and peers around it", () => {
    const proxied = { ...layout, replicas: layout.replicas.map((replica) => (replica.id === "r1" ? { ...replica, coordinatorReachesAt: 9001 } : replica)) };
    expect(processArgs(proxied, "coordinator")).toContain("r1=127.0.0.1:9001,r2=127.0.0.1:7002,r3=127.0.0.1:7003");
    expect(processArgs(proxied, "r3")).toContain("r1=127.0.0.1:7001,r2=127.0.0.1:7002,r3=127.0.0.1:7003");
  });

  it("put several coordinators on the first ports, the replicas after them, and tell everyone every coordinator", () => {
    const two = consecutiveLayout("127.0.0.1", 7000, 3, "/data", 2);
    expect(two.coordinators).toEqual([{ id: "coordinator", port: 7000 }, { id: "coordinator-2", port: 7001 }]);
    expect(two.replicas.map((replica) => [replica.id, replica.port])).toEqual([["r1", 7002], ["r2", 7003], ["r3", 7004]]);
    const everyCoordinator = "coordinator=127.0.0.1:7000,coordinator-2=127.0.0.1:7001";
    expect(coordinatorArgs(two)).toEqual([
      "coordinator", "--id", "coordinator", "--listen", "127.0.0.1:7000", "--data-dir", "/data/coordinator",
      "--replicas", "r1=127.0.0.1:7002,r2=127.0.0.1:7003,r3=127.0.0.1:7004", "--coordinators", everyCoordinator,
    ]);
    expect(processArgs(two, "coordinator-2", { minInSync: 2 })).toEqual([
      "coordinator", "--id", "coordinator-2", "--listen", "127.0.0.1:7001", "--data-dir", "/data/coordinator-2",
      "--replicas", "r1=127.0.0.1:7002,r2=127.0.0.1:7003,r3=127.0.0.1:7004", "--coordinators", everyCoordinator, "--min-in-sync", "2",
    ]);
    expect(replicaArgs(two, "r1")).toEqual([
      "replica", "--id", "r1", "--listen", "127.0.0.1:7002", "--data-dir", "/data/r1", "--coordinator", "127.0.0.1:7000,127.0.0.1:7001",
      "--peers", "r1=127.0.0.1:7002,r2=127.0.0.1:7003,r3=127.0.0.1:7004",
    ]);
    expect(coordinatorAddresses(consecutiveLayout("10.0.0.1", 50051, 3, "/d", 3))).toBe("10.0.0.1:50051,10.0.0.1:50052,10.0.0.1:50053");
    expect(() => processArgs(two, "coordinator-3")).toThrow("no coordinator coordinator-3");
    expect(() => consecutiveLayout("127.0.0.1", 7000, 3, "/data", 0)).toThrow("at least 1");
  });

  it("with a metrics port, give every process --metrics-listen on its own port from it, coordinators first (issue 14)", () => {
    const measured = consecutiveLayout("127.0.0.1", 7000, 3, "/data", 2, 7005);
    const metricsOf = (args: string[]): string | undefined => args[args.indexOf("--metrics-listen") + 1];
    expect(["coordinator", "coordinator-2", "r1", "r2", "r3"].map((name) => metricsOf(processArgs(measured, name)))).toEqual(
      ["127.0.0.1:7005", "127.0.0.1:7006", "127.0.0.1:7007", "127.0.0.1:7008", "127.0.0.1:7009"],
    );
    // Without one, no process serves metrics (the harness and kv chaos's local cluster).
    expect(processArgs(layout, "r1")).not.toContain("--metrics-listen");
  });

  it("name the coordinators so that every name starts with \"coordinator\" and the first keeps its old name", () => {
    expect([0, 1, 2].map(coordinatorName)).toEqual(["coordinator", "coordinator-2", "coordinator-3"]);
    expect([0, 1, 2].map(coordinatorName).every(isCoordinatorName)).toBe(true);
    expect(isCoordinatorName("r1")).toBe(false);
  });
});
