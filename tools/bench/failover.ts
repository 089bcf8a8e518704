// What a client sees when the active coordinator dies (issue 12). Each run starts `kv cluster` in a
// temp directory (2 coordinators, 3 replicas, --no-restart: the dead coordinator stays dead, so only
// a standby's takeover can end the outage), runs W writers through the client library, each putting
// its own keys in a loop, and after a warm-up strikes the active coordinator (found by asking each
// coordinator: health SERVING and Kv.Status role; its pid from the cluster's manifest):
// - "kill -9": SIGKILL;
// - "SIGSTOP 5 s": SIGSTOP, 5 s, SIGCONT; afterwards it reports the old coordinator's role (it
//   should have become a standby).
// It measures the longest gap between two successful write completions (over all writers) around the
// fault, and counts the writes that failed definitely (the store refused them) and those whose outcome
// stayed unknown (UNAVAILABLE or DEADLINE_EXCEEDED after the client library's retries). At the end of
// each run it reads every acknowledged key back and checks its value: an acknowledged write that is
// missing is a lost write, and the benchmark exits 1.
//
//   npm run bench:failover -- [--runs 5] [--writers 16] [--scenarios kill,pause]
//
// Figures, never assertions on timing: the machine is shared and noisy. Quote the medians.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import yargs from "yargs";
import { assertNever } from "../../common/assert";
import { classifyCode, KvError } from "../../common/errors";
import { formatTable } from "../../common/table";
import { KvClient } from "../../client/client";
import { activeOf, CoordinatorProbe, type CoordinatorReport, type CoordinatorRole } from "../cluster/coordinators";
import { coordinatorMembers, manifestPath, pidRunsArgv, readManifest, type ClusterManifest, type ManifestMember } from "../cluster/manifest";
import { kvScript } from "../cluster/process-args";
import { longestGapAround, median } from "./gap";

const scenarios = ["kill", "pause"] as const;
type Scenario = (typeof scenarios)[number];

const scenarioTitles: Record<Scenario, string> = { kill: "kill -9 of the active coordinator", pause: "SIGSTOP of the active coordinator" };

interface BenchOptions {
  readonly runs: number;
  readonly writers: number;
  readonly port: number;
  readonly warmupMs: number;
  /** How long the writers go on after the fault ends (the kill, or the SIGCONT). */
  readonly afterMs: number;
  readonly pauseMs: number;
  /** The client library's per-attempt deadline and retry window; its defaults when absent. */
  readonly timeoutMs: number | undefined;
  readonly retryForMs: number | undefined;
}

/** Failure messages kept per run, to say why writes failed. */
const failuresShownMax = 3;

interface RunResult {
  readonly scenario: Scenario;
  readonly run: number;
  readonly gapMs: number;
  readonly neverResumed: boolean;
  /** Writes the store refused (a definite failure: nothing written). */
  readonly failed: number;
  /** Writes whose outcome stayed unknown. */
  readonly unknown: number;
  /** The first failures' messages (refused or unknown), to say why. */
  readonly failures: readonly string[];
  readonly acknowledged: number;
  /** Acknowledged keys missing or holding another value at the end, and keys that could not be read. */
  readonly lost: readonly string[];
  readonly unreadable: number;
  readonly struck: string;
  /** The active coordinator once the writers stopped (its name), or why none. */
  readonly activeAfter: string;
  /** The struck coordinator's role at the end (pause only). */
  readonly oldRole: string;
}

/** How long the cluster may take to start and say it is ready. */
const clusterReadyMs = 60_000;
/** How long, after SIGCONT, the old coordinator has to report itself a standby. */
const roleSettleMs = 10_000;
/** Readers of the final read-back. */
const readBackConcurrency = 16;

/**
 * A client of every coordinator, given as the comma-separated list KV_COORDINATOR takes: the client
 * library finds the active one by itself (issue 12).
 */
function clientOf(coordinators: string, options: BenchOptions): KvClient {
  return new KvClient(coordinators, { timeoutMs: options.timeoutMs, retryForMs: options.retryForMs });
}

/** A `kv cluster` of this benchmark: its process, its output (kept for a report), its manifest. */
class BenchCluster {
  readonly output: string[] = [];
  private readonly exited: Promise<void>;
  private paused: number | null = null;

  private constructor(
    readonly dataDir: string,
    private readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout, child.stderr]) if (stream !== null) readline.createInterface({ input: stream }).on("line", (line) => this.output.push(line));
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  static start(port: number): BenchCluster {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-failover-"));
    const args = [kvScript, "cluster", "--coordinators", "2", "--replicas", "3", "--no-restart", "--port", String(port), "--data-dir", dataDir, "--log-level", "warn"];
    return new BenchCluster(dataDir, spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] }));
  }

  /** Waits for the ready line and a manifest with every member running. */
  async ready(): Promise<ClusterManifest> {
    const deadlineMs = Date.now() + clusterReadyMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`kv cluster exited (code ${this.child.exitCode}) before it was ready:\n${this.tail()}`);
      if (this.output.some((line) => line.startsWith("kv cluster: ready")) && fs.existsSync(manifestPath(this.dataDir))) {
        const manifest = readManifest(this.dataDir);
        if (manifest.members.every((member) => member.pid !== null)) return manifest;
      }
      if (Date.now() > deadlineMs) throw new Error(`kv cluster not ready after ${clusterReadyMs} ms:\n${this.tail()}`);
      await sleep(25);
    }
  }

  /** Signals a member of this cluster by the pid its manifest records, while it runs the recorded argv. */
  signal(member: ManifestMember, signal: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void {
    if (member.pid === null || !pidRunsArgv(member.pid, member.argv)) throw new Error(`${member.name} is not running (pid ${member.pid ?? "none"})`);
    process.kill(member.pid, signal);
    if (signal === "SIGSTOP") this.paused = member.pid;
    if (signal === "SIGCONT") this.paused = null;
  }

  /** Ctrl-C to kv cluster (it continues a paused member and stops every one), then removes the data. */
  async stop(): Promise<void> {
    if (this.paused !== null) {
      try {
        process.kill(this.paused, "SIGCONT");
      } catch {
        // gone already
      }
    }
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, "SIGINT");
    await this.exited;
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  tail(lines = 20): string {
    return this.output.slice(-lines).join("\n");
  }
}

/** Every coordinator's health and Status, by the manifest's addresses. */
async function reportsOf(manifest: ClusterManifest, probes: Map<string, CoordinatorProbe>): Promise<CoordinatorReport[]> {
  return Promise.all(
    coordinatorMembers(manifest).map((member) => {
      let probe = probes.get(member.address);
      if (probe === undefined) {
        probe = new CoordinatorProbe(member.address);
        probes.set(member.address, probe);
      }
      return probe.report(1_000);
    }),
  );
}

/** W writers, each putting its own keys in a loop until stopped; the successes' completion times and the failures. */
class Writers {
  readonly successesMs: number[] = [];
  /** Acknowledged key -> value. */
  readonly acknowledged = new Map<string, string>();
  failed = 0;
  unknown = 0;
  /** The first few failure messages. */
  readonly failures: string[] = [];
  private running = true;
  private readonly loops: Promise<void>[];
  private readonly clients: KvClient[] = [];

  constructor(coordinators: string, prefix: string, options: BenchOptions) {
    this.loops = Array.from({ length: options.writers }, async (_, writer) => {
      const kv = clientOf(coordinators, options);
      this.clients.push(kv);
      for (let i = 0; this.running; i++) {
        const key = `${prefix}/${writer}/${i}`;
        const value = `${writer}-${i}`;
        try {
          await kv.put(key, value);
          this.successesMs.push(performance.now());
          this.acknowledged.set(key, value);
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
          if (classifyCode(error.code) === "unavailable") this.unknown += 1;
          else this.failed += 1;
          if (this.failures.length < failuresShownMax) this.failures.push(error.message);
        }
      }
    });
  }

  /** Stops starting writes and waits for the ones under way (each within the client's deadline and retries). */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    for (const kv of this.clients) kv.close();
  }
}

/** Reads every acknowledged key back; the keys missing or holding another value, and how many could not be read. */
async function readBack(coordinators: string, acknowledged: ReadonlyMap<string, string>, options: BenchOptions): Promise<{ lost: string[]; unreadable: number }> {
  const kv = clientOf(coordinators, options);
  const entries = [...acknowledged];
  const lost: string[] = [];
  let unreadable = 0;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: readBackConcurrency }, async () => {
        while (next < entries.length) {
          const [key, value] = entries[next++]!;
          try {
            const entry = await kv.get(key);
            if (entry === null) lost.push(`${key} (missing)`);
            else if (entry.value.toString("utf8") !== value) lost.push(`${key} (holds ${JSON.stringify(entry.value.toString("utf8"))}, not ${JSON.stringify(value)})`);
          } catch (error) {
            if (!(error instanceof KvError)) throw error;
            unreadable += 1;
          }
        }
      }),
    );
  } finally {
    kv.close();
  }
  return { lost, unreadable };
}

/** The struck coordinator's role once it settles: "standby" as soon as it says so, else what it said last by the deadline. */
async function settledRole(probe: CoordinatorProbe): Promise<string> {
  const deadlineMs = Date.now() + roleSettleMs;
  let last: CoordinatorReport | null = null;
  while (Date.now() < deadlineMs) {
    last = await probe.report(1_000);
    if (last.role === ("standby" satisfies CoordinatorRole)) return "standby";
    await sleep(100);
  }
  if (last === null) return "not asked";
  if (last.error !== null && last.role === null) return `no answer (${last.error})`;
  return last.role ?? (last.roleWire === "" ? "none reported" : `"${last.roleWire}"`);
}

async function oneRun(scenario: Scenario, run: number, options: BenchOptions): Promise<RunResult> {
  const cluster = BenchCluster.start(options.port);
  const probes = new Map<string, CoordinatorProbe>();
  try {
    const manifest = await cluster.ready();
    const writers = new Writers(manifest.coordinators, `failover/${scenario}/${run}/${Date.now().toString(36)}`, options);
    await sleep(options.warmupMs);

    const active = activeOf(await reportsOf(manifest, probes));
    if (active === null) throw new Error(`no coordinator serves after the warm-up:\n${cluster.tail()}`);
    const target = coordinatorMembers(readManifest(cluster.dataDir)).find((member) => member.address === active.address);
    if (target === undefined) throw new Error(`the active coordinator ${active.address} is not in the manifest`);

    const faultAtMs = performance.now();
    switch (scenario) {
      case "kill":
        cluster.signal(target, "SIGKILL");
        break;
      case "pause":
        cluster.signal(target, "SIGSTOP");
        await sleep(options.pauseMs);
        cluster.signal(target, "SIGCONT");
        break;
      default:
        assertNever(scenario);
    }
    await sleep(options.afterMs);
    const windowEndMs = performance.now();
    await writers.stop();

    const gap = longestGapAround(writers.successesMs, faultAtMs, windowEndMs);
    const after = activeOf(await reportsOf(manifest, probes));
    const activeAfter = after === null ? "none serves" : (coordinatorMembers(manifest).find((member) => member.address === after.address)?.name ?? after.address);
    const oldRole = scenario === "pause" ? await settledRole(probes.get(target.address)!) : "(dead)";
    const { lost, unreadable } = await readBack(manifest.coordinators, writers.acknowledged, options);
    return {
      scenario,
      run,
      gapMs: gap.gapMs,
      neverResumed: gap.neverResumed,
      failed: writers.failed,
      unknown: writers.unknown,
      failures: writers.failures,
      acknowledged: writers.acknowledged.size,
      lost,
      unreadable,
      struck: target.name,
      activeAfter,
      oldRole,
    };
  } finally {
    for (const probe of probes.values()) probe.close();
    await cluster.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function formatGap(result: RunResult): string {
  return `${Math.round(result.gapMs)} ms${result.neverResumed ? " (never resumed)" : ""}`;
}

function report(results: readonly RunResult[], options: BenchOptions): string {
  const rows: string[][] = [["scenario", "run", "struck", "longest gap", "failed", "unknown", "acknowledged", "read back", "active after", "old coordinator"]];
  for (const result of results) {
    const readBackCell = result.lost.length === 0 && result.unreadable === 0 ? "all" : `${result.lost.length} lost, ${result.unreadable} unreadable`;
    rows.push([
      result.scenario,
      String(result.run),
      result.struck,
      formatGap(result),
      String(result.failed),
      String(result.unknown),
      String(result.acknowledged),
      readBackCell,
      result.activeAfter,
      result.oldRole,
    ]);
  }
  const summary: string[][] = [["scenario", "runs", "gap median", "gap max", "failed median", "failed max", "unknown median", "unknown max", "never resumed"]];
  for (const scenario of scenarios) {
    const of = results.filter((result) => result.scenario === scenario);
    if (of.length === 0) continue;
    const gaps = of.map((result) => result.gapMs);
    const failed = of.map((result) => result.failed);
    const unknown = of.map((result) => result.unknown);
    summary.push([
      scenarioTitles[scenario],
      String(of.length),
      `${Math.round(median(gaps))} ms`,
      `${Math.round(Math.max(...gaps))} ms`,
      String(median(failed)),
      String(Math.max(...failed)),
      String(median(unknown)),
      String(Math.max(...unknown)),
      String(of.filter((result) => result.neverResumed).length),
    ]);
  }
  const client =
    `client library: each attempt's deadline ${options.timeoutMs === undefined ? "its default" : `${options.timeoutMs} ms`}, ` +
    `retries for ${options.retryForMs === undefined ? "its default" : `${options.retryForMs} ms`}`;
  return [
    `${options.writers} writers, 2 coordinators, 3 replicas (kv cluster --no-restart); warm-up ${options.warmupMs} ms; ` +
      `the writers go on ${options.afterMs} ms after the kill or the SIGCONT (SIGSTOP for ${options.pauseMs} ms); ${client}`,
    "",
    formatTable(rows, { rightAligned: new Set([1, 3, 4, 5, 6]) }),
    "",
    formatTable(summary, { rightAligned: "all-but-first" }),
    "",
    "longest gap: between two successful write completions (over all writers), the later one after the fault; " +
      "failed: refused by the store (nothing written); unknown: UNAVAILABLE or DEADLINE_EXCEEDED after the client's retries",
  ].join("\n");
}

async function main(): Promise<number> {
  const argv = yargs(process.argv.slice(2))
    .option("runs", { type: "number", default: 5, describe: "runs of each scenario" })
    .option("writers", { type: "number", default: 16, describe: "concurrent writers" })
    .option("scenarios", { type: "string", default: scenarios.join(","), describe: `which faults, comma-separated: ${scenarios.join(", ")}` })
    .option("port", { type: "number", default: 49051, describe: "the first coordinator's port (the cluster takes 5 consecutive ports)" })
    .option("warmup-ms", { type: "number", default: 2_000 })
    .option("after-ms", { type: "number", default: 6_000, describe: "how long the writers go on after the kill, or after the SIGCONT" })
    .option("pause-ms", { type: "number", default: 5_000, describe: "how long the active coordinator stays stopped (SIGSTOP) in the pause scenario" })
    .option("timeout-ms", { type: "number", describe: "the client library's deadline of each attempt (default: the library's)" })
    .option("retry-for-ms", { type: "number", describe: "how long the client library retries UNAVAILABLE (default: the library's)" })
    .strict()
    .parseSync();
  for (const [flag, value] of [["--runs", argv.runs], ["--writers", argv.writers]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a whole number of at least 1, not ${value}`);
  }
  const chosen = argv.scenarios.split(",").map((item) => item.trim());
  const unknownScenario = chosen.find((item) => !(scenarios as readonly string[]).includes(item));
  if (unknownScenario !== undefined) throw new Error(`--scenarios: no scenario ${JSON.stringify(unknownScenario)} (scenarios: ${scenarios.join(", ")})`);
  const options: BenchOptions = {
    runs: argv.runs,
    writers: argv.writers,
    port: argv.port,
    warmupMs: argv["warmup-ms"],
    afterMs: argv["after-ms"],
    pauseMs: argv["pause-ms"],
    timeoutMs: argv["timeout-ms"],
    retryForMs: argv["retry-for-ms"],
  };
  const results: RunResult[] = [];
  for (const scenario of scenarios.filter((item) => chosen.includes(item))) {
    for (let run = 1; run <= options.runs; run++) {
      const result = await oneRun(scenario, run, options);
      results.push(result);
      console.log(
        `${scenario} run ${run}: struck ${result.struck}; longest gap ${formatGap(result)}; ${result.failed} failed, ${result.unknown} unknown, ` +
          `${result.acknowledged} acknowledged; active after: ${result.activeAfter}${scenario === "pause" ? `; old coordinator: ${result.oldRole}` : ""}`,
      );
      for (const key of result.lost.slice(0, 10)) console.log(`  LOST: ${key}`);
      for (const message of result.failures) console.log(`  failed: ${message}`);
    }
  }
  console.log("");
  console.log(report(results, options));
  const lost = results.reduce((sum, result) => sum + result.lost.length, 0);
  if (lost > 0) {
    console.log(`\n${lost} acknowledged write(s) lost: see LOST above`);
    return 1;
  }
  return 0;
}

void main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
