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
// - On top of it, rules that only skip orders that cannot succeed where another order tried
//   instead would (each argued where it is applied, in search): a get that reads the current
//   value is placed at once without alternatives; a write nobody still reads is placed only just
//   before another write; an info write is placed only just before a get that reads it; a write
//   is refused if it overwrites a value that gets still read and nothing can write again. They
//   cut the search on hot keys by orders of magnitude (bench/check-scaling.ts), and a test checks
//   the verdicts against brute force on thousands of small histories.
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
import { assert, assertNever } from "../../common/assert";
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
   * (for a read of an aborted write, the failed write too). Starting from any of `valuesBefore`
   * they admit no order, and no operation left out could change that: those that completed
   * before valuesBeforeNs are summed up by valuesBefore, the others were dropped only once the
   * rest was shown to fail without them.
   */
  readonly window: HistoryEvent[];
  /** One sentence for a person: what was read, and why no order explains it. */
  readonly explanation: string;
  /** `index` of the invoke event of the get that cannot be placed. */
  readonly conflictIndex: number;
  /**
   * The values the key may have held at valuesBeforeNs (null: absent): what the operations that
   * completed by then may have left (all of them completed before any shown operation began).
   */
  readonly valuesBefore: (string | null)[];
  /** Nanoseconds into the history: a moment when no operation of the key that returned was running. */
  readonly valuesBeforeNs: number;
  /** True when the window starts at the key's first operation, so valuesBefore is the initial null. */
  readonly fromStart: boolean;
}

export interface CheckResult {
  readonly verdict: Verdict;
  /** Operations in the history: one per invoke event. */
  readonly operations: number;
  /** Distinct keys in the history. */
  readonly keys: number;
  /** Keys whose verdict was reached (all of them unless the check stopped early: see undecided). */
  readonly keysChecked: number;
  readonly elapsedMs: number;
  /** Every key found not linearizable, in order of first appearance; `violation` explains the first. */
  readonly violatedKeys: string[];
  readonly violation?: Violation;
  /** Where the check stopped early: the key it was on, and why (timeoutMs, or memoEntriesMax). */
  readonly undecided?: Undecided;
}

export interface Undecided {
  readonly key: string;
  readonly reason: "timeout" | "memory";
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

/**
 * The most configurations the memo of one key's search may hold (each a short string: some tens
 * of bytes with the Set's overhead, so about 1 GB at the limit; a JavaScript Set cannot pass 2^24
 * anyway). Past it the key is undecided rather than the process out of memory. A linearizable
 * history needs about one entry per operation; it takes a search that backtracks a lot to come
 * near.
 */
export const memoEntriesMax = 8_000_000;

/**
 * Steps without progress (no more ops placed than ever before) after which a key's search pauses
 * to look for a small window that proves a violation (see checkHistory). A linearizable history
 * rarely backtracks this long; a step costs about a microsecond.
 */
const stallStepsMax = 1_000_000;

/** Windows tried for such a proof have at most this many operations. */
const localWindowOpsMax = 400;

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
  let undecided: Undecided | undefined;
  for (const [key, ops] of byKey) {
    if (clock.expired()) {
      undecided = { key, reason: "timeout" };
      break;
    }
    const history = new KeyHistory(key, ops);
    // A violation deep in a long, busy key makes the search explore every order of everything
    // before it. So a search that stops making progress pauses, and we look for a small window
    // around where it got stuck that cannot be ordered: that proves the violation on its own. If
    // there is none, the search starts again without pausing.
    const progress: SearchProgress = { stallSteps: stallStepsMax, deadEndNs: -Infinity, stranded: new Set() };
    let outcome = history.check(clock, progress);
    let found: Violation | null = null;
    if (outcome === "stalled") {
      found = localViolation(history, progress, clock);
      outcome = found !== null ? "not-linearizable" : history.check(clock);
    }
    if (outcome === "out-of-time" || outcome === "out-of-memory" || outcome === "stalled") {
      undecided = { key, reason: outcome === "out-of-memory" ? "memory" : "timeout" };
      break;
    }
    keysChecked += 1;
    if (outcome === "not-linearizable") {
      violatedKeys.push(key);
      // Only the first violation is narrowed: it is what a person reads, and narrowing costs
      // several more searches of the key.
      if (violation === undefined) violation = found ?? findViolation(history);
    }
  }
  // A violation found is a violation, even if time ran out on a later key.
  const verdict: Verdict = violatedKeys.length > 0 ? "not-linearizable" : undecided !== undefined ? "unknown" : "linearizable";
  return {
    verdict,
    operations: operations.length,
    keys: byKey.size,
    keysChecked,
    elapsedMs: options.nowMs() - startMs,
    violatedKeys,
    ...(violation === undefined ? {} : { violation }),
    ...(undecided === undefined ? {} : { undecided }),
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

type SearchOutcome = "linearizable" | "not-linearizable" | "out-of-time" | "out-of-memory" | "stalled";

interface SearchProgress {
  /** Give up ("stalled") after this many steps without placing more ops than ever before. */
  readonly stallSteps: number;
  /** Out: the latest return time at which the search hit a dead end. */
  deadEndNs: number;
  /**
   * Out: values the search refused to overwrite (because gets still read them and nothing can
   * write them again) in the furthest configurations it reached.
   */
  readonly stranded: Set<number>;
}

/** How many stranded values a stalled search remembers: the suspects are few. */
const strandedSuspects = 8;

/**
 * Is there an order of `allOps` (sorted by callNs) that respects real time and the register,
 * starting from absent (valuesBefore null) or from any one of valuesBefore? Operations with an
 * infinite returnNs (writes that may or may not take effect) may be left out.
 *
 * Writes that may or may not take effect ("optional") are not entries of the list. In a valid
 * order, such a write w is followed by the gets that read it, then by a write (or the end). If no
 * get follows, or the value before w was already w's, dropping w leaves the order valid. So the
 * search only ever places w as a pair "w, then a get reading its value" when the get cannot be
 * explained otherwise. Left in the list, old info writes would be tried again before every step,
 * and a failing search would explore every subset of them.
 *
 * The parts, each in its own unit below: the list of call and return entries (EntryList), which
 * ops are placed and what that leaves to do (Placement), the moves made so far (MoveStack), and
 * the walk that picks moves, memoises configurations and backtracks (RegisterSearch).
 */
function search(
  allOps: readonly SearchOp[],
  valuesBefore: ReadonlySet<number> | null,
  budget: Budget,
  progress: SearchProgress = { stallSteps: Infinity, deadEndNs: -Infinity, stranded: new Set() },
): SearchOutcome {
  for (let i = 1; i < allOps.length; i++) assert(allOps[i - 1]!.callNs <= allOps[i]!.callNs, "search ops sorted by call");
  const ops = allOps.filter((op) => op.returnNs !== Infinity);
  if (ops.length === 0) return "linearizable";
  return new RegisterSearch(new Placement(allOps, ops), valuesBefore, budget, progress).run();
}

/**
 * The register's state after `op` from `state`, or rejected. A get is allowed only when it reads
 * what the register holds (for unknownState: one of valuesBefore); an optional write placed just
 * before it may still explain it (see Placement.availableWriter).
 */
function registerStep(op: SearchOp, state: number, valuesBefore: ReadonlySet<number> | null): number {
  switch (op.f) {
    case "put":
      return op.value;
    case "del":
      return absentState;
    case "get": {
      const explained = state === unknownState ? valuesBefore !== null && valuesBefore.has(op.value) : state === op.value;
      return explained ? op.value : rejected;
    }
    default:
      return assertNever(op.f);
  }
}

/**
 * The calls and returns of the ops that must be placed, as one doubly linked list in time order:
 * op i's call is entry i, its return entry n + i, and the head is entry 2n; -1 ends the list. A
 * call sorts before a return at the same time (equal times are concurrent).
 */
class EntryList {
  readonly head: number;
  readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly n: number;

  constructor(ops: readonly SearchOp[]) {
    const n = ops.length;
    const head = 2 * n;
    const next = new Int32Array(2 * n + 1);
    const prev = new Int32Array(2 * n + 1);
    const returnsByTime = ops.map((_, i) => i).sort((a, b) => ops[a]!.returnNs - ops[b]!.returnNs || a - b);
    let last = head;
    for (let i = 0, j = 0; i < n || j < n; ) {
      const entry = j === n || (i < n && ops[i]!.callNs <= ops[returnsByTime[j]!]!.returnNs) ? i++ : n + returnsByTime[j++]!;
      next[last] = entry;
      prev[entry] = last;
      last = entry;
    }
    next[last] = -1;
    this.n = n;
    this.head = head;
    this.next = next;
    this.prev = prev;
  }

  /** The first entry still in the list. */
  first(): number {
    return this.next[this.head]!;
  }

  /** The first return entry at or after `entry` (an entry in the list whose op is not placed, so its return is still there). */
  returnFrom(entry: number): number {
    let e = entry;
    while (e < this.n) e = this.next[e]!;
    assert(e >= this.n && e < this.head, "a return entry follows the call of an unplaced op");
    return e;
  }

  // Removes op i's call and return entries; they keep their own links, so unlift can put them back
  // (dancing links). Unlifts happen in the reverse order of lifts.
  lift(i: number): void {
    this.remove(i);
    this.remove(this.n + i);
  }

  unlift(i: number): void {
    this.restore(this.n + i);
    this.restore(i);
  }

  private remove(e: number): void {
    const { next, prev } = this;
    assert(next[prev[e]!] === e, "a lifted entry is in the list");
    next[prev[e]!] = next[e]!;
    if (next[e] !== -1) prev[next[e]!] = prev[e]!;
  }

  private restore(e: number): void {
    const { next, prev } = this;
    // Holds only if the entries lifted after e were all put back: unlifts in the reverse order of lifts.
    assert(next[prev[e]!] === next[e], "entries are unlifted in the reverse order of lifts");
    next[prev[e]!] = e;
    if (next[e] !== -1) prev[next[e]!] = e;
  }
}

/**
 * Which ops are placed, and the counts the pruning rules read, kept up to date as ops are placed
 * and unplaced: the gets still to place that read each value, the writes of each value not yet
 * placed, the optional writes used. Also what a configuration's memo key is made of.
 */
class Placement {
  /** The ops that must be placed (a finite returnNs), by call time; n of them. */
  readonly ops: readonly SearchOp[];
  readonly n: number;
  readonly list: EntryList;
  /** Writes that may or may not take effect and whose value some op of `ops` reads, by call time. */
  private readonly optional: readonly SearchOp[];
  /** value -> optional writes of it, by call time */
  private readonly writersOf = new Map<number, number[]>();
  private readonly linearized: Uint8Array;
  /** Every op below is linearized, this one is not. */
  private prefix = 0;
  private placedCount = 0;
  private pendingGetCount = 0;
  /** How many gets still to place read each value: an optional write matters only while some do. */
  private readonly pendingReads: Int32Array;
  // Optional writes of one value are interchangeable, and once one may come it may come for the
  // rest of the path; the search always takes the first one not yet placed, so those placed are
  // always the first usedCount[value] of writersOf(value), and the count says which.
  private readonly usedCount: Int32Array;
  // Values with a placed optional write and a get still to place that reads them: only for these
  // does it matter which optional writes were placed. A handful, whatever the history's length.
  private readonly liveValues = new Set<number>();
  // Writes of each value not yet placed (optional ones included): when it reaches 0 while gets
  // still read the value, overwriting it is a dead end.
  private readonly writesLeft: Int32Array;
  /** Scratch for memoKey. */
  private readonly keyCodes: number[] = [];

  constructor(allOps: readonly SearchOp[], ops: readonly SearchOp[]) {
    const n = ops.length;
    assert(n > 0, "a search has ops to place");
    this.ops = ops;
    this.n = n;
    this.list = new EntryList(ops);
    this.linearized = new Uint8Array(n);
    let valueCount = absentState + 1;
    for (const op of allOps) valueCount = Math.max(valueCount, op.value + 1);
    const pendingReads = new Int32Array(valueCount);
    for (const op of ops) if (op.f === "get") pendingReads[op.value]! += 1;
    this.pendingReads = pendingReads;
    this.optional = allOps.filter((op) => op.returnNs === Infinity && op.f !== "get" && pendingReads[op.value]! > 0);
    this.optional.forEach((op, w) => {
      const writers = this.writersOf.get(op.value);
      if (writers === undefined) this.writersOf.set(op.value, [w]);
      else writers.push(w);
    });
    this.usedCount = new Int32Array(valueCount);
    this.writesLeft = new Int32Array(valueCount);
    for (const op of allOps) if (op.f !== "get" && (op.returnNs !== Infinity || pendingReads[op.value]! > 0)) this.writesLeft[op.value]! += 1;
    for (const op of ops) if (op.f === "get") this.pendingGetCount += 1;
  }

  /** Ops of `ops` placed. */
  get placed(): number {
    return this.placedCount;
  }

  /** Gets of `ops` not yet placed. */
  get pendingGets(): number {
    return this.pendingGetCount;
  }

  place(i: number): void {
    const op = this.ops[i]!;
    assert(this.linearized[i] === 0, "an op is placed at most once");
    this.linearized[i] = 1;
    this.placedCount += 1;
    if (op.f !== "get") this.writesLeft[op.value]! -= 1;
    if (i === this.prefix) while (this.prefix < this.n && this.linearized[this.prefix] === 1) this.prefix++;
    if (op.f === "get") {
      const value = op.value;
      this.pendingReads[value]! -= 1;
      if (this.pendingReads[value] === 0) this.liveValues.delete(value);
      this.pendingGetCount -= 1;
    }
    this.list.lift(i);
  }

  unplace(i: number): void {
    const op = this.ops[i]!;
    assert(this.linearized[i] === 1, "only a placed op is unplaced");
    this.list.unlift(i);
    this.linearized[i] = 0;
    this.placedCount -= 1;
    if (op.f !== "get") this.writesLeft[op.value]! += 1;
    if (i < this.prefix) this.prefix = i;
    if (op.f === "get") {
      const value = op.value;
      this.pendingReads[value]! += 1;
      if (this.usedCount[value]! > 0) this.liveValues.add(value);
      this.pendingGetCount += 1;
    }
  }

  useWriter(w: number): void {
    const value = this.optional[w]!.value;
    assert(this.writersOf.get(value)![this.usedCount[value]!] === w, "optional writes are placed in order");
    this.usedCount[value]! += 1;
    this.writesLeft[value]! -= 1;
    if (this.pendingReads[value]! > 0) this.liveValues.add(value);
  }

  unuseWriter(w: number): void {
    const value = this.optional[w]!.value;
    this.usedCount[value]! -= 1;
    this.writesLeft[value]! += 1;
    assert(this.writersOf.get(value)![this.usedCount[value]!] === w, "optional writes are unplaced in reverse order");
    if (this.usedCount[value] === 0) this.liveValues.delete(value);
  }

  // A dead write is one whose value no get still to place reads. In any valid order it is followed
  // at once by another write w (or ends the order). So it is not a move of its own: every dead
  // write that may come now is placed just before the next write placed (placing all of them is
  // at least as good as placing some: dropping a dead write from a valid continuation leaves it
  // valid; see MoveStack.push). The one exception: w was invoked after the dead write returned;
  // then every op that returned before w was invoked is placed before w, so the dead write's
  // return is the earliest one left, and the scan meets it there (RegisterSearch.pickCandidate).
  isDeadWrite(i: number): boolean {
    return this.ops[i]!.f !== "get" && this.pendingReads[this.ops[i]!.value] === 0;
  }

  /**
   * Overwriting `state` (a known value, not unknownState) with `newState` (rejected counts as
   * another state) strands the gets that still read it: no write of it is left.
   */
  strands(state: number, newState: number): boolean {
    return newState !== state && this.pendingReads[state]! > 0 && this.writesLeft[state] === 0;
  }

  /** The call entry of the first get in the list from `entry` on that reads `value`, or -1. */
  firstReaderOf(value: number, entry: number): number {
    const { ops, n } = this;
    const next = this.list.next;
    for (let e = entry; e < n; e = next[e]!) if (ops[e]!.f === "get" && ops[e]!.value === value) return e;
    return -1;
  }

  // The first optional write of `value` not yet placed that may come now: invoked no later than the
  // earliest return still in the list (every op that returned before it was invoked is placed).
  // Writers of one value are interchangeable and stay available once available, so taking the
  // first is as good as any. -1 if there is none.
  availableWriter(value: number, from: number): number {
    const writers = this.writersOf.get(value);
    if (writers === undefined) return -1;
    const entry = this.list.returnFrom(from);
    const w = writers[this.usedCount[value]!];
    return w !== undefined && this.optional[w]!.callNs <= this.ops[entry - this.n]!.returnNs ? w : -1;
  }

  memoKey(state: number): string {
    // "state:prefix:" then the ops placed beyond the prefix as a bitmap, six ops per character.
    // An op placed beyond the prefix was placed while the prefix op was not, so its call came no
    // later than the prefix op's return: the bitmap stops there (about the concurrency, not the
    // history's length).
    const { ops, n, prefix, linearized, keyCodes } = this;
    keyCodes.length = 0;
    if (prefix < n) {
      const limitNs = ops[prefix]!.returnNs;
      let bits = 0;
      let count = 0;
      for (let i = prefix + 1; i < n && ops[i]!.callNs <= limitNs; i++) {
        if (linearized[i] === 1) bits |= 1 << count;
        count += 1;
        if (count === 6) {
          keyCodes.push(48 + bits);
          bits = 0;
          count = 0;
        }
      }
      if (bits !== 0) keyCodes.push(48 + bits);
      while (keyCodes.length > 0 && keyCodes[keyCodes.length - 1] === 48) keyCodes.pop();
    }
    let key = `${state.toString(36)}:${prefix.toString(36)}:${String.fromCharCode(...keyCodes)}`;
    // Placed optional writes whose value no get still reads no longer matter: leaving them out of
    // the key lets configurations that differ only in them share one entry.
    const { liveValues, usedCount } = this;
    if (liveValues.size > 0) key += `|${[...liveValues].sort((a, b) => a - b).map((value) => `${value}x${usedCount[value]}`).join(",")}`;
    return key;
  }
}

/**
 * The moves made so far, as a stack. A move places one op of the list, and before it, when it
 * writes, every dead write that may come now (see Placement.isDeadWrite); a get may bring its
 * optional writer. Undoing a move unplaces all of it, in the reverse order.
 */
class MoveStack {
  private readonly op: Int32Array;
  private readonly writer: Int32Array;
  private readonly stateBefore: Int32Array;
  private readonly forced: Uint8Array;
  /** How many dead writes the move placed before its op. */
  private readonly flushedCount: Int32Array;
  /** The dead writes placed by all the moves on the stack, in the order placed. */
  private readonly flushed: number[] = [];
  private size = 0;

  constructor(private readonly placement: Placement) {
    const n = placement.n;
    // A move places at least its own op, so at most n are on the stack.
    this.op = new Int32Array(n);
    this.writer = new Int32Array(n);
    this.stateBefore = new Int32Array(n);
    this.forced = new Uint8Array(n);
    this.flushedCount = new Int32Array(n);
  }

  get depth(): number {
    return this.size;
  }

  /** The op of the last move. */
  topOp(): number {
    assert(this.size > 0, "a move on the stack");
    return this.op[this.size - 1]!;
  }

  /** Whether the last move was the only one tried at its node. */
  topForced(): boolean {
    assert(this.size > 0, "a move on the stack");
    return this.forced[this.size - 1] === 1;
  }

  /**
   * Places op i (after the dead writes that may come now, if the move writes; with optional write
   * `writer` just before it unless -1) and records it all as one move, made from `stateBefore`.
   */
  push(i: number, writer: number, stateBefore: number, forced: boolean): void {
    const placement = this.placement;
    const depth = this.size;
    assert(depth < this.op.length, "at most n moves");
    let flushCount = 0;
    if (placement.ops[i]!.f !== "get" || writer !== -1) {
      const next = placement.list.next;
      const n = placement.n;
      for (let e = placement.list.first(); e < n; ) {
        const after = next[e]!;
        if (e !== i && placement.isDeadWrite(e)) {
          placement.place(e);
          this.flushed.push(e);
          flushCount += 1;
        }
        e = after;
      }
    }
    placement.place(i);
    if (writer !== -1) placement.useWriter(writer);
    this.op[depth] = i;
    this.writer[depth] = writer;
    this.stateBefore[depth] = stateBefore;
    this.forced[depth] = forced ? 1 : 0;
    this.flushedCount[depth] = flushCount;
    this.size = depth + 1;
  }

  /** Undoes the last move; returns the register state it was made from. */
  undo(): number {
    assert(this.size > 0, "a move to undo");
    const placement = this.placement;
    const depth = --this.size;
    placement.unplace(this.op[depth]!);
    if (this.writer[depth] !== -1) placement.unuseWriter(this.writer[depth]!);
    for (let k = this.flushedCount[depth]!; k > 0; k--) placement.unplace(this.flushed.pop()!);
    return this.stateBefore[depth]!;
  }
}

/** RegisterSearch.entry when the scan starts over at a node just reached. */
const newNode = -3;

/** What came of trying a move: a new configuration, one refused or explored before, or the end of the search. */
type MoveResult = "moved" | "refused" | "linearizable" | "out-of-memory";

/**
 * The search itself (see search): from a configuration (register state, ops placed), linearize an
 * op whose call comes before the first return still in the list; memoise every configuration
 * reached; back off when the earliest return left belongs to an op not yet placed. Counts steps
 * against the budget and the stall limit.
 */
class RegisterSearch {
  private readonly moves: MoveStack;
  private readonly memo = new Set<string>();
  /** The register's state: an interned value, or unknownState until a get narrows valuesBefore. */
  private state: number;
  /** Where the scan for the next move is in the list; newNode: start over from the first entry. */
  private entry = newNode;
  private steps = 0;
  private mostPlaced = 0;
  private mostPlacedAtStep = 0;

  constructor(
    private readonly placement: Placement,
    private readonly valuesBefore: ReadonlySet<number> | null,
    private readonly budget: Budget,
    private readonly progress: SearchProgress,
  ) {
    this.moves = new MoveStack(placement);
    this.state = valuesBefore === null ? absentState : unknownState;
  }

  run(): SearchOutcome {
    const { placement } = this;
    const n = placement.n;
    const next = placement.list.next;
    for (;;) {
      const stop = this.countStep();
      if (stop !== null) return stop;
      // With no get left to place, the writes left can go in order of return: that respects real
      // time, and nothing reads them.
      if (placement.pendingGets === 0) return "linearizable";
      const candidate = this.pickCandidate();
      const forced = candidate < -1; // see pickCandidate
      if (candidate !== -1) {
        const i = forced ? -2 - candidate : candidate;
        const result = this.tryMove(i, forced);
        if (result === "moved") {
          this.entry = newNode;
          continue;
        }
        if (result !== "refused") return result;
        if (!forced) {
          this.entry = next[this.entry]!;
          continue;
        }
        // A forced get leads to an explored configuration: this node is a dead end too.
      } else if (this.entry < n) {
        // A dead write: never a move of its own.
        this.entry = next[this.entry]!;
        continue;
      }
      if (!this.backtrack()) return "not-linearizable";
    }
  }

  /** Counts one step; the outcome if the search must stop here (stalled, out of steps or time). */
  private countStep(): SearchOutcome | null {
    const { progress, budget } = this;
    this.steps += 1;
    const placed = this.placement.placed;
    if (placed > this.mostPlaced) {
      this.mostPlaced = placed;
      this.mostPlacedAtStep = this.steps;
      progress.stranded.clear();
    } else if (this.steps - this.mostPlacedAtStep > progress.stallSteps) {
      return "stalled";
    }
    budget.stepsLeft -= 1;
    if (budget.stepsLeft < 0) return "out-of-time";
    if (this.steps % clockCheckSteps === 0 && budget.expired()) return "out-of-time";
    return null;
  }

  /**
   * The op to try next from the scan's entry: -1 for none, i for op i, or -2 - i for op i as a
   * forced move, the only one tried at this node. Moves the scan to the node's first entry if it
   * is starting over.
   */
  private pickCandidate(): number {
    const { placement } = this;
    const n = placement.n;
    if (this.entry === newNode) {
      this.entry = placement.list.first();
      // A get that reads the current state and may come now (its call precedes every return still
      // in the list) is placed at once, with no alternative tried: in any valid continuation it
      // can be moved to the front, since it changes nothing and every op that must precede it is
      // placed. Half of a typical history is gets, so this prunes most of the branching.
      if (this.state !== unknownState) {
        const reader = placement.firstReaderOf(this.state, this.entry);
        if (reader !== -1) return -2 - reader;
      }
    }
    const entry = this.entry;
    // Unplaced ops keep their return entries in the list, so the scan meets one before the end.
    assert(entry !== -1, "a return entry remains while ops are unplaced");
    if (entry < n) return placement.isDeadWrite(entry) ? -1 : entry;
    // The earliest return still in the list is a dead write's: it may be placed now, as a last
    // resort, when the write that follows it in a valid order was invoked after it returned (so it
    // cannot come before it, and no flush could place it).
    if (placement.isDeadWrite(entry - n)) return -2 - (entry - n);
    return -1;
  }

  /** Tries linearizing op i next: the register must allow it, and the configuration it leads to must be new. */
  private tryMove(i: number, forced: boolean): MoveResult {
    const { placement, progress } = this;
    const op = placement.ops[i]!;
    const state = this.state;
    let newState = registerStep(op, state, this.valuesBefore);
    let writer = -1;
    if (newState === rejected) {
      assert(op.f === "get", "the register refuses only gets");
      writer = placement.availableWriter(op.value, i);
      if (writer !== -1) newState = op.value;
    }
    // Overwriting a value that gets still read, with no write of it left, strands those gets. (A
    // get the register refused counts as overwriting too, so its state is recorded as a suspect.)
    if (state !== unknownState && placement.strands(state, newState)) {
      newState = rejected;
      if (placement.placed >= this.mostPlaced && progress.stranded.size < strandedSuspects) progress.stranded.add(state);
    }
    if (newState === rejected) return "refused";
    this.moves.push(i, writer, state, forced);
    this.state = newState;
    const key = placement.memoKey(newState);
    if (!this.memo.has(key)) {
      this.memo.add(key);
      if (this.memo.size > memoEntriesMax) return "out-of-memory";
      if (placement.placed === placement.n) return "linearizable";
      return "moved";
    }
    this.state = this.moves.undo();
    return "refused";
  }

  // A dead end: the earliest return still in the list belongs to an op not yet placed (or a forced
  // or last-resort move fails). Undo moves until one with an alternative, and move the scan past
  // it; a forced move has none. False when no move is left to undo.
  private backtrack(): boolean {
    const { placement, progress, moves } = this;
    const n = placement.n;
    if (this.entry >= n) progress.deadEndNs = Math.max(progress.deadEndNs, placement.ops[this.entry - n]!.returnNs);
    for (;;) {
      if (moves.depth === 0) {
        assert(placement.placed === 0, "with no move left, nothing is placed");
        return false;
      }
      const forcedMove = moves.topForced();
      const i = moves.topOp();
      this.state = moves.undo();
      this.entry = placement.list.next[i]!;
      if (!forcedMove) return true;
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
  private readonly values: (string | null)[] = [null]; // by id: absentState is 0

  constructor(
    readonly key: string,
    all: readonly Operation[],
  ) {
    this.ops = all
      .filter((op) => op.outcome !== "fail" && (op.f !== "get" || op.outcome === "ok"))
      .sort((a, b) => a.callNs - b.callNs || a.invoke.index - b.invoke.index);
    this.failedWrites = all.filter((op) => op.outcome === "fail" && op.f !== "get");
  }

  check(budget: Budget, progress?: SearchProgress): SearchOutcome {
    return search(this.searchOps(this.ops, Infinity), null, budget, progress);
  }

  id(value: string | null): number {
    if (value === null) return absentState;
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(value, id);
      this.values.push(value);
    }
    return id;
  }

  valueOf(id: number): string | null {
    const value = this.values[id];
    assert(value !== undefined, `value id ${id} was interned`);
    return value;
  }

  /**
   * The history as it stood at cutNs: ops invoked later are not there yet; an op that returned ok
   * by then is mandatory; a write still running (or info) may take effect or not; a get still
   * running has observed nothing.
   */
  searchOps(ops: readonly Operation[], cutNs: number, optionalized: ReadonlySet<Operation> = noOperations): SearchOp[] {
    const result: SearchOp[] = [];
    for (const op of ops) {
      if (op.callNs > cutNs) continue;
      const returned = op.outcome === "ok" && op.returnNs <= cutNs && !optionalized.has(op);
      if (!returned && op.f === "get") continue;
      result.push({ f: op.f, value: this.id(op.value), callNs: op.callNs, returnNs: returned ? op.returnNs : Infinity });
    }
    return result;
  }
}

const noOperations: ReadonlySet<Operation> = new Set();

/** The first i in [0, length) with atOrAfter(i) true, or length; atOrAfter is false then true. */
function firstIndex(length: number, atOrAfter: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (atOrAfter(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function isMandatoryAt(op: Operation, cutNs: number): boolean {
  return op.outcome === "ok" && op.returnNs <= cutNs;
}

function isWrite(op: Operation): boolean {
  return op.f !== "get";
}

/** A candidate window: the ops of the key's history at cutNs that are not summed up by valuesBefore. */
interface Window {
  /** By call time. */
  readonly ops: readonly Operation[];
  /** null: the window starts at the key's first operation, from the initial absent value. */
  readonly valuesBefore: (string | null)[] | null;
  /** The boundary valuesBefore describes the key at. */
  readonly startNs: number;
  /** Writes that were running at startNs: they may have taken effect before it, so the search treats them as optional. */
  readonly optionalized: ReadonlySet<Operation>;
}

/**
 * Narrows a non-linearizable key to a window a person can check by hand:
 * 1. The cut: the earliest return time at which the history so far is no longer linearizable
 *    (a binary search: a history that is not linearizable at some time is not linearizable at any
 *    later time). A get returning at the cut is the one that cannot be placed.
 * 2. The start: the latest boundary (an op's call time) before the conflicting get such that the
 *    ops from there on cannot be ordered from any value the key may have held there (see below).
 *    We also want the window to tell the story: the value the get read must be written inside
 *    the window (unless nothing ever wrote it), while that keeps it at storyWindowOpsMax or less.
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
    const outcome = search(history.searchOps(window.ops, cutNs, window.optionalized), valuesBefore, budget);
    return outcome === "linearizable" ? false : outcome === "not-linearizable" ? true : null;
  };

  // 1. The cut.
  const returnTimes = [...new Set(ops.filter((op) => isMandatoryAt(op, Infinity)).map((op) => op.returnNs))].sort((a, b) => a - b);
  assert(returnTimes.length > 0, "a key with no returned op is linearizable");
  let passing = -1; // index of a return time known linearizable (-1: before everything)
  let failing = returnTimes.length - 1; // known not linearizable: the same as the whole history
  while (failing - passing > 1) {
    const mid = (passing + failing) >> 1;
    const verdict = fails({ ops, valuesBefore: null, startNs: 0, optionalized: noOperations }, returnTimes[mid]!);
    if (verdict === null) break;
    if (verdict) failing = mid;
    else passing = mid;
  }
  const cutNs = returnTimes[failing]!;
  const conflict = ops.find((op) => op.f === "get" && isMandatoryAt(op, cutNs) && op.returnNs === cutNs) ??
    ops.filter((op) => op.f === "get" && isMandatoryAt(op, cutNs)).sort((a, b) => a.returnNs - b.returnNs).at(-1);
  assert(conflict !== undefined, "a history that stops being linearizable has a get that returned");
  const violation = narrow(history, cutNs, conflict, budget, true);
  assert(violation !== null, "the whole history at the cut fails");
  return violation;
}

/**
 * A violation proven by a small window alone (of at most localWindowOpsMax operations), found
 * where a stalled search got stuck, or null. The suspects: the last get to read each value the
 * search refused to overwrite where it got furthest (a stale read strands its value: once it is
 * written, nothing may overwrite it while the stale get is still to come), then the last gets
 * that returned by its latest dead end.
 */
function localViolation(history: KeyHistory, progress: SearchProgress, clock: Budget): Violation | null {
  const okGets = history.ops.filter((op) => op.f === "get" && op.outcome === "ok").sort((a, b) => b.returnNs - a.returnNs);
  const suspects = new Set<Operation>();
  for (const id of progress.stranded) {
    const value = history.valueOf(id);
    const lastReader = okGets.find((get) => get.value === value);
    if (lastReader !== undefined) suspects.add(lastReader);
  }
  for (const op of okGets.filter((get) => get.returnNs <= progress.deadEndNs).slice(0, 4)) suspects.add(op);
  // A linearizable key can stall too; then every suspect fails, so the total is bounded as well.
  let stepsLeft = windowSearchStepsMax;
  for (const conflict of suspects) {
    // Each suspect gets at most a quarter, so a hard one does not starve the others.
    const budget: Budget = { stepsLeft: Math.min(stepsLeft, windowSearchStepsMax / 4), expired: clock.expired };
    const before = budget.stepsLeft;
    const violation = narrow(history, conflict.returnNs, conflict, budget, false);
    if (violation !== null) return violation;
    stepsLeft -= before - Math.max(0, budget.stepsLeft);
    if (stepsLeft <= 0 || clock.expired()) break;
  }
  return null;
}

/**
 * Steps 2 and 3 of findViolation for the history as it stood at cutNs, whose get `conflict`
 * returned then. With wholeFails, the whole history at the cut is known to fail and is the window
 * of last resort; without, only windows of at most localWindowOpsMax operations are tried, and the
 * result is null if none fails.
 */
function narrow(history: KeyHistory, cutNs: number, conflict: Operation, budget: Budget, wholeFails: boolean): Violation | null {
  const ops = history.ops;
  const failsAt = (window: Window, atNs: number): boolean | null => {
    const valuesBefore = window.valuesBefore === null ? null : new Set(window.valuesBefore.map((v) => history.id(v)));
    const outcome = search(history.searchOps(window.ops, atNs, window.optionalized), valuesBefore, budget);
    return outcome === "linearizable" ? false : outcome === "not-linearizable" ? true : null;
  };
  const fails = (window: Window): boolean | null => failsAt(window, cutNs);
  const atCut = ops.filter((op) => op.callNs <= cutNs);

  // 2. The start. A boundary is the call time c of a returned op. The ops that returned before c
  // (R) precede every op invoked at or after c, so they only matter through the value they left.
  // A write still running at c (invoked before, returned after) may have taken effect on either
  // side, so it stays in the window as optional: if it took effect before c, the search can place
  // it first. A get still running at c may have read before c: it is left
  // out (leaving out a get only loosens). An optional write whose value no get in the window
  // reads is left out too: it can always be left out of an order.
  const mandatory = atCut.filter((op) => isMandatoryAt(op, cutNs));
  const optionalWritesByValue = new Map<string | null, Operation[]>();
  for (const op of atCut) {
    if (isMandatoryAt(op, cutNs) || !isWrite(op)) continue;
    const writes = optionalWritesByValue.get(op.value);
    if (writes === undefined) optionalWritesByValue.set(op.value, [op]);
    else writes.push(op);
  }
  const writesByReturn = mandatory.filter(isWrite).sort((a, b) => a.returnNs - b.returnNs);
  const lastCallNsUpTo: number[] = []; // over writesByReturn[0..k]
  for (const op of writesByReturn) lastCallNsUpTo.push(Math.max(lastCallNsUpTo.at(-1) ?? -Infinity, op.callNs));
  let longestNs = 0;
  for (const op of mandatory) longestNs = Math.max(longestNs, op.returnNs - op.callNs);
  const boundaries = [...new Set(mandatory.filter((op) => op.callNs <= conflict.callNs).map((op) => op.callNs))];
  const byCall = (a: Operation, b: Operation): number => a.callNs - b.callNs || a.invoke.index - b.invoke.index;
  const windowAt = (b: number): Window => {
    const startNs = boundaries[b]!;
    const firstInside = firstIndex(mandatory.length, (i) => mandatory[i]!.callNs >= startNs);
    const inside = mandatory.slice(firstInside);
    const readCount = new Map<string | null, number>();
    for (const op of inside) if (op.f === "get") readCount.set(op.value, (readCount.get(op.value) ?? 0) + 1);
    // Writes invoked before c that may take effect inside the window: still running at c, or info.
    const early: Operation[] = [];
    if (b > 0) {
      for (let j = firstInside - 1; j >= 0 && mandatory[j]!.callNs >= startNs - longestNs; j--) {
        const op = mandatory[j]!;
        if (isWrite(op) && op.returnNs >= startNs && readCount.has(op.value)) early.push(op);
      }
    }
    const late: Operation[] = [];
    for (const value of readCount.keys()) {
      for (const op of optionalWritesByValue.get(value) ?? []) (op.callNs < startNs ? early : late).push(op);
    }
    // Early writes of one value may all come from the window's start, so they are interchangeable:
    // the last k of them serve as well as any, k being how many gets in the window read the value.
    // That keeps a long run of info writes out of the window.
    early.sort((a, b) => b.callNs - a.callNs);
    const kept = new Map<string | null, number>();
    const earlyKept = early.filter((op) => {
      const count = kept.get(op.value) ?? 0;
      kept.set(op.value, count + 1);
      return count < readCount.get(op.value)!;
    });
    const optionalized = new Set(earlyKept.filter((op) => isMandatoryAt(op, cutNs)));
    const ops = [...inside, ...earlyKept, ...late].sort(byCall);
    budget.stepsLeft -= ops.length + (b > 0 ? mandatory.length - firstInside : 0);
    if (b === 0) return { ops, valuesBefore: null, startNs, optionalized };
    // The value R left is the last write's in some order of R. A write that returned before
    // another began is overwritten for certain, so only the writes still running when the last
    // one began remain (by return time, they are the last ones); absent if R wrote nothing.
    const k = firstIndex(writesByReturn.length, (i) => writesByReturn[i]!.returnNs >= startNs);
    const valuesBefore: (string | null)[] = [];
    if (k === 0) valuesBefore.push(null);
    for (let j = k - 1; j >= 0 && writesByReturn[j]!.returnNs >= lastCallNsUpTo[k - 1]!; j--) {
      if (!valuesBefore.includes(writesByReturn[j]!.value)) valuesBefore.push(writesByReturn[j]!.value);
    }
    return { ops, valuesBefore, startNs, optionalized };
  };
  // A window tells the story when the value the conflicting get read is written inside it (or was
  // never written at all): "the get read a, but b overwrote a" rather than "the key held b".
  const everWritten = new Set(ops.filter((op) => op.f === "put").map((op) => op.value));
  const neverWritten = conflict.value !== null && !everWritten.has(conflict.value);
  const tellsTheStory = (candidate: Window): boolean =>
    candidate.valuesBefore === null || neverWritten || candidate.ops.some((op) => isWrite(op) && op.value === conflict.value);
  let tightest: Window | null = null; // the latest start that fails
  let story: Window | null = null; // the latest start that fails and tells the story
  for (let b = boundaries.length - 1; b > 0 && story === null && budget.stepsLeft > 0; b--) {
    const candidate = windowAt(b);
    if (tightest !== null && candidate.ops.length > storyWindowOpsMax) break;
    if (!wholeFails && candidate.ops.length > localWindowOpsMax) break;
    const tells = tellsTheStory(candidate);
    if (tightest !== null && !tells) continue;
    const verdict = fails(candidate);
    if (verdict === null) break;
    if (!verdict) continue;
    tightest ??= candidate;
    if (tells) story = candidate;
  }
  let window: Window;
  if (story !== null) window = story;
  else if (!wholeFails) {
    if (tightest === null) return null;
    window = tightest;
  } else {
    const whole = windowAt(0);
    window = tightest === null || whole.ops.length <= storyWindowOpsMax ? whole : tightest;
  }

  // The suspect a stalled search pointed at may not be the get that fails first: find the earliest
  // cut at which this window already fails, and narrow again from the get returning then.
  if (!wholeFails) {
    const getReturns = [...new Set(window.ops.filter((op) => op.f === "get" && isMandatoryAt(op, cutNs)).map((op) => op.returnNs))].sort((a, b) => a - b);
    let passing = -1;
    let failing = getReturns.length - 1;
    while (failing - passing > 1) {
      const mid = (passing + failing) >> 1;
      const verdict = failsAt(window, getReturns[mid]!);
      if (verdict === null) break;
      if (verdict) failing = mid;
      else passing = mid;
    }
    const earliestNs = getReturns[failing]!;
    const earlier = window.ops.find((op) => op.f === "get" && op.returnNs === earliestNs);
    if (earliestNs < cutNs && earlier !== undefined) {
      const narrowed = narrow(history, earliestNs, earlier, budget, false);
      if (narrowed !== null) return narrowed;
    }
  }

  // 3. Trimming: gets first (dropping one may leave a write unread, and so droppable), then writes,
  // pass after pass until nothing more goes.
  let dropped = true;
  let outOfBudget = false;
  while (dropped && !outOfBudget) {
    dropped = false;
    for (const op of [...window.ops.filter((o) => o.f === "get"), ...window.ops.filter(isWrite)]) {
      if (op === conflict) continue;
      const remaining = window.ops.filter((o) => o !== op);
      const readByAnother = remaining.some((o) => o.f === "get" && isMandatoryAt(o, cutNs) && o.value === op.value);
      if (isWrite(op) && readByAnother) continue;
      const candidate: Window = { ...window, ops: remaining };
      const verdict = fails(candidate);
      if (verdict === null) {
        outOfBudget = true;
        break;
      }
      if (verdict) {
        window = candidate;
        dropped = true;
      }
    }
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
    explanation: explain(conflict, window, abortedSources, everWritten, ops, events[0]!.time),
    conflictIndex: conflict.invoke.index,
    valuesBefore,
    valuesBeforeNs: window.startNs,
    fromStart: window.valuesBefore === null,
  };
}

function explain(
  conflict: Operation,
  window: Window,
  abortedSources: readonly Operation[],
  everWritten: ReadonlySet<string | null>,
  allOps: readonly Operation[],
  startNs: number,
): string {
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
  const lastWrite = allOps.filter((op) => op.f === "put" && op.value === read && op.outcome !== "fail").sort((a, b) => b.returnNs - a.returnNs)[0];
  if (sourcesOfRead.length === 0 && !readBefore && window.valuesBefore !== null && lastWrite !== undefined) {
    // Every write of the value read completed before the window, and was overwritten by then.
    return `${get}, but every put of ${showValue(read)} had completed at least ${formatMs(conflict.callNs - lastWrite.returnNs)} ms before ` +
      `the get began (the last by process ${lastWrite.process}), and writes that completed later had overwritten it: the get read a stale value`;
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

/** Values shown before "and N more" in the line about the values before a window. */
const shownValuesMax = 6;

function shownValues(values: readonly (string | null)[]): string {
  const shown = values.slice(0, shownValuesMax).map(showValue).join(", ");
  return values.length > shownValuesMax ? `${shown} and ${values.length - shownValuesMax} more` : shown;
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
  const from = violation.fromStart
    ? "from the key's initial value (absent)"
    : `from any value the key could hold at ${formatMs(violation.valuesBeforeNs)} ms into the history ` +
      `(${shownValues(violation.valuesBefore)}: what the operations that completed by then left)`;
  return [
    `key ${JSON.stringify(violation.key)}: ${violation.explanation}.`,
    `No order of these operations works ${from}; the key's other operations cannot change that.`,
    `Times in ms from ${formatMs(startNs)} ms into the history:`,
    ...lines.map((line) => `  ${line}`),
    ...(rows.length > shownRowsMax ? [`  ... and ${rows.length - shownRowsMax} more operations (--json shows them all)`] : []),
  ].join("\n");
}
