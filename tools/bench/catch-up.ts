// How long a replica behind by K keys takes to come back into the in-sync set (issue 14: seeding
// a far-behind replica from a snapshot). Starts a coordinator and three replicas (their own
// processes, on a temp directory), kills r3 (kill -9), writes K keys of --value-bytes bytes in
// transactions of --txn-keys keys with --concurrency in flight, restarts r3, and times from its
// restart until the coordinator reports it in sync. r3's log says how it caught up (rows copied
// page by page, or a snapshot, and how many rows).
//
//   npm run bench:catch-up -- [--keys 1000000] [--modes pages,snapshot] [--runs 1]
//
// --modes runs each way in turn: "pages" starts r3 with --catch-up-snapshot-rows 0 (never a
// snapshot: every row over Fetch, the way before issue 14), "snapshot" with the default.
// Figures, never assertions: the machine is shared and noisy.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import yargs from "yargs";
import { KvClient, type TxnOperation } from "../../client/client";
import { waitForPort } from "../cluster/cluster";
import { consecutiveLayout, coordinatorAddresses, kvScript, processArgs, type ClusterLayout } from "../cluster/process-args";

type Mode = "pages" | "snapshot";

interface RunResult {
  readonly mode: Mode;
  readonly loadMs: number;
  readonly catchUpMs: number;
  readonly how: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function start(layout: ClusterLayout, name: string, extra: readonly string[], onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, [kvScript, ...processArgs(layout, name), "--log-level", "info", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  for (const stream of [child.stdout!, child.stderr!]) readline.createInterface({ input: stream }).on("line", (line) => onLine?.(line));
  return child;
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  await exited;
}

async function oneRun(mode: Mode, keys: number, valueBytes: number, txnKeys: number, concurrency: number, port: number): Promise<RunResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-catchup-"));
  const layout = consecutiveLayout("127.0.0.1", port, 3, dataDir);
  const children: ChildProcess[] = [];
  try {
    for (const replica of layout.replicas) children.push(start(layout, replica.id, []));
    children.push(start(layout, layout.coordinators[0]!.id, []));
    if (!(await waitForPort("127.0.0.1", port, 20_000))) throw new Error("the coordinator did not start");
    const kv = new KvClient(coordinatorAddresses(layout), { timeoutMs: 30_000 });
    await until("every replica in sync", 30_000, async () => ((await kv.status()).replicas.every((r) => r.state === "in-sync" && r.up) ? true : null));
    await stop(children[2]!, "SIGKILL");
    await kv.put("catch-up-bench/first", "x");
    await until("r3 out of the in-sync set", 30_000, async () => ((await kv.status()).replicas.find((r) => r.id === "r3")?.state !== "in-sync" ? true : null));

    const value = Buffer.alloc(valueBytes, 0x61);
    const loadStart = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < keys) {
          const from = next;
          next = Math.min(keys, next + txnKeys);
          const then: TxnOperation[] = [];
          for (let i = from; i < next; i++) then.push({ type: "put", key: `catch-up-bench/${String(i).padStart(8, "0")}`, value });
          await kv.txn({ then });
        }
      }),
    );
    const loadMs = Date.now() - loadStart;
    process.stderr.write(`  ${mode}: ${keys} keys written in ${(loadMs / 1000).toFixed(1)} s; restarting r3\n`);

    let how = "?";
    const restartedAt = Date.now();
    const phases: string[] = [];
    const r3 = start(layout, "r3", mode === "pages" ? ["--catch-up-snapshot-rows", "0"] : [], (line) => {
      const phase = /"event":"(catch-up-[a-z-]+)"/.exec(line);
      if (phase !== null) phases.push(`${phase[1]} +${Date.now() - restartedAt} ms`);
      if (!line.includes('"catch-up-done"')) return;
      try {
        const event = JSON.parse(line) as { msg?: string };
        how = event.msg ?? line;
      } catch {
        how = line;
      }
    });
    children[2] = r3;
    await until("r3 in sync again", 15 * 60_000, async () => ((await kv.status()).replicas.find((r) => r.id === "r3")?.state === "in-sync" ? true : null));
    const catchUpMs = Date.now() - restartedAt;
    process.stderr.write(`  ${mode}: ${phases.join(", ")}, in sync +${catchUpMs} ms\n`);
    kv.close();
    return { mode, loadMs, catchUpMs, how };
  } finally {
    await Promise.all(children.map((child) => stop(child, "SIGKILL")));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .option("keys", { type: "number", default: 1_000_000, describe: "keys written while r3 is down" })
    .option("value-bytes", { type: "number", default: 16 })
    .option("txn-keys", { type: "number", default: 64, describe: "keys per write transaction (txnKeysMax at most)" })
    .option("concurrency", { type: "number", default: 16 })
    .option("modes", { type: "string", default: "pages,snapshot", describe: "pages, snapshot, or both (comma-separated), run in that order" })
    .option("runs", { type: "number", default: 1 })
    .option("port", { type: "number", default: 47051, describe: "first of 4 consecutive ports" })
    .strict()
    .parseSync();
  const modes = argv.modes.split(",").map((mode) => {
    if (mode !== "pages" && mode !== "snapshot") throw new Error(`--modes: unknown mode ${mode} (pages or snapshot)`);
    return mode as Mode;
  });
  const results: RunResult[] = [];
  for (let run = 0; run < argv.runs; run++) {
    for (const mode of modes) results.push(await oneRun(mode, argv.keys, argv["value-bytes"], argv["txn-keys"], argv.concurrency, argv.port));
  }
  console.log(`catch-up of a replica behind by ${argv.keys} keys (${argv["value-bytes"]}-byte values), ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)}`);
  console.log("mode      catch-up s   load s   how");
  for (const r of results) console.log(`${r.mode.padEnd(9)} ${(r.catchUpMs / 1000).toFixed(1).padStart(10)} ${(r.loadMs / 1000).toFixed(1).padStart(8)}   ${r.how}`);
  for (const mode of modes) {
    const times = results.filter((r) => r.mode === mode).map((r) => r.catchUpMs).sort((a, b) => a - b);
    console.log(`${mode}: median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(1)} s over ${times.length} run(s)`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
