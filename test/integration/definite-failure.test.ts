// A definite failure stays true (issue 11). The simulator (seed 1219) saw a request answered ABORTED
// commit later, when an earlier attempt under the same request id arrived late: failures were
// remembered in memory only, and a retry of a failed request ran anew. This proves, against real
// processes, that a request answered FAILED_PRECONDITION under request id R is answered the same by
// every later attempt of R, and never runs again, also after the coordinator is killed with SIGKILL
// and restarted from its decision log.
//
// How: `kv incr df/stock 5 --max 10 --request-id R` over a stock of 8 fails (13 > 10). The
// coordinator is killed -9 and restarted. The stock is then set to 1, so that a re-run of the same
// request would now succeed (6 <= 10). The same request under R, through the `kv` command and
// through the library, gets the same FAILED_PRECONDITION with the same message; the stock keeps the
// value and version set in between (nothing was written); txn-status R says ABORTED. A control
// request under a new request id shows the re-run would indeed have succeeded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, codeName } from "../../common/errors";
import type { KvClient } from "../../client/client";
import { failure, killAllStarted, runKv, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("a definite failure stays true across a coordinator crash", () => {
  let cluster: TestCluster;
  let kv: KvClient;
  beforeAll(async () => {
    cluster = await TestCluster.start();
    // Retries on: UNAVAILABLE on a busy machine is retried with the same request id.
    kv = cluster.client(10_000, 15_000);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("kv incr --max failing under request id R is answered FAILED_PRECONDITION again after kill -9 and restart, without running, though a re-run would now succeed", async () => {
    const requestId = "definite-failure-R";
    const incr = (): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      runKv(["incr", "df/stock", "5", "--max", "10", "--request-id", requestId, "--coordinator", cluster.coordinatorAddress]);
    /** The coordinator's message, without the library's " (after N attempts)" note. */
    const messageOf = (message: string): string => message.replace(/ \(after \d+ attempts\)$/, "");

    await kv.put("df/stock", "8");
    const first = await incr();
    expect(first.code, first.stderr).toBe(3); // refused: nothing was written
    expect(first.stderr).toContain(`${codeName(Code.FAILED_PRECONDITION)}: `);
    expect(first.stderr).toContain("above the maximum 10");
    const refused = await failure(kv.increment("df/stock", 5, { max: 10 }, { requestId }));
    expect(refused.code).toBe(Code.FAILED_PRECONDITION);
    const message = messageOf(refused.message);
    expect(first.stderr).toContain(message);
    expect((await kv.txnStatus(requestId)).state).toBe("ABORTED");

    await cluster.coordinator.kill("SIGKILL");
    cluster.startCoordinator();
    await cluster.waitHealthy();
    await waitFor("a write after the restart", async () => await kv.put("df/after", "1").then(() => true, () => false));

    // Now 1 + 5 = 6 is within the bound: a request that ran again would succeed and write 6.
    const reset = await kv.put("df/stock", "1");
    const again = await incr();
    expect(again.code, again.stderr).toBe(3);
    expect(again.stderr).toBe(first.stderr);
    const libraryAgain = await failure(kv.increment("df/stock", 5, { max: 10 }, { requestId }));
    expect(libraryAgain.code).toBe(Code.FAILED_PRECONDITION);
    expect(messageOf(libraryAgain.message)).toBe(message);
    const stock = await kv.get("df/stock");
    expect(stock?.value.toString("utf8")).toBe("1");
    expect(stock?.version).toBe(reset.version);
    const status = await kv.txnStatus(requestId);
    expect(status.state).toBe("ABORTED");
    expect(status.message).toContain("above the maximum 10");

    // The control: the same increment as a new request runs, and succeeds.
    expect((await kv.increment("df/stock", 5, { max: 10 }, { requestId: `${requestId}-new` })).value).toBe(6);
    expect(cluster.coordinator.alive).toBe(true);
  }, 120_000);
});
