// Taking over as the active coordinator (failover; coordinator/DESIGN.md, "Failover").
//
// 1. Promise: ask every replica to promise a new epoch, newer than any it promised, any epoch of a
//    transaction id it saw, and any epoch of its copy of the decision log. A replica that promised
//    it refuses every later call of an older epoch (replica/core.ts fence): from the moment a
//    majority promised, the coordinator before can no longer make a decision durable (its appends
//    lack a majority), prepare, or read (a read needs a majority's answers too).
// 2. Recover: from the granted answers, take the copy of the decision log of the newest epoch, and
//    of that epoch the longest (chooseCopy). Every record a majority held is in it: that majority
//    and this one share a replica, whose copy is of that epoch or a newer one built from such a copy.
// 3. The node is built from that copy, in the new epoch, and forces its live records as the new
//    epoch's base on a majority before it serves (CoordinatorNode.start).
// Two coordinators taking over at once cannot both win: a replica promises each epoch once, and two
// majorities share a replica. A loser retries with a newer epoch if it is still the one to take over.
import type { CallResult } from "../common/env";
import { mutation } from "../common/mutations";
import { quorumOf } from "../common/quorum";

/** A replica's answer to Promise. */
export interface PromiseAnswer {
  readonly granted: boolean;
  readonly promisedEpoch: number;
  readonly promisedTo: string;
  readonly logEpoch: number;
  readonly logIndex: number;
  readonly records: readonly Buffer[];
  readonly maxTxnEpoch: number;
  /** The transactions the replica holds prepared (in doubt). */
  readonly prepared: readonly string[];
}

export type PromiseCall = (epoch: number, timeoutMs: number, done: (result: CallResult<PromiseAnswer>) => void) => void;

/** The copy of the decision log to recover from: of the newest epoch, and of it the longest. */
export function chooseCopy(answers: readonly PromiseAnswer[]): PromiseAnswer | null {
  const granted = answers.filter((answer) => answer.granted);
  // Planted bug (test-only): the first copy that came in, newest or not.
  if (mutation() === "takeover-from-any-copy") return granted[0] ?? null;
  let best: PromiseAnswer | null = null;
  for (const answer of granted) {
    if (best === null || answer.logEpoch > best.logEpoch || (answer.logEpoch === best.logEpoch && answer.logIndex > best.logIndex)) best = answer;
  }
  return best;
}

/** The epoch to propose next: newer than anything any answer showed. */
export function nextEpoch(known: number, answers: readonly PromiseAnswer[]): number {
  let highest = known;
  for (const answer of answers) highest = Math.max(highest, answer.promisedEpoch, answer.logEpoch, answer.maxTxnEpoch);
  return highest + 1;
}

export type PromiseRound =
  | {
      readonly ok: true;
      readonly epoch: number;
      readonly copy: PromiseAnswer;
      readonly granted: readonly string[];
      /** Every transaction a granting replica holds prepared: the new coordinator settles them at once. */
      readonly inDoubt: readonly string[];
    }
  | { readonly ok: false; readonly retryEpoch: number; readonly reason: string };

/**
 * One round of promises for `epoch`: asks every replica, and is done once a majority granted it (or
 * it can no longer get one). A replica that granted it is held to it whatever the round's outcome.
 * Answers that show a newer epoch than `epoch` make the round fail with the epoch to try next.
 */
export function promiseRound(epoch: number, replicas: ReadonlyMap<string, PromiseCall>, timeoutMs: number, done: (round: PromiseRound) => void): void {
  const quorum = quorumOf(replicas.size);
  const answers: PromiseAnswer[] = [];
  const granted: string[] = [];
  const failures: string[] = [];
  let finished = false;
  let pending = replicas.size;
  const finish = (round: PromiseRound): void => {
    if (finished) return;
    finished = true;
    done(round);
  };
  for (const [id, call] of replicas) {
    call(epoch, timeoutMs, (result) => {
      pending -= 1;
      if (finished) return;
      if (result.ok) {
        answers.push(result.value);
        if (result.value.granted && nextEpoch(0, [result.value]) <= epoch + 1) granted.push(id);
        else failures.push(`replica ${id} promised epoch ${result.value.promisedEpoch}${result.value.promisedTo === "" ? "" : ` to ${result.value.promisedTo}`}`);
      } else {
        failures.push(`replica ${id}: ${result.reason}`);
      }
      if (granted.length >= quorum) {
        // Wait for nobody else: the promises of a majority fence every older coordinator.
        const grantedAnswers = answers.filter((answer) => answer.granted);
        const copy = chooseCopy(grantedAnswers);
        const inDoubt = [...new Set(grantedAnswers.flatMap((answer) => answer.prepared))];
        if (copy !== null) return finish({ ok: true, epoch, copy, granted, inDoubt });
      }
      if (granted.length + pending < quorum) {
        finish({ ok: false, retryEpoch: Math.max(epoch + 1, nextEpoch(epoch, answers)), reason: `${granted.length} of ${replicas.size} replicas promised epoch ${epoch} and a majority is ${quorum}: ${failures.join("; ")}` });
      }
    });
  }
}
