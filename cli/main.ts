// The `kv` command: talk to a running store (put, get, del, status, ...), run its processes
// (coordinator, replica, or a whole local cluster), or its tools (bench, check, chaos, demo). Each
// subcommand lives in its own module (cli/commands/, cli/*-command.ts); main() lists them in the
// order `kv --help` shows them, parses, and returns the exit code (cli/exit.ts).
import yargs, { type Argv } from "yargs";
import { Code, KvError } from "../common/errors";
import { benchCommand } from "./bench-command";
import { demoCommand } from "./bookstore-command";
import { chaosCommand } from "./chaos-command";
import { checkCommand } from "./check-command";
import { resolveCommand, statusCommand } from "./commands/admin";
import { cadCommand, casCommand, delCommand, getCommand, incrCommand, putCommand, txnCommand, txnStatusCommand } from "./commands/data";
import { clusterCommand, coordinatorCommand, replicaCommand } from "./commands/serve";
import { exitCodes, fail } from "./exit";
import { httpCommand } from "./http-command";
import type { Subcommand } from "./subcommand";

/** Every subcommand, in the order of `kv --help`. */
const subcommands: readonly Subcommand[] = [
  putCommand,
  getCommand,
  delCommand,
  incrCommand,
  casCommand,
  cadCommand,
  txnCommand,
  demoCommand,
  txnStatusCommand,
  statusCommand,
  benchCommand,
  checkCommand,
  chaosCommand,
  resolveCommand,
  coordinatorCommand,
  replicaCommand,
  clusterCommand,
  httpCommand,
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
