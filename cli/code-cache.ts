// Runs one CommonJS file, the client bundle (dist/bundle/kv-client.js, tools/build/kv-bundle.ts),
// from V8's code cache: the bytecode of its functions as a previous run compiled them, kept in a
// file beside it. Compiling grpc-js, protobufjs, yargs and our client code again at every start cost
// `kv get` about 30 ms of its 150 (README "### Startup time"). Node 20 has no
// module.enableCompileCache (22.1+), so this does with vm.Script what it does: cachedData in, and
// createCachedData() after the command ran, so that the functions compiled lazily while it ran are
// in the cache too.
//
// V8 checks that a cache was made by the same V8 with the same flags, and of a source of the same
// length, not the same text: a rebuilt bundle of the same length would run the old bundle's
// bytecode. So the cache file starts with a header naming the SHA-256 of the source it was made
// from (and the Node version and architecture), and a cache whose header does not match is not
// given to V8 at all.
//
// A cache is only time: a missing, stale, corrupt or unwritable one costs the compile, never the
// command (a failure to write it is ignored: a read-only install runs without).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import * as vm from "node:vm";

/** What became of the cache file at load: used, absent, made for another source or Node, or refused by V8. */
export type CodeCacheState = "accepted" | "missing" | "stale" | "rejected";

export interface CachedModule {
  readonly exports: unknown;
  readonly cacheState: CodeCacheState;
  /**
   * Writes the cache of what has been compiled so far, unless the one loaded was accepted (call it
   * once the command ran: its lazily compiled functions are then included). Never throws.
   */
  save(): void;
}

/** The first line of a cache file, identifying the source and the runtime it was made for. */
const headerPrefix = "kv-code-cache 1";
/** A header is one short line; past this many bytes without a newline, the file is not a cache. */
const headerBytesMax = 256;

/** The cache file of a source file. */
export function cacheFileOf(filename: string): string {
  return `${filename}.cache`;
}

function headerFor(source: string): string {
  const sha256 = crypto.createHash("sha256").update(source).digest("hex");
  return `${headerPrefix} ${sha256} ${process.version} ${process.arch}\n`;
}

/** The cache's bytes after its header, when the header names this source and this runtime; else null. */
function readCache(cacheFile: string, header: string): { readonly data: Buffer | null; readonly found: boolean } {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(cacheFile);
  } catch {
    return { data: null, found: false };
  }
  const newline = bytes.subarray(0, headerBytesMax).indexOf(0x0a);
  if (newline < 0 || bytes.subarray(0, newline + 1).toString("latin1") !== header) return { data: null, found: true };
  return { data: bytes.subarray(newline + 1), found: true };
}

/**
 * Compiles and runs `filename` as a CommonJS module (with its own `require`, resolving from its
 * directory, and `module.exports`), with the code cache beside it when that cache fits.
 */
export function requireWithCodeCache(filename: string): CachedModule {
  const source = fs.readFileSync(filename, "utf8");
  const header = headerFor(source);
  const cacheFile = cacheFileOf(filename);
  const cached = readCache(cacheFile, header);
  // The wrapper of Node's own CommonJS loader (Module.wrap), so the file runs as if required.
  const wrapped = `(function (exports, require, module, __filename, __dirname) { ${source}\n});`;
  const script = new vm.Script(wrapped, { filename, ...(cached.data === null ? {} : { cachedData: cached.data }) });
  const cacheState: CodeCacheState = cached.data === null ? (cached.found ? "stale" : "missing") : script.cachedDataRejected === true ? "rejected" : "accepted";
  const module = { exports: {} as unknown };
  const moduleFunction: unknown = script.runInThisContext();
  if (typeof moduleFunction !== "function") throw new Error(`${filename}: the module wrapper did not compile to a function`);
  moduleFunction.call(module.exports, module.exports, createRequire(filename), module, filename, path.dirname(filename));
  return {
    exports: module.exports,
    cacheState,
    save: () => {
      if (cacheState === "accepted") return;
      // Written aside and renamed, so that a `kv` starting meanwhile reads the old file or the new
      // one, never half of one.
      const aside = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(aside, Buffer.concat([Buffer.from(header, "latin1"), script.createCachedData()]));
        fs.renameSync(aside, cacheFile);
      } catch {
        try {
          fs.rmSync(aside, { force: true });
        } catch {
          // Nothing was written, or nothing can be removed: either way the next run compiles again.
        }
      }
    },
  };
}
