// `kv` loads what a command needs, when it needs it (issue 14: `kv get` started in about 320 ms,
// loading every command module, the servers, SQLite, the benchmark and the checker). Startup time
// itself is measured by `npm run bench:startup`, never asserted; this proves the structure that
// makes it fast: after `kv get` ran (against a coordinator address where nothing listens), no
// module of the servers (coordinator/, replica/, logs/), of the tools, of SQLite or pino, and no
// participant protocol is loaded, while the data commands are; and `kv --help` still lists every
// command, in its order. It runs the built dist/ (as bin/kv.js does) in a child process, so that
// the module cache is that of a real `kv` process.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(__dirname, "..", "..");

/** Runs main(args) of dist/cli/main.js in a fresh node process; returns every module file it loaded. */
function modulesLoadedBy(args: readonly string[]): string[] {
  const script = `
    const main = require(${JSON.stringify(path.join(repoRoot, "dist", "cli", "main.js"))}).main;
    main(${JSON.stringify(args)}).then(() => {
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));
      process.exit(0);
    });`;
  const result = spawnSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as string[]).map((file) => path.relative(repoRoot, file));
}

describe("kv loads a command's modules only when it runs", () => {
  it("kv get loads the data commands and the client, and none of the servers, tools, SQLite, pino or the participant protocol", () => {
    const loaded = modulesLoadedBy(["get", "k", "--coordinator", "127.0.0.1:1", "--retry-for", "0"]);
    expect(loaded).toContain(path.join("dist", "cli", "commands", "data.js"));
    expect(loaded).toContain(path.join("dist", "client", "client.js"));
    const heavy = loaded.filter((file) =>
      /^dist\/(coordinator|replica|logs|tools|shop)\/|^dist\/cli\/(commands\/(serve|admin)|bench-command|chaos-command|check-command|bookstore-command|shop-command|shop-demo-command)\.js$|^dist\/proto\/load\.js$|node_modules\/(better-sqlite3|pino|hdr-histogram-js|cli-progress|fastify|prom-client)\//.test(file),
    );
    expect(heavy).toEqual([]);
  });

  it("kv --help lists every command, in order, without loading any command module", () => {
    // yargs exits the process once it printed the help: the module list is written on exit.
    const script = `process.on("exit", () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));
      require(${JSON.stringify(path.join(repoRoot, "dist", "cli", "main.js"))}).main(["--help"]);`;
    const result = spawnSync(process.execPath, ["-e", script], { cwd: repoRoot, encoding: "utf8" });
    const order = ["put", "get", "del", "incr", "cas", "cad", "txn", "demo", "txn-status", "status", "bench", "check", "chaos", "resolve", "backup", "restore", "coordinator", "replica", "cluster", "http", "shop"];
    const listed = [...result.stdout.matchAll(/^ {2}kv ([a-z-]+)/gm)].map((match) => match[1]);
    expect(listed).toEqual(order);
    const loaded = (JSON.parse(result.stderr) as string[]).map((file) => path.relative(repoRoot, file));
    expect(loaded.filter((file) => file.startsWith(path.join("dist", "cli", "commands")) || file.endsWith("-command.js"))).toEqual([]);
  });
});
