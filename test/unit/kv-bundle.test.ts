// The client bundle and its code cache (README "### Startup time"): `kv put/get/del/...` run from
// dist/bundle/kv-client.js, cli/main.ts bundled by tools/build/kv-bundle.ts, through V8's code
// cache (cli/code-cache.ts). This proves that
// - each command bin/kv.js sends to the bundle prints and exits exactly as dist/cli/main.js does
//   (its --help, usage errors, a refused call, a malformed transaction), and loads neither
//   dist/cli/main.js nor any node_modules file, while other commands still run from dist/cli/main.js;
// - a command module the bundle does not hold fails loudly there, naming itself;
// - the cache is made on the first run, used as is on the next, and never used for another source:
//   a bundle edited to the same length (which V8's own check lets through) runs its new code; a
//   corrupt cache is refused and remade; a cache that cannot be written costs nothing but time.
// Every run is a child process (the module cache and V8's are those of a real `kv`). Nothing listens
// on 127.0.0.1:1, so a call there is refused at once. Run after `npm run build` (it tests dist/).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundledCommands, bundleUsable } from "../../cli/start";

const repoRoot = path.resolve(__dirname, "..", "..");
const kvScript = path.join(repoRoot, "bin", "kv.js");
const mainModule = path.join(repoRoot, "dist", "cli", "main.js");
const codeCacheModule = path.join(repoRoot, "dist", "cli", "code-cache.js");
const distBundle = path.join(repoRoot, "dist", "bundle", "kv-client.js");
const nowhere = ["--coordinator", "127.0.0.1:1", "--retry-for", "0"];

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: "utf8", timeout: 30_000, env: { ...process.env, ...env } });
  if (result.error !== undefined) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `kv args` as a user runs it: bin/kv.js. */
const kv = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Run => node([kvScript, ...args], env);

/** `kv args` run by dist/cli/main.js itself, without the bundle: the reference. */
const kvFromMain = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Run =>
  node(["-e", `require(${JSON.stringify(mainModule)}).main(${JSON.stringify(args)}).then((code) => process.exit(code))`], env);

/** The module files a `kv args` process (bin/kv.js) had loaded when it exited, relative to the repository. */
function modulesLoadedBy(args: readonly string[]): string[] {
  const dir = fs.mkdtempSync(path.join(repoRoot, "dist", "kv-bundle-test-modules-"));
  try {
    const out = path.join(dir, "modules.json");
    const preload = path.join(dir, "record.js");
    fs.writeFileSync(preload, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));`);
    node(["-r", preload, kvScript, ...args]);
    return (JSON.parse(fs.readFileSync(out, "utf8")) as string[]).filter((file) => file !== preload).map((file) => path.relative(repoRoot, fs.realpathSync(file)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("kv's data commands run from the client bundle, as dist/cli/main.js runs them", () => {
  it("the build wrote the bundle and its cache", () => {
    expect(fs.existsSync(distBundle)).toBe(true);
    expect(fs.existsSync(`${distBundle}.cache`)).toBe(true);
  });

  it("each bundled command's --help, and failures of every kind, print and exit exactly as from dist/cli/main.js", () => {
    const cases: string[][] = [...bundledCommands].map((command) => [command, "--help"]);
    cases.push(
      ["get"], // a missing positional: usage error, exit 2
      ["get", "k", "--json", "--hex", ...nowhere], // a failed .check(): exit 2
      ["get", "k", "--no-such-flag", ...nowhere], // strict: exit 2
      ["get", "k", "--coordinator", "nohost"], // the coordinator list's check
      ["get", "k", ...nowhere], // refused: UNAVAILABLE, exit 4
      ["put", "k", "v", "--request-id", "r-1", ...nowhere], // a write whose outcome stays unknown
      ["incr", "k", "1.5", ...nowhere], // the command's own usage error
      ["txn", '{"then":[{"type":"nope"}]}', ...nowhere], // a KvError INVALID_ARGUMENT thrown in the bundle: main()'s instanceof
      ["txn", "--file", "/nonexistent/txn.json", ...nowhere],
      ["gett", "k"], // not a bundled command: dist/cli/main.js, "Did you mean"
    );
    for (const args of cases) {
      const bundled = kv(args);
      const reference = kvFromMain(args);
      expect({ args, ...bundled }).toEqual({ args, ...reference });
    }
    // yargs finds its translations beside its own code (kv-bundle.ts rewrites its __dirname).
    const german = { LANG: "de_DE.UTF-8", LC_ALL: "", LC_MESSAGES: "" };
    const inGerman = kv(["get"], german);
    expect(inGerman.stderr).toContain("Nicht genügend Argumente");
    expect(inGerman).toEqual(kvFromMain(["get"], german));
  });

  it("a bundled command loads the bundle and no module file of dist/cli/main.js or node_modules; another command loads dist/cli/main.js", () => {
    const loaded = modulesLoadedBy(["get", "k", ...nowhere]);
    expect(loaded).toContain(path.join("dist", "cli", "start.js"));
    expect(loaded).toContain(path.join("dist", "cli", "code-cache.js"));
    expect(loaded.filter((file) => file.includes("node_modules") || file === path.join("dist", "cli", "main.js") || file.startsWith(path.join("dist", "client")))).toEqual([]);
    expect(modulesLoadedBy(["status", "--help"])).toContain(path.join("dist", "cli", "main.js"));
  });

  it("a command whose module the bundle does not hold fails there, naming the module", () => {
    const run = node(["-e", `require(${JSON.stringify(codeCacheModule)}).requireWithCodeCache(${JSON.stringify(distBundle)}).exports.main(["status", "--help"]).then((code) => process.exit(code))`]);
    expect(run.status).toBe(5);
    expect(run.stderr).toContain("kv: ./commands/admin is not in the client bundle");
  });
});

describe("the bundle's code cache", () => {
  let dir = "";
  let bundle = "";
  let cacheFile = "";

  beforeAll(() => {
    // Inside the repository, so that the copy resolves node_modules and proto/ as dist/bundle/ does.
    dir = fs.mkdtempSync(path.join(repoRoot, "dist", "kv-bundle-test-"));
    bundle = path.join(dir, "kv-client.js");
    cacheFile = `${bundle}.cache`;
    fs.copyFileSync(distBundle, bundle);
  });
  afterAll(() => {
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `kv get k` from the bundle copy through the cache; the cache's state at load, and what the command did. */
  function getThroughCache(): { readonly state: string; readonly status: number | null; readonly stderr: string } {
    const script = `
      const loaded = require(${JSON.stringify(codeCacheModule)}).requireWithCodeCache(${JSON.stringify(bundle)});
      loaded.exports.main(${JSON.stringify(["get", "k", ...nowhere])}).then((code) => {
        loaded.save();
        process.stdout.write(loaded.cacheState);
        process.exit(code);
      });`;
    const run = node(["-e", script]);
    return { state: run.stdout, status: run.status, stderr: run.stderr };
  }

  const unavailable = /^kv: UNAVAILABLE: get: No connection established/;

  it("is made by the first run and used, unchanged, by the next", () => {
    const first = getThroughCache();
    expect(first).toMatchObject({ state: "missing", status: 4 });
    expect(first.stderr).toMatch(unavailable);
    const made = fs.readFileSync(cacheFile);
    expect(made.subarray(0, 16).toString("latin1")).toBe("kv-code-cache 1 ");
    const second = getThroughCache();
    expect(second).toEqual({ ...first, state: "accepted" });
    expect(fs.readFileSync(cacheFile).equals(made)).toBe(true);
  });

  it("is not used for a bundle edited to the same length: the new code runs, and the cache is remade", () => {
    getThroughCache(); // a cache of the current source
    const source = fs.readFileSync(bundle, "utf8");
    // exit.ts's `kv: CODE: message`, as "KV:": same length, so V8's own check would take the old cache.
    const marker = /`kv: \$\{\(0, errors_\d+\.codeName\)/;
    expect(source).toMatch(marker);
    fs.writeFileSync(bundle, source.replace(marker, (found) => found.replace("kv:", "KV:")));
    try {
      expect(fs.statSync(bundle).size).toBe(Buffer.byteLength(source));
      const edited = getThroughCache();
      expect(edited.stderr).toMatch(/^KV: UNAVAILABLE: get: /);
      expect(edited.state).toBe("stale");
      const again = getThroughCache();
      expect(again.stderr).toMatch(/^KV: UNAVAILABLE: get: /);
      expect(again.state).toBe("accepted");
    } finally {
      fs.writeFileSync(bundle, source);
    }
  });

  it("refuses a corrupt cache or a file that is no cache, runs the command all the same, and remakes it", () => {
    getThroughCache();
    const good = fs.readFileSync(cacheFile);
    const headerBytes = good.indexOf(0x0a) + 1;
    // The right header over bytes that are not V8's: V8 refuses them.
    fs.writeFileSync(cacheFile, Buffer.concat([good.subarray(0, headerBytes), Buffer.alloc(good.length - headerBytes, 0x5a)]));
    const corrupt = getThroughCache();
    expect(corrupt).toMatchObject({ state: "rejected", status: 4 });
    expect(corrupt.stderr).toMatch(unavailable);
    expect(getThroughCache().state).toBe("accepted");
    fs.writeFileSync(cacheFile, "not a cache at all");
    const garbage = getThroughCache();
    expect(garbage).toMatchObject({ state: "stale", status: 4 });
    expect(getThroughCache().state).toBe("accepted");
  });

  it("a cache that cannot be written costs the command nothing", () => {
    // A directory where the cache file should be: it cannot be read nor replaced.
    fs.rmSync(cacheFile, { force: true });
    fs.mkdirSync(cacheFile);
    fs.writeFileSync(path.join(cacheFile, "keep"), "");
    for (let run = 0; run < 2; run++) {
      const result = getThroughCache();
      expect(result).toMatchObject({ state: "missing", status: 4 });
      expect(result.stderr).toMatch(unavailable);
    }
    expect(fs.readdirSync(dir).filter((file) => file.endsWith(".tmp"))).toEqual([]);
    fs.rmSync(cacheFile, { recursive: true });
  });
});

describe("a stale bundle", () => {
  it("is not run when dist/cli/main.js is newer (tsc ran after the build), nor when it is missing", () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, "dist", "kv-bundle-stale-"));
    try {
      const bundle = path.join(dir, "kv-client.js");
      const main = path.join(dir, "main.js");
      fs.writeFileSync(bundle, "");
      fs.writeFileSync(main, "");
      fs.utimesSync(main, new Date(1_000_000), new Date(1_000_000));
      fs.utimesSync(bundle, new Date(2_000_000), new Date(2_000_000));
      expect(bundleUsable(bundle, main)).toBe(true);
      fs.utimesSync(main, new Date(3_000_000), new Date(3_000_000));
      expect(bundleUsable(bundle, main)).toBe(false);
      expect(bundleUsable(path.join(dir, "none.js"), main)).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
