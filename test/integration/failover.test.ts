// Coordinator failover with real processes (issue 12): two coordinators and three replicas. The
// active coordinator is killed, paused or crashed at a failpoint; the standby takes over, finishes
// what the dead one decided, answers retries with the original results, and the old one, back,
// decides and reads nothing as the active coordinator.
import { afterAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { KvClient } from "../../client/client";
import { failure, killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

/** The role a coordinator reports of itself, or "down". */
function roleOf(cluster: TestCluster, index: number): Promise<string> {
  return cluster.roleOf(index);
}

describe("coordinator failover", () => {
  it("kill -9 of the active coordinator: the standby takes over, nothing acknowledged is lost, the old one returns as a standby", async () => {
    const cluster = await TestCluster.start({ coordinators: 2 });
    try {
      expect(await cluster.activeCoordinator()).toBe(0);
      await waitFor("the second coordinator stands by", async () => (await roleOf(cluster, 1)) === "standby", 10_000);
      const kv = cluster.client(5_000, 20_000);
      for (let i = 0; i < 20; i++) await kv.put(`before/${i}`, `v${i}`);
      const { txnId: firstTxn } = await kv.put("epoch-probe", "1");

      await cluster.coordinator.kill("SIGKILL");
      // The client library finds the standby by itself; the write waits for the takeover.
      const { txnId } = await kv.put("after", "x");
      expect(await cluster.activeCoordinator()).toBe(1);
      // A new epoch: the successor's transaction ids are newer than the dead one's.
      expect(Number(txnId.split(".")[0])).toBeGreaterThan(Number(firstTxn.split(".")[0]));
      for (let i = 0; i < 20; i++) expect((await kv.get(`before/${i}`))?.value.toString()).toBe(`v${i}`);
      expect((await kv.get("after"))?.value.toString()).toBe("x");

      // The old coordinator, restarted, finds the active one and stands by.
      cluster.startCoordinator({}, 0);
      await waitFor("the restarted coordinator stands by", async () => (await roleOf(cluster, 0)) === "standby", 20_000);
      expect(await cluster.activeCoordinator()).toBe(1);
      // A client that reaches it first is sent on, and the write goes through.
      const viaOld = new KvClient(`${cluster.coordinatorAddressOf(0)},${cluster.coordinatorAddressOf(1)}`, { timeoutMs: 5_000, retryForMs: 10_000 });
      try {
        await viaOld.put("via-old", "y");
        expect((await viaOld.get("via-old"))?.value.toString()).toBe("y");
      } finally {
        viaOld.close();
      }
      await cluster.waitSettled();
      expect(new Set(await cluster.checksums()).size).toBe(1);
    } finally {
      await cluster.stop();
    }
  });

  it("a retry with the same request id at the successor gets the original result: a commit, or a definite failure", async () => {
    const cluster = await TestCluster.start({ coordinators: 2 });
    try {
      const kv = cluster.client(5_000, 20_000);
      await kv.put("balance", "10");
      const first = await kv.increment("counter", 5, {}, { requestId: "incr-once" });
      expect(first.value).toBe(5);
      const refused = await failure(kv.compareAndSet("balance", "99", { expectedVersion: 12345 }, { requestId: "cas-fails" }));
      expect(refused.code).toBe(Code.FAILED_PRECONDITION);

      await cluster.coordinator.kill("SIGKILL");
      // Retried at the successor: the commit's result comes back, nothing is applied again.
      const retried = await kv.increment("counter", 5, {}, { requestId: "incr-once" });
      expect(retried).toMatchObject({ value: 5, version: first.version, txnId: first.txnId });
      expect((await kv.get("counter"))?.value.toString()).toBe("5");
      // The definite failure stays one: same code and message, and the write never runs.
      const again = await failure(kv.compareAndSet("balance", "99", { expectedVersion: 12345 }, { requestId: "cas-fails" }));
      expect(again.code).toBe(Code.FAILED_PRECONDITION);
      // The same message from the store (the library prefixes the method and the coordinator that answered).
      const fromStore = (message: string) => message.slice(message.indexOf("): ") + 3);
      expect(fromStore(again.message)).toBe(fromStore(refused.message));
      expect((await kv.get("balance"))?.value.toString()).toBe("10");
      expect(await cluster.activeCoordinator()).toBe(1);
    } finally {
      await cluster.stop();
    }
  });

  it("a paused active coordinator is fenced: after SIGCONT it answers no read and no write as the active one, and stands by", async () => {
    const cluster = await TestCluster.start({ coordinators: 2 });
    try {
      const kv = cluster.client(5_000, 20_000);
      await kv.put("k", "old");
      process.kill(cluster.coordinator.pid, "SIGSTOP");
      try {
        await waitFor("the standby takes over", async () => (await roleOf(cluster, 1)) === "active", 20_000);
        await kv.put("k", "new");
      } finally {
        process.kill(cluster.coordinator.pid, "SIGCONT");
      }
      // Straight to the old coordinator, no retries: it still believes it is active until a replica
      // refuses its epoch, so it may try; it must never answer the old value, nor take a write.
      const direct = new KvClient(cluster.coordinatorAddressOf(0), { timeoutMs: 5_000, retryForMs: 0 });
      try {
        const read = await direct.get("k").then(
          (entry) => entry?.value.toString() ?? "(absent)",
          (error: unknown) => error as KvError,
        );
        if (typeof read === "string") expect(read).toBe("new");
        else expect(read.code).toBe(Code.UNAVAILABLE);
        const write = await direct.put("k", "from-the-old-one").then(
          (result) => result,
          (error: unknown) => error as KvError,
        );
        if (write instanceof KvError) {
          expect(write.code).toBe(Code.UNAVAILABLE);
        } else {
          // Answered: only by the successor, to which a standby's refusal sends the client on (the
          // redirect ran nothing): the transaction is of the successor's epoch.
          const successor = new KvClient(cluster.coordinatorAddressOf(1), { timeoutMs: 2_000, retryForMs: 0 });
          try {
            expect(Number(write.txnId.split(".")[0])).toBe((await successor.status()).epoch);
          } finally {
            successor.close();
          }
        }
      } finally {
        direct.close();
      }
      await waitFor("the old coordinator stands by", async () => (await roleOf(cluster, 0)) === "standby", 20_000);
      await cluster.waitSettled();
      const final = (await kv.get("k"))?.value.toString();
      expect(["new", "from-the-old-one"]).toContain(final);
      for (const content of await cluster.contents()) expect(content.get("k")?.value).toBe(final);
    } finally {
      await cluster.stop();
    }
  });

  it("an old coordinator that cannot hear the new one is fenced by the replicas: its write is refused, nothing of it stored", async () => {
    // The election would tell a returning coordinator that another is active; with the new one
    // paused, only the replicas' promise stands between the old one and a second decision.
    const cluster = await TestCluster.start({ coordinators: 2 });
    const old = cluster.coordinator;
    const successor = () => cluster.coordinatorProcs[1]!;
    try {
      const kv = cluster.client(5_000, 20_000);
      await kv.put("k", "old");
      process.kill(old.pid, "SIGSTOP");
      await waitFor("the standby takes over", async () => (await cluster.roleOf(1)) === "active", 20_000);
      await kv.put("k", "new");
      process.kill(successor().pid, "SIGSTOP");
      process.kill(old.pid, "SIGCONT");
      const direct = new KvClient(cluster.coordinatorAddressOf(0), { timeoutMs: 5_000, retryForMs: 0 });
      try {
        const write = await direct.put("k", "from-the-old-one").then(
          (result) => result,
          (error: unknown) => error as KvError,
        );
        // Its PREPARE (or its decision's append) is refused as fenced: it stands down, and the
        // write is UNAVAILABLE (nothing of it was or will be applied).
        expect(write instanceof KvError ? write.code : `answered ${write.txnId}`).toBe(Code.UNAVAILABLE);
        const read = await direct.get("k").then(
          (entry) => entry?.value.toString() ?? "(absent)",
          (error: unknown) => error as KvError,
        );
        if (typeof read === "string") expect(read).toBe("new");
      } finally {
        direct.close();
        process.kill(successor().pid, "SIGCONT");
      }
      await waitFor("the old coordinator stands by", async () => (await cluster.roleOf(0)) === "standby", 20_000);
      expect((await kv.get("k"))?.value.toString()).toBe("new");
      await cluster.waitSettled();
      for (const content of await cluster.contents()) expect(content.get("k")).toEqual({ value: "new", version: expect.any(Number) });
    } finally {
      for (const proc of [old, successor()]) if (proc.alive) process.kill(proc.pid, "SIGCONT");
      await cluster.stop();
    }
  });

  it("the active coordinator dies after deciding COMMIT, before any replica heard it: the standby finishes the job", async () => {
    // The 5th decision of the first coordinator is forced on a majority of the replicas' copies of
    // the log, and the process dies before any COMMIT leaves (failpoint after-decision-log).
    const cluster = await TestCluster.start({ coordinators: 2, failpoints: "coordinator:after-decision-log=crash@5" });
    try {
      const kv = cluster.client(5_000, 20_000);
      const results: { key: string; txnId: string }[] = [];
      for (let i = 0; i < 8; i++) {
        const { txnId } = await kv.put(`w/${i}`, `v${i}`, { requestId: `w-${i}` });
        results.push({ key: `w/${i}`, txnId });
      }
      await waitFor("the first coordinator crashed at its failpoint", () => !cluster.coordinator.alive, 10_000);
      expect(await cluster.activeCoordinator()).toBe(1);
      // The write whose decision the dead coordinator made was answered by the successor from that
      // decision (its transaction id is of the first epoch), not run again.
      const epochs = results.map((result) => Number(result.txnId.split(".")[0]));
      const firstEpoch = epochs[0]!;
      expect(epochs.slice(0, 5).every((epoch) => epoch === firstEpoch)).toBe(true);
      expect(epochs.slice(5).every((epoch) => epoch > firstEpoch)).toBe(true);
      await cluster.waitSettled();
      const contents = await cluster.contents();
      expect(new Set(await cluster.checksums()).size).toBe(1);
      for (const content of contents) for (let i = 0; i < 8; i++) expect(content.get(`w/${i}`)?.value).toBe(`v${i}`);
    } finally {
      await cluster.stop();
    }
  });
});
