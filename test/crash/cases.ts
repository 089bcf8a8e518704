// The crash matrix: one case per failpoint of common/failpoints.ts. Each case starts a cluster (real
// processes, random ports, a temp dir) with that failpoint armed to crash one process at its Nth hit,
// so that the crash lands at a known step of two-phase commit in the middle of a stream of concurrent
// writes. It waits until that process died of SIGKILL and looks at the survivors at once (the state
// the crash left behind).
//   Coordinator cases run two coordinators (failover, issue 12): the failpoint is armed in the first
//   (active) one only. Once it crashed, the standby (coordinator-2) must take over and finish the
//   job while the crashed one stays down: become active in a newer epoch, settle every commit it
//   recovered from the replicas' copies of the decision log and every transaction the crash left
//   prepared, and acknowledge writes again. Only then is the crashed coordinator restarted on the same
//   data without the failpoint; it must come back as a standby that names coordinator-2 as active.
//   Replica cases run one coordinator, and crash replica r2, which is restarted once it died.
// Then the writers write a little more and stop, the case waits until the cluster settled (every
// replica back in the in-sync set, nothing in flight at the active coordinator, nothing prepared), and
// checks (test/crash/checks.ts):
//   (a) every acknowledged write is on every replica;
//   (b) every transaction is committed on all replicas or on none;
//   (c) no transaction stays in doubt once everyone is back;
//   (d) the locks are released;
//   (e) no process but the crashed one exited (a bystander, or the restarted process);
// and, from the logs and from what the survivors held while the process was down, that recovery did
// what the failpoint's description says (the "recovery" check; in coordinator cases it also checks
// the takeover, checkTakeover).
//
// test/crash/matrix.test.ts (vitest) and test/crash/cli.ts (`npm run crash`) both run these cases.
import { isActiveStatus, KvClient, type KvStatus } from "../../client/client";
import { codeName, KvError } from "../../common/errors";
import { coordinatorFailpoints, replicaFailpoints, type FailpointName } from "../../common/failpoints";
import { coordinatorName } from "../../tools/cluster/process-args";
import { TestCluster, waitFor, type Proc } from "../integration/harness";
import {
  checkAcknowledged,
  checkAllOrNone,
  checkLocksReleased,
  checkNoneInDoubt,
  checkNoOtherExit,
  checkTakeover,
  type Ack,
  type Check,
  type ReplicaContent,
  type Stored,
  type TakeoverFacts,
} from "./checks";

export type Side = "coordinator" | "replica";

export interface CrashCase {
  /** The case is named after its failpoint. */
  readonly name: FailpointName;
  readonly side: Side;
  /** The id of the process that crashes: "coordinator" (the first, active at start) or a replica id. */
  readonly processId: string;
  /** The failpoint list armed at the first start: [ID:]NAME=crash@N. */
  readonly spec: string;
  /** What the failpoint leaves behind (common/failpoints.ts). */
  readonly description: string;
}

/** The crash fires on this hit of its failpoint, once the stream has had some writes succeed. */
const crashHit = 40;
/** The replica that crashes in the replica cases (one replica only). */
const crashReplicaIndex = 1;
const writers = 8;
const keyCount = 20;
/** Writes acknowledged after the restart before the writers stop ("keep writing a little"). */
const acksAfterRestart = 40;
const crashWaitMs = 30_000;
const acksWaitMs = 30_000;
const settleWaitMs = 30_000;

const replicaIds = ["r1", "r2", "r3"] as const;
const crashReplicaId = replicaIds[crashReplicaIndex];
/** Coordinator cases run this many coordinators: the first crashes, the one at successorIndex takes over. */
const coordinatorCaseCoordinators = 2;
const successorIndex = 1;

export const crashCases: readonly CrashCase[] = [
  ...Object.entries(coordinatorFailpoints).map(([name, description]) => ({
    name: name as FailpointName,
    side: "coordinator" as const,
    processId: "coordinator",
    spec: `coordinator:${name}=crash@${crashHit}`,
    description,
  })),
  ...Object.entries(replicaFailpoints).map(([name, description]) => ({
    name: name as FailpointName,
    side: "replica" as const,
    processId: crashReplicaId,
    spec: `${crashReplicaId}:${name}=crash@${crashHit}`,
    description,
  })),
];

export const caseNames: readonly string[] = crashCases.map((crashCase) => crashCase.name);

export interface CaseResult {
  readonly name: string;
  readonly side: Side;
  readonly spec: string;
  readonly ackedWrites: number;
  readonly attemptedWrites: number;
  readonly checks: {
    readonly a: Check;
    readonly b: Check;
    readonly c: Check;
    readonly d: Check;
    readonly e: Check;
    /** Recovery did what the failpoint's description says, where the logs show it. */
    readonly recovery: Check;
  };
  readonly seconds: number;
  /** Anything else worth reading when a check fails (unexpected exits, errors of the run itself). */
  readonly notes: readonly string[];
}

export function casePassed(result: CaseResult): boolean {
  return Object.values(result.checks).every((check) => check.pass);
}

interface Failure {
  readonly key: string;
  readonly value: string;
  readonly code: number;
  readonly message: string;
}

/**
 * Writers that keep writing until stopped, each value unique, recording every attempted value (with
 * its key), every acknowledged write (with its version) and every failed one (with its code).
 */
class WriteStream {
  readonly acked: Ack[] = [];
  readonly failed: Failure[] = [];
  /** value -> key */
  readonly attempted = new Map<string, string>();
  private running = true;
  private readonly done: Promise<void>[];

  constructor(cluster: TestCluster) {
    this.done = Array.from({ length: writers }, async (_, w) => {
      const kv = cluster.client(3_000);
      for (let i = 0; this.running; i++) {
        // Writers start on different keys and move on together, so conflicts are rare but happen.
        const key = `k${(w * 31 + i) % keyCount}`;
        const value = `w${w}-${i}`;
        this.attempted.set(value, key);
        try {
          const { version } = await kv.put(key, value);
          this.acked.push({ key, value, version });
        } catch (error) {
          if (!(error instanceof KvError)) throw error;
          this.failed.push({ key, value, code: error.code, message: error.message });
          // A process is down or a key is taken: back off a little before the next write.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });
  }

  get keysUsed(): string[] {
    return [...new Set(this.attempted.values())].sort();
  }

  async waitForAcks(count: number, timeoutMs: number): Promise<void> {
    const target = this.acked.length + count;
    await waitFor(`${count} more acknowledged writes`, () => this.acked.length >= target, timeoutMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.done);
  }
}

// --- Logs --------------------------------------------------------------------------------------

type LogEvent = { readonly event?: unknown; readonly [field: string]: unknown };

/** The JSON log lines of a process whose event is `event`. */
function events(proc: Proc, event: string): LogEvent[] {
  return proc.output.flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      const parsed = JSON.parse(line) as LogEvent;
      return parsed.event === event ? [parsed] : [];
    } catch {
      return [];
    }
  });
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/**
 * Outcomes the replica processes logged learning for in-doubt transactions: by asking the coordinator
 * or a peer, or by an ABORT call (a successor aborts at once the transactions the replicas hold in
 * doubt that it did not find committed: settle-in-doubt; replicas log each record at debug).
 */
function learnedOutcomes(procs: readonly Proc[]): Map<string, { replica: string; outcome: "commit" | "abort"; from: string }[]> {
  const learned = new Map<string, { replica: string; outcome: "commit" | "abort"; from: string }[]>();
  const add = (txnId: unknown, replica: string, outcome: "commit" | "abort", from: string) => {
    if (typeof txnId !== "string") return;
    learned.set(txnId, [...(learned.get(txnId) ?? []), { replica, outcome, from }]);
  };
  for (const proc of procs) {
    for (const line of events(proc, "in-doubt-settled")) add(line.txnId, proc.name, line.outcome === "commit" ? "commit" : "abort", "coordinator");
    for (const line of events(proc, "in-doubt-settled-by-peer")) {
      add(line.txnId, proc.name, line.state === "committed" ? "commit" : "abort", `peer ${String(line.peer)}`);
    }
    for (const line of events(proc, "abort")) add(line.txnId, proc.name, "abort", "an abort record");
  }
  return learned;
}

/** Transactions for which a replica process logged (at debug) forcing a record of this kind. */
function loggedRecords(proc: Proc, kind: "commit" | "abort"): Set<string> {
  return new Set(events(proc, kind).flatMap((line) => (typeof line.txnId === "string" ? [line.txnId] : [])));
}

// --- What recovery must show, per failpoint ------------------------------------------------------

/**
 * What the survivors held right after the crash, looked at once the crashed process was gone.
 * Coordinator cases: the replicas, before the standby acts. It needs coordinatorDownAfterMs (500 ms)
 * without an answer from the crashed coordinator before it begins taking over, and this look takes a
 * few replica calls; whether it was indeed complete before the standby's "taking-over" line is known
 * from takenAtMs. The checks read "prepared here" as "no COMMIT had reached this replica since the
 * crash", which holds whenever the look was taken (a replica never goes back from committed to
 * prepared).
 */
interface Downtime {
  /** Coordinator cases: prepared transactions on each replica. */
  readonly prepared: ReadonlyMap<string, ReadonlySet<string>>;
  /** Coordinator cases: each replica's content. */
  readonly contents: readonly ReplicaContent[];
  /** Coordinator cases: when the look was complete (Date.now(), the clock of the processes' log lines); null if it failed. */
  readonly takenAtMs: number | null;
  /** Replica cases: the coordinator's transactions in flight. */
  readonly inFlight: readonly { readonly txnId: string; readonly phase: string; readonly waitingFor: readonly string[] }[];
}

/** Coordinator cases: the standby that took over, and what the case saw of it around the restart. */
interface Failover {
  /** coordinator-2, which was a standby when the first coordinator crashed. */
  readonly successor: Proc;
  /** What the successor had not finished while the crashed coordinator was down, or null. */
  readonly leftWhileDown: string | null;
  /** When the crashed coordinator was started again (Date.now()). */
  readonly restartedAtMs: number;
  /** The role the restarted coordinator reached (waited for: standby, naming the successor active). */
  readonly restartedRole: string;
}

interface Evidence {
  readonly crashCase: CrashCase;
  /** The process that crashed at the failpoint (its logs are at debug level). */
  readonly crashed: Proc;
  readonly downtime: Downtime;
  /**
   * The process started in place of the crashed one (its logs are at debug level): the restarted
   * replica, or (coordinator cases) the restarted first coordinator, a standby by then.
   */
  readonly restarted: Proc;
  /** Every replica process that ran, the crashed and restarted one included. */
  readonly replicaProcs: readonly Proc[];
  /** The coordinator process that ran while the failpoint fired (the crashed one, for a coordinator case). */
  readonly coordinator: Proc;
  /** Coordinator cases: the takeover; null in replica cases. */
  readonly failover: Failover | null;
  readonly stream: WriteStream;
  readonly final: {
    readonly contents: readonly ReplicaContent[];
    readonly inFlight: ReadonlySet<string>;
    /** Coordinator cases: the role of each coordinator once settled, by index. */
    readonly roles: readonly string[];
  };
}

/** The successor of a coordinator case (the evidence of a coordinator case always has one). */
function successorOf(evidence: Evidence): Proc {
  if (evidence.failover === null) throw new Error(`case ${evidence.crashCase.name} has no successor coordinator: not a coordinator case`);
  return evidence.failover.successor;
}

/** Transactions prepared on at least one replica right after the crash. */
function preparedSomewhere(downtime: Downtime): Set<string> {
  return new Set([...downtime.prepared.values()].flatMap((txnIds) => [...txnIds]));
}

function numberField(line: LogEvent | undefined, field: string): number | null {
  const value = line?.[field];
  return typeof value === "number" ? value : null;
}

/**
 * What checkTakeover judges, from the coordinators' logs. decisionsMissed: transactions the crashed
 * coordinator decided COMMIT (it logs "decision" only once the turn is durable, on a majority of the
 * replicas' copies), still prepared on some replica right after the crash (so not acknowledged by
 * every replica, so without an end record), and yet not among the commits the successor recovered
 * as unfinished: a successor that recovered from a copy lacking them would presume abort for them.
 * It may miss some (the SIGKILL can cut the crashed coordinator's last lines: in after-decision-log,
 * 1 of the 8 decisions of the crashing turn reached us once), never name one wrongly.
 */
function takeoverFacts(evidence: Evidence): TakeoverFacts {
  const failover = evidence.failover!;
  const { successor } = failover;
  const unfinished = new Set(events(successor, "recovered").flatMap((line) => stringList(line.unfinishedCommits)));
  const somewhere = preparedSomewhere(evidence.downtime);
  const decided = events(evidence.crashed, "decision").flatMap((line) => (typeof line.txnId === "string" ? [line.txnId] : []));
  return {
    crashed: evidence.crashed.name,
    successor: successor.name,
    crashedEpoch: numberField(events(evidence.crashed, "active").at(-1), "epoch"),
    successorActive: events(successor, "active").map((line) => ({ epoch: numberField(line, "epoch") ?? -1, timeMs: numberField(line, "time") ?? Infinity })),
    successorStoodDown: events(successor, "stood-down").length,
    decisionsMissed: decided.filter((txnId) => somewhere.has(txnId) && !unfinished.has(txnId)),
    restartedAtMs: failover.restartedAtMs,
    leftWhileDown: failover.leftWhileDown,
    restartedRole: failover.restartedRole,
    restartedTakeovers: events(evidence.restarted, "taking-over").length,
    finalRoles: { crashed: evidence.final.roles[0] ?? "unknown", successor: evidence.final.roles[successorIndex] ?? "unknown" },
  };
}

/** A field of the first "recovered" line of a process (a coordinator's node, or a replica). */
function recoveredField(proc: Proc, field: string): string[] {
  const [recovered] = events(proc, "recovered");
  return stringList(recovered?.[field]);
}

/** Transactions prepared on every replica while the coordinator was down (voted YES everywhere, undecided). */
function preparedEverywhere(downtime: Downtime): string[] {
  const [first, ...rest] = [...downtime.prepared.values()];
  if (first === undefined) return [];
  return [...first].filter((txnId) => rest.every((prepared) => prepared.has(txnId))).sort();
}

/**
 * Transactions prepared, while the coordinator was down, on a majority of the replicas (in id order):
 * as many as early answers decide on (coordinator/DESIGN.md), so the crash struck where a decision
 * could have been taken. A PREPARE to the last replica may have been lost with the crashed process.
 */
function preparedOnMajority(downtime: Downtime): string[] {
  const counts = new Map<string, number>();
  for (const prepared of downtime.prepared.values()) for (const txnId of prepared) counts.set(txnId, (counts.get(txnId) ?? 0) + 1);
  const majority = Math.floor(downtime.prepared.size / 2) + 1;
  return [...counts].filter(([, n]) => n >= majority).map(([txnId]) => txnId).sort();
}

function preparedOn(downtime: Downtime, txnId: string): string[] {
  return [...downtime.prepared].filter(([, prepared]) => prepared.has(txnId)).map(([id]) => id);
}

function brief(items: readonly string[]): string {
  return items.length === 0 ? "none" : items.length <= 5 ? items.join(",") : `${items.slice(0, 5).join(",")},... (${items.length})`;
}

/**
 * Transactions the coordinator had decided (COMMIT) and still waited on the crashed replica for:
 * "committing", or "owed" once the replica left the in-sync set and the others acknowledged.
 */
function committingWaitingForCrashed(evidence: Evidence): string[] {
  return evidence.downtime.inFlight
    .filter((txn) => txn.phase !== "preparing" && txn.waitingFor.includes(crashReplicaId))
    .map((txn) => txn.txnId);
}

/**
 * The COMMITs of a transaction a coordinator process logged (at debug level), grouped by time after
 * its decision: "+0 ms r1,r2,r3; +102 ms r2,r3". The decision turn's entries are logged before a
 * failpoint drops some of them; later ones are re-sends.
 */
function commitSends(proc: Proc, txnId: string): string {
  const decided = events(proc, "decision").find((line) => line.txnId === txnId);
  if (decided === undefined || typeof decided.time !== "number") return `no decision of ${txnId} logged`;
  const groups = new Map<number, string[]>();
  for (const line of events(proc, "send")) {
    const about = typeof line.txnId === "string" ? line.txnId : line.what;
    if (line.kind !== "commit" || about !== txnId || typeof line.to !== "string" || typeof line.time !== "number") continue;
    const afterMs = line.time - decided.time;
    groups.set(afterMs, [...(groups.get(afterMs) ?? []), line.to]);
  }
  const sends = [...groups].map(([afterMs, to]) => `+${afterMs} ms ${to.join(",")}`).join("; ");
  return `COMMIT ${txnId} logged for sending: ${sends || "never"}`;
}

const expectations: Record<FailpointName, (evidence: Evidence) => Check> = {
  "before-decision-log": (evidence) => {
    // The crashing turn's transactions sent PREPARE, and their COMMIT records (intent commits: logged
    // with the PREPAREs) reached no copy of the decision log. Proves presumed abort across a takeover: a transaction prepared on a majority
    // of the replicas after the crash (as many as an early answer needs; the PREPARE to the last may
    // have died with the process) is not among the commits the successor recovered, and every
    // replica that held it learned ABORT (from the successor, which the replicas ask once they promised it their epoch, or from a
    // peer that learned it so; the restarted coordinator, a standby, answers no outcome query), all
    // before the crashed coordinator came back (checkTakeover: nothing left prepared by then).
    const successor = successorOf(evidence);
    const unfinished = new Set(recoveredField(successor, "unfinishedCommits"));
    const learned = learnedOutcomes(evidence.replicaProcs);
    const candidates = preparedOnMajority(evidence.downtime).filter((txnId) => !unfinished.has(txnId));
    const proven = candidates.filter((txnId) => {
      const outcomes = learned.get(txnId) ?? [];
      return preparedOn(evidence.downtime, txnId).every((id) => outcomes.some((o) => o.replica === id && o.outcome === "abort")) && outcomes.every((o) => o.outcome === "abort");
    });
    if (proven.length > 0) {
      return {
        pass: true,
        detail: `${proven[0]} was prepared on ${preparedOn(evidence.downtime, proven[0]!).join(",")} after the crash and has no COMMIT record (not among the ${unfinished.size} unfinished commits ${successor.name} recovered); every replica that held it learned ABORT`,
      };
    }
    return {
      pass: false,
      detail:
        `expected a transaction prepared on a majority of the replicas after the crash, without COMMIT record, then aborted wherever it was prepared; ` +
        `prepared on a majority: ${brief(preparedOnMajority(evidence.downtime))}; recovered unfinished by ${successor.name}: ${brief([...unfinished])}; ` +
        `outcomes learned: ${candidates.map((txnId) => `${txnId}=${JSON.stringify(learned.get(txnId) ?? [])}`).join(" ") || "none"}`,
    };
  },
  "after-decision-log": (evidence) => {
    // The decision is durable on a majority of the replicas' copies of the decision log, and no COMMIT
    // left: after the crash the transaction is prepared on every replica, so only those copies know it
    // committed. Proves that the successor recovered it from the copy it chose (its "recovered" line
    // lists it among the unfinished commits), re-sent COMMIT and settled it and every other unfinished
    // commit ("recovered-txn-settled"), and that no replica learned ABORT of any of them.
    const successor = successorOf(evidence);
    const unfinished = recoveredField(successor, "unfinishedCommits");
    const settled = new Set(events(successor, "recovered-txn-settled").map((line) => String(line.txnId)));
    const everywhere = new Set(preparedEverywhere(evidence.downtime));
    const unheard = unfinished.filter((txnId) => everywhere.has(txnId));
    const unsettled = unfinished.filter((txnId) => !settled.has(txnId));
    const learned = learnedOutcomes(evidence.replicaProcs);
    const aborted = unfinished.filter((txnId) => (learned.get(txnId) ?? []).some((o) => o.outcome === "abort"));
    const pass = unheard.length > 0 && unsettled.length === 0 && aborted.length === 0;
    return {
      pass,
      detail: pass
        ? `${successor.name} recovered ${unfinished.length} unfinished commit(s); ${unheard[0]} was prepared on every replica after the crash (no replica had heard COMMIT) and ${successor.name} settled all of them`
        : `unfinished commits ${successor.name} recovered: ${brief(unfinished)}; of them prepared on every replica after the crash: ${brief(unheard)}; ` +
          `prepared on every replica after the crash: ${brief([...everywhere])}; not logged settled: ${brief(unsettled)}; learned as ABORT by a replica: ${brief(aborted)}`,
    };
  },
  "mid-commit-fanout": (evidence) => {
    // COMMIT reached one replica; the others held the transaction in doubt (seen prepared after the
    // crash, or settled by asking a peer or the successor). Proves that the successor recovered the
    // decision from the copies, re-sent COMMIT and settled it, and that no replica learned ABORT.
    const successor = successorOf(evidence);
    const unfinished = recoveredField(successor, "unfinishedCommits");
    const settled = new Set(events(successor, "recovered-txn-settled").map((line) => String(line.txnId)));
    const learned = learnedOutcomes(evidence.replicaProcs);
    const inDoubt = unfinished.filter((txnId) => preparedOn(evidence.downtime, txnId).length > 0 || (learned.get(txnId) ?? []).length > 0);
    const unsettled = unfinished.filter((txnId) => !settled.has(txnId));
    const aborted = unfinished.filter((txnId) => (learned.get(txnId) ?? []).some((o) => o.outcome === "abort"));
    const pass = inDoubt.length > 0 && unsettled.length === 0 && aborted.length === 0;
    const describe = (txnId: string) => {
      const by = (learned.get(txnId) ?? []).map((o) => `${o.replica} learned ${o.outcome} from ${o.from}`);
      return `${txnId} prepared on ${brief(preparedOn(evidence.downtime, txnId))} after the crash${by.length > 0 ? `, ${by.join(", ")}` : ""}`;
    };
    return {
      pass,
      detail: pass
        ? `${successor.name} recovered ${unfinished.length} unfinished commit(s), all settled; ${describe(inDoubt[0]!)}`
        : `unfinished commits ${successor.name} recovered: ${brief(unfinished)}; in doubt somewhere: ${brief(inDoubt)}; not logged settled: ${brief(unsettled)}; ` +
          `learned as ABORT: ${brief(aborted)}; before the crash, ${unfinished.slice(0, 2).map((txnId) => commitSends(evidence.crashed, txnId)).join("; ")}`,
    };
  },
  "after-commit-before-reply": (evidence) => {
    // The decision was durable and its COMMITs handed to the replicas' streams; the crash came before
    // the answers left. Since issue 13 the answer leaves with the durable decision, before the
    // COMMIT round, so a replica need not have applied it yet (before, this crash came after every
    // acknowledgement). Proves that the successor recovered those decisions from the copies of the
    // log, finished every one of them, and that no replica learned ABORT for any: nothing decided is
    // lost for want of an answer. (The generic checks prove that no acknowledged write was lost.)
    const successor = successorOf(evidence);
    const unfinished = recoveredField(successor, "unfinishedCommits");
    const settled = new Set(events(successor, "recovered-txn-settled").map((line) => String(line.txnId)));
    const learned = learnedOutcomes(evidence.replicaProcs);
    const unsettled = unfinished.filter((txnId) => !settled.has(txnId));
    const aborted = unfinished.filter((txnId) => (learned.get(txnId) ?? []).some((o) => o.outcome === "abort"));
    const reached = unfinished.filter((txnId) => preparedOn(evidence.downtime, txnId).length === 0);
    const pass = unfinished.length > 0 && unsettled.length === 0 && aborted.length === 0;
    return {
      pass,
      detail: pass
        ? `${successor.name} recovered ${unfinished.length} decided, unanswered commit(s) and settled all of them; ` +
          `${reached.length} of them were already applied on every replica the look after the crash reached (the crashed coordinator's COMMITs got through), the others were prepared somewhere`
        : `unfinished commits ${successor.name} recovered: ${brief(unfinished)}; not logged settled: ${brief(unsettled)}; learned as ABORT by a replica: ${brief(aborted)}`,
    };
  },
  "before-prepare-log": (evidence) => {
    // No prepare record and no vote: the replica's connection is refused and it leaves the in-sync
    // set; the transactions it was preparing commit without it (intent commits: their COMMIT records
    // went out with the PREPAREs), and it owes them. No client hears a failure naming it.
    const left = events(evidence.coordinator, "membership").filter((line) => Array.isArray(line.inSync) && !(line.inSync as unknown[]).includes(crashReplicaId));
    const refused = evidence.stream.failed.filter((failure) => failure.message.includes(`replica ${crashReplicaId}`));
    const pass = left.length > 0 && refused.length === 0;
    return {
      pass,
      detail: pass
        ? `${crashReplicaId} left the in-sync set (${String((left[0]!.inSync as unknown[]).join(","))}); no client failure names it`
        : `in-sync sets without ${crashReplicaId} logged: ${left.length}; client failures naming it: ${refused.length}${refused.length > 0 ? ` (e.g. "${refused[0]!.message}")` : ""}`,
    };
  },
  "after-prepare-log-before-vote": (evidence) => {
    // The prepare record is durable, the YES vote never left: the replica restarts with the
    // transaction in doubt, and it ends committed (intent commits: its COMMIT record was logged with
    // its PREPAREs, and it commits without this vote).
    const inDoubt = recoveredField(evidence.restarted, "inDoubt");
    const aborts = loggedRecords(evidence.restarted, "abort");
    const commits = loggedRecords(evidence.restarted, "commit");
    const committedAfter = inDoubt.filter((txnId) => commits.has(txnId) && !aborts.has(txnId));
    const pass = committedAfter.length > 0;
    return {
      pass,
      detail: pass
        ? `${crashReplicaId} restarted with ${inDoubt.length} transaction(s) in doubt (${brief(inDoubt)}) and logged COMMIT for ${brief(committedAfter)}`
        : `${crashReplicaId} restarted with in doubt: ${brief(inDoubt)}; of them committed afterwards: none (commits logged: ${brief([...commits])}, aborts: ${brief([...aborts])})`,
    };
  },
  "before-commit-log": (evidence) => {
    // COMMIT arrived, its record was not logged: the coordinator still waits for this replica's
    // acknowledgement, the replica restarts with the transaction in doubt and learns COMMIT.
    const waiting = committingWaitingForCrashed(evidence);
    const inDoubt = new Set(recoveredField(evidence.restarted, "inDoubt"));
    const commits = loggedRecords(evidence.restarted, "commit");
    const learned = waiting.filter((txnId) => inDoubt.has(txnId) && commits.has(txnId) && !evidence.final.inFlight.has(txnId));
    const pass = learned.length > 0;
    return {
      pass,
      detail: pass
        ? `${learned[0]} was decided COMMIT and unacknowledged by ${crashReplicaId} while it was down; ${crashReplicaId} restarted with it in doubt and logged its COMMIT`
        : `committing and waiting for ${crashReplicaId} while it was down: ${brief(waiting)}; in doubt at restart: ${brief([...inDoubt])}; ` +
          `commits logged after restart: ${brief([...commits])}`,
    };
  },
  "after-commit-before-ack": (evidence) => {
    // The commit is durable and applied, the acknowledgement never left: the coordinator still waits
    // for this replica while it is down; the replica restarts with it decided (not in doubt, no new
    // commit record) and the re-sent COMMIT is acknowledged, so the coordinator finishes it.
    const waiting = committingWaitingForCrashed(evidence);
    const inDoubt = new Set(recoveredField(evidence.restarted, "inDoubt"));
    const commits = loggedRecords(evidence.restarted, "commit");
    const resent = waiting.filter((txnId) => !inDoubt.has(txnId) && !commits.has(txnId) && !evidence.final.inFlight.has(txnId));
    const pass = resent.length > 0;
    return {
      pass,
      detail: pass
        ? `${resent[0]} was decided COMMIT and unacknowledged by ${crashReplicaId} while it was down; ${crashReplicaId} restarted with it committed (not in doubt) and acknowledged the re-sent COMMIT`
        : `committing and waiting for ${crashReplicaId} while it was down: ${brief(waiting)}; in doubt at restart: ${brief([...inDoubt])}; ` +
          `commits logged after restart: ${brief([...commits])}; still in flight at the end: ${brief([...evidence.final.inFlight])}`,
    };
  },
};

// --- Running a case ------------------------------------------------------------------------------

function contentOf(id: string, dump: { checksum: string; entries: { key: string; value: Buffer; version: number }[] }): ReplicaContent {
  return {
    id,
    checksum: dump.checksum,
    entries: new Map(dump.entries.map((entry): [string, Stored] => [entry.key, { value: entry.value.toString("utf8"), version: entry.version }])),
  };
}

async function contents(cluster: TestCluster): Promise<ReplicaContent[]> {
  return Promise.all(cluster.replicaIds.map(async (id, i) => contentOf(id, await cluster.dump(i))));
}

async function exitWithin(proc: Proc, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const notReached = (why: string): Check => ({ pass: false, detail: `not checked: ${why}` });

export function findCase(name: string): CrashCase {
  const crashCase = crashCases.find((candidate) => candidate.name === name);
  if (crashCase === undefined) throw new Error(`no crash case ${JSON.stringify(name)}; cases: ${caseNames.join(", ")}`);
  return crashCase;
}

export interface RunOptions {
  /** Progress lines. */
  readonly log?: (line: string) => void;
  /** More failpoints to arm at the first start, beside the case's own (to explore timings). */
  readonly arm?: string;
}

/** A status from a coordinator that says it is active (a standby's own status says nothing of the cluster's transactions). */
async function activeStatus(client: KvClient): Promise<KvStatus> {
  const status = await client.status();
  if (!isActiveStatus(status)) throw new Error(`no coordinator answers as active (one answers as ${status.role}, naming ${status.activeCoordinatorId || "none"} active)`);
  return status;
}

/** The role the coordinator at `index` reports of itself and the coordinator it names active ("down" when it does not answer). */
async function coordinatorView(cluster: TestCluster, index: number): Promise<{ role: string; activeId: string }> {
  const kv = new KvClient(cluster.coordinatorAddressOf(index), { timeoutMs: 1_000, retryForMs: 0 });
  try {
    const [probe] = await kv.probeCoordinators();
    return probe?.reachable === true ? { role: probe.status.role, activeId: probe.status.activeCoordinatorId } : { role: "down", activeId: "" };
  } finally {
    kv.close();
  }
}

/**
 * Coordinator cases, while the crashed coordinator is down: waits until the successor is active, has
 * settled every commit it recovered, no replica holds prepared any transaction it held prepared right
 * after the crash, and writes are acknowledged again. Returns what was still left when a wait timed
 * out, or null.
 */
async function waitForSuccessor(cluster: TestCluster, successor: Proc, downtime: Downtime, stream: WriteStream): Promise<string | null> {
  const leftByCrash = preparedSomewhere(downtime);
  const left = async (): Promise<string[]> => {
    const problems: string[] = [];
    const { role } = await coordinatorView(cluster, successorIndex);
    if (role !== "active") problems.push(`${successor.name} is ${role}`);
    const recovered = events(successor, "recovered");
    if (recovered.length === 0) problems.push(`${successor.name} logged no recovery`);
    const settled = new Set(events(successor, "recovered-txn-settled").map((line) => String(line.txnId)));
    const unsettled = recovered.flatMap((line) => stringList(line.unfinishedCommits)).filter((txnId) => !settled.has(txnId));
    if (unsettled.length > 0) problems.push(`recovered commits not logged settled: ${brief(unsettled)}`);
    const statuses = await Promise.all(cluster.replicaIds.map((_, i) => cluster.replicaStatus(i)));
    const stillPrepared = statuses.flatMap((status, i) =>
      status.prepared.filter((txn) => leftByCrash.has(txn.txnId)).map((txn) => `${txn.txnId} on ${cluster.replicaIds[i]!}`),
    );
    if (stillPrepared.length > 0) problems.push(`still prepared since the crash: ${brief(stillPrepared)}`);
    return problems;
  };
  let last: string[] = [];
  try {
    await waitFor(
      `${successor.name} active, its recovered commits settled, nothing left prepared by the crash`,
      async () => {
        last = await left();
        return last.length === 0;
      },
      settleWaitMs,
    );
  } catch (error) {
    return last.length > 0 ? `after ${settleWaitMs} ms: ${last.join("; ")}` : message(error);
  }
  try {
    await stream.waitForAcks(acksAfterRestart, acksWaitMs);
  } catch (error) {
    return `writes were not acknowledged by ${successor.name}: ${message(error)}`;
  }
  return null;
}

/** A coordinator case's cluster is started this many times at most until its first coordinator is the active one. */
const coordinatorStartsMax = 3;

/**
 * Starts the case's cluster, with debug logs (the protocol steps of every process, for the recovery
 * check and for diagnosis) and the case's failpoint (scoped to one process id: "coordinator" is the
 * first coordinator only). A coordinator case needs that first coordinator to be the active one, or
 * its failpoint never fires. The harness starts both coordinators at once, and on a busy machine the
 * second may take over first (a duel at start: both ask for epoch 1): such a cluster is stopped and
 * started again, noted, up to coordinatorStartsMax times; then the case fails saying so.
 */
async function startCluster(crashCase: CrashCase, notes: string[]): Promise<TestCluster> {
  const options = { failpoints: crashCase.spec, logLevel: "debug" };
  if (crashCase.side === "replica") return TestCluster.start(options);
  for (let attempt = 1; ; attempt++) {
    const cluster = await TestCluster.start({ ...options, coordinators: coordinatorCaseCoordinators });
    const active = await cluster.activeCoordinator();
    if (active === 0) return cluster;
    const why = `start ${attempt}: the first coordinator (where the failpoint is armed) is not the active one (active: ${active === null ? "none or both" : coordinatorName(active)})`;
    if (attempt >= coordinatorStartsMax) {
      await cluster.stop();
      throw new Error(`${why}; gave up after ${attempt} starts`);
    }
    notes.push(`${why}; started again`);
    await cluster.stop();
  }
}

/** Runs one case of the matrix on its own cluster; never throws for a failed check (see the result). */
export async function runCase(name: string, options: RunOptions = {}): Promise<CaseResult> {
  const found = findCase(name);
  const crashCase = options.arm === undefined ? found : { ...found, spec: `${found.spec},${options.arm}` };
  const log = (line: string) => options.log?.(`${crashCase.name}: ${line}`);
  const startedMs = Date.now();
  const notes: string[] = [];
  const checks: { a: Check; b: Check; c: Check; d: Check; e: Check; recovery: Check } = {
    a: notReached("the run stopped early"),
    b: notReached("the run stopped early"),
    c: notReached("the run stopped early"),
    d: notReached("the run stopped early"),
    e: notReached("the run stopped early"),
    recovery: notReached("the run stopped early"),
  };
  const coordinatorCase = crashCase.side === "coordinator";
  let stream: WriteStream | null = null;
  const cluster = await startCluster(crashCase, notes);
  const replicaProcs: Proc[] = cluster.replicas.filter((proc): proc is Proc => proc !== null);
  // Every process the case started: (e) fails on any of them but `armed` that is gone at the end.
  const procs: Proc[] = [...cluster.coordinatorProcs.filter((proc): proc is Proc => proc !== null), ...replicaProcs];
  const armed = coordinatorCase ? cluster.coordinator : cluster.replicas[crashReplicaIndex]!;
  try {
    stream = new WriteStream(cluster);
    const exit = await exitWithin(armed, crashWaitMs);
    const crashLine = `failpoint ${crashCase.name}: crashing (SIGKILL)`;
    const crashed = exit !== null && exit.signal === "SIGKILL" && armed.output.includes(crashLine);
    log(exit === null ? `no crash within ${crashWaitMs} ms` : `${armed.name} exited (${exit.signal ?? `code ${exit.code}`}) after ${stream.acked.length} acknowledged writes`);

    let evidence: Omit<Evidence, "final"> | null = null;
    if (exit === null) {
      checks.recovery = { pass: false, detail: `${armed.name} did not crash within ${crashWaitMs} ms: the failpoint never fired` };
    } else if (!crashed) {
      checks.recovery = {
        pass: false,
        detail: `${armed.name} exited with ${exit.signal ?? `code ${exit.code}`}, not at the failpoint; last output: ${armed.output.slice(-3).join(" | ")}`,
      };
    }
    if (exit !== null) {
      // Once the process is gone, look at the survivors at once: this is the state the failpoint left
      // behind (see Downtime for what it shows in coordinator cases, where a standby takes over
      // within about a second). Replicas in doubt may still settle some of it among themselves, by
      // asking their peers after inDoubtQueryAfterMs; they log that, and the recovery checks count it.
      let downtime: Downtime = { prepared: new Map(), contents: [], takenAtMs: null, inFlight: [] };
      try {
        if (coordinatorCase) {
          const statuses = await Promise.all(cluster.replicaIds.map((_, i) => cluster.replicaStatus(i)));
          const prepared = new Map(statuses.map((status, i) => [cluster.replicaIds[i]!, new Set(status.prepared.map((txn) => txn.txnId))]));
          downtime = { prepared, contents: await contents(cluster), takenAtMs: Date.now(), inFlight: [] };
        } else {
          const status = await cluster.client(2_000).status();
          downtime = { prepared: new Map(), contents: [], takenAtMs: Date.now(), inFlight: status.inFlight };
        }
      } catch (error) {
        notes.push(`looking at the survivors while ${armed.name} was down failed: ${message(error)}`);
      }
      let failover: Failover | null = null;
      let restarted: Proc;
      if (coordinatorCase) {
        // The standby finishes the job while the crashed coordinator stays down; then the crashed one
        // comes back, and must stand by, naming the successor active.
        const successor = cluster.coordinatorProcs[successorIndex]!;
        const leftWhileDown = await waitForSuccessor(cluster, successor, downtime, stream);
        log(leftWhileDown === null ? `${successor.name} took over and finished what the crash left` : `${successor.name} did not finish: ${leftWhileDown}`);
        const restartedAtMs = Date.now();
        restarted = cluster.startCoordinator({ logLevel: "debug" }, 0);
        let view = { role: "down", activeId: "" };
        await waitFor(
          `${restarted.name}, restarted, stands by naming ${successor.name} active`,
          async () => {
            view = await coordinatorView(cluster, 0);
            return view.role === "standby" && view.activeId === successor.name;
          },
          settleWaitMs,
        ).catch(() => undefined);
        const restartedRole = view.role === "standby" && view.activeId !== successor.name ? `standby naming ${view.activeId || "nobody"} active` : view.role;
        failover = { successor, leftWhileDown, restartedAtMs, restartedRole };
      } else {
        restarted = cluster.startReplica(crashReplicaIndex, { logLevel: "debug" });
        replicaProcs.push(restarted);
      }
      procs.push(restarted);
      log("restarted without the failpoint");
      await cluster.waitHealthy();
      await stream.waitForAcks(acksAfterRestart, acksWaitMs);
      evidence = { crashCase, crashed: armed, downtime, restarted, replicaProcs, coordinator: procs[0]!, failover, stream };
    }
    await stream.stop();
    log(`writers stopped: ${stream.acked.length} acknowledged of ${stream.attempted.size} attempted`);

    // Settled: every replica back in the in-sync set (any catch-up done), then nothing in flight at
    // the active coordinator and nothing prepared on any replica. Only an active coordinator's
    // status counts: a standby's says nothing in flight whatever the cluster does.
    let settleError: string | null = null;
    const client = cluster.client(2_000);
    try {
      await waitFor(
        "every replica in sync",
        async () => (await activeStatus(client)).replicas.every((replica) => replica.up && replica.state === "in-sync"),
        settleWaitMs,
      );
      await waitFor(
        "no transaction in flight at the active coordinator or prepared on a replica",
        async () => {
          const status = await activeStatus(client);
          if (status.inFlight.length > 0 || status.lockedKeys > 0) return false;
          const replicas = await Promise.all(cluster.replicaIds.map((_, i) => cluster.replicaStatus(i)));
          return replicas.every((replica) => replica.prepared.length === 0);
        },
        settleWaitMs,
      );
    } catch (error) {
      const replicas = await activeStatus(client).then(
        (status) => status.replicas.map((replica) => `${replica.id} ${replica.up ? "up" : "down"} ${replica.state}`).join(", "),
        (statusError: unknown) => `status failed: ${message(statusError)}`,
      );
      settleError = `${message(error)} (replicas: ${replicas})`;
    }
    const status = await activeStatus(cluster.client(5_000));
    const replicaStatuses = await Promise.all(cluster.replicaIds.map((_, i) => cluster.replicaStatus(i)));
    checks.c = checkNoneInDoubt({
      settleError,
      inFlight: status.inFlight,
      prepared: replicaStatuses.map((replica, i) => ({ id: cluster.replicaIds[i]!, txnIds: replica.prepared.map((txn) => txn.txnId) })),
    });
    const final = await contents(cluster);
    checks.a = checkAcknowledged(stream.acked, final);
    checks.b = checkAllOrNone(final, stream.attempted);
    if (evidence !== null && crashed) {
      const roles = coordinatorCase ? await Promise.all(cluster.coordinatorPorts.map((_, i) => cluster.roleOf(i))) : [];
      const full: Evidence = { ...evidence, final: { contents: final, inFlight: new Set(status.inFlight.map((txn) => txn.txnId)), roles } };
      const path = expectations[crashCase.name](full);
      if (coordinatorCase) {
        // Both must hold: the takeover, and the recovery path the failpoint describes.
        const takeover = checkTakeover(takeoverFacts(full));
        checks.recovery = { pass: takeover.pass && path.pass, detail: `takeover ${takeover.pass ? "ok" : "FAILED"}: ${takeover.detail}; path ${path.pass ? "ok" : "FAILED"}: ${path.detail}` };
      } else {
        checks.recovery = path;
      }
    }

    // (d) A fresh write to every key used must succeed at once: nothing else writes now, so an
    // ABORTED here is a lock that was never released.
    const fresh = cluster.client(5_000);
    const freshPuts = await Promise.all(
      stream.keysUsed.map((key) =>
        fresh.put(key, `fresh-${key}`).then(
          () => ({ key, error: null }),
          (error: unknown) => ({ key, error: error instanceof KvError ? `${codeName(error.code)}: ${error.message}` : message(error) }),
        ),
      ),
    );
    checks.d = checkLocksReleased(status.lockedKeys, freshPuts);
  } catch (error) {
    notes.push(`the run failed: ${message(error)}`);
    if (stream !== null) await stream.stop().catch((stopError: unknown) => notes.push(`stopping the writers failed: ${message(stopError)}`));
  } finally {
    // Before the case stops them, every process but the crashed one must still run: no other exit
    // is part of any case.
    const exits = await Promise.all(
      procs
        .filter((proc) => !proc.alive)
        .map(async (proc) => {
          const exit = await proc.exited;
          return { name: proc.name, pid: proc.pid, how: exit.signal ?? `code ${exit.code}`, lastOutput: proc.output.slice(-3).join(" | ") };
        }),
    );
    checks.e = checkNoOtherExit(armed.pid, exits);
    await cluster.stop();
  }
  return {
    name: crashCase.name,
    side: crashCase.side,
    spec: crashCase.spec,
    ackedWrites: stream?.acked.length ?? 0,
    attemptedWrites: stream?.attempted.size ?? 0,
    checks,
    seconds: (Date.now() - startedMs) / 1_000,
    notes,
  };
}

/** Runs cases with at most `jobs` clusters at once; reports each result as it is known. */
export async function runCases(
  names: readonly string[],
  jobs: number,
  options: RunOptions & { onResult?: (result: CaseResult) => void } = {},
): Promise<CaseResult[]> {
  for (const name of names) findCase(name);
  const results = new Array<CaseResult>(names.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(jobs, names.length)) }, async () => {
      while (next < names.length) {
        const index = next++;
        results[index] = await runCase(names[index]!, options);
        options.onResult?.(results[index]!);
      }
    }),
  );
  return results;
}

/** A gate that lets at most `jobs` callers run at once (for tests that each run one case). */
export function gate(jobs: number): <T>(run: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    while (running >= jobs) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await run();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  };
}
