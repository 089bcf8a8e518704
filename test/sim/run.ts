// One simulated run: a seed picks the cluster's settings and the fault schedule (swarm testing:
// every run draws its own mix and intensity of faults), clients load the store while faults
// strike, then the network heals, every node is restarted, and the cluster must settle. Safety is
// checked as each step happens; at the end, the settled cluster and the client history are checked.
import { AssertionFailure, assertNever } from "../../common/assert";
import { limits } from "../../common/limits";
import { Prng } from "../../common/prng";
import { checkHistory, formatViolation } from "../../tools/check/check";
import type { HistoryEvent } from "../../tools/check/history";
import { Ledger, SimViolation, type CheckName } from "./checks";
import { setMutation } from "../../common/mutations";
import { CoordinatorHost, ReplicaHost, coordinatorIds, type Cluster, type ClusterConfig, type ForceFate, type Mutation } from "./nodes";
import { Workload, type WorkloadConfig } from "./workload";
import { World, type NetworkProfile, type TraceLine } from "./world";

/**
 * Virtual time the healed cluster has to settle: no transaction in doubt, every replica in sync,
 * identical replicas. A call whose answer the network lost waits for its deadline, and the longest
 * one is a catch-up's (catchUpTimeoutMs): a replica whose CatchUp answer was lost stays catching up
 * until then. So the bound is that deadline plus time for one more catch-up and the backoffs.
 */
export const livenessBoundMs = limits.catchUpTimeoutMs + 30_000;

/**
 * The linearizability check's budget, in reads of its clock (client/check.ts reads it once every
 * 1,024 search steps): about 20 million steps, some seconds on a slow machine, far more than any
 * seed has needed.
 */
const linearizabilityClockReadsMax = 20_000;

export interface RunOptions {
  readonly seed: number;
  readonly mutation?: Mutation;
  /** Keep a trace (slower). A failing fast run is run again traced, to report the last events. */
  readonly traced?: boolean;
  /** Every trace line as it happens (--trace). */
  readonly onTrace?: (line: TraceLine) => void;
}

export interface Failure {
  readonly check: CheckName;
  readonly message: string;
  /** The event during which the check failed. */
  readonly step: number;
  readonly atMs: number;
  /** The last events before the failure (traced runs only). */
  readonly trace: readonly TraceLine[];
}

export interface RunResult {
  readonly seed: number;
  readonly mutation: Mutation;
  readonly failure: Failure | null;
  readonly steps: number;
  readonly virtualMs: number;
  readonly faults: ReadonlyMap<string, number>;
  readonly paths: ReadonlyMap<string, number>;
  readonly ops: number;
  readonly okOps: number;
  readonly commits: number;
  readonly history: readonly HistoryEvent[];
  readonly settings: string;
}

interface Settings {
  readonly cluster: Omit<ClusterConfig, "forceMs" | "forceFate" | "tombstoneRetentionMs" | "catchUpSnapshotRows" | "snapshotInstallRowsMax" | "valueCacheBytes">;
  readonly workload: WorkloadConfig;
  readonly network: NetworkProfile;
  readonly forceMsMax: number;
  /** Probability that a node crashes at a force boundary (half before, half after). */
  readonly forceCrashProbability: number;
  /** Mean virtual time between faults. */
  readonly faultMeanMs: number;
  readonly faultPhaseMs: number;
  /** At the heal, crash and restart every node, not only those down. */
  readonly fullRestart: boolean;
}

/**
 * The replicas' tombstone retention in a run, from its seed rather than a draw (a new draw would
 * move every seed's path): a third of the runs collect at once (a replica back from any absence
 * takes a full copy), a third after half a second (short absences catch up from the rows since,
 * tombstones included; longer ones take a full copy), a third never within a run (catch-ups always
 * carry the tombstones, as before collection existed).
 */
export function tombstoneRetentionOf(seed: number): number {
  return [3_600_000, 0, 500][seed % 3]!;
}

/**
 * How the replicas' catch-ups use snapshots in a run, from its seed as tombstoneRetentionOf (and
 * independent of it): a third never (every row over Fetch, as before issue 14), a third after the
 * first row copied page by page, a third after three; installed one or two rows per transaction.
 * Any full copy takes a snapshot unless never. (The simulator's stores hold a handful of keys.)
 */
export function catchUpSnapshotOf(seed: number): { catchUpSnapshotRows: number; snapshotInstallRowsMax: number } {
  return { catchUpSnapshotRows: [0, 1, 3][Math.floor(seed / 3) % 3]!, snapshotInstallRowsMax: [1, 2][Math.floor(seed / 9) % 2]! };
}

/**
 * The coordinators' cache of committed key states (coordinator/value-cache.ts), by seed, drawn
 * from no PRNG so that seeds keep their paths otherwise: none (as before the cache; regression
 * seeds 172 and 120628 are among these), production's default, or room for about three entries of its small keys and values (so
 * that entries are evicted all the time), in runs of 27 seeds.
 */
export function valueCacheOf(seed: number): number | undefined {
  return [0, undefined, 1_100][Math.floor(seed / 27) % 3];
}

function pickSettings(world: World, mutation: Mutation): Settings {
  const prng = world.prng;
  const keyCount = prng.int(1, 4);
  // Which key spaces a run loads, and how hard (swarm testing: some runs load only one).
  const workloadMix = {
    counterShare: prng.pick([0, 0.1, 0.2, 0.4]),
    accountShare: prng.pick([0, 0.1, 0.2, 0.4]),
    casShare: prng.pick([0, 0.1, 0.2]),
    accounts: prng.int(2, 4),
    requestIdProbability: prng.pick([0.5, 0.8, 1, 1]),
    duplicateRequestProbability: prng.pick([0, 0, 0.02, 0.1]),
    newRequestIdPerRetry: mutation === "retry-with-new-request-id",
    resolveShare: prng.pick([0, 0.01, 0.03, 0.05]),
  };
  return {
    cluster: {
      replicaIds: ["r1", "r2", "r3"],
      // One coordinator (its restarts take over from itself) to three (failover).
      coordinatorIds: coordinatorIds(prng.pick([1, 2, 2, 3])),
      onConflict: prng.pick(["abort", "wait"] as const),
      minInSync: prng.pick([1, 2, 2, 2, 3]),
      compactRecords: prng.pick([Infinity, Infinity, 10, 40]),
      fetchRowsMax: prng.pick([1, 2, 1000]),
      tornProbability: 0.5,
      autoCheckpointProbability: prng.pick([0, 0.1, 0.5]),
    },
    workload: {
      clients: prng.int(2, 5),
      keys: Array.from({ length: keyCount }, (_, i) => `k${i}`),
      clientTimeoutMs: prng.pick([1_000, 3_000, 8_000]),
      thinkMsMax: prng.pick([5, 30, 100]),
      getProbability: prng.pick([0.2, 0.4, 0.6]),
      delProbability: prng.pick([0.1, 0.25]),
      ...workloadMix,
    },
    network: {
      delayMsMin: 0.1,
      delayMsMax: prng.pick([1, 3, 10]),
      lateProbability: prng.pick([0, 0.02, 0.1]),
      lateMsMax: prng.pick([30, 300, 1_500]),
      dropProbability: prng.pick([0, 0, 0.01, 0.05]),
      duplicateProbability: prng.pick([0, 0, 0.01, 0.05]),
    },
    forceMsMax: prng.pick([0.5, 2, 8]),
    forceCrashProbability: prng.pick([0, 0.005, 0.02, 0.05]),
    faultMeanMs: prng.pick([150, 400, 1_000, 3_000]),
    faultPhaseMs: prng.int(2_000, 12_000),
    fullRestart: prng.next() < 0.3,
  };
}

function describeSettings(s: Settings): string {
  const n = s.network;
  return (
    `${s.cluster.coordinatorIds.length} coordinator(s), ${s.workload.clients} clients on ${s.workload.keys.length} register(s), ` +
    `counters ${s.workload.counterShare} accounts ${s.workload.accountShare} (${s.workload.accounts}) cas ${s.workload.casShare} of operations, ` +
    `operator resolves ${s.workload.resolveShare} of operations, request ids on ${s.workload.requestIdProbability} of writes, client requests duplicated p=${s.workload.duplicateRequestProbability}, on-conflict ${s.cluster.onConflict}, min-in-sync ${s.cluster.minInSync}, ` +
    `faults every ~${s.faultMeanMs} ms for ${s.faultPhaseMs} ms, force crash p=${s.forceCrashProbability}, ` +
    `net delay ≤${n.delayMsMax} ms late p=${n.lateProbability} (≤${n.lateMsMax} ms) drop p=${n.dropProbability} dup p=${n.duplicateProbability}, ` +
    `compact at ${s.cluster.compactRecords} records, fetch page ${s.cluster.fetchRowsMax}, client timeout ${s.workload.clientTimeoutMs} ms` +
    (s.fullRestart ? ", full restart at the heal" : "")
  );
}

/** Runs one seed; on a failure of a fast run, runs it again traced to report the last events. */
/** Mean virtual time between two backups' snapshots in a run, and how many a run takes at most. */
const backupMeanMs = 700;
const backupsPerRunMax = 12;

/** A snapshot declared complete must hold each key as the commits up to its sequence number leave it: live rows, with their versions. */
function checkSnapshot(
  snapshot: { readonly replicaId: string; readonly atMs: number; readonly seq: number; readonly rows: ReadonlyMap<string, { readonly value: string; readonly version: number }> },
  expected: ReadonlyMap<string, { readonly value: Buffer | null; readonly version: number }>,
): void {
  const where = `the backup snapshot of ${snapshot.replicaId} at commit ${snapshot.seq} (pinned at ${snapshot.atMs.toFixed(1)} ms)`;
  for (const [key, want] of expected) {
    const row = snapshot.rows.get(key);
    if (want.value === null) {
      if (row !== undefined) throw new SimViolation("backup-snapshot", `${where} holds ${key}=${row.value}@${row.version}, deleted by commit ${want.version}`);
      continue;
    }
    if (row === undefined || row.version !== want.version || row.value !== want.value.toString("utf8")) {
      throw new SimViolation(
        "backup-snapshot",
        `${where} holds ${key} as ${row === undefined ? "nothing" : `${row.value}@${row.version}`}; the commits up to ${snapshot.seq} leave ${want.value.toString("utf8")}@${want.version}`,
      );
    }
  }
  for (const [key, row] of snapshot.rows) {
    if (!expected.has(key)) throw new SimViolation("backup-snapshot", `${where} holds ${key}=${row.value}@${row.version}, which no commit up to ${snapshot.seq} wrote`);
  }
}

export function runSeed(options: RunOptions): RunResult {
  const result = runOnce(options);
  if (result.failure === null || options.traced === true || options.onTrace !== undefined) return result;
  const traced = runOnce({ ...options, traced: true });
  // The replay must fail the same way at the same step: the run is deterministic.
  if (traced.failure === null || traced.failure.step !== result.failure.step || traced.failure.check !== result.failure.check) {
    throw new Error(
      `seed ${options.seed} is not deterministic: failed ${result.failure.check} at step ${result.failure.step}, ` +
        `then ${traced.failure === null ? "passed" : `${traced.failure.check} at step ${traced.failure.step}`} when traced`,
    );
  }
  return traced;
}

/** One run with its planted bug (if any) switched on in the shipped code, and off again after. */
function runOnce(options: RunOptions): RunResult {
  setMutation(options.mutation ?? "none");
  try {
    return runPlanted(options);
  } finally {
    setMutation("none");
  }
}

function runPlanted(options: RunOptions): RunResult {
  const mutation = options.mutation ?? "none";
  const traced = options.traced === true || options.onTrace !== undefined;
  const world = new World(options.seed, { delayMsMin: 0, delayMsMax: 0, lateProbability: 0, lateMsMax: 0, dropProbability: 0, duplicateProbability: 0 }, traced, options.onTrace ?? null);
  const settings = pickSettings(world, mutation);
  world.network = { ...settings.network };
  const ledger = new Ledger();
  let faultsOn = true;

  const forceFate = (): ForceFate => {
    if (!faultsOn || settings.forceCrashProbability === 0) return "complete";
    const u = world.prng.next();
    if (u >= settings.forceCrashProbability) return "complete";
    world.countFault(u < settings.forceCrashProbability / 2 ? "crash-during-force" : "crash-after-force");
    return u < settings.forceCrashProbability / 2 ? "crash-before" : "crash-after";
  };
  const config: ClusterConfig = {
    ...settings.cluster,
    tombstoneRetentionMs: tombstoneRetentionOf(options.seed),
    ...catchUpSnapshotOf(options.seed),
    valueCacheBytes: valueCacheOf(options.seed),
    forceMs: () => (world.prng.next() < 0.05 ? settings.forceMsMax * 10 : world.prng.next() * settings.forceMsMax),
    forceFate,
  };

  let cluster: Cluster & { restart: (id: string) => void };
  const get = (): Cluster => cluster;
  const replicas = new Map<string, ReplicaHost>();
  const coordinators = new Map(config.coordinatorIds.map((id) => [id, new CoordinatorHost(get, world, id)]));
  const host = (id: string): CoordinatorHost | ReplicaHost => coordinators.get(id) ?? replicas.get(id)!;
  const restartDelayMs = (): number => world.prng.pick([20, 200, 1_000, 3_000]) * world.prng.next();
  cluster = {
    world,
    ledger,
    config,
    coordinators,
    replicas,
    crash: (id, why) => {
      const node = host(id);
      if (!node.proc.up) return;
      world.trace(`FAULT: ${id} crashes ${why}`);
      node.crash();
      world.at(restartDelayMs(), () => cluster.restart(id));
    },
    restart: (id) => {
      const node = host(id);
      if (node.proc.up) return;
      node.start();
    },
  };
  for (const id of config.replicaIds) replicas.set(id, new ReplicaHost(get, world, id));
  const nodeIds = [...config.coordinatorIds, ...config.replicaIds];
  const workload = new Workload(get, settings.workload);

  // ---- backups -------------------------------------------------------------------------------
  // Now and then a replica is asked for a backup's snapshot (ReplicaNode.snapshotMoment, the code
  // `kv backup` runs): the store's live rows are copied at the moment it pins, and a snapshot the
  // node declares complete must hold exactly the commits up to its sequence number (checked at the
  // end, when every decision is in the ledger). Its own PRNG, so that the faults' schedule is the
  // one the seed has always drawn.
  const backupPrng = new Prng(options.seed ^ 0x6ac0b);
  const snapshots: { readonly replicaId: string; readonly atMs: number; readonly seq: number; readonly rows: ReadonlyMap<string, { readonly value: string; readonly version: number }> }[] = [];
  const scheduleBackup = (): void => {
    world.at(-Math.log(1 - backupPrng.next()) * backupMeanMs, () => {
      if (done || snapshots.length >= backupsPerRunMax) return;
      const host = replicas.get(backupPrng.pick(config.replicaIds))!;
      const node = host.node;
      if (node !== null) {
        let pinned: { readonly atMs: number; readonly seq: number; readonly rows: Map<string, { readonly value: string; readonly version: number }> } | null = null;
        node.snapshotMoment(
          () => {
            const rows = new Map([...host.store.rows()].filter(([, row]) => row.value !== null).map(([key, row]) => [key, { value: row.value!.toString("utf8"), version: row.version }]));
            // As replica/store.ts PinnedSnapshot reads it: a full copy can take the store past applied_seq, up to its horizon.
            pinned = { atMs: world.nowMs, seq: Math.max(host.store.appliedSeq(), host.store.collectedThrough()), rows };
            world.trace(`${host.id} backup snapshot pinned at commit ${pinned.seq} (${rows.size} live rows)`);
            return pinned.seq;
          },
          (result) => {
            if (!result.ok || pinned === null) return;
            world.trace(`${host.id} backup snapshot at commit ${pinned.seq} verified (${result.value})`);
            world.count("backup-snapshot-verified");
            snapshots.push({ replicaId: host.id, ...pinned });
          },
        );
      }
      scheduleBackup();
    });
  };

  // ---- faults --------------------------------------------------------------------------------
  const scheduleFault = (): void => {
    const gapMs = -Math.log(1 - world.prng.next()) * settings.faultMeanMs;
    world.at(gapMs, () => {
      if (!faultsOn) return;
      injectFault();
      scheduleFault();
    });
  };
  const injectFault = (): void => {
    const kind = world.prng.pick([
      "crash-replica",
      "crash-replica",
      "crash-replica",
      "crash-coordinator",
      "crash-coordinator",
      "pause",
      "pause",
      "partition",
      "partition",
      "isolate",
      // The split brain failover must survive: the active coordinator cut off from the other
      // coordinators only, so that a standby takes over while the old one still reaches the replicas.
      "split-coordinators",
    ] as const);
    const durationMs = world.prng.pick([50, 300, 1_000, 3_000]) * (0.5 + world.prng.next());
    switch (kind) {
      case "crash-replica":
      case "crash-coordinator": {
        // A coordinator crash mostly strikes the active one (failover), sometimes a standby.
        const active = [...coordinators.values()].filter((c) => c.node !== null).map((c) => c.id);
        const id = kind === "crash-coordinator" ? world.prng.pick(active.length > 0 && world.prng.next() < 0.8 ? active : config.coordinatorIds) : world.prng.pick(config.replicaIds);
        const node = host(id);
        if (!node.proc.up) return;
        world.countFault(kind);
        cluster.crash(id, "(injected)");
        return;
      }
      case "pause": {
        const id = world.prng.pick(nodeIds);
        const proc = world.proc(id);
        if (!proc.up || proc.paused) return;
        world.countFault("pause");
        world.trace(`FAULT: ${id} paused for ${durationMs.toFixed(0)} ms`);
        world.pause(proc);
        world.at(durationMs, () => {
          world.trace(`${id} resumes`);
          world.resume(proc);
        });
        return;
      }
      case "partition": {
        const a = world.prng.pick(nodeIds);
        const b = world.prng.pick(nodeIds.filter((id) => id !== a));
        world.countFault("partition");
        world.trace(`FAULT: partition ${a} | ${b} for ${durationMs.toFixed(0)} ms`);
        world.partition(a, b);
        world.at(durationMs, () => {
          world.trace(`heal ${a} | ${b}`);
          world.heal(a, b);
        });
        return;
      }
      case "split-coordinators": {
        if (config.coordinatorIds.length < 2) return;
        const active = [...coordinators.values()].filter((c) => c.node !== null).map((c) => c.id);
        const a = active.length > 0 ? world.prng.pick(active) : world.prng.pick(config.coordinatorIds);
        const others = config.coordinatorIds.filter((id) => id !== a);
        const splitMs = world.prng.pick([800, 1_500, 3_000]) * (0.5 + world.prng.next());
        world.countFault("split-coordinators");
        world.trace(`FAULT: coordinator ${a} cut off from the other coordinators for ${splitMs.toFixed(0)} ms`);
        for (const b of others) world.partition(a, b);
        world.at(splitMs, () => {
          world.trace(`heal ${a} | other coordinators`);
          for (const b of others) world.heal(a, b);
        });
        return;
      }
      case "isolate": {
        const a = world.prng.pick(nodeIds);
        const others = [...nodeIds.filter((id) => id !== a), ...Array.from({ length: settings.workload.clients }, (_, i) => `client${i}`)];
        world.countFault("isolate");
        world.trace(`FAULT: ${a} isolated for ${durationMs.toFixed(0)} ms`);
        for (const b of others) world.partition(a, b);
        world.at(durationMs, () => {
          world.trace(`heal ${a}`);
          for (const b of others) world.heal(a, b);
        });
        return;
      }
      default:
        assertNever(kind);
    }
  };

  // ---- the run -------------------------------------------------------------------------------
  let done = false;
  let failure: Failure | null = null;
  const fail = (check: CheckName, message: string): Failure => ({ check, message, step: world.step, atMs: world.nowMs, trace: world.lastTrace() });

  const heal = (): void => {
    faultsOn = false;
    workload.stop();
    world.trace("HEAL: the network heals, every node is restarted; no more faults");
    world.healAll();
    world.network = { ...settings.network, dropProbability: 0, duplicateProbability: 0, lateProbability: 0 };
    for (const id of nodeIds) world.resume(world.proc(id));
    for (const id of nodeIds) {
      const node = host(id);
      if (settings.fullRestart && node.proc.up) {
        world.trace(`${id} is restarted`);
        node.crash();
      }
      world.at(world.prng.next() * (settings.fullRestart ? 500 : 50), () => cluster.restart(id));
    }
    const healedAtMs = world.nowMs;
    const deadlineMs = healedAtMs + livenessBoundMs;
    let finalReads: "not-started" | "running" | "done" = "not-started";
    const poll = (): void => {
      world.at(37, () => {
        if (finalReads === "not-started" && workload.idle && [...coordinators.values()].some((c) => c.serving)) {
          finalReads = "running";
          workload.finalStatuses(() => workload.finalReads(() => (finalReads = "done")));
        }
        const unsettled = unsettledReason();
        if (finalReads === "done" && unsettled === null) {
          world.trace("SETTLED");
          if (world.nowMs - healedAtMs > 30_000) world.count("settled-after-30s");
          done = true;
          return;
        }
        if (world.nowMs >= deadlineMs) {
          throw new SimViolation("liveness", `${livenessBoundMs} ms after the heal the cluster has not settled: ${unsettled ?? "the final reads did not finish"}`);
        }
        poll();
      });
    };
    poll();
  };

  /** Why the healed cluster is not settled yet, or null when it is. */
  const unsettledReason = (): string | null => {
    for (const id of nodeIds) {
      const proc = world.proc(id);
      if (!proc.listening) return `${id} is not serving`;
    }
    const active = [...coordinators.values()].filter((c) => c.node !== null);
    if (active.length !== 1) return `${active.length} coordinators are active (${active.map((c) => c.id).join(", ")})`;
    const core = active[0]!.core!;
    const inFlight = core.inFlight();
    if (inFlight.length > 0) return `the coordinator has ${inFlight.length} transaction(s) in flight (${inFlight.map((txn) => `${txn.txnId} ${txn.phase}`).join(", ")})`;
    for (const member of core.memberList()) {
      if (member.state !== "in-sync" || !member.healthy) return `replica ${member.id} is ${member.state}${member.healthy ? "" : ", down"}`;
    }
    let content: string | null = null;
    for (const [id, replica] of replicas) {
      if (replica.catchingUp) return `${id} is catching up`;
      const inDoubt = replica.inDoubt();
      if (inDoubt.length > 0) return `${id} holds ${inDoubt.join(", ")} in doubt`;
      const mine = replica.store.liveContent();
      if (content !== null && mine !== content) return `replicas differ: ${[...replicas].map(([rid, r]) => `${rid} {${r.store.liveContent()}}`).join(" ")}`;
      content = mine;
    }
    return null;
  };

  const finalChecks = (): void => {
    // The committed transactions, replayed in commit order, give the store every replica must hold.
    const model = ledger.replay();
    for (const [id, replica] of replicas) {
      for (const [key, expected] of model) {
        const row = replica.store.row(key);
        const value = row?.value?.toString("utf8") ?? null;
        const want = expected.value?.toString("utf8") ?? null;
        // A deletion's tombstone may be gone (collected, or dropped by a full copy): no row at all, then.
        if (row === undefined && want === null) continue;
        if ((row?.version ?? 0) !== expected.version || value !== want) {
          throw new SimViolation(
            "lost-write",
            `replica ${id} holds ${key} as ${row === undefined ? "nothing" : `${value ?? "(deleted)"}@${row.version}`}; the last commit of it is ${want ?? "(deleted)"}@${expected.version}`,
          );
        }
      }
    }
    workload.finalCheck((key) => model.get(key)?.value?.toString("utf8") ?? null);
    for (const snapshot of snapshots) checkSnapshot(snapshot, ledger.stateThrough(snapshot.seq));
    if (ledger.committedAfterAnswer > 0) world.paths.set("committed-after-answered-unwritten", ledger.committedAfterAnswer);
    for (const acked of ledger.ackedWrites) {
      for (const [id, replica] of replicas) {
        const row = replica.store.row(acked.key);
        const value = row?.value?.toString("utf8") ?? null;
        // Deleted since, its tombstone gone: the check above holds the key to its last commit.
        const last = model.get(acked.key);
        if (row === undefined && last !== undefined && last.value === null && last.version >= acked.commitSeq) continue;
        if (row === undefined || row.version < acked.commitSeq || (row.version === acked.commitSeq && value !== acked.value)) {
          throw new SimViolation(
            "lost-write",
            `acknowledged write ${acked.key}=${acked.value} (seq ${acked.commitSeq}) is missing on in-sync replica ${id}, which holds ${row === undefined ? "nothing" : `${value}@${row.version}`}`,
          );
        }
      }
    }
    // A budget in search steps, not time, so that a seed's verdict never depends on the machine: the
    // checker reads its clock once every 1,024 steps, and this clock counts those reads.
    let clockReads = 0;
    const checked = checkHistory(workload.history, { timeoutMs: linearizabilityClockReadsMax, nowMs: () => clockReads++ });
    if (checked.verdict === "not-linearizable") {
      throw new SimViolation("linearizability", formatViolation(checked));
    }
    if (checked.verdict === "unknown") {
      throw new SimViolation("linearizability-undecided", `the linearizability check did not decide within about ${linearizabilityClockReadsMax * 1024} search steps`);
    }
  };

  try {
    for (const id of config.replicaIds) replicas.get(id)!.start();
    for (const coordinator of coordinators.values()) coordinator.start();
    workload.start();
    scheduleFault();
    scheduleBackup();
    world.at(settings.faultPhaseMs, heal);
    while (!done && world.runNext(Infinity)) {
      // every event is one step
    }
    if (!done) throw new Error("the simulation ran out of events");
    finalChecks();
  } catch (error) {
    if (error instanceof SimViolation) failure = fail(error.check, error.message);
    else if (error instanceof AssertionFailure) failure = fail("assertion", error.message);
    else if (error instanceof Error) failure = fail("exception", `${error.name}: ${error.message}\n${error.stack ?? ""}`);
    else throw error;
  }

  return {
    seed: options.seed,
    mutation,
    failure,
    steps: world.step,
    virtualMs: world.nowMs,
    faults: world.faults,
    paths: world.paths,
    ops: workload.ops,
    okOps: workload.okOps,
    commits: ledger.commits,
    history: workload.history,
    settings: describeSettings(settings),
  };
}

/** A failure as the CLI and the tests print it: seed, step, check, and the last events. */
export function formatFailure(result: RunResult): string {
  const failure = result.failure;
  if (failure === null) return `seed ${result.seed}: ok`;
  const lines = [
    `seed ${result.seed}${result.mutation === "none" ? "" : ` (mutation ${result.mutation})`} FAILED check "${failure.check}" at step ${failure.step} (virtual ${failure.atMs.toFixed(1)} ms)`,
    `  ${failure.message.split("\n").join("\n  ")}`,
    `  settings: ${result.settings}`,
    `  last events:`,
    ...failure.trace.map((line) => `    [${line.step} ${line.atMs.toFixed(1)}ms] ${line.text}`),
    `  replay: npm run sim -- --seed ${result.seed}${result.mutation === "none" ? "" : ` --mutation ${result.mutation}`} --trace`,
  ];
  return lines.join("\n");
}
