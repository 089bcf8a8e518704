// One subcommand of `kv`, as the modules under cli/ define it and cli/main.ts registers it. A
// module defines a subcommand's body (its flags and what it does); main.ts names it (the command
// string and the line of `kv --help`) and loads the module only when that command runs, or when its
// own --help is asked for: `kv get` then never loads the servers, SQLite, the benchmark or the
// checker (README "The `kv` command": startup time). A subcommand's `run` returns its exit code
// (cli/exit.ts) instead of setting one shared variable.
import type { ArgumentsCamelCase, Argv } from "yargs";

/** What a module under cli/ writes down for one subcommand; `U` is the type of its parsed flags. */
export interface SubcommandSpec<U> {
  readonly builder: (y: Argv) => Argv<U>;
  /** Carries the command out; resolves to the process's exit code. May throw: main() reports it. */
  readonly run: (argv: ArgumentsCamelCase<U>) => Promise<number>;
}

/** A subcommand's body with its flags' type erased, so that main.ts can list bodies of every type. */
export interface SubcommandBody {
  readonly builder: (y: Argv) => Argv;
  readonly run: (argv: ArgumentsCamelCase) => Promise<number>;
}

export function subcommand<U>(spec: SubcommandSpec<U>): SubcommandBody {
  return {
    builder: (y) => spec.builder(y),
    // yargs calls the handler with what this very builder parsed, so argv has U's shape.
    run: (argv) => spec.run(argv as ArgumentsCamelCase<U>),
  };
}

/** How main.ts names a subcommand: its yargs command string (with positionals, or several aliases) and its line of `kv --help`. */
export interface SubcommandHead {
  readonly command: string | readonly string[];
  readonly describe: string;
}

/** Adds a subcommand to the parser; its handler hands the exit code to `exit` once it has run. */
export type Subcommand = (parser: Argv, exit: (code: number) => void) => Argv;

/**
 * A subcommand whose body is loaded (by `load`, a require of its module) only when yargs needs it:
 * to parse its flags (the command was named, or its --help asked for) and to run it.
 */
export function lazySubcommand(head: SubcommandHead, load: () => SubcommandBody): Subcommand {
  return (parser, exit) =>
    parser.command(
      head.command,
      head.describe,
      (y) => load().builder(y),
      async (argv) => {
        exit(await load().run(argv));
      },
    );
}
