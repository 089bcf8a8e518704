// What `kv cluster --restart` does when one of its processes exits, as pure functions: the
// supervisor (tools/cluster/cluster.ts) reads the clock and the manifest, asks here, and carries the
// answer out. Modelled on systemd's Restart=on-failure with RestartSec and its exponential steps
// (RestartSteps, RestartMaxDelaySec):
// - a process that fails (a non-zero exit code, or killed by a signal: kill -9, a crash failpoint,
//   an out-of-memory kill) is restarted after a delay: restartDelayMsMin, doubled for each failure
//   in a row, at most restartDelayMsMax, so a process that cannot start does not spin;
// - a process that ran restartResetAfterUpMs before it failed starts the series again at
//   restartDelayMsMin: one crash a day is always restarted quickly;
// - a process that exits cleanly (code 0: `kv coordinator` and `kv replica` exit so only when told
//   to stop, by SIGTERM or SIGINT) was stopped on purpose and stays down, as systemd leaves it.
// There is no give-up limit: a local cluster keeps trying, every restartDelayMsMax at worst, and
// reports each try.

export interface RestartPolicy {
  /** The delay before the first restart of a series. */
  readonly restartDelayMsMin: number;
  /** The longest delay: the doubling stops here. */
  readonly restartDelayMsMax: number;
  /** A process that ran this long before it failed starts a new series (restartDelayMsMin again). */
  readonly restartResetAfterUpMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  restartDelayMsMin: 100,
  restartDelayMsMax: 5_000,
  restartResetAfterUpMs: 10_000,
};

/** How a process ended: as its parent sees it (exit code, or the signal that killed it). */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export type ExitKind = "clean" | "failure";

/** Clean only with exit code 0; a signal or any other code is a failure (systemd's on-failure). */
export function exitKind(exit: ProcessExit): ExitKind {
  return exit.signal === null && exit.code === 0 ? "clean" : "failure";
}

/** What the supervisor knows when a process exits. */
export interface ExitContext {
  /** --restart was given (the default of `kv cluster`). */
  readonly restart: boolean;
  /** The supervisor itself is stopping the cluster (Ctrl-C): every exit is expected. */
  readonly stopping: boolean;
  /** The pid of a live kv chaos that attached to the cluster and restarts what it kills itself; null when none. */
  readonly heldBy: number | null;
  readonly exit: ProcessExit;
  /** How long the process ran, in milliseconds. */
  readonly upMs: number;
  /** Failures in a row before this one (0 for a process that never failed, or ran restartResetAfterUpMs since). */
  readonly failuresInARow: number;
}

export type ExitDecision =
  /** Start it again after delayMs; failuresInARow counts this failure. */
  | { readonly kind: "restart"; readonly delayMs: number; readonly failuresInARow: number }
  | { readonly kind: "stay-down"; readonly why: StayDownReason };

export type StayDownReason = "stopping" | "clean-exit" | "restart-off" | "held";

export function decideOnExit(policy: RestartPolicy, context: ExitContext): ExitDecision {
  if (context.stopping) return { kind: "stay-down", why: "stopping" };
  if (exitKind(context.exit) === "clean") return { kind: "stay-down", why: "clean-exit" };
  if (!context.restart) return { kind: "stay-down", why: "restart-off" };
  if (context.heldBy !== null) return { kind: "stay-down", why: "held" };
  const before = context.upMs >= policy.restartResetAfterUpMs ? 0 : context.failuresInARow;
  return { kind: "restart", delayMs: restartDelayMs(policy, before), failuresInARow: before + 1 };
}

/** The delay before a restart that follows `failuresBefore` failures in a row: min, 2 min, 4 min, ... at most max. */
export function restartDelayMs(policy: RestartPolicy, failuresBefore: number): number {
  // 2 ** 30 already dwarfs any max; capping the exponent keeps the product finite.
  return Math.min(policy.restartDelayMsMax, policy.restartDelayMsMin * 2 ** Math.min(failuresBefore, 30));
}

/** One line for a person: what the restart policy is, for --help and the start banner. */
export function describeRestartPolicy(policy: RestartPolicy): string {
  return (
    `a process that fails (killed by a signal, or a non-zero exit code) is restarted after ${policy.restartDelayMsMin} ms, ` +
    `the delay doubling for each failure in a row up to ${policy.restartDelayMsMax / 1000} s, and back to ${policy.restartDelayMsMin} ms ` +
    `once it ran ${policy.restartResetAfterUpMs / 1000} s; one that exits cleanly (code 0, after SIGTERM) stays down, like systemd's Restart=on-failure`
  );
}
