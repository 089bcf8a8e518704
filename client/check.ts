// `kv check`: is a recorded history (client/history.ts) linearizable against a key/value register?
// Pure: no I/O, and the clock is read only through the injected `nowMs`, for the timeout alone.
//
// How it decides:
// - Per key. Linearizability is compositional (Herlihy & Wing): a history of many registers is
//   linearizable iff each register's sub-history is, so every key is checked on its own and a
//   search never pays for the concurrency of other keys.
// - Per key, the search of Wing & Gong as improved by Lowe, the one Porcupine implements: the calls
//   and returns of the key's operations form one list in time order; the search repeatedly
//   linearizes an operation whose call comes before the first return still in the list, if the
//   register allows it, and backtracks when it reaches a return whose operation is not yet
//   linearized. Every (register state, set of linearized operations) reached is memoised, so no
//   configuration is explored twice.
// - Operations come from pairing each invoke with the next completion of the same process (a
//   process has at most one operation outstanding). `fail` operations are dropped: they did not
//   happen. `info` writes and writes with no completion may take effect at any time after their
//   invocation, or never: they have no return entry, so nothing waits for them and the search may
//   leave them out. A get that ended in `info` or `fail`, or never completed, observed nothing and
//   constrains nothing, so it is dropped too.
// - Real time: operation A must come before B only if A returned strictly before B was invoked;
//   equal times count as concurrent (a call entry sorts before a return entry at the same time).
//
// On a violation, the first key found is narrowed to a small window a person can read (see
// findViolation): the earliest moment the key's history stops being linearizable, the latest
// quiet point before it from which the operations still cannot be ordered, and only the
// operations that matter.
import { assert, assertNever } from "../common/assert";
import { HistoryFormatError, type HistoryEvent, type HistoryFunction } from "./history";

export interface CheckOptions {
  /** Give up (verdict "unknown") once this many milliseconds of `nowMs` have passed. */
  readonly timeoutMs: number;
  /** Milliseconds on any monotonic clock; read only to enforce timeoutMs. */
  readonly nowMs: () => number;
}

export type Verdict = "linearizable" | "not-linearizable" | "unknown";

export interface Violation {
  readonly key: string;
  /**
   * The invoke and completion events of the operations that cannot be ordered, in history order
   * (for a read of an aborted write, the failed write too). Together with `valuesBefore` they are
   * non-linearizable on their own: no earlier operation could change that.
   */
  readonly window: HistoryEvent[];
  /** One sentence for a person: what was read, and why no order explains it. */
  readonly explanation: string;
  /** `index` of the invoke event of the get that cannot be placed. */
  readonly conflictIndex: number;
  /**
   * The values the key may have held when the window began (null: absent). Every operation that
   * completed before the window's first invocation is summed up by these.
   */
  readonly valuesBefore: (string | null)[];
  /** True when the window starts at the key's first operation, so valuesBefore is the initial null. */
  readonly fromStart: boolean;
}

export interface CheckResult {
  readonly verdict: Verdict;
  /** Operations in the history: one per invoke event. */
  readonly operations: number;
  /** Distinct keys in the history. */
  readonly keys: number;
  /** Keys whose verdict was reached (all of them unless time ran out). */
  readonly keysChecked: number;
  readonly elapsedMs: number;
  /** Every key found not linearizable, in order of first appearance; `violation` explains the first. */
  readonly violatedKeys: string[];
  readonly violation?: Violation;
}

/** A history that is valid JSON lines but does not pair up (or a put with no value). */
export class HistoryPairingError extends HistoryFormatError {
  constructor(
    /** The offending event's position in the array given to checkHistory (from 0). */
    readonly position: number,
    /** What is wrong, without the position. */
    readonly detail: string,
  ) {
    super(`event ${position}: ${detail}`);
  }
}

/**
 * The step budget for narrowing a violation to a window. The verdict is already known by then, so
 * this only bounds how long we polish the explanation; past it the window is the widest one known
 * to fail. A step costs about a microsecond.
 */
export const windowSearchStepsMax = 2_000_000;

/**
 * A window that starts where the value read was written is easier to follow than a tighter one
 * that starts from "the key held b"; it is preferred while it has at most this many operations.
 */
const storyWindowOpsMax = 64;

/** The search reads the clock once every this many steps: often enough, cheap enough. */
const clockCheckSteps = 1024;

type Outcome = "ok" | "fail" | "info" | "pending";

/** One invoke paired with its completion. */
interface Operation {
  readonly process: number;
  readonly f: HistoryFunction;
  readonly key: string;
  /** put: the value written; get: the value read (ok only); del: null. */
  readonly value: string | null;
  readonly outcome: Outcome;
  readonly callNs: number;
  /** When it returned; Infinity unless ok or fail (it may take effect at any time after its call). */
  readonly returnNs: number;
  readonly invoke: HistoryEvent;
  readonly completion: HistoryEvent | null;
}

export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions): CheckResult {
  const startMs = options.nowMs();
  const deadlineMs = startMs + options.timeoutMs;
  const operations = pairOperations(events);
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    const ops = byKey.get(op.key);
    if (ops === undefined) byKey.set(op.key, [op]);
    else ops.push(op);
  }
  const clock: Budget = { stepsLeft: Infinity, expired: () => options.nowMs() > deadlineMs };
  const violatedKeys: string[] = [];
  let violation: Violation | undefined;
  let keysChecked = 0;
  let timedOut = false;
  for (const [key, ops] of byKey) {
    if (clock.expired()) {
      timedOut = true;
      break;
    }
    const history = new KeyHistory(key, ops);
    const outcome = history.check(clock);
    if (outcome === "out-of-budget") {
      timedOut = true;
      break;
    }
    keysChecked += 1;
    if (outcome === "not-linearizable") {
      violatedKeys.push(key);
      // Only the first violation is narrowed: it is what a person reads, and narrowing costs
      // several more searches of the key.
      if (violation === undefined) violation = findViolation(history);
    }
  }
  // A violation found is a violation, even if time ran out on a later key.
  const verdict: Verdict = violatedKeys.length > 0 ? "not-linearizable" : timedOut ? "unknown" : "linearizable";
  return {
    verdict,
    operations: operations.length,
    keys: byKey.size,
    keysChecked,
    elapsedMs: options.nowMs() - startMs,
    violatedKeys,
    ...(violation === undefined ? {} : { violation }),
  };
}

/** Pairs invokes with completions by process; throws HistoryPairingError on a history that does not pair. */
function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number, { readonly event: HistoryEvent; readonly slot: number }>();
  // Operations in invoke order; a slot is filled when the completion arrives.
  const slots: (Operation | null)[] = [];
  for (let position = 0; position < events.length; position++) {
    const event = events[position]!;
    switch (event.type) {
      case "invoke": {
        const outstanding = open.get(event.process);
        if (outstanding !== undefined) {
          throw new HistoryPairingError(
            position,
            `process ${event.process} invokes a ${event.f} while its ${outstanding.event.f} (index ${outstanding.event.index}) has not completed`,
          );
        }
        if (event.f === "put" && event.value === null) throw new HistoryPairingError(position, "a put's value must be a string, not null");
        open.set(event.process, { event, slot: slots.length });
        slots.push(null);
        break;
      }
      case "ok":
      case "fail":
      case "info": {
        const outstanding = open.get(event.process);
        if (outstanding === undefined) {
          throw new HistoryPairingError(position, `${event.type} for process ${event.process}, which has no operation outstanding`);
        }
        const invoke = outstanding.event;
        if (invoke.f !== event.f || invoke.key !== event.key) {
          throw new HistoryPairingError(
            position,
            `${event.type} of ${event.f} ${JSON.stringify(event.key)} for process ${event.process}, whose outstanding operation is ` +
              `${invoke.f} ${JSON.stringify(invoke.key)} (index ${invoke.index})`,
          );
        }
        if (event.time < invoke.time) {
          throw new HistoryPairingError(position, `completes at ${event.time} ns, before its invocation at ${invoke.time} ns (index ${invoke.index})`);
        }
        open.delete(event.process);
        slots[outstanding.slot] = makeOperation(invoke, event, event.type);
        break;
      }
      default:
        assertNever(event.type);
    }
  }
  for (const { event, slot } of open.values()) slots[slot] = makeOperation(event, null, "pending");
  return slots.map((op) => {
    assert(op !== null, "every invoke is paired or pending");
    return op;
  });
}

function makeOperation(invoke: HistoryEvent, completion: HistoryEvent | null, outcome: Outcome): Operation {
  let value: string | null;
  switch (invoke.f) {
    case "put":
      value = invoke.value;
      break;
    case "del":
      value = null;
      break;
    case "get":
      // Only a get that returned ok observed a value.
      value = outcome === "ok" && completion !== null ? completion.value : null;
      break;
    default:
      return assertNever(invoke.f);
  }
  const returned = outcome === "ok" || outcome === "fail";
  return {
    process: invoke.process,
    f: invoke.f,
    key: invoke.key,
    value,
    outcome,
    callNs: invoke.time,
    returnNs: returned && completion !== null ? completion.time : Infinity,
    invoke,
    completion,
  };
}

// ---------------------------------------------------------------------------------------------
// The search

/** Register states are interned values: absentState is null, strings are 1, 2, ... */
const absentState = 0;
/** "One of valuesBefore": the state at the start of a window, until a get narrows it. */
const unknownState = -1;
/** The register does not allow the operation in this state. */
const rejected = -2;

interface SearchOp {
  readonly f: HistoryFunction;
  /** put: the interned value written; get: the interned value read; del: absentState. */
  readonly value: number;
  readonly callNs: number;
  /** Infinity for an operation that may take effect at any time after its call, or never. */
  readonly returnNs: number;
}

interface Budget {
  stepsLeft: number;
  readonly expired: () => boolean;
}

type SearchOutcome = "linearizable" | "not-linearizable" | "out-of-budget";

/**
 * Is there an order of `ops` (sorted by callNs) that respects real time and the register, starting
 * from absent (valuesBefore null) or from any one of valuesBefore? Operations with an infinite
 * returnNs may be left out.
 */
function search(allOps: readonly SearchOp[], valuesBefore: ReadonlySet<number> | null, budget: Budget): SearchOutcome {
  // A write that may or may not happen and whose value no get reads can always be left out, and
  // leaving it out never hurts, so drop it: otherwise a non-linearizable key would be searched once
  // per subset of such writes.
  const read = new Set<number>();
  for (const op of allOps) if (op.f === "get" && op.returnNs !== Infinity) read.add(op.value);
  const ops = allOps.filter((op) => op.returnNs !== Infinity || (op.f !== "get" && read.has(op.value)));
  for (let i = 1; i < ops.length; i++) assert(ops[i - 1]!.callNs <= ops[i]!.callNs, "search ops sorted by call");

  const n = ops.length;
  // Mandatory operations (those that returned) by rank in call order; the memo key describes them
  // as "all ranks below a prefix, plus a few beyond it", which stays short on long histories.
  const rankOf = new Int32Array(n).fill(-1);
  const opOfRank: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ops[i]!.returnNs !== Infinity) {
      rankOf[i] = opOfRank.length;
      opOfRank.push(i);
    }
  }
  const mandatoryCount = opOfRank.length;
  if (mandatoryCount === 0) return "linearizable";

  // Entries: op i's call is entry i; the return of rank r is entry n + r. One list, in time order,
  // a call before a return at the same time (equal times are concurrent).
  const entryCount = n + mandatoryCount;
  const head = entryCount;
  const next = new Int32Array(entryCount + 1);
  const prev = new Int32Array(entryCount + 1);
  const returnsByTime = opOfRank.map((_, rank) => rank).sort((a, b) => ops[opOfRank[a]!]!.returnNs - ops[opOfRank[b]!]!.returnNs || a - b);
  let last = head;
  const link = (entry: number): void => {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  };
  for (let i = 0, j = 0; i < n || j < mandatoryCount; ) {
    if (j === mandatoryCount || (i < n && ops[i]!.callNs <= ops[opOfRank[returnsByTime[j]!]!]!.returnNs)) link(i++);
    else link(n + returnsByTime[j++]!);
  }
  next[last] = -1;

  // Removes op i's entries from the list; they keep their own links, so unlift can put them back
  // (dancing links). Unlifts happen in the reverse order of lifts.
  const lift = (i: number): void => {
    const rank = rankOf[i]!;
    const entries = rank === -1 ? [i] : [i, n + rank];
    for (const e of entries) {
      next[prev[e]!] = next[e]!;
      if (next[e] !== -1) prev[next[e]!] = prev[e]!;
    }
  };
  const unlift = (i: number): void => {
    const rank = rankOf[i]!;
    const entries = rank === -1 ? [i] : [n + rank, i];
    for (const e of entries) {
      next[prev[e]!] = e;
      if (next[e] !== -1) prev[next[e]!] = e;
    }
  };

  const linearized = new Uint8Array(n);
  let prefixRank = 0; // every rank below is linearized, this one is not
  const optionalStack: number[] = []; // linearized optional ops, in lift order
  const mark = (i: number): void => {
    linearized[i] = 1;
    const rank = rankOf[i]!;
    if (rank === -1) optionalStack.push(i);
    else if (rank === prefixRank) while (prefixRank < mandatoryCount && linearized[opOfRank[prefixRank]!] === 1) prefixRank++;
  };
  const unmark = (i: number): void => {
    linearized[i] = 0;
    const rank = rankOf[i]!;
    if (rank === -1) {
      const top = optionalStack.pop();
      assert(top === i, "optional ops are unmarked in reverse order");
    } else if (rank < prefixRank) prefixRank = rank;
  };
  const memoKey = (state: number): string => {
    let key = `${state}:${prefixRank}`;
    if (prefixRank < mandatoryCount) {
      // A linearized op beyond the prefix was lifted while the prefix op was not, so its call came
      // no later than the prefix op's return: scanning that far finds them all (about the
      // concurrency, not the history's length).
      const limitNs = ops[opOfRank[prefixRank]!]!.returnNs;
      for (let r = prefixRank + 1; r < mandatoryCount; r++) {
        const i = opOfRank[r]!;
        if (ops[i]!.callNs > limitNs) break;
        if (linearized[i] === 1) key += `,${r}`;
      }
    }
    if (optionalStack.length > 0) key += `|${optionalStack.slice().sort((a, b) => a - b).join(",")}`;
    return key;
  };
  const apply = (op: SearchOp, state: number): number => {
    switch (op.f) {
      case "put":
        return op.value;
      case "del":
        return absentState;
      case "get":
        if (state === unknownState) return valuesBefore !== null && valuesBefore.has(op.value) ? op.value : rejected;
        return state === op.value ? state : rejected;
      default:
        return assertNever(op.f);
    }
  };

  const memo = new Set<string>();
  const stackOp = new Int32Array(n);
  const stackState = new Int32Array(n);
  let depth = 0;
  let linearizedMandatory = 0;
  let state = valuesBefore === null ? absentState : unknownState;
  let entry = next[head]!;
  let steps = 0;
  for (;;) {
    steps += 1;
    budget.stepsLeft -= 1;
    if (budget.stepsLeft < 0) return "out-of-budget";
    if (steps % clockCheckSteps === 0 && budget.expired()) return "out-of-budget";
    // Unlinearized mandatory ops keep their return entries in the list, so the scan meets one
    // before running off the end.
    assert(entry !== -1, "a return entry remains while mandatory ops are unlinearized");
    if (entry < n) {
      const i = entry;
      const newState = apply(ops[i]!, state);
      if (newState !== rejected) {
        mark(i);
        const key = memoKey(newState);
        if (!memo.has(key)) {
          memo.add(key);
          stackOp[depth] = i;
          stackState[depth] = state;
          depth += 1;
          state = newState;
          lift(i);
          if (rankOf[i] !== -1) {
            linearizedMandatory += 1;
            if (linearizedMandatory === mandatoryCount) return "linearizable";
          }
          entry = next[head]!;
          continue;
        }
        unmark(i);
      }
      entry = next[entry]!;
    } else {
      // The earliest pending return belongs to an op not yet linearized: this path is dead.
      if (depth === 0) return "not-linearizable";
      depth -= 1;
      const i = stackOp[depth]!;
      state = stackState[depth]!;
      unmark(i);
      unlift(i);
      if (rankOf[i] !== -1) linearizedMandatory -= 1;
      entry = next[i]!;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// One key

class KeyHistory {
  /** Operations that bear on the register, by call time: no fail, no get that observed nothing. */
  readonly ops: readonly Operation[];
  /** Writes that failed: shown when a get read one of their values. */
  readonly failedWrites: readonly Operation[];
  private readonly ids = new Map<string, number>();

  constructor(
    readonly key: string,
    all: readonly Operation[],
  ) {
    this.ops = all
      .filter((op) => op.outcome !== "fail" && (op.f !== "get" || op.outcome === "ok"))
      .sort((a, b) => a.callNs - b.callNs || a.invoke.index - b.invoke.index);
    this.failedWrites = all.filter((op) => op.outcome === "fail" && op.f !== "get");
  }

  check(budget: Budget): SearchOutcome {
    return search(this.searchOps(this.ops, Infinity), null, budget);
  }

  id(value: string | null): number {
    if (value === null) return absentState;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(value, id);
    }
    return id;
  }

  /**
   * The history as it stood at cutNs: ops invoked later are not there yet; an op that returned ok
   * by then is mandatory; a write still running (or info) may take effect or not; a get still
   * running has observed nothing.
   */
  searchOps(ops: readonly Operation[], cutNs: number): SearchOp[] {
    const result: SearchOp[] = [];
    for (const op of ops) {
      if (op.callNs > cutNs) continue;
      const returned = op.outcome === "ok" && op.returnNs <= cutNs;
      if (!returned && op.f === "get") continue;
      result.push({ f: op.f, value: this.id(op.value), callNs: op.callNs, returnNs: returned ? op.returnNs : Infinity });
    }
    return result;
  }
}

function isMandatoryAt(op: Operation, cutNs: number): boolean {
  return op.outcome === "ok" && op.returnNs <= cutNs;
}

function isWrite(op: Operation): boolean {
  return op.f !== "get";
}

/** A candidate window: the ops of the key's history at cutNs that are not summed up by valuesBefore. */
interface Window {
  readonly ops: readonly Operation[];
  /** null: the window starts at the key's first operation, from the initial absent value. */
  readonly valuesBefore: (string | null)[] | null;
}

/**
 * Narrows a non-linearizable key to a window a person can check by hand:
 * 1. The cut: the earliest return time at which the history so far is no longer linearizable
 *    (a binary search: a history that is not linearizable at some time is not linearizable at any
 *    later time). A get returning at the cut is the one that cannot be placed.
 * 2. The start: the latest quiet point (no returned op in flight) before the cut such that the
 *    ops from there on cannot be ordered from any value the key may have held at that point.
 *    Every op that completed before a quiet point precedes, in real time, every op invoked after
 *    it, so those ops only matter through the value they left. We also want the window to tell the
 *    story: a value a get reads must be written inside the window (unless nothing ever wrote it).
 * 3. Trimming: drop gets, and writes whose value no remaining get reads, while it still fails.
 *    Dropping such an op can never turn a linearizable history into a failing one, so what is left
 *    is still evidence on its own.
 * A call that cannot finish in windowSearchStepsMax steps keeps the widest window known to fail.
 */
function findViolation(history: KeyHistory): Violation {
  const budget: Budget = { stepsLeft: windowSearchStepsMax, expired: () => false };
  const ops = history.ops;
  const fails = (window: Window, cutNs: number): boolean | null => {
    const valuesBefore = window.valuesBefore === null ? null : new Set(window.valuesBefore.map((v) => history.id(v)));
    const outcome = search(history.searchOps(window.ops, cutNs), valuesBefore, budget);
    return outcome === "out-of-budget" ? null : outcome === "not-linearizable";
  };

  // 1. The cut.
  const returnTimes = [...new Set(ops.filter((op) => isMandatoryAt(op, Infinity)).map((op) => op.returnNs))].sort((a, b) => a - b);
  assert(returnTimes.length > 0, "a key with no returned op is linearizable");
  let passing = -1; // index of a return time known linearizable (-1: before everything)
  let failing = returnTimes.length - 1; // known not linearizable: the same as the whole history
  while (failing - passing > 1) {
    const mid = (passing + failing) >> 1;
    const verdict = fails({ ops, valuesBefore: null }, returnTimes[mid]!);
    if (verdict === null) break;
    if (verdict) failing = mid;
    else passing = mid;
  }
  const cutNs = returnTimes[failing]!;
  const atCut = ops.filter((op) => op.callNs <= cutNs);
  const conflict = atCut.find((op) => op.f === "get" && isMandatoryAt(op, cutNs) && op.returnNs === cutNs) ??
    atCut.filter((op) => op.f === "get" && isMandatoryAt(op, cutNs)).at(-1);
  assert(conflict !== undefined, "a history that stops being linearizable has a get that returned");

  // 2. The start.
  const mandatory = atCut.filter((op) => isMandatoryAt(op, cutNs));
  const quietPoints: number[] = [];
  let maxReturnNs = -Infinity;
  for (const op of mandatory) {
    if (maxReturnNs < op.callNs && quietPoints.at(-1) !== op.callNs) quietPoints.push(op.callNs);
    maxReturnNs = Math.max(maxReturnNs, op.returnNs);
  }
  const everWritten = new Set(ops.filter((op) => op.f === "put").map((op) => op.value));
  const windowAt = (q: number): Window => {
    if (q === 0) return { ops: atCut, valuesBefore: null };
    const startNs = quietPoints[q]!;
    const before = new Set(mandatory.filter((op) => op.returnNs < startNs));
    return { ops: atCut.filter((op) => !before.has(op)), valuesBefore: valuesLeftBy([...before]) };
  };
  // A window tells the story when the value the conflicting get read is written inside it (or was
  // never written at all): "the get read a, but b overwrote a" rather than "the key held b".
  const neverWritten = conflict.value !== null && !everWritten.has(conflict.value);
  const tellsTheStory = (candidate: Window): boolean =>
    candidate.valuesBefore === null || neverWritten || candidate.ops.some((op) => isWrite(op) && op.value === conflict.value);
  let tightest: Window | null = null; // the latest start that fails
  let story: Window | null = null; // the latest start that fails and tells the story
  for (let q = quietPoints.length - 1; q > 0 && story === null; q--) {
    const candidate = windowAt(q);
    if (tightest !== null && candidate.ops.length > storyWindowOpsMax) break;
    const tells = tellsTheStory(candidate);
    if (tightest !== null && !tells) continue;
    const verdict = fails(candidate, cutNs);
    if (verdict === null) break;
    if (!verdict) continue;
    tightest ??= candidate;
    if (tells) story = candidate;
  }
  let window = story ?? (tightest === null || atCut.length <= storyWindowOpsMax ? windowAt(0) : tightest);

  // 3. Trimming.
  for (const op of [...window.ops]) {
    if (op === conflict) continue;
    const remaining = window.ops.filter((o) => o !== op);
    const readByAnother = remaining.some((o) => o.f === "get" && isMandatoryAt(o, cutNs) && o.value === op.value);
    if (isWrite(op) && readByAnother) continue;
    const candidate: Window = { ops: remaining, valuesBefore: window.valuesBefore };
    const verdict = fails(candidate, cutNs);
    if (verdict === null) break;
    if (verdict) window = candidate;
  }

  // The window as a person sees it: ops with their real completions (an op still running at the
  // cut only adds constraints when shown complete), and for a read of an aborted write, that write.
  const abortedSources = conflict.value === null || everWritten.has(conflict.value) ? [] : history.failedWrites.filter((op) => op.f === "put" && op.value === conflict.value);
  const shown = [...window.ops, ...abortedSources];
  const events = shown.flatMap((op) => (op.completion === null ? [op.invoke] : [op.invoke, op.completion]));
  events.sort((a, b) => a.time - b.time || a.index - b.index);
  const valuesBefore = window.valuesBefore ?? [null];
  return {
    key: history.key,
    window: events,
    explanation: explain(conflict, window, abortedSources, everWritten, events[0]!.time),
    conflictIndex: conflict.invoke.index,
    valuesBefore,
    fromStart: window.valuesBefore === null,
  };
}

/**
 * The values the key may hold after `before` (ops that all completed before a quiet point): the
 * value of the last write in any order of them. A write that completed before another write began
 * is overwritten for certain, so only writes still running when the last write began remain;
 * absent too if no write completed.
 */
function valuesLeftBy(before: readonly Operation[]): (string | null)[] {
  const writes = before.filter(isWrite);
  if (writes.length === 0) return [null];
  const lastCallNs = Math.max(...writes.map((op) => op.callNs));
  return [...new Set(writes.filter((op) => op.returnNs >= lastCallNs).map((op) => op.value))];
}

function explain(conflict: Operation, window: Window, abortedSources: readonly Operation[], everWritten: ReadonlySet<string | null>, startNs: number): string {
  const at = (ns: number): string => `${formatMs(ns - startNs)} ms`;
  const read = conflict.value;
  const get = `get by process ${conflict.process} (invoked at ${at(conflict.callNs)}) returned ${showValue(read)}`;
  if (read !== null && !everWritten.has(read)) {
    const aborted = abortedSources[0];
    if (aborted !== undefined) {
      return `${get}, a value written only by a put that failed (process ${aborted.process}, failed at ${at(aborted.returnNs)}): ` +
        "a failed write never took effect, so no read may see it";
    }
    return `${get}, a value no put to this key ever wrote`;
  }
  // A stale read: a write completed before the get began, and every write of the value read (or
  // the value before the window) had completed before that write began.
  const sourcesOfRead = window.ops.filter((op) => isWrite(op) && op.value === read);
  const overwriting = window.ops
    .filter((op) => isWrite(op) && op.outcome === "ok" && op.value !== read && op.returnNs < conflict.callNs)
    .filter((op) => sourcesOfRead.every((source) => source.returnNs < op.callNs))
    .sort((a, b) => b.returnNs - a.returnNs)[0];
  const readBefore = window.valuesBefore === null ? read === null : window.valuesBefore.includes(read);
  if (overwriting !== undefined && (sourcesOfRead.length > 0 || readBefore)) {
    const write = overwriting.f === "put" ? `put ${showValue(overwriting.value)}` : "del";
    return `${get}, but ${write} by process ${overwriting.process} completed at ${at(overwriting.returnNs)}, before the get began, ` +
      `and every write of ${showValue(read)} had completed before that ${overwriting.f} began: the get missed an acknowledged write (a stale read)`;
  }
  return `${get}, and no order of these operations both respects real time (one that completed before another began comes first) ` +
    `and lets the get see ${showValue(read)}`;
}

// ---------------------------------------------------------------------------------------------
// For people

/** Longest value shown in a table cell; the JSON output carries the whole value. */
const shownValueCharsMax = 24;
/** Rows shown in a violation table; a window narrowed within its budget is far smaller. */
const shownRowsMax = 60;

function showValue(value: string | null): string {
  if (value === null) return "absent";
  const quoted = JSON.stringify(value);
  return quoted.length <= shownValueCharsMax ? quoted : `${quoted.slice(0, shownValueCharsMax - 2)}…"`;
}

function formatMs(ns: number): string {
  return (ns / 1e6).toFixed(3);
}

/** The violation of `result` as a table for a person; "" when there is none. */
export function formatViolation(result: CheckResult): string {
  const violation = result.violation;
  if (violation === undefined) return "";
  const startNs = violation.window[0]?.time ?? 0;
  interface Row {
    readonly invoke: HistoryEvent;
    completion: HistoryEvent | null;
  }
  const rows: Row[] = [];
  const open = new Map<number, Row>();
  for (const event of violation.window) {
    if (event.type === "invoke") {
      const row: Row = { invoke: event, completion: null };
      rows.push(row);
      open.set(event.process, row);
    } else {
      const row = open.get(event.process);
      if (row !== undefined) row.completion = event;
      open.delete(event.process);
    }
  }
  const table: string[][] = [["process", "f", "value", "invoked ms", "returned ms", "outcome", ""]];
  for (const row of rows.slice(0, shownRowsMax)) {
    const { invoke, completion } = row;
    const value = invoke.f === "get" ? (completion?.type === "ok" ? showValue(completion.value) : "") : invoke.f === "put" ? showValue(invoke.value) : "";
    const outcome = completion === null ? "pending" : completion.type;
    const returned = completion === null || completion.type === "info" ? "-" : formatMs(completion.time - startNs);
    const note = invoke.index === violation.conflictIndex ? "<- cannot be placed" : "";
    table.push([String(invoke.process), invoke.f, value, formatMs(invoke.time - startNs), returned, outcome, note]);
  }
  const widths = table[0]!.map((_, c) => Math.max(...table.map((cells) => cells[c]!.length)));
  const rightAligned = new Set([0, 3, 4]);
  const lines = table.map((cells) =>
    cells
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
  const before = violation.fromStart
    ? `the key was absent before these operations (they start at the key's first operation)`
    : `before these operations the key held ${violation.valuesBefore.map(showValue).join(" or ")} (what every earlier operation left)`;
  return [
    `key ${JSON.stringify(violation.key)}: ${violation.explanation}.`,
    `${before}; times in ms from ${formatMs(startNs)} ms into the history:`,
    ...lines.map((line) => `  ${line}`),
    ...(rows.length > shownRowsMax ? [`  ... and ${rows.length - shownRowsMax} more operations (--json shows them all)`] : []),
  ].join("\n");
}
