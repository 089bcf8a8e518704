// A request id names one request (issue 10). Two ordinary requests used to kill the coordinator: a
// put under request id R, then an increment under the same R was answered from the put's memory and
// failed an assertion in the shell. This runs the exact sequence through the `kv` command and through
// the client library against a real cluster, and proves the coordinator refuses the second request
// with INVALID_ARGUMENT naming the request id, writes nothing, and keeps serving, across a restart too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "../../common/errors";
import type { KvClient } from "../../client/client";
import { failure, killAllStarted, runKv, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

describe("a request id names one request", () => {
  let cluster: TestCluster;
  let kv: KvClient;
  beforeAll(async () => {
    cluster = await TestCluster.start();
    // Retries on: UNAVAILABLE on a busy machine (a replica briefly out) is retried with the same request id.
    kv = cluster.client(10_000, 15_000);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("the issue's CLI sequence: kv put x hello --request-id same, then kv incr y 1 --request-id same, is refused (exit 3) and the coordinator lives", async () => {
    const coordinator = ["--coordinator", cluster.coordinatorAddress];
    const put = await runKv(["put", "x", "hello", "--request-id", "same", ...coordinator]);
    expect(put.code, put.stderr).toBe(0);
    const incr = await runKv(["incr", "y", "1", "--request-id", "same", ...coordinator]);
    expect(incr.code).toBe(3); // refused: nothing was written
    expect(incr.stderr).toContain('request_id "same" was used for a different request');
    expect(cluster.coordinator.alive).toBe(true);
    expect(await kv.get("y")).toBeNull(); // nothing applied
    expect((await kv.get("x"))?.value.toString()).toBe("hello");
    // The retry of the put itself is still answered from memory, with its version.
    const retry = await runKv(["put", "x", "hello", "--request-id", "same", ...coordinator]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toBe(put.stdout);
  });

  it("through the library: every other method under a committed put's id is refused, and the refusal survives a coordinator restart", async () => {
    await kv.put("lib/x", "v", { requestId: "lib-same" });
    const attempts: [string, () => Promise<unknown>][] = [
      ["increment", () => kv.increment("lib/y", 1, {}, { requestId: "lib-same" })],
      ["put of another value", () => kv.put("lib/x", "w", { requestId: "lib-same" })],
      ["delete", () => kv.del("lib/x", { requestId: "lib-same" })],
      ["compare-and-set", () => kv.compareAndSet("lib/x", "w", { expectedValue: "v" }, { requestId: "lib-same" })],
    ];
    const check = async (): Promise<void> => {
      for (const [what, attempt] of attempts) {
        const refused = await failure(attempt().then((result) => Promise.reject(new Error(`${what} succeeded: ${JSON.stringify(result)}`)), (error: unknown) => Promise.reject(error)));
        expect(refused.code, what).toBe(Code.INVALID_ARGUMENT);
        expect(refused.message, what).toContain("request_id");
      }
      expect((await kv.get("lib/x"))?.value.toString()).toBe("v");
      expect(await kv.get("lib/y")).toBeNull();
    };
    await check();
    expect(cluster.coordinator.alive).toBe(true);

    await cluster.coordinator.kill("SIGKILL");
    cluster.startCoordinator();
    await cluster.waitHealthy();
    await waitFor("a write after the restart", async () => (await kv.put("lib/after", "1").then(() => true, () => false)));
    await check();
    expect(cluster.coordinator.alive).toBe(true);
  });
});
