// A write that certainly started nothing is `fail` in a history, not `info` (issue 14), and one
// that may have started stays `info`. This proves it with `kv bench`'s own history writer
// (runBench, which kv chaos runs too) against real processes, in three cases:
// (a) no coordinator listens: every attempt fails with "No connection established": `fail`, and the
//     error says notStarted;
// (b) two of three replicas are killed and the coordinator refuses writes at admission (UNAVAILABLE,
//     too few replicas), marked kv-not-started: `fail`;
// (c) the coordinator crashes (failpoint after-decision-log) in the middle of the write, after its
//     COMMIT decision is durable: the client saw a dropped connection, the outcome is unknown:
//     `info`; and after a restart the write is indeed there, which is why it must not be `fail`.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { Code, type KvError } from "../../common/errors";
import { runBench } from "../../tools/bench/bench";
import { parseEvent, type HistoryEvent } from "../../tools/check/history";
import { failure, freePort, killAllStarted, TestCluster, waitFor } from "./harness";

const dirs: string[] = [];

afterAll(async () => {
  await killAllStarted();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `ops` single-client puts with runBench against `coordinator`; returns the history's completions. */
async function writesHistory(coordinator: string, ops: number, keyPrefix: string): Promise<HistoryEvent[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-definite-"));
  dirs.push(dir);
  const historyFile = path.join(dir, "history.jsonl");
  await runBench(
    {
      coordinator,
      concurrency: 1,
      connections: 1,
      ops,
      workload: "write",
      keys: 4,
      keyPrefix,
      distribution: "uniform",
      valueBytes: 16,
      seed: 1,
      timeoutMs: 3_000,
      historyFile,
    },
    { progress: false, log: () => {} },
  );
  const lines = fs.readFileSync(historyFile, "utf8").split("\n").filter((line) => line.length > 0);
  return lines.map((line, i) => parseEvent(line, i + 1)).filter((event) => event.type !== "invoke");
}

describe("definite failures are fail, unknown outcomes info", () => {
  it("(a) a write to coordinators where nothing listens is fail, and its error says not started", async () => {
    const nobody = `127.0.0.1:${await freePort()},127.0.0.1:${await freePort()}`;
    const completions = await writesHistory(nobody, 3, "a/");
    expect(completions.map((event) => event.type)).toEqual(["fail", "fail", "fail"]);

    const kv = new KvClient(nobody, { timeoutMs: 2_000, retryForMs: 300 });
    try {
      const error = await failure(kv.put("a/k", "v"));
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.notStarted).toBe(true);
    } finally {
      kv.close();
    }
  });

  it("(b) a write refused at admission for too few replicas is fail (UNAVAILABLE marked not started)", async () => {
    const cluster = await TestCluster.start();
    try {
      const kv = cluster.client(3_000);
      await cluster.replicas[2]!.kill("SIGKILL");
      await waitFor("r3 out", async () => (await cluster.replicaState("r3")) === "out");
      await cluster.replicas[1]!.kill("SIGKILL");
      // r2 cannot leave the in-sync set (it would drop below --min-in-sync 2). Probes sent before the
      // coordinator knew may wait on r2 (unknown outcome); once it knows, writes are refused at once.
      const refused = await waitFor("writes refused at admission", async () => {
        const error = await kv.put("b/probe", "maybe").then(() => undefined, (e: unknown) => e as KvError);
        return error !== undefined && error.message.includes("--min-in-sync") ? error : undefined;
      });
      expect(refused.code).toBe(Code.UNAVAILABLE);
      expect(refused.notStarted).toBe(true);

      const completions = await writesHistory(cluster.coordinatorAddress, 3, "b/");
      expect(completions.map((event) => event.type)).toEqual(["fail", "fail", "fail"]);
    } finally {
      await cluster.stop();
    }
  });

  it("(c) a write whose coordinator crashed after its decision stays info, and did commit", async () => {
    const cluster = await TestCluster.start({ failpoints: "coordinator:after-decision-log=crash@1" });
    try {
      const completions = await writesHistory(cluster.coordinatorAddress, 1, "c/");
      expect(completions.map((event) => event.type)).toEqual(["info"]);
      await waitFor("the coordinator dead", () => !cluster.coordinator.alive);

      // The same call through the library, retrying: a dropped connection, then refused connections
      // ("not sent"), which must not make the call look certain.
      cluster.startCoordinator();
      await cluster.waitHealthy();
      const written = completions[0]!;
      const kv = cluster.client(5_000, 15_000);
      const entry = await waitFor("the write recovered", async () => await kv.get(written.key).then((found) => found ?? undefined));
      expect(entry.value.toString("utf8")).toBe(written.value);
    } finally {
      await cluster.stop();
    }
  });

  it("(c') a write that loses its connection mid-call and then finds no coordinator at all stays unknown (notStarted false)", async () => {
    const cluster = await TestCluster.start({ failpoints: "coordinator:after-decision-log=crash@1" });
    try {
      const kv = cluster.client(3_000, 1_500);
      const error = await failure(kv.put("c2/k", "v"));
      expect(error.code).toBe(Code.UNAVAILABLE);
      expect(error.message).toMatch(/after \d+ attempts/); // it did retry, against a dead coordinator
      expect(error.notStarted).toBe(false);
    } finally {
      await cluster.stop();
    }
  });
});
