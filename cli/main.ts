// The `kv` command: talk to a running store (put, get, del, status), or run its processes
// (coordinator, replica, or a whole local cluster).
//
// Exit codes: 0 success; 1 get of a key that does not exist; 2 bad usage; 3 the store refused the
// request (INVALID_ARGUMENT, ABORTED, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, ...: nothing was
// written); 4 UNAVAILABLE or DEADLINE_EXCEEDED (for a write the outcome is unknown); 5 any other
// failure (INTERNAL, DATA_LOSS, ...). Failures print the gRPC code and message on stderr.
import yargs, { type Argv } from "yargs";
import { assertNever } from "../common/assert";
import { classifyCode, Code, codeName, InvalidArgument, KvError } from "../common/errors";
import { allFailpoints, armedFailpoints, armFailpoints } from "../common/failpoints";
import { logLevels, type LogLevel } from "../common/logger";
import { createLogger } from "./logger";
import { limits } from "../common/limits";
import { parseAddress, parseMembers } from "../common/validate";
import { startCoordinator } from "../coordinator/server";
import { startReplica } from "../replica/server";
import * as fs from "node:fs";
import { defaultCoordinator, defaultRetryForMs, KvClient, type KvStatus, type TxnResult } from "../client/client";
import { parseTxnSpec } from "./txn-spec";
import { benchCommandOptions, runBenchCommand } from "./bench-command";
import { bookstoreCommandOptions, runBookstoreCommand } from "./bookstore-command";
import { chaosCommandOptions, runChaosCommand } from "./chaos-command";
import { runCheckCommand } from "./check-command";
import { runCluster } from "../tools/cluster/cluster";

export const exitCodes = { ok: 0, notFound: 1, usage: 2, refused: 3, unknownOutcome: 4, failure: 5 } as const;

function exitCodeFor(error: unknown): number {
  if (!(error instanceof KvError)) return exitCodes.failure;
  const failure = classifyCode(error.code);
  switch (failure) {
    case "refused":
      return exitCodes.refused;
    case "unavailable":
      return exitCodes.unknownOutcome;
    case "other":
      return exitCodes.failure;
    default:
      return assertNever(failure);
  }
}

function fail(error: unknown): number {
  if (error instanceof KvError) {
    console.error(`kv: ${codeName(error.code)}: ${error.message}`);
    const requestId = (error as KvError & { requestId?: string }).requestId;
    if (exitCodeFor(error) === exitCodes.unknownOutcome && requestId !== undefined) {
      console.error(`kv: the outcome is unknown; find it with: kv txn-status ${requestId}  (or retry with --request-id ${requestId})`);
    }
  } else console.error(`kv: ${error instanceof Error ? error.message : String(error)}`);
  return exitCodeFor(error);
}

async function withClient(
  argv: { coordinator: string; timeout: number; "retry-for": number },
  use: (client: KvClient) => Promise<number>,
): Promise<number> {
  const client = new KvClient(argv.coordinator, { timeoutMs: argv.timeout, retryForMs: argv["retry-for"] });
  try {
    return await use(client);
  } catch (error) {
    return fail(error);
  } finally {
    client.close();
  }
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

/** Runs a server process until SIGINT or SIGTERM, then stops it cleanly. */
async function serve(name: string, logLevel: LogLevel, start: (logger: ReturnType<typeof createLogger>) => Promise<{ stop(): Promise<void> }>): Promise<number> {
  const logger = createLogger(name, logLevel);
  let running: { stop(): Promise<void> };
  const failpoints = armedFailpoints();
  if (failpoints.length > 0) logger.warn({ event: "failpoints-armed", failpoints }, `failpoints armed: ${failpoints.join(", ")}`);
  try {
    running = await start(logger);
  } catch (error) {
    logger.fatal({ err: error }, `${name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.failure;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await running.stop();
  return exitCodes.ok;
}

function clientOptions<T>(y: Argv<T>) {
  return y
    .option("coordinator", {
      type: "string",
      default: process.env.KV_COORDINATOR ?? defaultCoordinator,
      describe: "HOST:PORT of the coordinator (or set KV_COORDINATOR)",
    })
    .option("timeout", { type: "number", default: 10_000, describe: "deadline of each attempt, in milliseconds" })
    .option("retry-for", {
      type: "number",
      default: defaultRetryForMs,
      describe: "keep retrying UNAVAILABLE and DEADLINE_EXCEEDED this many milliseconds (writes keep their request id: applied once); 0: no retry",
    });
}

/** Options of the mutating commands. */
function writeOptions<T>(y: Argv<T>) {
  return clientOptions(y).option("request-id", {
    type: "string",
    describe: "the request id (default: a fresh one); repeat a command with the same id to retry it exactly once",
  });
}

const requestOptions = (argv: { "request-id"?: string | undefined }) => (argv["request-id"] === undefined ? {} : { requestId: argv["request-id"] });

function printTxnResult(result: TxnResult, json: boolean): void {
  if (json) {
    const results = result.results.map((item) => {
      if (item.type !== "get") return item;
      return { type: "get", key: item.key, found: item.entry !== null, value: item.entry?.value.toString("utf8") ?? null, version: item.entry?.version ?? 0 };
    });
    console.log(JSON.stringify({ branch: result.branch, version: result.version, txnId: result.txnId, results }));
    return;
  }
  console.log(`OK ${result.branch} branch, ${result.version > 0 ? `version ${result.version}` : "nothing written"}, transaction ${result.txnId}`);
  for (const item of result.results) {
    switch (item.type) {
      case "put":
      case "del":
        console.log(`  ${item.type} ${JSON.stringify(item.key)}`);
        break;
      case "incr":
        console.log(`  incr ${JSON.stringify(item.key)} = ${item.value}`);
        break;
      case "get":
        console.log(`  get ${JSON.stringify(item.key)} = ${item.entry === null ? "(absent)" : `${JSON.stringify(item.entry.value.toString("utf8"))} (version ${item.entry.version})`}`);
        break;
      default:
        assertNever(item);
    }
  }
}

function readAll(file: string): string {
  return fs.readFileSync(file === "-" ? 0 : file, "utf8");
}

const failpointOption = {
  type: "string" as const,
  array: true,
  default: [] as string[],
  describe:
    "arm a failpoint, [ID:]NAME=crash|error|pause=MS[@N] (repeatable; KV_FAILPOINTS too). Names: " +
    Object.keys(allFailpoints).join(", "),
};

/** Arms the failpoints of KV_FAILPOINTS and of --failpoint for the process `id`. */
function armFromEnvironmentAndFlags(id: string, flags: string | readonly string[]): void {
  armFailpoints("KV_FAILPOINTS", process.env.KV_FAILPOINTS ?? "", id);
  for (const flag of typeof flags === "string" ? [flags] : flags) armFailpoints("--failpoint", flag, id);
}

const compactLogBytesOption = {
  type: "number" as const,
  default: limits.logCompactBytes,
  describe: "compact the write-ahead log once it grows past this many bytes (logCompactBytes)",
};

const logLevelOption = {
  type: "string" as const,
  choices: logLevels,
  default: (process.env.KV_LOG_LEVEL ?? "info") as LogLevel,
  describe: "log level (protocol steps at debug); or set KV_LOG_LEVEL",
};

export async function main(args: string[]): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const parser = yargs()
    .scriptName("kv")
    .usage("$0 <command> [options]")
    .strict()
    .demandCommand(1, "name a command")
    .recommendCommands()
    .fail((message, error) => {
      // Errors of the store travel on; anything else here is a usage error (a failed check).
      if (error instanceof KvError) throw error;
      console.error(`kv: ${message ?? error?.message}`);
      console.error("Run kv --help for the commands and their flags.");
      process.exit(exitCodes.usage);
    })
    .epilogue(
      "Exit codes: 0 ok; 1 get found no such key; 2 bad usage; 3 refused by the store (nothing written); " +
        "4 UNAVAILABLE or DEADLINE_EXCEEDED (a write's outcome is unknown); 5 other failure.",
    )
    .command(
      "put <key> <value>",
      "write a value (2PC across every replica)",
      (y) => writeOptions(y).positional("key", { type: "string", demandOption: true }).positional("value", { type: "string", demandOption: true }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const { version } = await client.put(argv.key, argv.value, requestOptions(argv));
          console.log(`OK version ${version}`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "get <key>",
      "read a key's value",
      (y) =>
        clientOptions(y)
          .positional("key", { type: "string", demandOption: true })
          .option("show-version", { type: "boolean", default: false, describe: "print the version after the value" })
          .option("json", { type: "boolean", default: false, describe: "print {key, value, version} as JSON" }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const entry = await client.get(argv.key);
          if (entry === null) {
            if (argv.json) console.log(JSON.stringify({ key: argv.key, found: false }));
            console.error(`kv: key ${JSON.stringify(argv.key)} not found`);
            return exitCodes.notFound;
          }
          if (argv.json) console.log(JSON.stringify({ key: argv.key, found: true, value: entry.value.toString("utf8"), version: entry.version }));
          else if (argv["show-version"]) console.log(`${entry.value.toString("utf8")}\t(version ${entry.version})`);
          else console.log(entry.value.toString("utf8"));
          return exitCodes.ok;
        });
      },
    )
    .command(
      ["del <key>", "delete <key>"],
      "delete a key (2PC across every replica)",
      (y) => writeOptions(y).positional("key", { type: "string", demandOption: true }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const { version } = await client.del(argv.key, requestOptions(argv));
          console.log(`OK version ${version}`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      ["incr <key> <delta>", "decr <key> <delta>"],
      "add (incr) or subtract (decr) an integer atomically; print the new value. A missing key counts as 0 unless --must-exist",
      (y) =>
        writeOptions(y)
          .positional("key", { type: "string", demandOption: true })
          .positional("delta", { type: "number", demandOption: true })
          .option("min", { type: "number", describe: "refuse (FAILED_PRECONDITION, nothing written) if the result would be below this" })
          .option("max", { type: "number", describe: "refuse if the result would be above this" })
          .option("must-exist", { type: "boolean", default: false, describe: "refuse if the key does not exist" }),
      async (argv) => {
        const decrement = argv._[0] === "decr";
        if (!Number.isSafeInteger(argv.delta)) {
          console.error(`kv: ${argv._[0]}: the delta must be an integer, not ${argv.delta}`);
          exitCode = exitCodes.usage;
          return;
        }
        exitCode = await withClient(argv, async (client) => {
          const bounds = { min: argv.min, max: argv.max, mustExist: argv["must-exist"] };
          const { value, version } = await client.increment(argv.key, decrement ? -argv.delta : argv.delta, bounds, requestOptions(argv));
          console.log(`${value}\t(version ${version})`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "cas <key> <new-value>",
      "compare-and-set: write the value only if the key has the expected value or version, or does not exist",
      (y) =>
        writeOptions(y)
          .positional("key", { type: "string", demandOption: true })
          .positional("new-value", { type: "string", demandOption: true })
          .option("expected-value", { type: "string", describe: "the value the key must hold" })
          .option("expected-version", { type: "number", describe: "the version the key must have" })
          .option("must-not-exist", { type: "boolean", describe: "the key must not exist" })
          .check((argv) => {
            const given = [argv["expected-value"] !== undefined, argv["expected-version"] !== undefined, argv["must-not-exist"] === true].filter(Boolean);
            if (given.length !== 1) throw new Error("give exactly one of --expected-value, --expected-version or --must-not-exist");
            return true;
          }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const expected =
            argv["expected-version"] !== undefined
              ? { expectedVersion: argv["expected-version"] }
              : argv["expected-value"] !== undefined
                ? { expectedValue: argv["expected-value"] }
                : { mustNotExist: true as const };
          const { version } = await client.compareAndSet(argv.key, argv["new-value"], expected, requestOptions(argv));
          console.log(`OK version ${version}`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "cad <key>",
      "compare-and-delete: delete the key only if it has the expected value or version",
      (y) =>
        writeOptions(y)
          .positional("key", { type: "string", demandOption: true })
          .option("expected-value", { type: "string", describe: "the value the key must hold" })
          .option("expected-version", { type: "number", describe: "the version the key must have" })
          .check((argv) => {
            if ((argv["expected-value"] === undefined) === (argv["expected-version"] === undefined)) throw new Error("give exactly one of --expected-value or --expected-version");
            return true;
          }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const expected = argv["expected-version"] !== undefined ? { expectedVersion: argv["expected-version"] } : { expectedValue: argv["expected-value"]! };
          const { version } = await client.compareAndDelete(argv.key, expected, requestOptions(argv));
          console.log(`OK version ${version}`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "txn [json]",
      'run a multi-key transaction given as JSON (or - / nothing: read it from stdin), e.g. \'{"if":[{"key":"a","version":3}],"then":[{"type":"put","key":"a","value":"x"}],"else":[{"type":"get","key":"a"}]}\'',
      (y) =>
        writeOptions(y)
          .positional("json", { type: "string", describe: "the transaction; - or absent: stdin" })
          .option("file", { type: "string", describe: "read the transaction from this file" })
          .option("json-output", { type: "boolean", default: false, describe: "print the result as JSON" }),
      async (argv) => {
        let source: string;
        try {
          source = argv.file !== undefined ? readAll(argv.file) : argv.json === undefined || argv.json === "-" ? readAll("-") : argv.json;
        } catch (error) {
          console.error(`kv: txn: cannot read the transaction: ${(error as Error).message}`);
          exitCode = exitCodes.usage;
          return;
        }
        exitCode = await withClient(argv, async (client) => {
          printTxnResult(await client.txn(parseTxnSpec(source), requestOptions(argv)), argv["json-output"]);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "demo <name>",
      "run a demo that checks itself: bookstore (order executors decrement stock in multi-key transactions, optionally under --chaos)",
      (y) => bookstoreCommandOptions(y.positional("name", { choices: ["bookstore"] as const, demandOption: true })),
      async (argv) => {
        try {
          exitCode = await runBookstoreCommand(argv);
        } catch (error) {
          exitCode = fail(error);
        }
      },
    )
    .command(
      "txn-status <id>",
      "what became of a transaction id or request id: COMMITTED, ABORTED or UNKNOWN (exit 0, 3, 4)",
      (y) => clientOptions(y).positional("id", { type: "string", demandOption: true }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const status = await client.txnStatus(argv.id);
          console.log(`${status.state}${status.txnId !== "" ? ` ${status.txnId}` : ""}${status.commitSeq > 0 ? ` version ${status.commitSeq}` : ""}: ${status.message}`);
          return status.state === "COMMITTED" ? exitCodes.ok : status.state === "ABORTED" ? exitCodes.refused : exitCodes.unknownOutcome;
        });
      },
    )
    .command(
      "status",
      "show the coordinator, each replica (up or down, last applied commit) and the transactions in flight",
      (y) => clientOptions(y).option("json", { type: "boolean", default: false, describe: "print the status as JSON" }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const status = await client.status();
          if (argv.json) console.log(JSON.stringify(status, null, 2));
          else printStatus(status);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "bench",
      "hammer the coordinator with concurrent clients; print ops/s, latency percentiles and error codes",
      (y) => benchCommandOptions(clientOptions(y)),
      async (argv) => {
        exitCode = await runBenchCommand(argv);
      },
    )
    .command(
      "check <file>",
      "check a history (kv bench --history) for linearizability: exit 0 linearizable, 1 not, 2 undecided",
      (y) =>
        y
          .positional("file", { type: "string", demandOption: true, describe: "a history file, JSON lines" })
          .option("timeout", { type: "number", default: 60_000, describe: "give up (exit 2) after this many milliseconds" })
          .option("json", { type: "boolean", default: false, describe: "print the result as JSON" }),
      async (argv) => {
        exitCode = await runCheckCommand({ file: argv.file, timeout: argv.timeout, json: argv.json });
      },
    )
    .command(
      "chaos",
      "start a local cluster (or attach to a running kv cluster with --cluster DIR), hammer it with kv bench while injecting faults on a seeded schedule, heal, and check (non-zero exit on any violation)",
      (y) => chaosCommandOptions(y),
      async (argv) => {
        exitCode = await runChaosCommand(argv);
      },
    )
    .command(
      "resolve <txn>",
      "operator: settle an in-doubt transaction (refused if the choice contradicts a known decision)",
      (y) =>
        clientOptions(y)
          .positional("txn", { type: "string", demandOption: true, describe: "the transaction id, as kv status shows it" })
          .option("commit", { type: "boolean", default: false, describe: "commit it (only if some process knows it committed)" })
          .option("abort", { type: "boolean", default: false, describe: "abort it (refused if any process knows it committed)" })
          .check((argv) => {
            if (argv.commit === argv.abort) throw new Error("give exactly one of --commit and --abort");
            return true;
          }),
      async (argv) => {
        exitCode = await withClient(argv, async (client) => {
          const { message } = await client.resolve(argv.txn, argv.commit ? "commit" : "abort");
          console.log(`OK ${message}`);
          return exitCodes.ok;
        });
      },
    )
    .command(
      "coordinator",
      "run the coordinator process",
      (y) =>
        y
          .option("id", { type: "string", default: "coordinator", describe: "this coordinator's id" })
          .option("listen", { type: "string", default: defaultCoordinator, describe: "HOST:PORT to serve clients and replicas on" })
          .option("data-dir", { type: "string", default: "./data/coordinator", describe: "directory of the decision log" })
          .option("replicas", { type: "string", demandOption: true, describe: "the replicas, as ID=HOST:PORT,ID=HOST:PORT,..." })
          .option("on-conflict", {
            choices: ["abort", "wait"] as const,
            default: "wait" as const,
            describe: `a transaction on a key another one holds: wait for it (the default; up to lockWaitTimeoutMs = ${limits.lockWaitTimeoutMs} ms, then ABORTED), or refuse it at once with ABORTED`,
          })
          .option("min-in-sync", {
            type: "number",
            describe: "writes need at least this many replicas in sync; a replica that fails leaves the in-sync set only while this many stay (default: 2, or 1 with one replica)",
          })
          .option("failpoint", failpointOption)
          .option("compact-log-bytes", compactLogBytesOption)
          .option("log-level", logLevelOption),
      async (argv) => {
        parseAddress("--listen", argv.listen, true);
        armFromEnvironmentAndFlags(argv.id, argv.failpoint);
        const replicas = parseMembers("--replicas", argv.replicas);
        const minInSync = argv["min-in-sync"] ?? Math.min(2, replicas.length);
        if (!Number.isInteger(minInSync) || minInSync < 1 || minInSync > replicas.length) {
          throw new InvalidArgument("--min-in-sync", `--min-in-sync must be a whole number from 1 to the number of replicas (${replicas.length})`);
        }
        exitCode = await serve("coordinator", argv["log-level"], (logger) =>
          startCoordinator({ id: argv.id, listen: argv.listen, dataDir: argv["data-dir"], replicas, onConflict: argv["on-conflict"], minInSync, compactLogBytes: argv["compact-log-bytes"], logger }),
        );
      },
    )
    .command(
      "replica",
      "run one replica process",
      (y) =>
        y
          .option("id", { type: "string", demandOption: true, describe: "this replica's id, as the coordinator's --replicas names it" })
          .option("listen", { type: "string", demandOption: true, describe: "HOST:PORT to serve the coordinator on" })
          .option("data-dir", { type: "string", demandOption: true, describe: "directory of the write-ahead log and the SQLite store" })
          .option("coordinator", { type: "string", default: defaultCoordinator, describe: "HOST:PORT of the coordinator, asked about in-doubt transactions" })
          .option("peers", {
            type: "string",
            default: "",
            describe: "the other replicas, as ID=HOST:PORT,...: asked about in-doubt transactions when the coordinator cannot be reached",
          })
          .option("failpoint", failpointOption)
          .option("compact-log-bytes", compactLogBytesOption)
          .option("log-level", logLevelOption),
      async (argv) => {
        parseAddress("--listen", argv.listen, true);
        parseAddress("--coordinator", argv.coordinator);
        armFromEnvironmentAndFlags(argv.id, argv.failpoint);
        exitCode = await serve(`replica-${argv.id}`, argv["log-level"], (logger) =>
          startReplica({
            id: argv.id,
            listen: argv.listen,
            dataDir: argv["data-dir"],
            coordinator: argv.coordinator,
            peers: argv.peers === "" ? [] : parseMembers("--peers", argv.peers),
            compactLogBytes: argv["compact-log-bytes"],
            logger,
          }),
        );
      },
    )
    .command(
      "cluster",
      "run a local cluster in the foreground: a coordinator and N replicas, each its own process (Ctrl-C stops it)",
      (y) =>
        y
          .option("data-dir", { type: "string", default: "./data", describe: "directory holding every process's data" })
          .option("host", { type: "string", default: "127.0.0.1", describe: "address every process listens on" })
          .option("port", { type: "number", default: 50051, describe: "the coordinator's port; replicas take the next ports" })
          .option("replicas", { type: "number", default: 3, describe: "how many replicas" })
          .option("on-conflict", { choices: ["abort", "wait"] as const, describe: "passed on to the coordinator (default: the coordinator's, wait)" })
          .option("min-in-sync", { type: "number", describe: "passed on to the coordinator (default: 2, or 1 with one replica)" })
          .option("log-level", logLevelOption)
          .option("json-logs", { type: "boolean", default: false, describe: "print the processes' JSON log lines as they are" }),
      async (argv) => {
        if (!Number.isInteger(argv.replicas) || argv.replicas < 1) throw new Error("--replicas must be a whole number of at least 1");
        exitCode = await runCluster({
          dataDir: argv["data-dir"],
          host: argv.host,
          port: argv.port,
          replicas: argv.replicas,
          onConflict: argv["on-conflict"],
          minInSync: argv["min-in-sync"],
          logLevel: argv["log-level"],
          jsonLogs: argv["json-logs"],
        });
      },
    )
    .help()
    .alias("h", "help")
    .version(false);
  try {
    await parser.parseAsync(args);
  } catch (error) {
    if (error instanceof KvError && error.code === Code.INVALID_ARGUMENT) {
      console.error(`kv: ${error.message}`);
      return exitCodes.usage;
    }
    return fail(error);
  }
  return exitCode;
}
