// How bin/kv.js starts `kv`: the data commands (put, get, del, incr, cas, txn, ...: the ones a
// person or a script runs again and again, where startup is most of the time) run from the client
// bundle, dist/bundle/kv-client.js, with its V8 code cache (cli/code-cache.ts); every other command,
// and every command when the bundle was not built (`tsc` alone, as `npm run prepare` does), runs
// from dist/cli/main.js. The bundle is cli/main.ts itself, bundled by tools/build/kv-bundle.ts with
// its dependencies (yargs, grpc-js, protobufjs/light) into one file: the same parser, the same
// commands, the same messages and exit codes, and one file read instead of about 140 module
// resolutions (README "### Startup time").
import * as fs from "node:fs";
import * as path from "node:path";
import { requireWithCodeCache } from "./code-cache";

/**
 * The commands (and aliases) that run from the bundle: those of cli/commands/data.ts, the one
 * command module the bundle holds (tools/build/kv-bundle.ts puts in every other one a module that
 * throws, so that a command listed here by mistake fails loudly; test/unit/kv-bundle.test.ts runs
 * each of these).
 */
export const bundledCommands: ReadonlySet<string> = new Set(["put", "get", "del", "delete", "incr", "decr", "cas", "cad", "txn", "txn-status"]);

/** The client bundle, as tools/build/kv-bundle.ts writes it (this module runs from dist/cli/). */
export const clientBundle = path.join(__dirname, "..", "bundle", "kv-client.js");

/** The unbundled entry, what `tsc` writes (this module runs from dist/cli/). */
const mainModule = path.join(__dirname, "main.js");

/**
 * Whether the bundle may run: it exists, and no `tsc` ran after the build made it (dist/cli/main.js
 * not newer), as after `npx tsc` alone on a changed tree: a stale bundle would run the old code.
 */
export function bundleUsable(bundle: string, main: string): boolean {
  try {
    return fs.statSync(bundle).mtimeMs >= fs.statSync(main).mtimeMs;
  } catch {
    return false;
  }
}

type Main = (args: string[]) => Promise<number>;

function isMain(value: unknown): value is { main: Main } {
  return typeof value === "object" && value !== null && typeof (value as { main?: unknown }).main === "function";
}

/** Runs `kv args` and resolves to its exit code. */
export async function start(args: string[]): Promise<number> {
  const first = args[0];
  if (first !== undefined && bundledCommands.has(first) && bundleUsable(clientBundle, mainModule)) {
    const bundle = requireWithCodeCache(clientBundle);
    if (!isMain(bundle.exports)) throw new Error(`${clientBundle} exports no main(); rebuild it with npm run build`);
    const code = await bundle.exports.main(args);
    bundle.save();
    return code;
  }
  const main = (require("./main") as typeof import("./main")).main;
  return main(args);
}
