// The checks of the crash matrix (the five general ones, and the takeover that the coordinator cases
// check beside their recovery path), as pure functions of what the writers saw, what the replicas
// hold once everyone is back and what the coordinators logged: each says pass or fail and, in one
// line, why. They take plain data (no cluster), so that test/crash/checks.test.ts can show that each
// of them does fail when the property it checks is broken.

export interface Check {
  readonly pass: boolean;
  readonly detail: string;
}

/** A write the coordinator acknowledged, with the version (commit sequence number) it returned. */
export interface Ack {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

export interface Stored {
  readonly value: string;
  readonly version: number;
}

/** One replica's content once settled: key -> value and version. */
export interface ReplicaContent {
  readonly id: string;
  readonly checksum: string;
  readonly entries: ReadonlyMap<string, Stored>;
}

/** At most this many offending items are named in a detail line. */
const namedMax = 3;

function named(items: readonly string[]): string {
  return items.length <= namedMax ? items.join("; ") : `${items.slice(0, namedMax).join("; ")}; and ${items.length - namedMax} more`;
}

/** The acknowledged write with the highest version, per key. */
export function lastAckedByKey(acked: readonly Ack[]): Map<string, Ack> {
  const last = new Map<string, Ack>();
  for (const ack of acked) {
    const previous = last.get(ack.key);
    if (previous === undefined || ack.version > previous.version) last.set(ack.key, ack);
  }
  return last;
}

/**
 * (a) Every acknowledged write is present on every replica: each key holds its last acknowledged
 * write, or a later version (a later write whose acknowledgement was lost, or acknowledged too).
 * Two acknowledged writes never share a version (a version is the commit sequence number of one
 * transaction).
 */
export function checkAcknowledged(acked: readonly Ack[], replicas: readonly ReplicaContent[]): Check {
  const problems: string[] = [];
  const byVersion = new Map<number, Ack>();
  for (const ack of acked) {
    const other = byVersion.get(ack.version);
    if (other !== undefined) problems.push(`version ${ack.version} acknowledged twice: ${other.key}=${other.value} and ${ack.key}=${ack.value}`);
    else byVersion.set(ack.version, ack);
  }
  const last = lastAckedByKey(acked);
  for (const replica of replicas) {
    for (const [key, ack] of last) {
      const stored = replica.entries.get(key);
      if (stored === undefined) {
        problems.push(`${replica.id} lacks key ${key} (acknowledged ${ack.value} at version ${ack.version})`);
      } else if (stored.version < ack.version) {
        problems.push(`${replica.id} holds ${key}=${stored.value} at version ${stored.version}, older than acknowledged ${ack.value} at version ${ack.version}`);
      } else if (stored.version === ack.version && stored.value !== ack.value) {
        problems.push(`${replica.id} holds ${key}=${stored.value} at version ${stored.version}, where ${ack.value} was acknowledged`);
      }
    }
  }
  if (acked.length === 0) problems.push("no write was acknowledged at all, so nothing was checked");
  if (problems.length > 0) return { pass: false, detail: named(problems) };
  return {
    pass: true,
    detail: `${acked.length} acknowledged writes over ${last.size} keys: every replica holds the last acknowledged version of each key, or a later one`,
  };
}

/**
 * (b) Every transaction is committed on all replicas or on none: the replicas are identical (equal
 * checksums, and equal entries), and every stored value is one a client attempted, under the key it
 * was written to (values are unique, so a value names its write).
 */
export function checkAllOrNone(replicas: readonly ReplicaContent[], attempted: ReadonlyMap<string, string>): Check {
  const problems: string[] = [];
  const [first, ...rest] = replicas;
  if (first === undefined) return { pass: false, detail: "no replica content to compare" };
  for (const replica of rest) {
    if (replica.checksum !== first.checksum) problems.push(`checksum of ${replica.id} ${replica.checksum} != ${first.id} ${first.checksum}`);
    const keys = new Set([...first.entries.keys(), ...replica.entries.keys()]);
    for (const key of [...keys].sort()) {
      const a = first.entries.get(key);
      const b = replica.entries.get(key);
      if (a?.value !== b?.value || a?.version !== b?.version) {
        const show = (entry: Stored | undefined) => (entry === undefined ? "nothing" : `${entry.value}@${entry.version}`);
        problems.push(`key ${key}: ${first.id} holds ${show(a)}, ${replica.id} holds ${show(b)}`);
        break;
      }
    }
  }
  for (const replica of replicas) {
    for (const [key, stored] of replica.entries) {
      const attemptedKey = attempted.get(stored.value);
      if (attemptedKey === undefined) problems.push(`${replica.id} holds ${key}=${stored.value}, a value no client wrote`);
      else if (attemptedKey !== key) problems.push(`${replica.id} holds ${stored.value} under ${key}; it was written to ${attemptedKey}`);
    }
  }
  if (problems.length > 0) return { pass: false, detail: named(problems) };
  return {
    pass: true,
    detail: `${replicas.length} replicas identical (checksum ${first.checksum.slice(0, 12)}, ${first.entries.size} keys), every value one a client wrote to that key`,
  };
}

export interface InDoubtState {
  /** Why waiting for the cluster to settle failed, or null when it settled. */
  readonly settleError: string | null;
  /** Transactions the coordinator still runs. */
  readonly inFlight: readonly { readonly txnId: string; readonly phase: string; readonly waitingFor: readonly string[] }[];
  /** Prepared (undecided) transactions, per replica. */
  readonly prepared: readonly { readonly id: string; readonly txnIds: readonly string[] }[];
}

/** (c) No transaction stays in doubt once everyone is back: nothing in flight, nothing prepared. */
export function checkNoneInDoubt(state: InDoubtState): Check {
  const problems: string[] = [];
  if (state.settleError !== null) problems.push(state.settleError);
  for (const txn of state.inFlight) problems.push(`coordinator still runs ${txn.txnId} (${txn.phase}, waiting for ${txn.waitingFor.join(",") || "nobody"})`);
  for (const replica of state.prepared) {
    if (replica.txnIds.length > 0) problems.push(`${replica.id} holds ${replica.txnIds.length} prepared: ${replica.txnIds.slice(0, namedMax).join(", ")}`);
  }
  if (problems.length > 0) return { pass: false, detail: named(problems) };
  return { pass: true, detail: `nothing in flight at the coordinator, nothing prepared on ${state.prepared.length} replicas` };
}

/** (d) The locks are released: no key locked at the coordinator, and a fresh put on every key used succeeds. */
export function checkLocksReleased(lockedKeys: number, freshPuts: readonly { readonly key: string; readonly error: string | null }[]): Check {
  const problems: string[] = [];
  if (lockedKeys !== 0) problems.push(`the coordinator reports ${lockedKeys} locked keys once settled`);
  for (const put of freshPuts) if (put.error !== null) problems.push(`put ${put.key} failed: ${put.error}`);
  if (freshPuts.length === 0) problems.push("no key to write: the writers used none");
  if (problems.length > 0) return { pass: false, detail: named(problems) };
  return { pass: true, detail: `lockedKeys 0; a fresh put on each of the ${freshPuts.length} keys succeeded at once` };
}

/** How a process of a case ended, as the case saw it before stopping the cluster. */
export interface ProcessExit {
  /** "coordinator" or a replica id. */
  readonly name: string;
  readonly pid: number;
  /** "SIGKILL", "code 1", ... */
  readonly how: string;
  /** Its last lines of output, for the reader of a failure. */
  readonly lastOutput: string;
}

/**
 * (e) No process exits but the one the case crashes: every other process of the case (the
 * bystanders, and the one started in place of the crashed one) is still running when the case is
 * over, before it stops them. A bystander that dies, say of a failed assertion while it settles what
 * the crash left, would otherwise pass unseen whenever the survivors go on without it (the
 * coordinator drops a dead replica from the in-sync set and keeps writing).
 */
export function checkNoOtherExit(crashedPid: number, exits: readonly ProcessExit[]): Check {
  const others = exits.filter((exit) => exit.pid !== crashedPid);
  if (others.length > 0) {
    return { pass: false, detail: named(others.map((exit) => `${exit.name} (pid ${exit.pid}) exited unexpectedly (${exit.how}); last output: ${exit.lastOutput}`)) };
  }
  return { pass: true, detail: "every process but the crashed one ran until the end of the case" };
}

/** What a coordinator case saw of the failover, from the coordinators' logs and roles. */
export interface TakeoverFacts {
  /** The crashed coordinator's name, and the standby's. */
  readonly crashed: string;
  readonly successor: string;
  /** The epoch the crashed coordinator was active in (its "active" line), null if it logged none. */
  readonly crashedEpoch: number | null;
  /** Each "active" line of the successor: the epoch, and when (the processes' clock, ms). */
  readonly successorActive: readonly { readonly epoch: number; readonly timeMs: number }[];
  /** "stood-down" lines of the successor. */
  readonly successorStoodDown: number;
  /**
   * COMMIT decisions the crashed coordinator had made durable and not finished (still prepared on
   * some replica after the crash) that the successor did not recover as unfinished commits.
   */
  readonly decisionsMissed: readonly string[];
  /** When the crashed coordinator was started again (null: it was not). */
  readonly restartedAtMs: number | null;
  /**
   * What the crash left that was not finished while the crashed coordinator was down (recovered
   * commits not settled, transactions still prepared, no writes acknowledged), or null when the
   * successor finished it all before the restart.
   */
  readonly leftWhileDown: string | null;
  /** The role the restarted coordinator reached once back ("standby" expected). */
  readonly restartedRole: string;
  /** "taking-over" lines of the restarted coordinator (none expected: another is active). */
  readonly restartedTakeovers: number;
  /** Roles once everything settled, at the end of the case. */
  readonly finalRoles: { readonly crashed: string; readonly successor: string };
}

/**
 * (recovery, coordinator cases) The standby took over: it became active once, in an epoch newer than
 * the crashed coordinator's, before the crashed one was restarted; it recovered every durable,
 * unfinished COMMIT decision of the crashed one; it finished what the crash left while the crashed
 * one was down; and the crashed one, restarted, stands by (it never took over: the successor never
 * stood down) with the successor still active at the end.
 */
export function checkTakeover(facts: TakeoverFacts): Check {
  const { crashed, successor } = facts;
  const problems: string[] = [];
  const [active, ...again] = facts.successorActive;
  if (active === undefined) problems.push(`${successor} never became active`);
  else {
    if (again.length > 0) problems.push(`${successor} became active ${facts.successorActive.length} times (epochs ${facts.successorActive.map((a) => a.epoch).join(", ")})`);
    if (facts.crashedEpoch === null) problems.push(`${crashed} logged no epoch it was active in`);
    else if (active.epoch <= facts.crashedEpoch) problems.push(`${successor} became active with epoch ${active.epoch}, not newer than ${crashed}'s ${facts.crashedEpoch}`);
    if (facts.restartedAtMs !== null && active.timeMs >= facts.restartedAtMs) problems.push(`${successor} became active only after ${crashed} was restarted`);
  }
  if (facts.successorStoodDown > 0) problems.push(`${successor} stood down ${facts.successorStoodDown} time(s)`);
  if (facts.decisionsMissed.length > 0) {
    const shown = facts.decisionsMissed.slice(0, namedMax).join(", ");
    problems.push(`${successor} did not recover ${facts.decisionsMissed.length} COMMIT decision(s) ${crashed} had made durable and not finished: ${shown}`);
  }
  if (facts.leftWhileDown !== null) problems.push(`not finished while ${crashed} was down: ${facts.leftWhileDown}`);
  if (facts.restartedAtMs === null) problems.push(`${crashed} was not restarted`);
  else {
    if (facts.restartedRole !== "standby") problems.push(`${crashed}, restarted, is ${facts.restartedRole}, not a standby`);
    // A takeover it merely tried is allowed: on a loaded machine a process just started may not hear
    // the active one within coordinatorStartGraceMs, and its first proposal (an epoch from nothing it
    // has heard) is refused by the replicas, which promised a newer one. Taking over for real would
    // show as the successor standing down, or as the roles at the end.
  }
  if (facts.finalRoles.crashed !== "standby" || facts.finalRoles.successor !== "active") {
    problems.push(`at the end ${crashed} is ${facts.finalRoles.crashed} and ${successor} is ${facts.finalRoles.successor}`);
  }
  if (problems.length > 0) return { pass: false, detail: named(problems) };
  return {
    pass: true,
    detail:
      `${successor} took over (epoch ${facts.crashedEpoch} -> ${active!.epoch}) and finished what the crash left while ${crashed} was down; ` +
      `${crashed} came back as a standby${facts.restartedTakeovers > 0 ? ` (after ${facts.restartedTakeovers} takeover(s) it tried and lost)` : ""}`,
  };
}
