// Proves that every process of a `kv cluster` serves Prometheus metrics that follow what it did
// (issue 14): kv cluster records each member's metrics address in cluster.json, on the ports right
// after the members' own; after a known number of writes (distinct keys one at a time, a burst
// of them at once, then writes that all queue behind one key's lock) and a read, a scrape of the active coordinator shows its transaction,
// phase, batch, log-force and lock-wait figures grown by at least that much (and, after two increments of one key, one lookup of its cache of key states missed and one hit) and its gauges at the
// values a settled cluster has, each replica's counters grown likewise, and the standby reports
// itself inactive with its node's gauges unknown. The text is parsed line by line: a line that is
// not a comment and not a sample fails the test.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KvClient } from "../../client/client";
import { readManifest, type ClusterManifest } from "../../tools/cluster/manifest";
import { freePortRun, isAlive, kvScript, Proc, stopClusterProc, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-metrics-"));
let cluster: Proc | null = null;
let manifest: ClusterManifest | null = null;

afterAll(async () => {
  if (cluster !== null) await stopClusterProc(cluster, 10_000);
  // Members still running after that are ours (the manifest names them): stop them.
  for (const member of manifest?.members ?? []) if (member.pid !== null && isAlive(member.pid)) process.kill(member.pid, "SIGKILL");
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Samples of one scrape: `name{label="value",...}` (labels sorted) -> value; and each metric's TYPE. */
interface Scrape {
  readonly samples: Map<string, number>;
  readonly types: Map<string, string>;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (version 0.0.4); throws on a line that is neither a comment nor a sample. */
function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.length === 0 || line.startsWith("# HELP ")) continue;
    if (line.startsWith("# TYPE ")) {
      const [name, type] = line.slice("# TYPE ".length).split(" ");
      types.set(name!, type!);
      continue;
    }
    const match = sampleLine.exec(line);
    if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const labels = [...(match[2] ?? "").matchAll(labelPair)].map(([, key, value]) => `${key}="${value}"`).sort();
    // Go's ParseFloat, which Prometheus reads values with, takes NaN in any case (prom-client writes "Nan").
    const isNaNText = match[3]!.toLowerCase() === "nan";
    const value = isNaNText ? NaN : Number(match[3]);
    if (Number.isNaN(value) && !isNaNText) throw new Error(`not a number in ${JSON.stringify(line)}`);
    samples.set(labels.length === 0 ? match[1]! : `${match[1]}{${labels.join(",")}}`, value);
  }
  return { samples, types };
}

async function scrape(address: string): Promise<Scrape> {
  const response = await fetch(`http://${address}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/plain");
  return parseScrape(await response.text());
}

/** A sample's value; fails the test when the scrape lacks it. */
function value(scrape: Scrape, key: string): number {
  const found = scrape.samples.get(key);
  if (found === undefined) throw new Error(`the scrape has no sample ${key}`);
  return found;
}

/** How much a counter grew between two scrapes (a labelled sample absent before counts as 0 then). */
function grew(before: Scrape, after: Scrape, key: string): number {
  return value(after, key) - (before.samples.get(key) ?? 0);
}

describe("metrics", () => {
  it("every member of kv cluster serves /metrics, and the figures move with the writes made", async () => {
    const port = await freePortRun(10);
    const child = spawn(process.execPath, [kvScript, "cluster", "--no-restart", "--data-dir", dataDir, "--port", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    cluster = new Proc("cluster", child);
    const proc = cluster;
    await waitFor("cluster ready", () => proc.output.some((line) => line.startsWith("kv cluster: ready")), 30_000);
    manifest = readManifest(dataDir);
    // Each member's metrics on the ports right after the five members' own, in manifest order.
    expect(manifest.members.map((member) => [member.name, member.metrics])).toEqual(
      ["coordinator", "coordinator-2", "r1", "r2", "r3"].map((name, i) => [name, `127.0.0.1:${port + 5 + i}`]),
    );
    const metricsOf = (name: string): string => manifest!.members.find((member) => member.name === name)!.metrics!;

    const kv = new KvClient(`127.0.0.1:${port},127.0.0.1:${port + 1}`);
    try {
      await waitFor("every replica up", async () => (await kv.status()).replicas.every((replica) => replica.up));
      const active = (await kv.status()).coordinatorId;
      const standby = active === "coordinator" ? "coordinator-2" : "coordinator";
      const replicas = ["r1", "r2", "r3"];
      const before = new Map<string, Scrape>();
      for (const name of [active, ...replicas]) before.set(name, await scrape(metricsOf(name)));

      const distinct = 20;
      for (let i = 0; i < distinct; i++) await kv.put(`metrics-${i}`, `value ${i}`);
      // Writes sent at once to distinct keys: those stepped in one turn travel in one batch per replica.
      const burst = 40;
      await Promise.all(Array.from({ length: burst }, (_, i) => kv.put(`metrics-burst-${i}`, `burst ${i}`)));
      // Writes sent at once to one key: all but the first queue behind its lock (--on-conflict wait).
      const contended = 8;
      await Promise.all(Array.from({ length: contended }, (_, i) => kv.put("metrics-hot", `hot ${i}`)));
      expect((await kv.get("metrics-0"))?.value.toString()).toBe("value 0");
      const writes = distinct + burst + contended;
      const lastVersion = (await kv.status()).lastCommitSeq;

      // The commit round follows the answers: wait until every replica's acknowledgement is in.
      const c0 = before.get(active)!;
      const c1 = await waitFor("the commit rounds and the settled gauges", async () => {
        const now = await scrape(metricsOf(active));
        const settled =
          grew(c0, now, 'kv_coordinator_phase_seconds_count{phase="commit-round"}') >= writes * replicas.length &&
          value(now, "kv_coordinator_in_doubt_transactions") === 0 &&
          value(now, "kv_coordinator_locked_keys") === 0;
        return settled ? now : undefined;
      });
      expect(c1.types.get("kv_coordinator_transactions_total")).toBe("counter");
      expect(c1.types.get("kv_coordinator_phase_seconds")).toBe("histogram");
      expect(grew(c0, c1, 'kv_coordinator_transactions_total{outcome="committed"}')).toBeGreaterThanOrEqual(writes);
      for (const phase of ["admit", "prepare-round", "decide", "decision-force", "write-total"]) {
        expect(grew(c0, c1, `kv_coordinator_phase_seconds_count{phase="${phase}"}`), phase).toBeGreaterThanOrEqual(writes);
      }
      expect(grew(c0, c1, 'kv_coordinator_phase_seconds_count{phase="read-round"}')).toBeGreaterThanOrEqual(1);
      expect(grew(c0, c1, 'kv_coordinator_phase_seconds_sum{phase="write-total"}')).toBeGreaterThan(0);
      // The +Inf bucket of a histogram holds every observation.
      expect(value(c1, 'kv_coordinator_phase_seconds_bucket{le="+Inf",phase="write-total"}')).toBe(value(c1, 'kv_coordinator_phase_seconds_count{phase="write-total"}'));
      // Every write's PREPARE went to each of the three replicas, in batches of one or more.
      expect(grew(c0, c1, 'kv_coordinator_batch_messages_sum{kind="prepare"}')).toBeGreaterThanOrEqual(writes * replicas.length);
      const prepareCalls = grew(c0, c1, 'kv_coordinator_batch_messages_count{kind="prepare"}');
      expect(prepareCalls).toBeGreaterThanOrEqual(1);
      // The burst's PREPAREs shared calls: fewer calls than messages.
      expect(grew(c0, c1, 'kv_coordinator_batch_messages_sum{kind="prepare"}')).toBeGreaterThan(prepareCalls);
      expect(grew(c0, c1, 'kv_coordinator_batch_messages_sum{kind="commit"}')).toBeGreaterThanOrEqual(writes * replicas.length);
      // Each write's COMMIT record was forced on the decision log.
      expect(grew(c0, c1, "kv_coordinator_log_forces_total")).toBeGreaterThanOrEqual(1);
      expect(grew(c0, c1, "kv_coordinator_log_records_forced_total")).toBeGreaterThanOrEqual(writes);
      expect(grew(c0, c1, "kv_coordinator_lock_waits_total")).toBeGreaterThanOrEqual(1);
      expect(value(c1, "kv_coordinator_lock_waiters")).toBe(0);
      expect(value(c1, "kv_coordinator_in_sync_replicas")).toBe(3);
      expect(value(c1, "kv_coordinator_active")).toBe(1);
      // Two increments of one key, one after the other: the first reads it from a replica (a miss),
      // the second is evaluated over the state the first committed (a hit: no read round).
      const cacheBefore = await scrape(metricsOf(active));
      await kv.increment("metrics-counter", 1);
      await kv.increment("metrics-counter", 1);
      const cacheAfter = await waitFor("the second increment counted", async () => {
        const now = await scrape(metricsOf(active));
        return grew(cacheBefore, now, 'kv_coordinator_value_cache_lookups_total{result="hit"}') >= 1 ? now : undefined;
      });
      expect(grew(cacheBefore, cacheAfter, 'kv_coordinator_value_cache_lookups_total{result="miss"}')).toBeGreaterThanOrEqual(1);
      expect(value(cacheAfter, "kv_coordinator_value_cache_entries")).toBeGreaterThanOrEqual(1);
      expect(value(cacheAfter, "kv_coordinator_value_cache_bytes")).toBeGreaterThan(350);
      // Each put carries a request id, remembered with its commit.
      expect(value(c1, 'kv_coordinator_request_ids{table="remembered"}')).toBeGreaterThanOrEqual(writes);
      // prom-client's process metrics.
      expect(value(c1, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(value(c1, "nodejs_heap_size_used_bytes")).toBeGreaterThan(0);

      for (const name of replicas) {
        const r0 = before.get(name)!;
        const r1 = await waitFor(`${name}: every commit applied`, async () => {
          const now = await scrape(metricsOf(name));
          return grew(r0, now, "kv_replica_commits_total") >= writes && value(now, "kv_replica_prepared_transactions") === 0 ? now : undefined;
        });
        expect(grew(r0, r1, "kv_replica_prepares_total"), name).toBeGreaterThanOrEqual(writes);
        expect(grew(r0, r1, 'kv_replica_votes_total{vote="yes"}'), name).toBeGreaterThanOrEqual(writes);
        expect(grew(r0, r1, "kv_replica_log_forces_total"), name).toBeGreaterThanOrEqual(1);
        expect(grew(r0, r1, "kv_replica_log_records_forced_total"), name).toBeGreaterThanOrEqual(writes);
        expect(value(r1, "kv_replica_applied_seq"), name).toBeGreaterThanOrEqual(lastVersion);
        expect(value(r1, "process_resident_memory_bytes"), name).toBeGreaterThan(0);
      }

      // The standby has no node: it says so, and the node's gauges are unknown, not zero.
      const s = await scrape(metricsOf(standby));
      expect(value(s, "kv_coordinator_active")).toBe(0);
      expect(Number.isNaN(value(s, "kv_coordinator_in_sync_replicas"))).toBe(true);

      // Only /metrics is served.
      expect((await fetch(`http://${metricsOf(active)}/`)).status).toBe(404);
    } finally {
      kv.close();
    }
    process.kill(proc.pid, "SIGINT");
    expect((await proc.exited).code).toBe(0);
  }, 90_000);
});
