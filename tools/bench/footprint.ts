// Memory and disk of a local cluster under load: starts `kv cluster` on a temp directory (random
// free ports, --no-restart), runs C closed-loop clients for D, and every N seconds prints each
// process's resident memory (VmRSS of /proc/PID/status, the pids from DIR/cluster.json) and the size
// of its data directory on disk (a replica's SQLite files and write-ahead log), with the ops/s of
// that interval and each replica's tombstones. At the end: the first and last sample, and how much
// each figure grew over the second half of the run (a footprint that levels off grows little there).
//
//   npm run bench:footprint -- [--duration 10m] [--workload churn|put-del] [--clients 64]
//                               [--interval 10] [--keys 10000] [--value-bytes 100]
//                               [--tombstone-retention-ms MS] [--compact-log-bytes N] [--kv OTHER/bin/kv.js]
//                               [--cluster-log FILE] [--coordinators 2]
//
// Workloads (both 50% puts, 50% deletes):
//   churn    each client puts new keys and deletes its oldest once it holds --window of them: the
//            live data stays bounded, and every delete leaves a tombstone of a key never written
//            again, so without collection the tombstones (and the disk) grow for as long as it runs;
//   put-del  puts and deletes over a fixed range of --keys keys: tombstones are bounded by the range.
// Linux only (/proc). Figures, never assertions: this machine is shared and noisy.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import yargs from "yargs";
import { KvClient } from "../../client/client";
import { Prng } from "../../common/prng";
import { formatTable } from "../../common/table";
import { waitForPort } from "../cluster/cluster";
import { manifestPath, readManifest, replicaMembers, type ClusterManifest } from "../cluster/manifest";
import { kvScript } from "../cluster/process-args";
import { freePortRun } from "../ports";

const workloadNames = ["churn", "put-del"] as const;
type Workload = (typeof workloadNames)[number];

/** "10m", "90s", "1h" or a number of seconds, in milliseconds. */
export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) throw new Error(`--duration ${JSON.stringify(text)} is not a duration (e.g. 10m, 90s, 1h)`);
  const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(match[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(match[1]) * unitMs;
}

/** Resident memory of a process in bytes (VmRSS), or null when it is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/**
 * Bytes of the files under dir (0 when it does not exist): those of SQLite (store.sqlite and its
 * -wal and -shm files) and the rest (the write-ahead log).
 */
export function dirBytes(dir: string): { sqlite: number; log: number } {
  const total = { sqlite: 0, log: 0 };
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return total;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = dirBytes(full);
      total.sqlite += inner.sqlite;
      total.log += inner.log;
    } else if (entry.isFile()) {
      try {
        const size = fs.statSync(full).size;
        if (entry.name.startsWith("store.sqlite")) total.sqlite += size;
        else total.log += size;
      } catch {
        // Removed meanwhile (a log rewritten by compaction): not counted.
      }
    }
  }
  return total;
}

interface Sample {
  readonly atS: number;
  readonly opsPerS: number;
  readonly errors: number;
  /** By member name: RSS and data bytes (null RSS: the process is gone). */
  readonly members: ReadonlyMap<string, { readonly rss: number | null; readonly sqlite: number; readonly log: number }>;
  /** By replica name: the tombstones its SQLite file holds (null: could not be read). */
  readonly tombstones: ReadonlyMap<string, number | null>;
  /** The coordinator that says it is active ("-": none does). */
  readonly active: string;
}

const mb = (bytes: number | null): string => (bytes === null ? "-" : (bytes / 1024 / 1024).toFixed(1));

/**
 * Tombstones in a replica's SQLite file, read beside the running replica (WAL mode lets a reader in),
 * so that a build without tombstone collection (--kv) is measured the same way.
 */
function tombstonesIn(file: string): number | null {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM kv WHERE value IS NULL").get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .option("duration", { type: "string", default: "10m", describe: "how long the load runs (10m, 180s, ...)" })
    .option("workload", { choices: workloadNames, default: "churn" as Workload, describe: "churn: new keys put, oldest deleted; put-del: over --keys keys" })
    .option("coordinators", { type: "number", default: 2, describe: "kv cluster's --coordinators (1: no standby, so no takeover)" })
    .option("clients", { type: "number", default: 64, describe: "closed-loop clients, one operation outstanding each" })
    .option("interval", { type: "number", default: 10, describe: "seconds between samples" })
    .option("keys", { type: "number", default: 10_000, describe: "put-del: the key range" })
    .option("window", { type: "number", default: 100, describe: "churn: live keys each client keeps before it deletes its oldest" })
    .option("value-bytes", { type: "number", default: 100 })
    .option("tombstone-retention-ms", { type: "number", describe: "passed on to kv cluster (default: the replicas')" })
    .option("compact-log-bytes", { type: "number", describe: "passed on to kv cluster (default: the processes', logCompactBytes)" })
    .option("cluster-log", { type: "string", describe: "write kv cluster's output (the processes' warnings and errors) to this file" })
    .option("kv", { type: "string", default: kvScript, describe: "the bin/kv.js to run (another build's, to compare)" })
    .strict()
    .parseSync();
  const durationMs = parseDurationMs(argv.duration);
  const workload = argv.workload as Workload;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-footprint-"));
  const coordinators = argv.coordinators;
  const replicas = 3;
  // Each process's port, then its metrics port (kv cluster puts them after the processes' own).
  const port = await freePortRun(2 * (coordinators + replicas));
  const clusterArgs = ["cluster", "--no-restart", "--data-dir", dataDir, "--port", String(port), "--coordinators", String(coordinators), "--replicas", String(replicas), "--log-level", "warn"];
  if (argv["tombstone-retention-ms"] !== undefined) clusterArgs.push("--tombstone-retention-ms", String(argv["tombstone-retention-ms"]));
  if (argv["compact-log-bytes"] !== undefined) clusterArgs.push("--compact-log-bytes", String(argv["compact-log-bytes"]));
  const clusterLog = argv["cluster-log"] === undefined ? "ignore" : fs.openSync(argv["cluster-log"], "w");
  const cluster = spawn(process.execPath, [path.resolve(argv.kv), ...clusterArgs], { stdio: ["ignore", clusterLog, clusterLog === "ignore" ? "inherit" : clusterLog] });
  const clients: KvClient[] = [];
  try {
    if (!(await waitForPort("127.0.0.1", port, 30_000))) throw new Error("the cluster did not start");
    const address = `127.0.0.1:${port}`;
    const probe = new KvClient(address);
    clients.push(probe);
    for (let i = 0; ; i++) {
      const status = await probe.status().catch(() => null);
      if (status?.ready === true && status.replicas.every((replica) => replica.up)) break;
      if (i > 600) throw new Error("the cluster did not become ready");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let manifest: ClusterManifest | null = null;
    for (let i = 0; manifest === null || manifest.members.some((member) => member.pid === null); i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      if (i > 100) throw new Error(`no pids in ${manifestPath(dataDir)}`);
      manifest = fs.existsSync(manifestPath(dataDir)) ? readManifest(dataDir) : null;
    }
    const members = manifest.members;
    const replicaNames = replicaMembers(manifest).map((member) => member.name);
    // Clients know every coordinator: a takeover under load must not stop the run.
    const coordinatorAddresses = manifest.coordinators;
    const prober = new KvClient(coordinatorAddresses, { retryForMs: 0 });
    clients.push(prober);
    console.log(
      `footprint: ${argv.clients} clients, workload ${workload} (50% put, 50% del${workload === "put-del" ? ` over ${argv.keys} keys` : `, ${argv.window} live keys per client`}), ` +
        `values of ${argv["value-bytes"]} bytes, ${argv.duration}, a sample every ${argv.interval} s; ${argv.kv} cluster in ${dataDir}` +
        (argv["tombstone-retention-ms"] === undefined ? "" : ` (--tombstone-retention-ms ${argv["tombstone-retention-ms"]})`),
    );
    console.log(`processes: ${members.map((member) => `${member.name} pid ${member.pid}`).join(", ")}`);

    const value = Buffer.alloc(argv["value-bytes"], 120);
    const startedMs = Date.now();
    const endMs = startedMs + durationMs;
    let ops = 0;
    let errors = 0;
    const load = Promise.all(
      Array.from({ length: argv.clients }, async (_, c) => {
        const kv = new KvClient(coordinatorAddresses, { retryForMs: 0, timeoutMs: 10_000 });
        clients.push(kv);
        const prng = new Prng(1_000 + c);
        // churn: the keys this client holds, oldest first.
        let next = 0;
        let oldest = 0;
        while (Date.now() < endMs) {
          try {
            if (workload === "churn") {
              if (next - oldest < argv.window || prng.next() < 0.5) await kv.put(`c${c}-${next++}`, value);
              else await kv.del(`c${c}-${oldest++}`);
            } else {
              const key = `k${prng.int(0, argv.keys - 1)}`;
              if (prng.next() < 0.5) await kv.put(key, value);
              else await kv.del(key);
            }
            ops += 1;
          } catch {
            errors += 1;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        }
      }),
    );

    const samples: Sample[] = [];
    let lastOps = 0;
    let lastErrors = 0;
    let lastMs = startedMs;
    const sample = async (): Promise<Sample> => {
      const nowMs = Date.now();
      const probes = await prober.probeCoordinators(2_000).catch(() => []);
      const activeAddress = probes.find((p) => p.reachable && p.status.role === "active")?.address;
      const taken: Sample = {
        atS: Math.round((nowMs - startedMs) / 1000),
        opsPerS: ((ops - lastOps) * 1000) / Math.max(1, nowMs - lastMs),
        errors: errors - lastErrors,
        members: new Map(members.map((member) => [member.name, { rss: member.pid === null ? null : rssBytes(member.pid), ...dirBytes(path.join(dataDir, member.name)) }])),
        tombstones: new Map(replicaNames.map((name) => [name, tombstonesIn(path.join(dataDir, name, "store.sqlite"))])),
        active: members.find((member) => member.address === activeAddress)?.name ?? "-",
      };
      lastOps = ops;
      lastErrors = errors;
      lastMs = nowMs;
      return taken;
    };
    // A coordinator keeps no data of its own (its decision log is on the replicas): RSS only.
    const isReplica = (name: string): boolean => replicaNames.includes(name);
    const header = [
      "t (s)",
      "ops/s",
      "errors",
      "active",
      ...members.flatMap((member) => (isReplica(member.name) ? [`${member.name} RSS MB`, "sqlite MB", "log MB", "tombstones"] : [`${member.name} RSS MB`])),
    ];
    const row = (s: Sample): string[] => [
      String(s.atS),
      s.opsPerS.toFixed(0),
      String(s.errors),
      s.active,
      ...members.flatMap((member) => {
        const m = s.members.get(member.name)!;
        return isReplica(member.name) ? [mb(m.rss), mb(m.sqlite), mb(m.log), String(s.tombstones.get(member.name) ?? "-")] : [mb(m.rss)];
      }),
    ];
    samples.push(await sample());
    let printedHeader = false;
    const print = (s: Sample): void => {
      // Each line alone, padded like a table of the header and this row, so that it can be read live.
      const lines = formatTable([header, row(s)], { rightAligned: "all-but-first" }).split("\n");
      if (!printedHeader) console.log(lines[0]);
      printedHeader = true;
      console.log(lines[1]);
    };
    print(samples[0]!);
    while (Date.now() < endMs) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(argv.interval * 1000, Math.max(0, endMs - Date.now()))));
      const s = await sample();
      samples.push(s);
      print(s);
    }
    await load;

    const first = samples[1] ?? samples[0]!;
    const middle = samples[Math.floor(samples.length / 2)]!;
    const last = samples[samples.length - 1]!;
    console.log("");
    console.log(`summary (${samples.length} samples; growth over the second half, from t=${middle.atS} s to t=${last.atS} s):`);
    const summary: string[][] = [["process", "RSS MB first", "mid", "last", "2nd half", "sqlite MB first", "mid", "last", "2nd half", "data MB (sqlite + log) first", "mid", "last", "2nd half"]];
    const growth = (a: number | null, b: number | null): string => (a === null || b === null ? "-" : `${b >= a ? "+" : ""}${mb(b - a)}`);
    for (const member of members) {
      const [f, m, l] = [first, middle, last].map((s) => s.members.get(member.name)!);
      const data = (x: typeof f): number => x!.sqlite + x!.log;
      summary.push([
        member.name,
        mb(f!.rss), mb(m!.rss), mb(l!.rss), growth(m!.rss, l!.rss),
        mb(f!.sqlite), mb(m!.sqlite), mb(l!.sqlite), growth(m!.sqlite, l!.sqlite),
        mb(data(f)), mb(data(m)), mb(data(l)), growth(data(m), data(l)),
      ]);
    }
    console.log(formatTable(summary, { rightAligned: "all-but-first" }));
    const opsRates = samples.slice(1).map((s) => s.opsPerS);
    const totalErrors = samples.reduce((sum, s) => sum + s.errors, 0);
    console.log(`ops/s: mean ${(opsRates.reduce((a, b) => a + b, 0) / Math.max(1, opsRates.length)).toFixed(0)} over the run; ${totalErrors} failed operations`);
    console.log(`tombstones at the end: ${replicaNames.map((name) => `${name} ${last.tombstones.get(name) ?? "-"}`).join(", ")}`);
  } finally {
    for (const client of clients) client.close();
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
