// Ready means ready (issue 10). A cluster that says it is ready must serve a write at once, from any
// client, retrying or not. Before the fix, `kv status` could list every replica "in-sync" while the
// coordinator's channels were still in their first connection backoff, and the first write failed
// with UNAVAILABLE "No connection established". This starts `kv cluster` 21 times on fresh data
// (three clusters at a time) and writes, with retries off, at the first moment one of its three
// signals says ready: the Status call's `ready` (what `kv status` prints), the coordinator's gRPC
// health service (SERVING), and the "ready" line `kv cluster` prints. Every write must succeed.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { channelOptions, healthProto } from "../../proto/load";
import type { HealthClient } from "../../proto/gen/grpc/health/v1/Health";
import { freePortRun, kvScript, waitFor } from "./harness";

const signals = ["status", "health", "cluster-line"] as const;
type Signal = (typeof signals)[number];
const runs = 21;
/** Generous: on a loaded 2-core machine a cluster can take many seconds to start. */
const readyWithinMs = 60_000;

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGKILL");
});

function healthOf(client: HealthClient): Promise<string> {
  return new Promise((resolve) =>
    client.Check({ service: "" }, { deadline: new Date(Date.now() + 1_000) }, (error, response) => resolve(error ? `error ${error.code}` : (response?.status ?? "none"))),
  );
}

/** Starts a fresh `kv cluster`, waits for `signal` to say ready, writes once without retries. */
async function writeWhenReady(run: number, signal: Signal): Promise<string> {
  const base = await freePortRun();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-ready-"));
  const child = spawn(process.execPath, [kvScript, "cluster", "--port", String(base), "--data-dir", dataDir, "--log-level", "warn"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  // kv cluster runs two coordinators (base, base + 1); either may be the active one.
  const addresses = [`127.0.0.1:${base}`, `127.0.0.1:${base + 1}`];
  const kv = new KvClient(addresses.join(","), { timeoutMs: 10_000, retryForMs: 0 });
  const healths = addresses.map((address) => new healthProto.Health(address, grpc.credentials.createInsecure(), channelOptions) as unknown as HealthClient);
  try {
    switch (signal) {
      case "status":
        await waitFor("Status says ready", async () => (await kv.status()).ready, readyWithinMs);
        break;
      case "health":
        await waitFor("a coordinator's health service says SERVING", async () => (await Promise.all(healths.map(healthOf))).includes("SERVING"), readyWithinMs);
        break;
      case "cluster-line":
        await waitFor("kv cluster prints its ready line", () => stdout.includes("kv cluster: ready"), readyWithinMs);
        break;
    }
    const result = await kv.put(`ready/${run}`, signal);
    expect(result.version).toBeGreaterThan(0);
    return "ok";
  } catch (error) {
    return `run ${run} (${signal}): ${(error as Error).message}; kv cluster said: ${stdout.split("\n").slice(-12).join(" | ")}`;
  } finally {
    kv.close();
    for (const health of healths) health.close();
    child.kill("SIGTERM");
    if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
    children.delete(child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("a cluster that says ready serves a write at once", () => {
  it(`${runs} fresh clusters, each written at the first moment it says ready (status, health, kv cluster's line), retries off`, async () => {
    // Three clusters at a time, one per signal: each still writes at its own first ready moment.
    const failures: string[] = [];
    for (let first = 0; first < runs; first += signals.length) {
      const outcomes = await Promise.all(signals.map((signal, i) => writeWhenReady(first + i, signal)));
      failures.push(...outcomes.filter((outcome) => outcome !== "ok"));
    }
    expect(failures).toEqual([]);
  }, 240_000);

  it("a coordinator whose replicas are not all reachable says why it is not ready", async () => {
    // Only the coordinator: no replica listens, so it cannot be ready, and it says so.
    const base = await freePortRun();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-ready-"));
    const replicas = [1, 2, 3].map((i) => `r${i}=127.0.0.1:${base + i}`).join(",");
    const child = spawn(process.execPath, [kvScript, "coordinator", "--listen", `127.0.0.1:${base}`, "--data-dir", dataDir, "--replicas", replicas, "--log-level", "warn"], {
      stdio: "ignore",
    });
    children.add(child);
    const kv = new KvClient(`127.0.0.1:${base}`, { timeoutMs: 5_000, retryForMs: 0 });
    const health = new healthProto.Health(`127.0.0.1:${base}`, grpc.credentials.createInsecure(), channelOptions) as unknown as HealthClient;
    try {
      // It stands by, then tries to take over and cannot win the replicas' promises: its reason
      // names them once the first round is over.
      const status = await waitFor(
        "the coordinator says why it is not ready",
        async () => {
          const answer = await kv.status();
          return /replica r1/.test(answer.notReadyReason) ? answer : undefined;
        },
        30_000,
      );
      expect(status.ready).toBe(false);
      expect(status.notReadyReason).toMatch(/takeover with epoch \d+ failed: 0 of 3 replicas promised/);
      expect(await healthOf(health)).toBe("NOT_SERVING");
    } finally {
      kv.close();
      health.close();
      child.kill("SIGKILL");
      children.delete(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
