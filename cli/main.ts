// The `kv` command: talk to a running store (put, get, del, status, ...), run its processes
// (coordinator, replica, or a whole local cluster), or its tools (bench, check, chaos, demo). Each
// subcommand lives in its own module (cli/commands/, cli/*-command.ts), loaded only when it runs;
// main() lists them in the order `kv --help` shows them, parses, and returns the exit code
// (cli/exit.ts).
import yargs, { type Argv } from "yargs";
import { Code, KvError } from "../common/errors";
import { exitCodes, fail } from "./exit";
import { lazySubcommand, type Subcommand } from "./subcommand";

// Each module is required only when its command runs (cli/subcommand.ts lazySubcommand): a
// require here, typed as the module it loads, is the one way a command module enters the process.
const dataModule = (): typeof import("./commands/data") => require("./commands/data") as typeof import("./commands/data");
const adminModule = (): typeof import("./commands/admin") => require("./commands/admin") as typeof import("./commands/admin");
const serveModule = (): typeof import("./commands/serve") => require("./commands/serve") as typeof import("./commands/serve");
const benchModule = (): typeof import("./bench-command") => require("./bench-command") as typeof import("./bench-command");
const demoModule = (): typeof import("./bookstore-command") => require("./bookstore-command") as typeof import("./bookstore-command");
const chaosModule = (): typeof import("./chaos-command") => require("./chaos-command") as typeof import("./chaos-command");
const checkModule = (): typeof import("./check-command") => require("./check-command") as typeof import("./check-command");
const backupModule = (): typeof import("./commands/backup") => require("./commands/backup") as typeof import("./commands/backup");
const httpModule = (): typeof import("./http-command") => require("./http-command") as typeof import("./http-command");
const shopModule = (): typeof import("./shop-command") => require("./shop-command") as typeof import("./shop-command");

/** Every subcommand, in the order of `kv --help`, with the line `kv --help` shows for it. */
const subcommands: readonly Subcommand[] = [
  lazySubcommand({ command: "put <key> <value>", describe: "write a value (2PC across every replica)" }, () => dataModule().putCommand),
  lazySubcommand({ command: "get <key>", describe: "read a key's value" }, () => dataModule().getCommand),
  lazySubcommand({ command: ["del <key>", "delete <key>"], describe: "delete a key (2PC across every replica)" }, () => dataModule().delCommand),
  lazySubcommand(
    {
      command: ["incr <key> <delta>", "decr <key> <delta>"],
      describe: "add (incr) or subtract (decr) an integer atomically; print the new value. A missing key counts as 0 unless --must-exist",
    },
    () => dataModule().incrCommand,
  ),
  lazySubcommand(
    {
      command: "cas <key> <new-value>",
      describe: "compare-and-set: write the value only if the key has the expected value or version, or does not exist",
    },
    () => dataModule().casCommand,
  ),
  lazySubcommand(
    { command: "cad <key>", describe: "compare-and-delete: delete the key only if it has the expected value or version" },
    () => dataModule().cadCommand,
  ),
  lazySubcommand(
    {
      command: "txn [json]",
      describe:
        'run a multi-key transaction given as JSON (or - / nothing: read it from stdin), e.g. \'{"if":[{"key":"a","version":3}],"then":[{"type":"put","key":"a","value":"x"}],"else":[{"type":"get","key":"a"}]}\'',
    },
    () => dataModule().txnCommand,
  ),
  lazySubcommand(
    {
      command: "demo <name>",
      describe:
        "run a demo that checks itself: bookstore (order executors decrement stock in multi-key transactions, optionally under --chaos); " +
        "shop (the web shop's checkouts, 1,000 at once, without and with kill -9 of a coordinator and a replica)",
    },
    () => demoModule().demoCommand,
  ),
  lazySubcommand(
    { command: "txn-status <id>", describe: "what became of a transaction id or request id: COMMITTED, ABORTED or UNKNOWN (exit 0, 3, 4)" },
    () => dataModule().txnStatusCommand,
  ),
  lazySubcommand(
    {
      command: "status",
      describe:
        "show every coordinator (id, address, role, epoch, or why it is unreachable; * marks the active one), " +
        "then the active coordinator's view: each replica (up or down, last applied commit) and the transactions in flight",
    },
    () => adminModule().statusCommand,
  ),
  lazySubcommand(
    { command: "bench", describe: "hammer the coordinator with concurrent clients; print ops/s, latency percentiles and error codes" },
    () => benchModule().benchCommand,
  ),
  lazySubcommand(
    { command: "check <file>", describe: "check a history (kv bench --history) for linearizability: exit 0 linearizable, 1 not, 2 undecided" },
    () => checkModule().checkCommand,
  ),
  lazySubcommand(
    {
      command: "chaos",
      describe:
        "start a local cluster (or attach to a running kv cluster with --cluster DIR), hammer it with kv bench while injecting faults on a seeded schedule, heal, and check (non-zero exit on any violation)",
    },
    () => chaosModule().chaosCommand,
  ),
  lazySubcommand(
    { command: "resolve <txn>", describe: "operator: settle an in-doubt transaction (refused if the choice contradicts a known decision)" },
    () => adminModule().resolveCommand,
  ),
  lazySubcommand(
    {
      command: "backup <file>",
      describe:
        "write a consistent snapshot of the store to FILE (a SQLite file): SQLite's online backup of an in-sync replica, " +
        "holding exactly the commits up to the commit sequence number it prints",
    },
    () => backupModule().backupCommand,
  ),
  lazySubcommand(
    { command: "restore <file>", describe: "seed a new cluster's data directory from a snapshot of kv backup; then run kv cluster --data-dir DIR" },
    () => backupModule().restoreCommand,
  ),
  lazySubcommand({ command: "coordinator", describe: "run the coordinator process" }, () => serveModule().coordinatorCommand),
  lazySubcommand({ command: "replica", describe: "run one replica process" }, () => serveModule().replicaCommand),
  lazySubcommand(
    {
      command: "cluster",
      describe:
        "run a local cluster in the foreground: N coordinators (one active, the others stand by) and M replicas, each its own process (Ctrl-C stops it)",
    },
    () => serveModule().clusterCommand,
  ),
  lazySubcommand(
    {
      command: "http",
      describe:
        "serve the store over HTTP/JSON (GET/PUT/DELETE /v1/kv/KEY, POST /v1/txn, GET /v1/status, GET /v1/openapi.json), " +
        "calling the coordinators with the client library; stateless, until SIGINT or SIGTERM",
    },
    () => httpModule().httpCommand,
  ),
  lazySubcommand(
    {
      command: "shop",
      describe:
        "serve the web shop over HTTP (the stock, payment and orders REST API; POST /orders/checkout/ID takes stock and credit in one transaction), " +
        "on the store through the client library; stateless, until SIGINT or SIGTERM",
    },
    () => shopModule().shopCommand,
  ),
];

/** The parser without its subcommands: the program's name, usage, epilogue, and what a usage error does. */
function baseParser(): Argv {
  return yargs()
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
    );
}

export async function main(args: string[]): Promise<number> {
  let exitCode: number = exitCodes.ok;
  const setExitCode = (code: number): void => {
    exitCode = code;
  };
  const parser = subcommands.reduce((y, register) => register(y, setExitCode), baseParser()).help().alias("h", "help").version(false);
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

/** What checkKvArgs found: the subcommand and its parsed flags, or the usage error `kv` would print. */
export type KvArgsCheck = { readonly ok: true; readonly command: string; readonly argv: Readonly<Record<string, unknown>> } | { readonly ok: false; readonly error: string };

/**
 * Parses a `kv` command line with the very parser main() uses (every subcommand's flags, choices,
 * required flags, strict mode) without running the command: a middleware that runs after yargs's
 * validation and before any handler records the result and stops there. For files that hold `kv`
 * command lines, such as deploy/ (test/unit/deploy-files.test.ts). Prints nothing and never exits.
 */
export async function checkKvArgs(args: readonly string[]): Promise<KvArgsCheck> {
  const stopped = new Error("parsed; not run");
  let parsed: Record<string, unknown> | null = null;
  const parser = subcommands
    .reduce((y, register) => register(y, () => undefined), baseParser())
    .middleware((argv) => {
      parsed = argv;
      throw stopped;
    }, false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    })
    .exitProcess(false)
    .version(false);
  try {
    await parser.parseAsync([...args]);
  } catch (error) {
    if (error !== stopped) return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (parsed === null) return { ok: false, error: "no command ran past validation" };
  const argv: Record<string, unknown> = parsed;
  // yargs takes any text for a number flag and gives NaN; the command would fail on it later.
  const notNumber = Object.entries(argv).find(([, value]) => typeof value === "number" && Number.isNaN(value));
  if (notNumber !== undefined) return { ok: false, error: `--${notNumber[0]} is not a number` };
  const command = argv._ instanceof Array ? String(argv._[0]) : "";
  return { ok: true, command, argv };
}
