// The longest gap between successful writes when one replica is killed (kill -9) under load, with
// default settings. Starts `kv cluster --no-restart` (the killed replica must stay down) on a temp
// directory, runs C concurrent writers, kills one replica after a warm-up, keeps writing, and prints
// the longest gap between two consecutive successful writes (over all writers) around the kill, and
// the writes that failed meanwhile.
//
//   npm run bench:kill-gap -- [--concurrency 16] [--runs 5]
//
// Figures, never assertions: the machine is shared and noisy. Quote the median of the runs.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import yargs from "yargs";
import { KvClient } from "../../client/client";
import { waitForPort } from "../cluster/cluster";

async function oneRun(concurrency: number, port: number): Promise<{ gapMs: number; failed: number; removedAfterMs: number | null }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-gap-"));
  const kvScript = path.resolve(__dirname, "..", "..", "..", "bin", "kv.js");
  const cluster = spawn(process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dataDir, "--port", String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  const pids = new Map<string, number>();
  let removedAtMs: number | null = null;
  readline.createInterface({ input: cluster.stdout! }).on("line", (line) => {
    const started = /^kv cluster: started (\S+) \(pid (\d+)\)/.exec(line);
    if (started) pids.set(started[1]!, Number(started[2]));
    if (removedAtMs === null && line.includes("in-sync set: r1, r2")) removedAtMs = Date.now();
  });
  try {
    if (!(await waitForPort("127.0.0.1", port, 20_000))) throw new Error("the cluster did not start");
    const address = `127.0.0.1:${port}`;
    const probe = new KvClient(address);
    for (let i = 0; !(await probe.status().catch(() => null))?.replicas.every((r) => r.up); i++) {
      if (i > 200) throw new Error("replicas did not come up");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    probe.close();
    const successes: number[] = [];
    let failed = 0;
    let killAtMs = Number.POSITIVE_INFINITY;
    const endMs = Date.now() + 6_000;
    const writers = Array.from({ length: concurrency }, async (_, c) => {
      const kv = new KvClient(address, { timeoutMs: 5_000, retryForMs: 0 });
      for (let i = 0; Date.now() < endMs; i++) {
        try {
          await kv.put(`gap-${c}-${i % 100}`, "x");
          successes.push(Date.now());
        } catch {
          if (Date.now() >= killAtMs) failed += 1;
        }
      }
      kv.close();
    });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    killAtMs = Date.now();
    process.kill(pids.get("r3")!, "SIGKILL");
    await Promise.all(writers);
    successes.sort((a, b) => a - b);
    let gapMs = 0;
    for (let i = 1; i < successes.length; i++) {
      if (successes[i]! < killAtMs - 500) continue;
      gapMs = Math.max(gapMs, successes[i]! - successes[i - 1]!);
    }
    return { gapMs, failed, removedAfterMs: removedAtMs === null ? null : removedAtMs - killAtMs };
  } finally {
    cluster.kill("SIGINT");
    await new Promise((resolve) => cluster.on("exit", resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .option("concurrency", { type: "number", default: 16 })
    .option("runs", { type: "number", default: 5 })
    .option("port", { type: "number", default: 48051 })
    .strict()
    .parseSync();
  const gaps: number[] = [];
  for (let run = 1; run <= argv.runs; run++) {
    const result = await oneRun(argv.concurrency, argv.port);
    gaps.push(result.gapMs);
    console.log(
      `run ${run}: longest gap between successful writes ${result.gapMs} ms; ${result.failed} writes failed after the kill; ` +
        `r3 left the in-sync set ${result.removedAfterMs ?? "?"} ms after the kill`,
    );
  }
  gaps.sort((a, b) => a - b);
  console.log(`median longest gap over ${argv.runs} runs, concurrency ${argv.concurrency}: ${gaps[Math.floor(gaps.length / 2)]} ms`);
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
