// Proves that the pure evaluation of transaction programs (common/txn.ts) does what the coordinator
// relies on: conditions on value, version and existence (an absent key has version 0) pick the
// branch or fail the request with FAILED_PRECONDITION naming the condition; increments count a
// missing key as 0, honour mustExist and their bounds, refuse a value that is not a decimal integer
// (INVALID_ARGUMENT naming the key) and stay within counterAbsMax; a failed program writes nothing;
// the operations of a branch run in order and leave one write per key; and the key sets a program
// locks (programKeys) and reads (keysToRead) are sorted and complete.
//
// How: evaluate() runs over a Map of hand-made key states; assertions look at ok/code/message,
// the outcome's branch and results, and the writes returned.
import { describe, expect, it } from "vitest";
import { Code } from "../../common/errors";
import { limits } from "../../common/limits";
import {
  blindWrites,
  evaluate,
  keysToRead,
  parseCounter,
  programKeys,
  putProgram,
  type Condition,
  type Evaluation,
  type KeyState,
  type Operation,
  type Program,
} from "../../common/txn";

const b = (text: string): Buffer => Buffer.from(text, "utf8");
const at = (value: string, version: number): KeyState => ({ value: b(value), version });

function program(then: Operation[], conditions: Condition[] = [], otherwise: Operation[] | null = null): Program {
  return { conditions, then, otherwise };
}

function incr(key: string, delta: number, bounds: { min?: number; max?: number; mustExist?: boolean } = {}): Operation {
  return { kind: "incr", key, delta, min: bounds.min ?? null, max: bounds.max ?? null, mustExist: bounds.mustExist ?? false };
}

function states(entries: Record<string, KeyState>): Map<string, KeyState> {
  return new Map(Object.entries(entries));
}

function ok(evaluation: Evaluation): Extract<Evaluation, { ok: true }> {
  if (!evaluation.ok) throw new Error(`expected success, got ${evaluation.code}: ${evaluation.message}`);
  return evaluation;
}

function failed(evaluation: Evaluation): Extract<Evaluation, { ok: false }> {
  if (evaluation.ok) throw new Error(`expected a failure, got ${JSON.stringify(evaluation.outcome)}`);
  return evaluation;
}

/** Whether a program with one condition on key "k" takes its then branch over state. */
function holds(condition: Condition, state: KeyState): boolean {
  const evaluation = ok(evaluate(program([{ kind: "put", key: "k", value: b("then") }], [condition], [{ kind: "put", key: "k", value: b("else") }]), states({ k: state })));
  return evaluation.outcome.branch === "then";
}

describe("conditions", () => {
  it.each<[string, Condition, KeyState, boolean]>([
    ["version = on a match", { key: "k", target: "version", op: "=", version: 7 }, at("x", 7), true],
    ["version = on a mismatch", { key: "k", target: "version", op: "=", version: 7 }, at("x", 8), false],
    ["version != on a mismatch", { key: "k", target: "version", op: "!=", version: 7 }, at("x", 8), true],
    ["version != on a match", { key: "k", target: "version", op: "!=", version: 7 }, at("x", 7), false],
    ["version < below", { key: "k", target: "version", op: "<", version: 7 }, at("x", 6), true],
    ["version < equal", { key: "k", target: "version", op: "<", version: 7 }, at("x", 7), false],
    ["version > above", { key: "k", target: "version", op: ">", version: 7 }, at("x", 8), true],
    ["version > equal", { key: "k", target: "version", op: ">", version: 7 }, at("x", 7), false],
    ["version = 0 on an absent key", { key: "k", target: "version", op: "=", version: 0 }, null, true],
    ["version > 0 on an absent key", { key: "k", target: "version", op: ">", version: 0 }, null, false],
    ["version < 1 on an absent key", { key: "k", target: "version", op: "<", version: 1 }, null, true],
    ["value = on a match", { key: "k", target: "value", op: "=", value: b("abc") }, at("abc", 1), true],
    ["value = on a mismatch", { key: "k", target: "value", op: "=", value: b("abc") }, at("abd", 1), false],
    ["value != on a mismatch", { key: "k", target: "value", op: "!=", value: b("abc") }, at("abd", 1), true],
    ["value < is bytewise", { key: "k", target: "value", op: "<", value: b("b") }, at("abc", 1), true],
    ["value < on a longer value", { key: "k", target: "value", op: "<", value: b("ab") }, at("abc", 1), false],
    ["value > is bytewise", { key: "k", target: "value", op: ">", value: b("a") }, at("ab", 1), true],
    ["value = on an absent key", { key: "k", target: "value", op: "=", value: b("") }, null, false],
    ["value != on an absent key (no value to compare, as etcd)", { key: "k", target: "value", op: "!=", value: b("x") }, null, false],
    ["exists on a present key", { key: "k", target: "exists", exists: true }, at("", 1), true],
    ["exists on an absent key", { key: "k", target: "exists", exists: true }, null, false],
    ["not exists on an absent key", { key: "k", target: "exists", exists: false }, null, true],
    ["not exists on a present key", { key: "k", target: "exists", exists: false }, at("x", 3), false],
  ])("%s", (_name, condition, state, expected) => {
    expect(holds(condition, state)).toBe(expected);
  });

  it("takes the then branch when every condition holds, and the else branch when any fails", () => {
    const conditions: Condition[] = [
      { key: "a", target: "exists", exists: true },
      { key: "b", target: "version", op: "=", version: 2 },
    ];
    const prog = program([{ kind: "put", key: "a", value: b("T") }], conditions, [{ kind: "put", key: "b", value: b("E") }]);
    const both = ok(evaluate(prog, states({ a: at("1", 1), b: at("2", 2) })));
    expect(both.outcome).toEqual({ branch: "then", results: [{ kind: "put", key: "a" }] });
    expect(both.writes).toEqual([{ key: "a", value: b("T") }]);
    const second = ok(evaluate(prog, states({ a: at("1", 1), b: at("2", 3) })));
    expect(second.outcome).toEqual({ branch: "else", results: [{ kind: "put", key: "b" }] });
    expect(second.writes).toEqual([{ key: "b", value: b("E") }]);
  });

  it("an else branch may be empty: a failed condition then writes nothing and succeeds", () => {
    const evaluation = ok(evaluate(program([{ kind: "del", key: "a" }], [{ key: "a", target: "exists", exists: true }], []), states({ a: null })));
    expect(evaluation.outcome).toEqual({ branch: "else", results: [] });
    expect(evaluation.writes).toEqual([]);
  });

  it("without an else branch a failed condition is FAILED_PRECONDITION naming the condition's index and the current version", () => {
    const prog = program(
      [{ kind: "put", key: "b", value: b("new") }],
      [
        { key: "a", target: "exists", exists: true },
        { key: "b", target: "version", op: "=", version: 7 },
      ],
    );
    const failure = failed(evaluate(prog, states({ a: at("x", 1), b: at("old", 9) })));
    expect(failure.code).toBe(Code.FAILED_PRECONDITION);
    expect(failure.message).toMatch(/^condition 1 failed/);
    expect(failure.message).toContain('"b"');
    expect(failure.message).toContain("expected version = 7");
    expect(failure.message).toContain("its version is 9");
  });

  it("names an absent key as not existing in the failure of a version or value condition", () => {
    const version = failed(evaluate(program([{ kind: "del", key: "k" }], [{ key: "k", target: "version", op: "=", version: 4 }]), states({ k: null })));
    expect(version.message).toContain("condition 0 failed");
    expect(version.message).toContain("it does not exist");
    const value = failed(evaluate(program([{ kind: "del", key: "k" }], [{ key: "k", target: "value", op: "=", value: b("v") }]), states({ k: null })));
    expect(value.message).toContain("it does not exist");
    const exists = failed(evaluate(program([{ kind: "del", key: "k" }], [{ key: "k", target: "exists", exists: false }]), states({ k: at("v", 5) })));
    expect(exists.message).toContain("exists (version 5)");
  });

  it("stops at the first failed condition: a later one's key need not have been read", () => {
    const prog = program([{ kind: "put", key: "a", value: b("x") }], [
      { key: "a", target: "exists", exists: true },
      { key: "z", target: "exists", exists: true },
    ]);
    const failure = failed(evaluate(prog, states({ a: null })));
    expect(failure.message).toMatch(/^condition 0 failed/);
  });
});

describe("increments", () => {
  it("counts a missing key as 0 and writes the new value as a decimal string", () => {
    const evaluation = ok(evaluate(program([incr("c", 5)]), states({ c: null })));
    expect(evaluation.outcome.results).toEqual([{ kind: "incr", key: "c", value: 5 }]);
    expect(evaluation.writes).toEqual([{ key: "c", value: b("5") }]);
  });

  it("adds a negative delta to an existing counter", () => {
    const evaluation = ok(evaluate(program([incr("c", -12)]), states({ c: at("10", 3) })));
    expect(evaluation.outcome.results).toEqual([{ kind: "incr", key: "c", value: -2 }]);
    expect(evaluation.writes).toEqual([{ key: "c", value: b("-2") }]);
  });

  it("with mustExist fails a missing key with FAILED_PRECONDITION and writes nothing", () => {
    const failure = failed(evaluate(program([{ kind: "put", key: "a", value: b("x") }, incr("c", 1, { mustExist: true })]), states({ c: null })));
    expect(failure.code).toBe(Code.FAILED_PRECONDITION);
    expect(failure.message).toContain('then[1] (incr "c")');
    expect(failure.message).toContain("does not exist");
    expect(ok(evaluate(program([incr("c", 1, { mustExist: true })]), states({ c: at("1", 1) }))).writes).toEqual([{ key: "c", value: b("2") }]);
  });

  it("fails below min or above max with FAILED_PRECONDITION naming the bound, and returns no writes", () => {
    // The earlier put of this branch must not be written either: the failure is the whole program's.
    const below = failed(evaluate(program([{ kind: "put", key: "log", value: b("sold") }, incr("stock", -3, { min: 0 })]), states({ stock: at("2", 4) })));
    expect(below.code).toBe(Code.FAILED_PRECONDITION);
    expect(below.message).toContain("2 + -3 = -1 is below the minimum 0");
    expect(below.message).toContain("nothing was written");
    expect("writes" in below).toBe(false);

    const above = failed(evaluate(program([incr("n", 2, { max: 10 })]), states({ n: at("9", 1) })));
    expect(above.code).toBe(Code.FAILED_PRECONDITION);
    expect(above.message).toContain("9 + 2 = 11 is above the maximum 10");
  });

  it("accepts a result exactly on a bound", () => {
    expect(ok(evaluate(program([incr("s", -2, { min: 0 })]), states({ s: at("2", 1) }))).writes).toEqual([{ key: "s", value: b("0") }]);
    expect(ok(evaluate(program([incr("s", 1, { max: 10 })]), states({ s: at("9", 1) }))).writes).toEqual([{ key: "s", value: b("10") }]);
  });

  it.each([
    ["text", "abc"],
    ["a float", "1.5"],
    ["a leading zero", "007"],
    ["an exponent", "1e3"],
    ["a leading space", " 1"],
    ["an empty value", ""],
  ])("refuses %s with INVALID_ARGUMENT naming the key", (_name, stored) => {
    const failure = failed(evaluate(program([incr("my-counter", 1)]), states({ "my-counter": at(stored, 1) })));
    expect(failure.code).toBe(Code.INVALID_ARGUMENT);
    expect(failure.message).toContain('key "my-counter" holds');
    expect(failure.message).toContain("not an integer");
  });

  it("refuses a result beyond counterAbsMax with FAILED_PRECONDITION naming the limit", () => {
    const max = limits.counterAbsMax;
    const up = failed(evaluate(program([incr("c", 1)]), states({ c: at(String(max), 1) })));
    expect(up.code).toBe(Code.FAILED_PRECONDITION);
    expect(up.message).toContain("counterAbsMax");
    const down = failed(evaluate(program([incr("c", -1)]), states({ c: at(String(-max), 1) })));
    expect(down.message).toContain("counterAbsMax");
    // Right at the limit is fine.
    expect(ok(evaluate(program([incr("c", 1)]), states({ c: at(String(max - 1), 1) }))).writes).toEqual([{ key: "c", value: b(String(max)) }]);
  });
});

describe("parseCounter", () => {
  it.each<[string, number | null]>([
    ["0", 0],
    ["42", 42],
    ["-17", -17],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
    [String(-Number.MAX_SAFE_INTEGER), -Number.MAX_SAFE_INTEGER],
    ["9007199254740992", null], // 2^53: beyond counterAbsMax
    ["-9007199254740992", null],
    ["12345678901234567", null], // 17 digits
    ["007", null],
    ["00", null],
    ["1e3", null],
    [" 1", null],
    ["1 ", null],
    ["+1", null],
    ["1.0", null],
    ["0x10", null],
    ["", null],
    ["-", null],
  ])("%j -> %s", (text, expected) => {
    expect(parseCounter(b(text))).toBe(expected);
  });

  it('refuses "-0" (one spelling per number), as an increment of it refuses to go on', () => {
    expect(parseCounter(b("-0"))).toBeNull();
    const result = evaluate(program([incr("c", 1)]), states({ c: at("-0", 1) }));
    expect(result.ok).toBe(false);
  });
});

describe("operations run in order within a branch", () => {
  it("a get after a put in the same branch sees the put, with version 0 (not yet committed)", () => {
    const evaluation = ok(evaluate(program([{ kind: "put", key: "k", value: b("new") }, { kind: "get", key: "k" }]), states({ k: at("old", 5) })));
    expect(evaluation.outcome.results[1]).toEqual({ kind: "get", key: "k", state: { value: b("new"), version: 0 } });
  });

  it("a get before any write sees the stored state with its version; a get of an absent key is null", () => {
    const evaluation = ok(evaluate(program([{ kind: "get", key: "k" }, { kind: "get", key: "none" }]), states({ k: at("v", 5), none: null })));
    expect(evaluation.outcome.results).toEqual([
      { kind: "get", key: "k", state: { value: b("v"), version: 5 } },
      { kind: "get", key: "none", state: null },
    ]);
    expect(evaluation.writes).toEqual([]);
  });

  it("a get after a del in the same branch sees the key as absent", () => {
    const evaluation = ok(evaluate(program([{ kind: "del", key: "k" }, { kind: "get", key: "k" }]), states({ k: at("v", 5) })));
    expect(evaluation.outcome.results[1]).toEqual({ kind: "get", key: "k", state: null });
  });

  it("two increments of one key accumulate into one write", () => {
    const evaluation = ok(evaluate(program([incr("c", 3), incr("c", 4), { kind: "get", key: "c" }]), states({ c: at("10", 2) })));
    expect(evaluation.outcome.results).toEqual([
      { kind: "incr", key: "c", value: 13 },
      { kind: "incr", key: "c", value: 17 },
      { kind: "get", key: "c", state: { value: b("17"), version: 0 } },
    ]);
    expect(evaluation.writes).toEqual([{ key: "c", value: b("17") }]);
  });

  it("an increment after a put counts from the put; after a del from 0", () => {
    expect(ok(evaluate(program([{ kind: "put", key: "c", value: b("100") }, incr("c", 1)]), states({ c: at("5", 1) }))).writes).toEqual([{ key: "c", value: b("101") }]);
    expect(ok(evaluate(program([{ kind: "del", key: "c" }, incr("c", 1)]), states({ c: at("5", 1) }))).writes).toEqual([{ key: "c", value: b("1") }]);
    // mustExist sees the del.
    expect(failed(evaluate(program([{ kind: "del", key: "c" }, incr("c", 1, { mustExist: true })]), states({ c: at("5", 1) }))).code).toBe(Code.FAILED_PRECONDITION);
  });

  it("a put then a del of one key is one write, a delete (null)", () => {
    const evaluation = ok(evaluate(program([{ kind: "put", key: "k", value: b("x") }, { kind: "del", key: "k" }]), new Map()));
    expect(evaluation.writes).toEqual([{ key: "k", value: null }]);
    expect(evaluation.outcome.results).toEqual([
      { kind: "put", key: "k" },
      { kind: "del", key: "k" },
    ]);
  });

  it("leaves exactly one write per written key, with the last value", () => {
    const evaluation = ok(
      evaluate(
        program([
          { kind: "put", key: "a", value: b("1") },
          { kind: "put", key: "b", value: b("2") },
          { kind: "put", key: "a", value: b("3") },
          incr("n", 1),
          { kind: "put", key: "n", value: b("9") },
        ]),
        states({ n: null }),
      ),
    );
    expect(evaluation.writes).toHaveLength(3);
    expect(new Map(evaluation.writes.map((w) => [w.key, w.value]))).toEqual(
      new Map([
        ["a", b("3")],
        ["b", b("2")],
        ["n", b("9")],
      ]),
    );
  });

  it("runs only the chosen branch: the other branch's writes are not returned", () => {
    const prog = program([incr("c", 1)], [{ key: "flag", target: "exists", exists: true }], [incr("d", 1)]);
    const evaluation = ok(evaluate(prog, states({ flag: null, c: at("not a number", 1), d: null })));
    // The then branch would have failed on c; the else branch never looks at it.
    expect(evaluation.outcome).toEqual({ branch: "else", results: [{ kind: "incr", key: "d", value: 1 }] });
    expect(evaluation.writes).toEqual([{ key: "d", value: b("1") }]);
  });
});

describe("programKeys and keysToRead", () => {
  const prog = program(
    [{ kind: "put", key: "p", value: b("") }, incr("c", 1), { kind: "del", key: "d" }, { kind: "get", key: "g" }, { kind: "put", key: "c", value: b("") }],
    [
      { key: "z", target: "exists", exists: true },
      { key: "c", target: "version", op: "=", version: 1 },
    ],
    [{ kind: "put", key: "e", value: b("") }, { kind: "get", key: "eg" }, incr("ei", 1)],
  );

  it("programKeys is every key of both branches and the conditions, sorted, without duplicates", () => {
    expect(programKeys(prog)).toEqual(["c", "d", "e", "eg", "ei", "g", "p", "z"]);
  });

  it("keysToRead is only the keys of conditions, increments and gets (of both branches), sorted", () => {
    expect(keysToRead(prog)).toEqual(["c", "eg", "ei", "g", "z"]);
  });

  it("a program of puts and deletes reads nothing", () => {
    expect(keysToRead(program([{ kind: "put", key: "b", value: b("") }, { kind: "del", key: "a" }]))).toEqual([]);
    expect(programKeys(program([{ kind: "put", key: "b", value: b("") }, { kind: "del", key: "a" }]))).toEqual(["a", "b"]);
  });
});

describe("putProgram and blindWrites", () => {
  it("putProgram turns writes into puts and deletes with no condition and no else branch", () => {
    const prog = putProgram([
      { key: "a", value: b("1") },
      { key: "b", value: null },
    ]);
    expect(prog).toEqual({
      conditions: [],
      then: [
        { kind: "put", key: "a", value: b("1") },
        { kind: "del", key: "b" },
      ],
      otherwise: null,
    });
    expect(keysToRead(prog)).toEqual([]);
  });

  it("blindWrites gives back the writes and their results", () => {
    const writes = [
      { key: "a", value: b("1") },
      { key: "b", value: null },
    ];
    const evaluation = ok(blindWrites(putProgram(writes)));
    expect(evaluation.writes).toEqual(writes);
    expect(evaluation.outcome).toEqual({
      branch: "then",
      results: [
        { kind: "put", key: "a" },
        { kind: "del", key: "b" },
      ],
    });
  });

  it("blindWrites of a program that reads is a bug (assertion)", () => {
    expect(() => blindWrites(program([incr("c", 1)]))).toThrow(/blindWrites of a program that reads/);
  });

  it("evaluate asserts that every key it needs was read", () => {
    expect(() => evaluate(program([{ kind: "get", key: "k" }]), new Map())).toThrow(/key k was not read/);
  });
});
