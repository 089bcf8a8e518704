// `npm run crash -- [--case NAME ...] [--jobs N] [--arm FAILPOINTS] [--list] [--details] [--quiet]`:
// runs cases of the crash matrix (test/crash/cases.ts; default: all, --jobs clusters at once, 3 by
// default), prints one row per case and the detail of every failed check (--details: of every
// check), and exits 1 if any check failed (2 on bad usage). --arm adds failpoints beside each case's
// own, to explore timings (e.g. --arm r1:after-commit-before-ack=pause=150). Runs the built dist/
// processes: `npm run crash` builds first.
import { parseArgs } from "node:util";
import { caseNames, casePassed, crashCases, runCases, type CaseResult } from "./cases";
import { formatTable } from "../../common/table";

const usage = "usage: npm run crash -- [--case NAME ...] [--jobs N] [--arm FAILPOINTS] [--list] [--details] [--quiet]";

interface Args {
  readonly names: string[];
  readonly jobs: number;
  /** More failpoints armed beside each case's own, e.g. r1:after-commit-before-ack=pause=150. */
  readonly arm: string | undefined;
  readonly list: boolean;
  /** Print the detail of every check, not only of the failed ones. */
  readonly details: boolean;
  readonly quiet: boolean;
  readonly help: boolean;
}

/** Parses the flags (node:util parseArgs, strict: an unknown flag, a stray argument or a missing value throws). */
function parseCommandLine(argv: readonly string[]): Args {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      case: { type: "string", multiple: true, default: [] },
      jobs: { type: "string", default: "3" },
      arm: { type: "string" },
      list: { type: "boolean", default: false },
      details: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs ${values.jobs} is not a positive integer`);
  for (const name of values.case) {
    if (!caseNames.includes(name)) throw new Error(`no case ${JSON.stringify(name)}; cases: ${caseNames.join(", ")}`);
  }
  return {
    names: values.case.length > 0 ? values.case : [...caseNames],
    jobs,
    arm: values.arm,
    list: values.list,
    details: values.details,
    quiet: values.quiet,
    help: values.help,
  };
}

const mark = (pass: boolean) => (pass ? "pass" : "FAIL");

function report(results: readonly CaseResult[], details: boolean): string {
  const rows = [
    ["case", "side", "failpoint", "acked", "a", "b", "c", "d", "e", "recovery", "seconds"],
    ...results.map((result) => [
      result.name,
      result.side,
      result.spec,
      String(result.ackedWrites),
      mark(result.checks.a.pass),
      mark(result.checks.b.pass),
      mark(result.checks.c.pass),
      mark(result.checks.d.pass),
      mark(result.checks.e.pass),
      mark(result.checks.recovery.pass),
      result.seconds.toFixed(1),
    ]),
  ];
  const lines = [formatTable(rows), "", "a: every acknowledged write on every replica   b: all replicas or none (identical, only attempted values)",
    "c: nothing in doubt once everyone is back      d: locks released (lockedKeys 0, a fresh put on every key succeeds)",
    "e: no process but the crashed one exited       recovery: the logs show the recovery the failpoint describes",
    "                                               (coordinator cases: and the standby took over, the crashed one came back as a standby)"];
  for (const result of results) {
    const shown = Object.entries(result.checks).filter(([, check]) => details || !check.pass);
    if (shown.length === 0 && result.notes.length === 0) continue;
    lines.push("", `${result.name} (${result.spec}):`);
    for (const [name, check] of shown) lines.push(`  ${name} ${mark(check.pass)}: ${check.detail}`);
    for (const note of result.notes) lines.push(`  note: ${note}`);
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`crash: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (args.help) {
    console.log(usage);
    return 0;
  }
  if (args.list) {
    console.log(formatTable([["case", "side", "failpoint", "what it leaves behind"], ...crashCases.map((c) => [c.name, c.side, c.spec, c.description])]));
    return 0;
  }
  const startedMs = Date.now();
  const results = await runCases(args.names, args.jobs, {
    arm: args.arm,
    log: args.quiet ? undefined : (line) => console.error(`  ${line}`),
    onResult: args.quiet ? undefined : (result) => console.error(`${mark(casePassed(result))} ${result.name} (${result.seconds.toFixed(1)} s)`),
  });
  console.log(report(results, args.details));
  const failed = results.filter((result) => !casePassed(result));
  console.log(`\n${results.length - failed.length} passed, ${failed.length} failed (${((Date.now() - startedMs) / 1_000).toFixed(1)} s)`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
