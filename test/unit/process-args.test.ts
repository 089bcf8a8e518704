// Proves the one builder of process command lines (client/process-args.ts) that `kv cluster`, the
// local cluster of `kv chaos` and the test harness share: a flag the caller does not give is not
// passed, so the process runs the product's default (--on-conflict wait above all); the coordinator
// reaches a replica through its proxy when it has one, while replicas reach their peers directly.
import { describe, expect, it } from "vitest";
import { consecutiveLayout, coordinatorArgs, processArgs, replicaArgs } from "../../tools/cluster/process-args";

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
    const args = coordinatorArgs(layout, { onConflict: "abort", minInSync: 3, logLevel: "debug", compactLogBytes: 4096, failpoints: "coordinator:before-decision-log=crash@2" });
    expect(args.join(" ")).toContain("--on-conflict abort --min-in-sync 3 --log-level debug --compact-log-bytes 4096 --failpoint coordinator:before-decision-log=crash@2");
    expect(() => replicaArgs(layout, "r1", { onConflict: "wait" })).toThrow("coordinator's flags");
    expect(() => processArgs(layout, "r9")).toThrow("no replica r9");
  });

  it("route the coordinator through a replica's proxy, and peers around it", () => {
    const proxied = { ...layout, replicas: layout.replicas.map((replica) => (replica.id === "r1" ? { ...replica, coordinatorReachesAt: 9001 } : replica)) };
    expect(processArgs(proxied, "coordinator")).toContain("r1=127.0.0.1:9001,r2=127.0.0.1:7002,r3=127.0.0.1:7003");
    expect(processArgs(proxied, "r3")).toContain("r1=127.0.0.1:7001,r2=127.0.0.1:7002,r3=127.0.0.1:7003");
  });
});
