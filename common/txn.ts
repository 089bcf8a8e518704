// Transactions as the coordinator runs them: a program of conditions and operations over a few keys,
// and its pure evaluation against the keys' current values. No I/O here.
//
// Every client write is a program. `put k v` is `then: [put k v]`; `incr k 5 --min 0` is
// `then: [incr k +5 min 0]`; a compare-and-set is `if: [version(k) = 7], then: [put k v]`. The
// coordinator locks every key a program names, reads the ones it must (conditions, increments and
// gets), evaluates the program here, and commits the resulting writes in one 2PC round; a program
// that needs no read (plain puts and deletes) goes straight to PREPARE.
import { assert, assertNever } from "./assert";
import { Code, type CodeValue } from "./errors";
import { limits } from "./limits";
import type { Write } from "./types";

export type CompareOp = "=" | "!=" | "<" | ">";

/** A condition on a key's state before the transaction. */
export type Condition =
  | { readonly key: string; readonly target: "value"; readonly op: CompareOp; readonly value: Buffer }
  | { readonly key: string; readonly target: "version"; readonly op: CompareOp; readonly version: number }
  | { readonly key: string; readonly target: "exists"; readonly exists: boolean };

export type Operation =
  | { readonly kind: "put"; readonly key: string; readonly value: Buffer }
  | { readonly kind: "del"; readonly key: string }
  /** Adds delta to an integer value; fails the transaction if the result leaves [min, max]. */
  | { readonly kind: "incr"; readonly key: string; readonly delta: number; readonly min: number | null; readonly max: number | null; readonly mustExist: boolean }
  | { readonly kind: "get"; readonly key: string };

export interface Program {
  readonly conditions: readonly Condition[];
  readonly then: readonly Operation[];
  /** Runs when a condition fails; null: a failed condition fails the request (FAILED_PRECONDITION). */
  readonly otherwise: readonly Operation[] | null;
}

/** A key's state as read from a replica: null when absent. */
export type KeyState = { readonly value: Buffer; readonly version: number } | null;

/** The result of one operation. Versions of written keys are the transaction's commit sequence number. */
export type OpResult =
  | { readonly kind: "put"; readonly key: string }
  | { readonly kind: "del"; readonly key: string }
  | { readonly kind: "incr"; readonly key: string; readonly value: number }
  | { readonly kind: "get"; readonly key: string; readonly state: KeyState };

export interface TxnOutcome {
  readonly branch: "then" | "else";
  readonly results: readonly OpResult[];
}

export type Evaluation =
  | { readonly ok: true; readonly outcome: TxnOutcome; readonly writes: readonly Write[] }
  | { readonly ok: false; readonly code: CodeValue; readonly message: string };

export function putProgram(writes: readonly Write[]): Program {
  return {
    conditions: [],
    then: writes.map((write): Operation => (write.value === null ? { kind: "del", key: write.key } : { kind: "put", key: write.key, value: write.value })),
    otherwise: null,
  };
}

function operationsOf(program: Program): readonly Operation[] {
  return program.otherwise === null ? program.then : [...program.then, ...program.otherwise];
}

/** Every key the program names, sorted and without duplicates: the locks it takes. */
export function programKeys(program: Program): string[] {
  const keys = new Set<string>();
  for (const condition of program.conditions) keys.add(condition.key);
  for (const op of operationsOf(program)) keys.add(op.key);
  return [...keys].sort();
}

/** The keys whose current state the program needs, sorted; empty for blind writes. */
export function keysToRead(program: Program): string[] {
  const keys = new Set<string>();
  for (const condition of program.conditions) keys.add(condition.key);
  for (const op of operationsOf(program)) if (op.kind === "incr" || op.kind === "get") keys.add(op.key);
  return [...keys].sort();
}

/** The writes of a program that needs no read. */
export function blindWrites(program: Program): Evaluation {
  assert(keysToRead(program).length === 0, "blindWrites of a program that reads");
  return evaluate(program, new Map());
}

function compare(actual: number, op: CompareOp, expected: number): boolean {
  switch (op) {
    case "=":
      return actual === expected;
    case "!=":
      return actual !== expected;
    case "<":
      return actual < expected;
    case ">":
      return actual > expected;
    default:
      return assertNever(op);
  }
}

function describeState(state: KeyState): string {
  return state === null ? "it does not exist" : `its version is ${state.version}`;
}

/** Why the condition does not hold, or null when it holds. */
function failedCondition(condition: Condition, state: KeyState): string | null {
  const key = JSON.stringify(condition.key);
  switch (condition.target) {
    case "exists":
      if ((state !== null) === condition.exists) return null;
      return condition.exists ? `key ${key} does not exist` : `key ${key} exists (version ${state!.version})`;
    case "version": {
      // An absent key has version 0, as etcd's mod_revision.
      const version = state?.version ?? 0;
      if (compare(version, condition.op, condition.version)) return null;
      return `key ${key}: expected version ${condition.op} ${condition.version}, but ${describeState(state)}`;
    }
    case "value": {
      if (state === null) return `key ${key}: expected value ${condition.op} ${JSON.stringify(condition.value.toString("utf8"))}, but it does not exist`;
      if (compare(Buffer.compare(state.value, condition.value), condition.op, 0)) return null;
      return `key ${key}: expected value ${condition.op} ${JSON.stringify(condition.value.toString("utf8"))}, but it is ${JSON.stringify(state.value.toString("utf8"))} (version ${state.version})`;
    }
    default:
      return assertNever(condition);
  }
}

/** A counter's value: a decimal integer within +-counterAbsMax, or null if the bytes are not one. */
export function parseCounter(value: Buffer): number | null {
  const text = value.toString("utf8");
  if (!/^(0|-?[1-9][0-9]{0,15})$/.test(text)) return null; // one spelling per number: no "-0", "007", "+1"
  const number = Number(text);
  return Math.abs(number) <= limits.counterAbsMax ? number : null;
}

/**
 * Runs the program against the keys' states (which must hold every key of keysToRead): checks the
 * conditions, picks the branch, applies its operations in order (a get sees the branch's earlier
 * writes), and returns one write per written key. Any failed bound or a failed condition without an
 * else branch fails the whole program: nothing is written.
 */
export function evaluate(program: Program, states: ReadonlyMap<string, KeyState>): Evaluation {
  const stateOf = (key: string): KeyState => {
    assert(states.has(key), `key ${key} was not read`);
    return states.get(key)!;
  };
  let branch: "then" | "else" = "then";
  for (const [i, condition] of program.conditions.entries()) {
    const failure = failedCondition(condition, stateOf(condition.key));
    if (failure === null) continue;
    if (program.otherwise === null) return { ok: false, code: Code.FAILED_PRECONDITION, message: `condition ${i} failed: ${failure}` };
    branch = "else";
    break;
  }
  const ops = branch === "then" ? program.then : program.otherwise!;
  /** Values written so far in this branch (null: deleted). */
  const written = new Map<string, Buffer | null>();
  const current = (key: string): Buffer | null => (written.has(key) ? written.get(key)! : (stateOf(key)?.value ?? null));
  const results: OpResult[] = [];
  for (const [i, op] of ops.entries()) {
    const where = `${branch}[${i}] (${op.kind} ${JSON.stringify(op.key)})`;
    switch (op.kind) {
      case "put":
        written.set(op.key, op.value);
        results.push({ kind: "put", key: op.key });
        break;
      case "del":
        written.set(op.key, null);
        results.push({ kind: "del", key: op.key });
        break;
      case "get": {
        const value = current(op.key);
        const state = stateOf(op.key);
        // A key this transaction wrote has no version yet; it reads as version 0 until committed.
        results.push({ kind: "get", key: op.key, state: value === null ? null : { value, version: written.has(op.key) ? 0 : state!.version } });
        break;
      }
      case "incr": {
        const bytes = current(op.key);
        if (bytes === null && op.mustExist) return { ok: false, code: Code.FAILED_PRECONDITION, message: `${where}: the key does not exist (must exist)` };
        const before = bytes === null ? 0 : parseCounter(bytes);
        if (before === null) {
          return {
            ok: false,
            code: Code.INVALID_ARGUMENT,
            message: `${where}: key ${JSON.stringify(op.key)} holds ${JSON.stringify(bytes!.toString("utf8").slice(0, 64))}, not an integer; increment needs a decimal integer value`,
          };
        }
        const after = before + op.delta;
        if (op.min !== null && after < op.min) {
          return { ok: false, code: Code.FAILED_PRECONDITION, message: `${where}: ${before} + ${op.delta} = ${after} is below the minimum ${op.min}; nothing was written` };
        }
        if (op.max !== null && after > op.max) {
          return { ok: false, code: Code.FAILED_PRECONDITION, message: `${where}: ${before} + ${op.delta} = ${after} is above the maximum ${op.max}; nothing was written` };
        }
        if (Math.abs(after) > limits.counterAbsMax) {
          return { ok: false, code: Code.FAILED_PRECONDITION, message: `${where}: ${before} + ${op.delta} is beyond +-${limits.counterAbsMax} (counterAbsMax); nothing was written` };
        }
        written.set(op.key, Buffer.from(String(after), "utf8"));
        results.push({ kind: "incr", key: op.key, value: after });
        break;
      }
      default:
        return assertNever(op);
    }
  }
  const writes = [...written].map(([key, value]): Write => ({ key, value }));
  return { ok: true, outcome: { branch, results }, writes };
}
