// Write throughput of a local cluster: starts `kv cluster` on a temp directory, runs C concurrent
// clients that each put to their own keys for D seconds, then prints ops/s, latency percentiles and
// how many transactions each log force and each replica call carried (the batching at work).
//
//   npm run bench:writes -- [--concurrency 64] [--seconds 10] [--value-bytes 100]
//
// Figures, never assertions: this machine is shared and noisy. Quote medians of several runs.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import yargs from "yargs";
import { KvClient } from "../../client/client";
import { waitForPort } from "../cluster/cluster";

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .option("concurrency", { type: "number", default: 64 })
    .option("seconds", { type: "number", default: 10 })
    .option("value-bytes", { type: "number", default: 100 })
    .option("port", { type: "number", default: 47051 })
    .strict()
    .parseSync();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-bench-"));
  const kvScript = path.resolve(__dirname, "..", "..", "..", "bin", "kv.js");
  const cluster = spawn(process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dataDir, "--port", String(argv.port), "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    if (!(await waitForPort("127.0.0.1", argv.port, 20_000))) throw new Error("the cluster did not start");
    const address = `127.0.0.1:${argv.port}`;
    const probe = new KvClient(address);
    for (let i = 0; ; i++) {
      const status = await probe.status().catch(() => null);
      if (status?.replicas.every((replica) => replica.up)) break;
      if (i > 200) throw new Error("replicas did not come up");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const before = await probe.status();
    const value = Buffer.alloc(argv["value-bytes"], 120);
    const latenciesUs: number[] = [];
    let errors = 0;
    const endMs = Date.now() + argv.seconds * 1000;
    const startedMs = Date.now();
    await Promise.all(
      Array.from({ length: argv.concurrency }, async (_, c) => {
        const kv = new KvClient(address, { retryForMs: 0 });
        for (let i = 0; Date.now() < endMs; i++) {
          const t0 = process.hrtime.bigint();
          try {
            await kv.put(`bench-${c}-${i % 1000}`, value);
            latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
          } catch {
            errors += 1;
          }
        }
        kv.close();
      }),
    );
    const elapsedS = (Date.now() - startedMs) / 1000;
    const after = await probe.status();
    probe.close();
    latenciesUs.sort((a, b) => a - b);
    const pct = (p: number) => (latenciesUs[Math.min(latenciesUs.length - 1, Math.floor((p / 100) * latenciesUs.length))]! / 1000).toFixed(2);
    const forces = after.logForces - before.logForces;
    const decisions = after.lastCommitSeq - before.lastCommitSeq;
    console.log(`concurrency ${argv.concurrency}, ${argv.seconds} s, values of ${argv["value-bytes"]} bytes`);
    console.log(`writes: ${latenciesUs.length} ok, ${errors} failed, ${(latenciesUs.length / elapsedS).toFixed(0)} ops/s`);
    console.log(`latency ms: p50 ${pct(50)}  p90 ${pct(90)}  p99 ${pct(99)}  max ${pct(100)}`);
    console.log(`coordinator log: ${forces} forces for ${decisions} commit decisions (${(decisions / Math.max(1, forces)).toFixed(1)} per force)`);
  } finally {
    cluster.kill("SIGINT");
    await new Promise((resolve) => cluster.on("exit", resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
