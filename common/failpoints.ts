// Named crash points (failpoints) for fault injection, in the shells only (the pure cores have none:
// the simulator injects its faults from outside).
//
// Armed by the KV_FAILPOINTS environment variable or the --failpoint flag of `kv coordinator` and
// `kv replica`, as a comma-separated list of  [PROCESS_ID:]NAME=ACTION[@N]
//   ACTION  crash      exit at once with SIGKILL, leaving the disk as kill -9 would
//           pause=MS   stop the whole process (event loop included) for MS milliseconds
//           error      an injected failure: at a point before a log write, an I/O error (the process
//                      logs it and exits 1, as after a failed fsync); at a point before a message,
//                      the message is lost and the call fails with UNAVAILABLE
//   @N      fire on the Nth hit only (default: on every hit)
//   ID:     arm only in the process with that id (KV_FAILPOINTS is seen by every process)
// e.g. KV_FAILPOINTS=after-decision-log=crash   --failpoint r2:after-commit-before-ack=crash@3
//
// Disarmed, a failpoint costs one boolean test.
import { assertNever } from "./assert";
import { InvalidArgument } from "./errors";

export const coordinatorFailpoints = {
  "before-decision-log": "PREPARE left, the COMMIT decision never reaches the log: recovery aborts the transaction (presumed abort)",
  "after-decision-log": "the transaction is decided (a majority voted YES, or every vote is in) and its COMMIT record is durable, no replica has heard COMMIT: recovery re-sends COMMIT to every replica",
  "mid-commit-fanout": "COMMIT reached exactly one replica (it acknowledged); the others hold the transaction prepared, in doubt",
  "after-commit-before-reply": "every replica applied the commit; the client never hears back (its write succeeded)",
} as const;

export const replicaFailpoints = {
  "before-prepare-log": "a prepare arrived, its record is not logged and no vote left: the transaction commits without this replica",
  "after-prepare-log-before-vote": "the prepare record is durable, the YES vote never left: the replica restarts with the transaction in doubt and learns COMMIT",
  "before-commit-log": "COMMIT arrived, the commit record is not logged: the replica restarts in doubt and learns COMMIT",
  "after-commit-before-ack": "the commit is durable and applied, the acknowledgement never left: the coordinator re-sends COMMIT",
} as const;

export type FailpointName = keyof typeof coordinatorFailpoints | keyof typeof replicaFailpoints;
export const allFailpoints = { ...coordinatorFailpoints, ...replicaFailpoints } as const;

type Action = { readonly kind: "crash" } | { readonly kind: "pause"; readonly ms: number } | { readonly kind: "error" };

interface Armed {
  readonly action: Action;
  /** Fire on this hit only (1-based); 0 fires on every hit. */
  readonly nth: number;
  hits: number;
}

const armed = new Map<FailpointName, Armed>();
let anyArmed = false;

/** Parses and arms a failpoint list for the process `processId`. Throws InvalidArgument naming the item. */
export function armFailpoints(field: string, spec: string, processId: string): void {
  for (const item of spec.split(",").map((part) => part.trim()).filter((part) => part.length > 0)) {
    const match = /^(?:([^:=]+):)?([a-z-]+)=(crash|error|pause=(\d+))(?:@(\d+))?$/.exec(item);
    if (match === null) {
      throw new InvalidArgument(field, `${field}: ${JSON.stringify(item)} is not [ID:]NAME=crash|error|pause=MS[@N]`);
    }
    const [, scope, name, actionText, pauseMs, nth] = match;
    if (!(name! in allFailpoints)) {
      throw new InvalidArgument(field, `${field}: unknown failpoint ${JSON.stringify(name)}; known: ${Object.keys(allFailpoints).join(", ")}`);
    }
    if (scope !== undefined && scope !== processId) continue;
    const action: Action =
      actionText === "crash" ? { kind: "crash" } : actionText === "error" ? { kind: "error" } : { kind: "pause", ms: Number(pauseMs) };
    armed.set(name as FailpointName, { action, nth: nth === undefined ? 0 : Number(nth), hits: 0 });
    anyArmed = true;
  }
}

export function armedFailpoints(): string[] {
  return [...armed.keys()];
}

/** True when the failpoint is armed (whether or not its next hit fires). */
export function isArmed(name: FailpointName): boolean {
  return anyArmed && armed.has(name);
}

export type FailpointAction = Action;

/** Counts a hit of the failpoint; returns its action when this hit fires, else null. */
export function hit(name: FailpointName): FailpointAction | null {
  if (!anyArmed) return null;
  const point = armed.get(name);
  if (point === undefined) return null;
  point.hits += 1;
  if (point.nth !== 0 && point.hits !== point.nth) return null;
  return point.action;
}

/** Carries out a fired action: crashes or pauses the process, or returns "error" for the caller. */
export function fire(name: FailpointName, action: FailpointAction | null): "error" | null {
  if (action === null) return null;
  switch (action.kind) {
    case "crash":
      process.stderr.write(`failpoint ${name}: crashing (SIGKILL)\n`);
      process.kill(process.pid, "SIGKILL");
      // SIGKILL to oneself is delivered before kill() returns; nothing below runs.
      return null;
    case "pause":
      process.stderr.write(`failpoint ${name}: pausing ${action.ms} ms\n`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, action.ms);
      return null;
    case "error":
      return "error";
    default:
      return assertNever(action);
  }
}

/**
 * Passes the failpoint. Returns "error" when an injected error fires here (the caller makes its
 * step fail); crashes or pauses the process when that fires; otherwise returns null.
 */
export function failpoint(name: FailpointName): "error" | null {
  if (!anyArmed) return null;
  return fire(name, hit(name));
}

/** For tests of this module: forget every armed failpoint. */
export function disarmAllFailpoints(): void {
  armed.clear();
  anyArmed = false;
}
