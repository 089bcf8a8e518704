// `kv check FILE`: the shell around client/check.ts. Reads a history file (client/history.ts),
// runs the checker with the real clock, and prints the verdict.
//
// Exit codes (issue 4): 0 linearizable; 1 not linearizable; 2 could not decide: the time ran out
// (--timeout), or the file cannot be read or is not a well-formed history (the message names the
// line).
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { assertNever } from "../common/assert";
import { checkHistory, formatViolation, HistoryPairingError, memoEntriesMax, type CheckResult } from "../tools/check/check";
import { HistoryFormatError, parseEvent, type HistoryEvent } from "../tools/check/history";
import { subcommand } from "./subcommand";

export const checkExitCodes = { linearizable: 0, notLinearizable: 1, undecided: 2 } as const;

export interface CheckCommandArgs {
  readonly file: string;
  /** Milliseconds to search before giving up with exit code 2. */
  readonly timeout: number;
  /** Print the result as one JSON object on stdout instead of text. */
  readonly json: boolean;
}

export async function runCheckCommand(argv: CheckCommandArgs): Promise<number> {
  if (!Number.isFinite(argv.timeout) || argv.timeout <= 0) {
    console.error(`kv check: --timeout is ${argv.timeout}; it must be a positive number of milliseconds`);
    return checkExitCodes.undecided;
  }
  let text: string;
  try {
    text = await readFile(argv.file, "utf8");
  } catch (error) {
    console.error(`kv check: cannot read ${argv.file}: ${error instanceof Error ? error.message : String(error)}`);
    return checkExitCodes.undecided;
  }
  // Parsed here rather than with parseHistory so that an event the checker cannot pair can still
  // be reported by its line number.
  const events: HistoryEvent[] = [];
  const lineOf: number[] = [];
  const lines = text.split("\n");
  let result: CheckResult;
  try {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line.length === 0) continue;
      events.push(parseEvent(line, i + 1));
      lineOf.push(i + 1);
    }
    result = checkHistory(events, { timeoutMs: argv.timeout, nowMs: () => performance.now() });
  } catch (error) {
    if (error instanceof HistoryPairingError) {
      console.error(`kv check: ${argv.file}: line ${lineOf[error.position]}: ${error.detail}`);
      return checkExitCodes.undecided;
    }
    if (error instanceof HistoryFormatError) {
      console.error(`kv check: ${argv.file}: ${error.message}`);
      return checkExitCodes.undecided;
    }
    throw error;
  }

  if (argv.json) console.log(JSON.stringify(result));
  else printResult(result, argv.timeout);
  switch (result.verdict) {
    case "linearizable":
      return checkExitCodes.linearizable;
    case "not-linearizable":
      return checkExitCodes.notLinearizable;
    case "unknown":
      return checkExitCodes.undecided;
    default:
      return assertNever(result.verdict);
  }
}

function printResult(result: CheckResult, timeoutMs: number): void {
  const counts = `${result.operations} operations on ${result.keys} keys`;
  const took = `${Math.round(result.elapsedMs)} ms`;
  switch (result.verdict) {
    case "linearizable":
      console.log(`linearizable: ${counts} checked in ${took}`);
      return;
    case "not-linearizable": {
      const more = result.violatedKeys.slice(1);
      const others = more.length === 0 ? "" : ` (and ${more.length} more: ${more.slice(0, 5).map((k) => JSON.stringify(k)).join(", ")}${more.length > 5 ? ", ..." : ""})`;
      // Time may run out after a violation was found: the verdict stands, the count says how far it got.
      const checked = result.keysChecked < result.keys ? `; ${result.keysChecked} of ${result.keys} keys decided` : "";
      console.log(`NOT linearizable: key ${JSON.stringify(result.violation?.key)}${others}; ${counts}, ${took}${checked}`);
      console.log(formatViolation(result));
      return;
    }
    case "unknown": {
      const where = result.undecided === undefined ? "" : ` at key ${JSON.stringify(result.undecided.key)}`;
      const why =
        result.undecided?.reason === "memory"
          ? `the search${where} outgrew its memory limit (memoEntriesMax, ${memoEntriesMax} configurations)`
          : `could not decide within ${timeoutMs} ms (--timeout)${where}`;
      console.log(`unknown: ${why}; ${result.keysChecked} of ${result.keys} keys linearizable so far; ${counts}, ${took}`);
      return;
    }
    default:
      assertNever(result.verdict);
  }
}


export const checkCommand = subcommand({
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "a history file, JSON lines" })
      .option("timeout", { type: "number", default: 60_000, describe: "give up (exit 2) after this many milliseconds" })
      .option("json", { type: "boolean", default: false, describe: "print the result as JSON" }),
  run: (argv) => runCheckCommand({ file: argv.file, timeout: argv.timeout, json: argv.json }),
});
