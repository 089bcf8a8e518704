// The data commands of `kv`: put, get, del (delete), incr and decr, cas, cad, txn, and txn-status
// (what became of a write). Each talks to the coordinator through one client (cli/client-options.ts).
import { isUtf8 } from "node:buffer";
import * as fs from "node:fs";
import { assertNever } from "../../common/assert";
import type { TxnResult } from "../../client/client";
import { clientOptions, requestOptions, withClient, writeOptions } from "../client-options";
import { exitCodes } from "../exit";
import { subcommand } from "../subcommand";
import { parseTxnSpec } from "../../client/txn-spec";

export const putCommand = subcommand({
  builder: (y) => writeOptions(y).positional("key", { type: "string", demandOption: true }).positional("value", { type: "string", demandOption: true }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const { version } = await client.put(argv.key, argv.value, requestOptions(argv));
      console.log(`OK version ${version}`);
      return exitCodes.ok;
    }),
});

export const getCommand = subcommand({
  builder: (y) =>
    clientOptions(y)
      .positional("key", { type: "string", demandOption: true })
      .option("show-version", { type: "boolean", default: false, describe: "print a tab and (version N) after the value" })
      .option("json", { type: "boolean", default: false, describe: "print {key, found, value, version} as JSON, the value in base64 (any bytes)" })
      .option("hex", { type: "boolean", default: false, describe: "print the value's bytes in hexadecimal (for a person reading bytes that are not text)" })
      .check((argv) => {
        // Not yargs' conflicts(): it counts a flag left at its default false as given.
        if (argv.json && argv.hex) throw new Error("give at most one of --json and --hex");
        return true;
      }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const entry = await client.get(argv.key);
      if (entry === null) {
        if (argv.json) console.log(JSON.stringify({ key: argv.key, found: false }));
        console.error(`kv: key ${JSON.stringify(argv.key)} not found`);
        return exitCodes.notFound;
      }
      if (argv.json) {
        console.log(JSON.stringify({ key: argv.key, found: true, value: entry.value.toString("base64"), version: entry.version }));
        return exitCodes.ok;
      }
      // The value's bytes as stored, not decoded: a value that is not UTF-8 must not come out as
      // replacement characters (EF BF BD). One newline after it, as before, for a shell's $(...).
      const value = argv.hex ? Buffer.from(entry.value.toString("hex"), "latin1") : entry.value;
      const after = argv["show-version"] ? `\t(version ${entry.version})\n` : "\n";
      process.stdout.write(Buffer.concat([value, Buffer.from(after, "utf8")]));
      return exitCodes.ok;
    }),
});

export const delCommand = subcommand({
  builder: (y) => writeOptions(y).positional("key", { type: "string", demandOption: true }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const { version } = await client.del(argv.key, requestOptions(argv));
      console.log(`OK version ${version}`);
      return exitCodes.ok;
    }),
});

export const incrCommand = subcommand({
  builder: (y) =>
    writeOptions(y)
      .positional("key", { type: "string", demandOption: true })
      .positional("delta", { type: "number", demandOption: true })
      .option("min", { type: "number", describe: "refuse (FAILED_PRECONDITION, nothing written) if the result would be below this" })
      .option("max", { type: "number", describe: "refuse if the result would be above this" })
      .option("must-exist", { type: "boolean", default: false, describe: "refuse if the key does not exist" }),
  run: async (argv) => {
    const decrement = argv._[0] === "decr";
    if (!Number.isSafeInteger(argv.delta)) {
      console.error(`kv: ${argv._[0]}: the delta must be an integer, not ${argv.delta}`);
      return exitCodes.usage;
    }
    return withClient(argv, async (client) => {
      const bounds = { min: argv.min, max: argv.max, mustExist: argv["must-exist"] };
      const { value, version } = await client.increment(argv.key, decrement ? -argv.delta : argv.delta, bounds, requestOptions(argv));
      console.log(`${value}\t(version ${version})`);
      return exitCodes.ok;
    });
  },
});

export const casCommand = subcommand({
  builder: (y) =>
    writeOptions(y)
      .positional("key", { type: "string", demandOption: true })
      .positional("new-value", { type: "string", demandOption: true })
      .option("expected-value", { type: "string", describe: "the value the key must hold" })
      .option("expected-version", { type: "number", describe: "the version the key must have" })
      .option("must-not-exist", { type: "boolean", describe: "the key must not exist" })
      .check((argv) => {
        const given = [argv["expected-value"] !== undefined, argv["expected-version"] !== undefined, argv["must-not-exist"] === true].filter(Boolean);
        if (given.length !== 1) throw new Error("give exactly one of --expected-value, --expected-version or --must-not-exist");
        return true;
      }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const expected =
        argv["expected-version"] !== undefined
          ? { expectedVersion: argv["expected-version"] }
          : argv["expected-value"] !== undefined
            ? { expectedValue: argv["expected-value"] }
            : { mustNotExist: true as const };
      const { version } = await client.compareAndSet(argv.key, argv["new-value"], expected, requestOptions(argv));
      console.log(`OK version ${version}`);
      return exitCodes.ok;
    }),
});

export const cadCommand = subcommand({
  builder: (y) =>
    writeOptions(y)
      .positional("key", { type: "string", demandOption: true })
      .option("expected-value", { type: "string", describe: "the value the key must hold" })
      .option("expected-version", { type: "number", describe: "the version the key must have" })
      .check((argv) => {
        if ((argv["expected-value"] === undefined) === (argv["expected-version"] === undefined)) throw new Error("give exactly one of --expected-value or --expected-version");
        return true;
      }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const expected = argv["expected-version"] !== undefined ? { expectedVersion: argv["expected-version"] } : { expectedValue: argv["expected-value"]! };
      const { version } = await client.compareAndDelete(argv.key, expected, requestOptions(argv));
      console.log(`OK version ${version}`);
      return exitCodes.ok;
    }),
});

export const txnCommand = subcommand({
  builder: (y) =>
    writeOptions(y)
      .positional("json", { type: "string", describe: "the transaction; - or absent: stdin" })
      .option("file", { type: "string", describe: "read the transaction from this file" })
      .option("json-output", { type: "boolean", default: false, describe: "print the result as JSON (a get's value in base64)" }),
  run: async (argv) => {
    let source: string;
    try {
      source = argv.file !== undefined ? readAll(argv.file) : argv.json === undefined || argv.json === "-" ? readAll("-") : argv.json;
    } catch (error) {
      console.error(`kv: txn: cannot read the transaction: ${(error as Error).message}`);
      return exitCodes.usage;
    }
    return withClient(argv, async (client) => {
      printTxnResult(await client.txn(parseTxnSpec(source), requestOptions(argv)), argv["json-output"]);
      return exitCodes.ok;
    });
  },
});

export const txnStatusCommand = subcommand({
  builder: (y) => clientOptions(y).positional("id", { type: "string", demandOption: true }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const status = await client.txnStatus(argv.id);
      console.log(`${status.state}${status.txnId !== "" ? ` ${status.txnId}` : ""}${status.commitSeq > 0 ? ` version ${status.commitSeq}` : ""}: ${status.message}`);
      return status.state === "COMMITTED" ? exitCodes.ok : status.state === "ABORTED" ? exitCodes.refused : exitCodes.unknownOutcome;
    }),
});

/**
 * A value for a person, on a line of other text: a JSON string when its bytes are UTF-8, else its
 * bytes in hexadecimal after 0x (unquoted, so never mistaken for a string), never replacement
 * characters in place of bytes.
 */
export function displayBytes(value: Buffer): string {
  return isUtf8(value) ? JSON.stringify(value.toString("utf8")) : `0x${value.toString("hex")}`;
}

/** Reads a whole file, or stdin for "-". */
function readAll(file: string): string {
  return fs.readFileSync(file === "-" ? 0 : file, "utf8");
}

function printTxnResult(result: TxnResult, json: boolean): void {
  if (json) {
    const results = result.results.map((item) => {
      if (item.type !== "get") return item;
      return { type: "get", key: item.key, found: item.entry !== null, value: item.entry?.value.toString("base64") ?? null, version: item.entry?.version ?? 0 };
    });
    console.log(JSON.stringify({ branch: result.branch, version: result.version, txnId: result.txnId, results }));
    return;
  }
  console.log(`OK ${result.branch} branch, ${result.version > 0 ? `version ${result.version}` : "nothing written"}, transaction ${result.txnId}`);
  for (const item of result.results) {
    switch (item.type) {
      case "put":
      case "del":
        console.log(`  ${item.type} ${JSON.stringify(item.key)}`);
        break;
      case "incr":
        console.log(`  incr ${JSON.stringify(item.key)} = ${item.value}`);
        break;
      case "get":
        console.log(`  get ${JSON.stringify(item.key)} = ${item.entry === null ? "(absent)" : `${displayBytes(item.entry.value)} (version ${item.entry.version})`}`);
        break;
      default:
        assertNever(item);
    }
  }
}
