// The operator's commands of `kv`: status (every coordinator and its role, then the active one's
// view: each replica and the transactions in flight) and resolve (settle an in-doubt transaction by
// hand).
import { type CoordinatorProbe, isActiveStatus, KvClient, KvError, type KvStatus } from "../../client/client";
import { codeName, Unavailable } from "../../common/errors";
import { formatTable } from "../../common/table";
import { clientOptions, withClient } from "../client-options";
import { exitCodes } from "../exit";
import { subcommand } from "../subcommand";

/** Deadline of each coordinator's Status call in `kv status` (at most --timeout): a dead or paused one must not hold up the report. */
export const statusProbeTimeoutMsMax = 2_000;

export const statusCommand = subcommand({
  builder: (y) =>
    clientOptions(y).option("json", {
      type: "boolean",
      default: false,
      describe:
        "print the active coordinator's status as JSON, with activeCoordinator (its HOST:PORT, or null when none answers as active) " +
        "and coordinators ([{id, address, role, epoch, reachable, error?}], as this command found them)",
    }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const report = await coordinatorReport(client, Math.min(argv.timeout, statusProbeTimeoutMsMax));
      if (argv.json) console.log(JSON.stringify(statusJson(report), null, 2));
      else printReport(report);
      return exitCodes.ok;
    }),
});

export const resolveCommand = subcommand({
  builder: (y) =>
    clientOptions(y)
      .positional("txn", { type: "string", demandOption: true, describe: "the transaction id, as kv status shows it" })
      .option("commit", { type: "boolean", default: false, describe: "commit it (only if some process knows it committed)" })
      .option("abort", { type: "boolean", default: false, describe: "abort it (refused if any process knows it committed)" })
      .check((argv) => {
        if (argv.commit === argv.abort) throw new Error("give exactly one of --commit and --abort");
        return true;
      }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const { message } = await client.resolve(argv.txn, argv.commit ? "commit" : "abort");
      console.log(`OK ${message}`);
      return exitCodes.ok;
    }),
});

/** One coordinator as `kv status` shows it; null where an unreachable one leaves it unknown. */
export interface CoordinatorRow {
  readonly id: string | null;
  readonly address: string;
  readonly role: string | null;
  readonly epoch: number | null;
  readonly reachable: boolean;
  readonly error?: string;
}

export interface CoordinatorReport {
  /** Every coordinator asked: the list given, then any other its members name. */
  readonly coordinators: readonly CoordinatorRow[];
  /** The active coordinator's address, null when none answers as active. */
  readonly activeCoordinator: string | null;
  /** The active coordinator's status; when none is active, the first answer's (a standby's). */
  readonly status: KvStatus;
}

/**
 * Asks every coordinator of the client's list for its Status at once (deadline timeoutMs each), then
 * the coordinators their answers name that the list lacks. Rejects with the first coordinator's
 * error (naming every failure) when none answers at all.
 */
export async function coordinatorReport(client: KvClient, timeoutMs: number): Promise<CoordinatorReport> {
  const probes = await client.probeCoordinators(timeoutMs);
  const listed = new Set(probes.map((probe) => probe.address));
  const others = [...new Set(probes.flatMap((probe) => (probe.reachable ? probe.status.coordinators.map((member) => member.address) : [])))].filter(
    (address) => address !== "" && !listed.has(address),
  );
  if (others.length > 0) {
    const extra = new KvClient(others, { timeoutMs, tls: client.tls });
    try {
      probes.push(...(await extra.probeCoordinators(timeoutMs)));
    } finally {
      extra.close();
    }
  }
  return summarize(probes);
}

/** The report from the answers: which coordinator is active, and a row per coordinator. Pure. */
export function summarize(probes: readonly CoordinatorProbe[]): CoordinatorReport {
  const answers = probes.flatMap((probe) => (probe.reachable ? [probe] : []));
  const first = answers[0];
  if (first === undefined) {
    const failures = probes.flatMap((probe) => (probe.reachable ? [] : [probe.error]));
    const firstFailure = failures[0];
    if (firstFailure === undefined) throw new Unavailable("status: no coordinator to ask");
    if (failures.length === 1) throw firstFailure;
    const message = `status: no coordinator answered: ${failures.map((error) => `${codeName(error.code)}: ${error.message}`).join("; ")}`;
    throw new KvError(firstFailure.code, message, { cause: firstFailure });
  }
  // Two that both claim to be active (one paused through a takeover): the higher epoch is the one the replicas follow.
  const active = answers.filter((answer) => isActiveStatus(answer.status)).reduce<(typeof answers)[number] | null>(
    (best, answer) => (best === null || answer.status.epoch > best.status.epoch ? answer : best),
    null,
  );
  // The ids of the coordinators, as any answer lists its members: an unreachable one gets its id from them.
  const idOf = new Map<string, string>();
  for (const answer of answers) for (const member of answer.status.coordinators) if (!idOf.has(member.address)) idOf.set(member.address, member.id);
  const coordinators = probes.map((probe): CoordinatorRow => {
    if (!probe.reachable) {
      return { id: idOf.get(probe.address) ?? null, address: probe.address, role: null, epoch: null, reachable: false, error: `${codeName(probe.error.code)}: ${probe.error.message}` };
    }
    // A coordinator older than failover reports no role: it is the only one, and serves.
    const role = probe.status.role === "" ? "active" : probe.status.role;
    return { id: probe.status.coordinatorId, address: probe.address, role, epoch: probe.status.epoch, reachable: true };
  });
  return { coordinators, activeCoordinator: active?.address ?? null, status: (active ?? first).status };
}

/**
 * `kv status --json`: the fields of the active coordinator's StatusResponse, with activeCoordinator
 * and coordinators replaced by what this command found (the response's own fields of those names
 * are that coordinator's view: its configured members, the active one it knows).
 */
export function statusJson(
  report: CoordinatorReport,
): Omit<KvStatus, "activeCoordinator" | "coordinators"> & { activeCoordinator: string | null; coordinators: readonly CoordinatorRow[] } {
  return { ...report.status, activeCoordinator: report.activeCoordinator, coordinators: report.coordinators };
}

function printReport(report: CoordinatorReport): void {
  console.log("coordinators (* active):");
  const rows = report.coordinators.map((row) => [
    row.reachable && row.address === report.activeCoordinator ? "*" : " ",
    row.id ?? "?",
    row.address,
    row.role ?? "-",
    row.epoch === null ? "-" : `epoch ${row.epoch}`,
    row.reachable ? "reachable" : `unreachable: ${row.error ?? ""}`,
  ]);
  console.log(formatTable(rows).replace(/^/gm, "  "));
  if (report.activeCoordinator === null) {
    console.log(`no coordinator answers as active (a takeover may be under way); what ${report.status.coordinatorId} (${report.status.role}) reports:`);
  }
  printStatus(report.status);
}

function printStatus(status: KvStatus): void {
  console.log(`coordinator ${status.coordinatorId}: epoch ${status.epoch}, last commit seq ${status.lastCommitSeq}, ` +
    `${status.inFlight.length} transaction(s) in flight, ${status.lockedKeys} key(s) locked, on conflict: ${status.onConflict}`);
  console.log(status.ready ? "ready: writes go ahead at once" : `not ready: ${status.notReadyReason}`);
  console.log(`log: ${status.logForces} forces for ${status.logRecordsForced} records`);
  console.log(`replicas (writes need ${status.minInSync} in sync):`);
  for (const replica of status.replicas) {
    const state = replica.state.padEnd(11);
    if (replica.up) {
      const behind = Math.max(0, status.lastCommitSeq - replica.appliedSeq);
      console.log(
        `  ${replica.id}  ${replica.address}  up    ${state} applied seq ${replica.appliedSeq}` +
          `${behind > 0 ? ` (${behind} behind)` : ""}, ${replica.prepared} prepared, ${replica.keys} keys`,
      );
      for (const txn of replica.inDoubt) {
        console.log(`      in doubt: ${txn.txnId}  ${txn.ageMs} ms  locks ${txn.keys.map((k) => JSON.stringify(k)).join(", ")}`);
      }
    } else {
      console.log(`  ${replica.id}  ${replica.address}  DOWN  ${state} ${replica.error}`);
    }
  }
  if (status.inFlight.length > 0) {
    console.log("in flight:");
    for (const txn of status.inFlight) {
      console.log(`  ${txn.txnId}  ${txn.phase}  ${txn.ageMs} ms  keys ${txn.keys.map((k) => JSON.stringify(k)).join(", ")}` +
        (txn.waitingFor.length > 0 ? `  waiting for ${txn.waitingFor.join(", ")}` : ""));
    }
  }
}
