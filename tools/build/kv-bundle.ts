// The last step of `npm run build`, after tsc: bundles the `kv` command's client path into one file,
// dist/bundle/kv-client.js, with esbuild, and makes its V8 code cache (dist/bundle/kv-client.js.cache)
// by running `kv get` once against an address where nothing listens. cli/start.ts runs the data
// commands (put, get, del, ...) from it: one file to read and a cache of compiled code, instead of
// about 140 modules to resolve, read and compile (README "### Startup time").
//
// The entry is dist/cli/main.js, the very parser of `kv`. Of the command modules it requires lazily,
// only cli/commands/data.ts is bundled; each of the others becomes a module that throws, naming
// itself, so that a command cli/start.ts sends to the bundle by mistake fails loudly instead of
// loading a second copy of our modules (a second KvError class, which main()'s `instanceof` would
// not recognise). @grpc/proto-loader and the full protobufjs stay outside: grpc-js requires them
// only for channelz and ORCA, which a client never serves.
//
//   node dist/tools/build/kv-bundle.js      (npm run build runs it)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";

const repoRoot = path.resolve(__dirname, "..", "..", "..");
const entry = path.join(repoRoot, "dist", "cli", "main.js");
const outfile = path.join(repoRoot, "dist", "bundle", "kv-client.js");

/** The command modules of cli/main.ts the bundle holds (cli/start.ts bundledCommands are theirs). */
const bundledCommandModules: ReadonlySet<string> = new Set(["./commands/data"]);
/** A command module of cli/main.ts: under commands/, or named *-command. */
const commandModulePattern = /^\.\/(commands\/[a-z-]+|[a-z-]+-command)$/;
/** Packages left outside the bundle, required from node_modules if ever (see above). */
const externalPackages = /^(@grpc\/proto-loader|protobufjs)$/;

/**
 * A few packages find files beside their own code with __dirname (yargs its translations, grpc-js
 * the .proto files of channelz and ORCA). In the bundle __dirname would be dist/bundle/, so each
 * such use becomes the package's own directory, resolved when the bundle runs. Checked here: the
 * package the bundle will resolve must be the very one bundled (not another copy, nested deeper).
 */
function packageDirnameOf(file: string): string {
  const match = /^(.*\/node_modules\/)((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(file);
  if (match === null) throw new Error(`${file} uses __dirname and is not in a package`);
  const [, modules, name, rest] = match;
  const packageJson = `${name!}/package.json`;
  const resolved = fs.realpathSync(require.resolve(packageJson, { paths: [path.dirname(outfile)] }));
  if (resolved !== fs.realpathSync(path.join(modules!, packageJson))) throw new Error(`${file} uses __dirname, and the bundle would resolve ${name!} to another copy: ${resolved}`);
  return `require("path").join(require("path").dirname(require.resolve(${JSON.stringify(packageJson)})), ${JSON.stringify(path.posix.dirname(rest!))})`;
}

const kvBundlePlugin: esbuild.Plugin = {
  name: "kv-client-bundle",
  setup(build) {
    build.onResolve({ filter: commandModulePattern }, (args) => {
      if (args.importer !== entry || bundledCommandModules.has(args.path)) return undefined;
      return { path: args.path, namespace: "kv-not-bundled" };
    });
    build.onLoad({ filter: /.*/, namespace: "kv-not-bundled" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(
        `kv: ${args.path} is not in the client bundle (dist/bundle/kv-client.js): cli/start.ts must run this command from dist/cli/main.js`,
      )});`,
      loader: "js",
    }));
    build.onResolve({ filter: externalPackages }, (args) => ({ path: args.path, external: true }));
    // The require.resolve calls put in by the __dirname rewrite below: resolved when the bundle runs.
    build.onResolve({ filter: /\/package\.json$/ }, (args) => (args.kind === "require-resolve" ? { path: args.path, external: true } : undefined));
    build.onLoad({ filter: /\/node_modules\/.*\.c?js$/ }, async (args) => {
      const contents = await fs.promises.readFile(args.path, "utf8");
      if (!/\b__dirname\b/.test(contents)) return undefined;
      return { contents: contents.replace(/\b__dirname\b/g, `(${packageDirnameOf(args.path)})`), loader: "js" };
    });
  },
};

async function main(): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    plugins: [kvBundlePlugin],
    logLevel: "warning",
    banner: { js: "// The client bundle of `kv`, written by tools/build/kv-bundle.ts (npm run build): do not edit." },
  });
  // The cache of the bundle just written: made by one `kv get` (refused at once: nothing listens on
  // port 1), so that the first real one starts from it. A stale cache is refused by its header anyway.
  fs.rmSync(`${outfile}.cache`, { force: true });
  const run = spawnSync(process.execPath, [path.join(repoRoot, "bin", "kv.js"), "get", "k", "--coordinator", "127.0.0.1:1", "--retry-for", "0"], { encoding: "utf8" });
  if (run.status !== 4) throw new Error(`the bundle's first run (kv get, nothing listening) exited ${String(run.status)}, not 4: ${run.stderr.trim()}`);
  if (!fs.existsSync(`${outfile}.cache`)) throw new Error(`the bundle's first run wrote no code cache (${outfile}.cache)`);
}

main().catch((error: unknown) => {
  console.error(`kv-bundle: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
