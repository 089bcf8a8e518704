// The operator's commands of `kv`: status (the coordinator, each replica and the transactions in
// flight) and resolve (settle an in-doubt transaction by hand).
import type { KvStatus } from "../../client/client";
import { clientOptions, withClient } from "../client-options";
import { exitCodes } from "../exit";
import { subcommand } from "../subcommand";

export const statusCommand = subcommand({
  command: "status",
  describe: "show the coordinator, each replica (up or down, last applied commit) and the transactions in flight",
  builder: (y) => clientOptions(y).option("json", { type: "boolean", default: false, describe: "print the status as JSON" }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const status = await client.status();
      if (argv.json) console.log(JSON.stringify(status, null, 2));
      else printStatus(status);
      return exitCodes.ok;
    }),
});

export const resolveCommand = subcommand({
  command: "resolve <txn>",
  describe: "operator: settle an in-doubt transaction (refused if the choice contradicts a known decision)",
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
