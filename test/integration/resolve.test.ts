// Proves the operator's tools for in-doubt transactions: `kv status` lists, per replica, the
// transactions in doubt and the keys they lock; `kv resolve TXN --commit|--abort` settles one, and
// refuses (FAILED_PRECONDITION, exit 3) any choice that contradicts a decision some process knows.
import { afterAll, describe, expect, it } from "vitest";
import { Code, KvError } from "../../common/errors";
import { killAllStarted, runKv, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("kv resolve and kv status", () => {
  it("refuses choices that contradict a known decision, and settles the others", async () => {
    const cluster = await TestCluster.start();
    try {
      const env = { KV_COORDINATOR: cluster.coordinatorAddress };
      const kv = cluster.client();
      // Committed everywhere. Its epoch is the coordinator's (the one the replicas promised it).
      const { txnId } = await kv.put("k", "v");
      const epoch = txnId.split(".")[0]!;
      const unknownTxn = `${epoch}.99`;

      const abortCommitted = await runKv(["resolve", txnId, "--abort"], env);
      expect(abortCommitted.code).toBe(3);
      expect(abortCommitted.stderr).toContain("FAILED_PRECONDITION");
      expect(abortCommitted.stderr).toMatch(/committed it|decided COMMIT/);
      const commitCommitted = await runKv(["resolve", txnId, "--commit"], env);
      expect(commitCommitted.code).toBe(0);

      const commitUnknown = await runKv(["resolve", unknownTxn, "--commit"], env);
      expect(commitUnknown.code).toBe(3);
      expect(commitUnknown.stderr).toContain("presumed abort");
      const abortUnknown = await runKv(["resolve", unknownTxn, "--abort"], env);
      expect(abortUnknown.code).toBe(0);
      expect((await kv.get("k"))?.value.toString()).toBe("v");

      const neither = await runKv(["resolve", txnId], env);
      expect(neither.code).toBe(2);
    } finally {
      await cluster.stop();
    }
  });

  it("shows a transaction in doubt with its locks; once its COMMIT record is logged an operator cannot abort it, and it commits", async () => {
    // r1 and r2 stall after logging their prepare: r3 holds the write prepared, in doubt, meanwhile,
    // and with one YES vote of three it is not decided (a majority of YES decides it: early
    // answers). With --min-in-sync 3, neither can leave the in-sync set, so the write stays in flight
    // until they are back. Its COMMIT record was logged with its PREPAREs (intent commits): it will
    // commit, and the operator can neither abort it nor commit it early.
    const cluster = await TestCluster.start({ failpoints: "r1:after-prepare-log-before-vote=pause=6000@1,r2:after-prepare-log-before-vote=pause=6000@1", minInSync: 3 });
    try {
      const kv = cluster.client();
      const pending = kv.put("held", "value").then(
        () => null,
        (error: unknown) => error as KvError,
      );
      const status = await waitFor("the write in doubt on r3", async () => {
        const s = await kv.status();
        return s.replicas.find((replica) => replica.id === "r3")?.inDoubt.some((txn) => txn.keys.includes("held")) === true ? s : undefined;
      });
      const txnId = status.inFlight[0]!.txnId;
      expect(status.inFlight[0]!.keys).toEqual(["held"]);
      expect(status.replicas.find((replica) => replica.id === "r3")?.inDoubt.map((txn) => txn.txnId)).toEqual([txnId]);

      // The prepare calls to r1 and r2 time out meanwhile (they are then sent the writes with COMMIT):
      // the transaction may be decided by the time an operator asks.
      const early = await kv.resolve(txnId, "commit").then(
        (done) => done.message,
        (error: unknown) => error as KvError,
      );
      if (typeof early === "string") expect(early).toContain("COMMIT re-sent");
      else expect(early).toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringContaining("still collecting votes") });
      await expect(kv.resolve(txnId, "abort")).rejects.toMatchObject({ code: Code.FAILED_PRECONDITION, message: expect.stringMatching(/its COMMIT decision is logged|decided COMMIT/) });
      // The write succeeds, or its client gave up first (an unknown outcome, never a failure).
      const error = await pending;
      if (error !== null) expect([Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED]).toContain(error.code);
      await cluster.waitSettled();
      for (const content of await cluster.contents()) expect(content.get("held")?.value).toBe("value");
      expect((await kv.get("held"))?.value.toString()).toBe("value");
    } finally {
      await cluster.stop();
    }
  });
});
