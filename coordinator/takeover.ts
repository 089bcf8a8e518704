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
//    The answers say only how far each copy reaches; the chosen copy is then read in pages
//    (readCopy), since a copy can be tens of megabytes (every request id remembered) and must never
//    have to fit in one message or one deadline.
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
  /** The replica's copy of the decision log: its epoch, and the indexes of its first and last records (logIndex 0: empty). */
  readonly logEpoch: number;
  readonly logFirstIndex: number;
  readonly logIndex: number;
  readonly maxTxnEpoch: number;
  /** The transactions the replica holds prepared (in doubt). */
  readonly prepared: readonly string[];
}

export type PromiseCall = (epoch: number, timeoutMs: number, done: (result: CallResult<PromiseAnswer>) => void) => void;

/** A page of a replica's copy of the decision log (rpc ReadCopy): records from max(fromIndex, logFirstIndex) on. */
export interface CopyPage {
  readonly logEpoch: number;
  readonly logFirstIndex: number;
  readonly logIndex: number;
  readonly records: readonly Buffer[];
}

/** ReadCopy to one replica, in the epoch it promised this coordinator. */
export type ReadCopyCall = (fromIndex: number, timeoutMs: number, done: (result: CallResult<CopyPage>) => void) => void;

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
      /** The copy to recover from (chooseCopy), as its replica described it. */
      readonly copy: PromiseAnswer;
      /** The granting replicas that hold that very copy (same epoch, same last index): where to read it, the chosen one first. */
      readonly copyHolders: readonly string[];
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
  const answeredBy = new Map<PromiseAnswer, string>();
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
        answeredBy.set(result.value, id);
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
        if (copy !== null) {
          const holders = grantedAnswers.filter((answer) => answer !== copy && answer.logEpoch === copy.logEpoch && answer.logIndex === copy.logIndex);
          const copyHolders = [copy, ...holders].map((answer) => answeredBy.get(answer)!);
          return finish({ ok: true, epoch, copy, copyHolders, granted, inDoubt });
        }
      }
      if (granted.length + pending < quorum) {
        finish({ ok: false, retryEpoch: Math.max(epoch + 1, nextEpoch(epoch, answers)), reason: `${granted.length} of ${replicas.size} replicas promised epoch ${epoch} and a majority is ${quorum}: ${failures.join("; ")}` });
      }
    });
  }
}

export type CopyRead = { readonly ok: true; readonly records: Buffer[] } | { readonly ok: false; readonly reason: string };

/**
 * Reads the copy chosen in a promise round, page by page, from the first of its holders (in the
 * order given) that serves all of it. Every page must show the copy as the promise described it
 * (same epoch, same last index): it cannot change while this coordinator holds the replica's
 * promise (an older epoch's Append is fenced; a newer coordinator's promise fences this one, whose
 * reads are then refused), so a page that shows another copy, or a refused or failed call, means
 * this holder cannot serve it: the next one is tried, from the start. Fails when none can.
 */
export function readCopy(copy: Pick<PromiseAnswer, "logEpoch" | "logIndex">, holders: readonly { readonly id: string; readonly call: ReadCopyCall }[], timeoutMs: number, done: (read: CopyRead) => void): void {
  const failures: string[] = [];
  const tryHolder = (h: number): void => {
    const holder = holders[h];
    if (holder === undefined) return done({ ok: false, reason: `no replica served the copy of the decision log (epoch ${copy.logEpoch}, to index ${copy.logIndex}): ${failures.join("; ") || "no holder"}` });
    const records: Buffer[] = [];
    let firstIndex = 0;
    const readFrom = (fromIndex: number): void => {
      holder.call(fromIndex, timeoutMs, (result) => {
        if (!result.ok) {
          failures.push(`replica ${holder.id}: ${result.reason}`);
          return tryHolder(h + 1);
        }
        const page = result.value;
        if (page.logEpoch !== copy.logEpoch || page.logIndex !== copy.logIndex || (records.length > 0 && page.logFirstIndex !== firstIndex)) {
          failures.push(`replica ${holder.id}: its copy changed (now epoch ${page.logEpoch}, indexes ${page.logFirstIndex} to ${page.logIndex})`);
          return tryHolder(h + 1);
        }
        if (records.length === 0) firstIndex = page.logFirstIndex;
        records.push(...page.records);
        const next = firstIndex + records.length;
        // Done once past the last index (an empty copy, log index 0 or before its first, at once).
        if (copy.logIndex === 0 || next > copy.logIndex) return done({ ok: true, records: records.slice(0, Math.max(0, copy.logIndex - firstIndex + 1)) });
        if (page.records.length === 0) {
          failures.push(`replica ${holder.id}: an empty page at index ${next}, before index ${copy.logIndex}`);
          return tryHolder(h + 1);
        }
        readFrom(next);
      });
    };
    readFrom(0);
  };
  tryHolder(0);
}
