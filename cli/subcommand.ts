// One subcommand of `kv`, as the modules under cli/ define it and cli/main.ts registers it. A
// subcommand's `run` returns its exit code (cli/exit.ts) instead of setting one shared variable,
// so each command is a value that main() lists in the order `kv --help` shows them.
import type { ArgumentsCamelCase, Argv } from "yargs";

/** What a module under cli/ writes down for one subcommand; `U` is the type of its parsed flags. */
export interface SubcommandSpec<U> {
  /** The yargs command string, with its positionals (e.g. "put <key> <value>"), or several aliases. */
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder: (y: Argv) => Argv<U>;
  /** Carries the command out; resolves to the process's exit code. May throw: main() reports it. */
  readonly run: (argv: ArgumentsCamelCase<U>) => Promise<number>;
}

/** Adds a subcommand to the parser; its handler hands the exit code to `exit` once it has run. */
export type Subcommand = (parser: Argv, exit: (code: number) => void) => Argv;

export function subcommand<U>(spec: SubcommandSpec<U>): Subcommand {
  return (parser, exit) =>
    parser.command(spec.command, spec.describe, spec.builder, async (argv) => {
      exit(await spec.run(argv));
    });
}
