// The crash matrix (test/crash/cases.ts): for every failpoint, a process (the active one of two
// coordinators, or one replica) is crashed with SIGKILL at that step of two-phase commit in the middle
// of a stream of concurrent writes and restarted on the same data; a crashed coordinator only once
// the standby took over and finished what the crash left, and it must come back as a standby. Proves,
// for each: (a) every acknowledged write is on every replica, (b) every transaction is on all
// replicas or on none, (c) nothing stays in doubt, (d) the locks are released, (e) no process but the
// crashed one exited, and that recovery (with the takeover, for a coordinator) did what the
// failpoint's description says. Cases run on their own clusters (own ports, own temp dirs), a few at
// once.
import { afterAll, describe, it } from "vitest";
import { killAllStarted } from "../integration/harness";
import { caseNames, gate, runCase } from "./cases";

afterAll(async () => {
  await killAllStarted();
});

/** Clusters run at once: each is four or five processes plus eight writers; more would crowd two cores. */
const clustersAtOnce = 3;
const oneAtATime = gate(clustersAtOnce);
/** A case takes a few seconds; this covers waiting for its turn behind the others on a slow machine. */
const caseTimeoutMs = 240_000;

describe.concurrent("crash matrix", () => {
  it.for(caseNames)(
    "%s: no acknowledged write lost, all or nothing, nothing in doubt, locks released, no other exit",
    { timeout: caseTimeoutMs },
    async (name, { expect }) => {
      const result = await oneAtATime(() => runCase(name));
      const failed = Object.entries(result.checks)
        .filter(([, check]) => !check.pass)
        .map(([check, { detail }]) => `${check}: ${detail}`);
      expect(failed, `${result.spec}; notes: ${result.notes.join("; ") || "none"}`).toEqual([]);
    },
  );
});
