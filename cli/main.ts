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
import { backupCommand, restoreCommand } from "./commands/backup";
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
  backupCommand,
  restoreCommand,
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
