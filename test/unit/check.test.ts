// What this proves: client/check.ts decides linearizability of key/value histories correctly.
//   (a) known answers: each hand-written history below is linearizable or not for the reason its
//       comment gives, and every planted violation is caught, on the right key, with a window that
//       holds the operations that cannot be ordered;
//   (b) info writes may take effect late or never; fail writes never; gets that observed nothing
//       constrain nothing; del reads back as absent;
//   (c) the timeout gives "unknown", both between keys and inside one key's search;
//   (d) randomized: histories produced by simulating a register under concurrent clients (each
//       operation takes effect at a random point inside its interval, info writes at some point
//       after their call or never) are linearizable; changing one read to a value never written
//       makes them fail on that key.
// How: histories are built from operations given as [call, return] in milliseconds; a seeded PRNG
// drives the simulation so a failing seed reproduces. No test asserts timing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkHistory, formatViolation, HistoryPairingError, type CheckResult } from "../../tools/check/check";
import { runCheckCommand } from "../../cli/check-command";
import { formatEvent, type HistoryEvent, type HistoryFunction } from "../../tools/check/history";

type Outcome = "ok" | "fail" | "info" | "pending";

interface Op {
  readonly process: number;
  readonly f: HistoryFunction;
  readonly key?: string;
  /** put: the value written; get: the value read (null: absent). */
  readonly value?: string | null;
  readonly call: number;
  /** Milliseconds; ignored for info (the client gave up at call + 1000) and pending. */
  readonly ret?: number;
  readonly outcome?: Outcome;
}

const msNs = 1_000_000;

/** Turns operations into a history: an invoke and (unless pending) a completion each, in time order. */
function history(...ops: Op[]): HistoryEvent[] {
  const events: Omit<HistoryEvent, "index">[] = [];
  for (const op of ops) {
    const key = op.key ?? "k";
    const outcome = op.outcome ?? "ok";
    const written = op.f === "put" ? (op.value ?? null) : null;
    events.push({ type: "invoke", process: op.process, f: op.f, key, value: written, time: op.call * msNs });
    if (outcome === "pending") continue;
    const read = op.f === "get" ? (outcome === "ok" ? (op.value ?? null) : null) : written;
    const ret = outcome === "info" ? op.call + 1000 : (op.ret ?? op.call + 1);
    events.push({ type: outcome, process: op.process, f: op.f, key, value: read, time: ret * msNs });
  }
  // Stable: an invoke listed before a completion at the same time stays before it.
  return events.map((event, i) => ({ event, i })).sort((a, b) => a.event.time - b.event.time || a.i - b.i).map(({ event }, index) => ({ ...event, index }));
}

function check(events: HistoryEvent[], timeoutMs = 60_000): CheckResult {
  return checkHistory(events, { timeoutMs, nowMs: () => 0 });
}

/** The window as "process f value" strings, one per operation (its invoke event). */
function windowOps(result: CheckResult): string[] {
  return (result.violation?.window ?? []).filter((event) => event.type === "invoke").map((event) => {
    const shown = event.f === "get" ? readOf(result, event) : event.f === "put" ? (event.value ?? undefined) : undefined;
    return `${event.process} ${event.f}${shown === undefined ? "" : ` ${shown}`}`;
  });
}

function readOf(result: CheckResult, invoke: HistoryEvent): string | undefined {
  const completion = result.violation?.window.find((event) => event.type !== "invoke" && event.process === invoke.process && event.time >= invoke.time);
  return completion?.type === "ok" ? String(completion.value) : undefined;
}

describe("checkHistory: known answers", () => {
  it("accepts overlapping puts and gets that admit an order", () => {
    // put a [0,10] and put b [2,12] overlap everything. get→b at [3,5] then get→a at [6,8] is
    // explained by: put b, get b, put a, get a (put a takes effect between 5 and 6).
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 10 },
      { process: 1, f: "put", value: "b", call: 2, ret: 12 },
      { process: 2, f: "get", value: "b", call: 3, ret: 5 },
      { process: 2, f: "get", value: "a", call: 6, ret: 8 },
      { process: 3, f: "get", value: "a", call: 13, ret: 14 },
    ));
    expect(result.verdict).toBe("linearizable");
    expect(result.operations).toBe(5);
    expect(result.keys).toBe(1);
    expect(result.violation).toBeUndefined();
  });

  it("accepts a get concurrent with a put reading either side, and equal times as concurrent", () => {
    // The get [1,3] overlaps put b [2,4], so it may read a (before b) ; the second get starts at 4,
    // exactly when put b returns: equal times are concurrent, so it may still read a.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 4 },
      { process: 2, f: "get", value: "a", call: 1, ret: 3 },
      { process: 3, f: "get", value: "a", call: 4, ret: 5 },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  it("catches a stale read, with a window of the writes and the read", () => {
    // put b completes at 3, after put a completed at 1; a get invoked at 4 must see b, not a.
    const result = check(history(
      { process: 0, f: "get", value: null, call: 0, ret: 0.5 },
      { process: 0, f: "put", value: "a", call: 1, ret: 2 },
      { process: 1, f: "put", value: "b", call: 3, ret: 4 },
      { process: 2, f: "get", value: "a", call: 5, ret: 6 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    expect(result.violation?.key).toBe("k");
    // The first get is irrelevant and trimmed; both writes stay: the story is "b overwrote a".
    expect(windowOps(result)).toEqual(["0 put a", "1 put b", "2 get a"]);
    expect(result.violation?.explanation).toContain("stale read");
    expect(result.violation?.explanation).toContain('put "b" by process 1');
    const text = formatViolation(result);
    expect(text).toContain('key "k"');
    expect(text).toContain("<- cannot be placed");
    // Times are relative to the window's first invocation (put a at 1 ms): the get at 4.000.
    expect(text).toMatch(/2\s+get\s+"a"\s+4\.000\s+5\.000\s+ok\s+<- cannot be placed/);
  });

  it("catches a lost write: an acknowledged put never seen by a later get that reads the older value", () => {
    // put b [2,10] is acknowledged at 10. A get at [3,4] may read a (b still running), but the
    // get at [11,12] began after b was acknowledged and still reads a: b was lost.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 10 },
      { process: 2, f: "get", value: "a", call: 3, ret: 4 },
      { process: 2, f: "get", value: "a", call: 11, ret: 12 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    // The early get read a legitimately; it is trimmed from the window.
    expect(windowOps(result)).toEqual(["0 put a", "1 put b", "2 get a"]);
    expect(result.violation?.explanation).toContain("missed an acknowledged write");
  });

  it("catches a read of a value never written, with the read alone as the window", () => {
    // Nothing ever wrote "zzz"; the get needs no context to be wrong.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 3 },
      { process: 2, f: "get", value: "zzz", call: 4, ret: 5 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    expect(windowOps(result)).toEqual(["2 get zzz"]);
    expect(result.violation?.explanation).toContain("no put to this key ever wrote");
  });

  it("accepts an info write that did take effect (a later get sees it)", () => {
    // put b timed out (info): the client does not know; later gets read b, so it took effect at
    // some time after its invocation. The retired process 1 comes back as process 11.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, outcome: "info" },
      { process: 2, f: "get", value: "a", call: 3, ret: 4 },
      { process: 2, f: "get", value: "b", call: 50, ret: 51 },
      { process: 11, f: "get", value: "b", call: 60, ret: 61 },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  it("accepts an info write that did not take effect (later gets never see it)", () => {
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, outcome: "info" },
      { process: 2, f: "get", value: "a", call: 50, ret: 51 },
      { process: 2, f: "get", value: "a", call: 2000, ret: 2001 },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  it("accepts a write that never completed (no completion line) as an info write", () => {
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, outcome: "pending" },
      { process: 2, f: "get", value: "b", call: 5, ret: 6 },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  it("catches an info write seen and then unseen", () => {
    // Once a get has read b, b took effect; a later get reading a again needs a write of a after
    // b, and the only put of a completed before b was even invoked.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, outcome: "info" },
      { process: 2, f: "get", value: "b", call: 5, ret: 6 },
      { process: 2, f: "get", value: "a", call: 7, ret: 8 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    expect(windowOps(result)).toEqual(["0 put a", "1 put b", "2 get b", "2 get a"]);
  });

  it("catches a read of an aborted (fail) write, and shows that write", () => {
    // put b failed: it certainly did not take effect, so nobody may read b.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 3, outcome: "fail" },
      { process: 2, f: "get", value: "b", call: 4, ret: 5 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    expect(windowOps(result)).toEqual(["1 put b", "2 get b"]);
    expect(result.violation?.explanation).toContain("failed");
    expect(formatViolation(result)).toMatch(/1\s+put\s+"b".*fail/);
  });

  it("accepts a failed write that nobody reads", () => {
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 3, outcome: "fail" },
      { process: 2, f: "get", value: "a", call: 4, ret: 5 },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  describe("del", () => {
    it("accepts absent before any write and after a del", () => {
      const result = check(history(
        { process: 0, f: "get", value: null, call: 0, ret: 1 },
        { process: 0, f: "put", value: "a", call: 2, ret: 3 },
        { process: 1, f: "get", value: "a", call: 4, ret: 5 },
        { process: 1, f: "del", call: 6, ret: 7 },
        { process: 2, f: "get", value: null, call: 8, ret: 9 },
        { process: 2, f: "del", call: 10, ret: 11 }, // deleting a missing key succeeds
        { process: 2, f: "get", value: null, call: 12, ret: 13 },
      ));
      expect(result.verdict).toBe("linearizable");
    });

    it("catches a read of the deleted value after the del completed", () => {
      const result = check(history(
        { process: 0, f: "put", value: "a", call: 0, ret: 1 },
        { process: 1, f: "del", call: 2, ret: 3 },
        { process: 2, f: "get", value: "a", call: 4, ret: 5 },
      ));
      expect(result.verdict).toBe("not-linearizable");
      expect(windowOps(result)).toEqual(["0 put a", "1 del", "2 get a"]);
      expect(result.violation?.explanation).toContain("del by process 1");
    });

    it("catches absent read after a put completed (absent is the initial value, not any value)", () => {
      const result = check(history(
        { process: 0, f: "put", value: "a", call: 0, ret: 1 },
        { process: 1, f: "get", value: null, call: 2, ret: 3 },
      ));
      expect(result.verdict).toBe("not-linearizable");
      expect(result.violation?.fromStart).toBe(true);
      expect(result.violation?.explanation).toContain("returned absent");
    });
  });

  it("lets a get that ended in info or fail constrain nothing", () => {
    // The info get's completion carries no value (the helper writes null): were it counted as
    // "read absent" after put a completed, this would fail.
    const result = check(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "get", call: 2, outcome: "info" },
      { process: 2, f: "get", call: 3, ret: 4, outcome: "fail" },
      { process: 3, f: "get", call: 5, outcome: "pending" },
    ));
    expect(result.verdict).toBe("linearizable");
  });

  it("names the one key that violates among several", () => {
    // k1 and k3 are fine; k2 has a stale read. The other keys' operations interleave with it and
    // are left out of the window.
    const result = check(history(
      { process: 0, f: "put", key: "k1", value: "x", call: 0, ret: 1 },
      { process: 1, f: "put", key: "k2", value: "a", call: 0, ret: 1 },
      { process: 2, f: "put", key: "k3", value: "y", call: 0, ret: 2 },
      { process: 0, f: "get", key: "k1", value: "x", call: 2, ret: 3 },
      { process: 1, f: "put", key: "k2", value: "b", call: 2, ret: 3 },
      { process: 2, f: "get", key: "k3", value: "y", call: 3, ret: 4 },
      { process: 3, f: "get", key: "k2", value: "a", call: 4, ret: 5 },
      { process: 0, f: "get", key: "k1", value: "x", call: 4, ret: 5 },
    ));
    expect(result.verdict).toBe("not-linearizable");
    expect(result.keys).toBe(3);
    expect(result.keysChecked).toBe(3);
    expect(result.violatedKeys).toEqual(["k2"]);
    expect(result.violation?.key).toBe("k2");
    expect(result.violation?.window.every((event) => event.key === "k2")).toBe(true);
  });

  it("narrows a violation late in a long history to the operations around it", () => {
    // 200 sequential put/get pairs, then a stale read: the window starts at the last write of the
    // value read, not at the key's first operation.
    const ops: Op[] = [];
    for (let i = 0; i < 200; i++) {
      ops.push({ process: 0, f: "put", value: `v${i}`, call: 10 * i, ret: 10 * i + 1 });
      ops.push({ process: 1, f: "get", value: `v${i}`, call: 10 * i + 2, ret: 10 * i + 3 });
    }
    ops.push({ process: 0, f: "put", value: "last", call: 2000, ret: 2001 });
    ops.push({ process: 1, f: "get", value: "v199", call: 2002, ret: 2003 });
    const result = check(history(...ops));
    expect(result.verdict).toBe("not-linearizable");
    expect(windowOps(result)).toEqual(["0 put v199", "0 put last", "1 get v199"]);
    expect(result.violation?.fromStart).toBe(false);
    expect(result.violation?.valuesBefore).toEqual(["v198"]);
  });

  it("gives unknown when time runs out between keys", () => {
    // The fake clock jumps 1000 ms at every read; the first read starts the timer, the next one
    // (before the first key) is already past the 500 ms timeout.
    let now = 0;
    const result = checkHistory(history({ process: 0, f: "put", value: "a", call: 0, ret: 1 }), {
      timeoutMs: 500,
      nowMs: () => (now += 1000),
    });
    expect(result.verdict).toBe("unknown");
    expect(result.keysChecked).toBe(0);
    expect(result.undecided).toEqual({ key: "k", reason: "timeout" });
    expect(result.violation).toBeUndefined();
  });

  it("gives unknown when time runs out inside one key's search", () => {
    // 12 concurrent puts of distinct values, each read by a concurrent get, then a read of a value
    // none wrote: proving it non-linearizable means trying every subset of the puts (thousands of
    // steps), so the search reads the clock in the middle. The clock stands still for the start
    // and the check before the key, then jumps past the timeout.
    const ops: Op[] = [];
    for (let p = 0; p < 12; p++) {
      ops.push({ process: p, f: "put", value: `v${p}`, call: p * 0.01, ret: 100 });
      ops.push({ process: 50 + p, f: "get", value: `v${p}`, call: 0.5 + p * 0.01, ret: 100 });
    }
    ops.push({ process: 99, f: "get", value: "never", call: 200, ret: 201 });
    const readings = [0, 0];
    const result = checkHistory(history(...ops), { timeoutMs: 1000, nowMs: () => readings.shift() ?? 1e9 });
    expect(result.verdict).toBe("unknown");
    expect(result.undecided).toEqual({ key: "k", reason: "timeout" });
    expect(result.keysChecked).toBe(0);
    // With time enough, the same history is decided.
    expect(check(history(...ops)).verdict).toBe("not-linearizable");
  });

  it("reports elapsed time from the injected clock", () => {
    let now = 100;
    const result = checkHistory(history({ process: 0, f: "put", value: "a", call: 0, ret: 1 }), { timeoutMs: 1e9, nowMs: () => (now += 5) });
    expect(result.verdict).toBe("linearizable");
    expect(result.elapsedMs).toBeGreaterThan(0);
  });

  it("rejects histories that do not pair up, naming the event", () => {
    const twoOutstanding = history(
      { process: 0, f: "put", value: "a", call: 0, outcome: "pending" },
      { process: 0, f: "get", call: 1, outcome: "pending" },
    );
    expect(() => check(twoOutstanding)).toThrow(HistoryPairingError);
    expect(() => check(twoOutstanding)).toThrow(/event 1: process 0 invokes a get while its put/);
    const orphan: HistoryEvent[] = [{ index: 0, type: "ok", process: 3, f: "get", key: "k", value: null, time: 5 }];
    expect(() => check(orphan)).toThrow(/event 0: ok for process 3, which has no operation outstanding/);
    const mismatched: HistoryEvent[] = [
      { index: 0, type: "invoke", process: 3, f: "get", key: "k", value: null, time: 5 },
      { index: 1, type: "ok", process: 3, f: "get", key: "other", value: null, time: 6 },
    ];
    expect(() => check(mismatched)).toThrow(HistoryPairingError);
  });
});

// ---------------------------------------------------------------------------------------------
// Randomized: simulated registers

/** mulberry32: a small seeded PRNG, so a failing seed reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Simulated {
  readonly f: HistoryFunction;
  readonly key: string;
  readonly process: number;
  readonly callNs: number;
  readonly returnNs: number;
  readonly outcome: Outcome;
  /** When it takes effect; Infinity: never. */
  readonly effectNs: number;
  readonly written: string | null;
  read: string | null;
}

/**
 * A linearizable history by construction: `clients` clients run operations back to back; each
 * operation takes effect at a random instant inside [call, return] (info writes: at some instant
 * after the call, or never; fail writes: never), and every get reads what the register held at its
 * instant.
 */
function simulate(seed: number, options: { clients: number; operations: number; keys: number }): HistoryEvent[] {
  const random = prng(seed);
  const clock = new Array<number>(options.clients).fill(0);
  const process = Array.from({ length: options.clients }, (_, c) => c);
  let nextProcess = options.clients;
  let nextValue = 0;
  const ops: Simulated[] = [];
  for (let n = 0; n < options.operations; n++) {
    const c = Math.floor(random() * options.clients);
    const callNs = clock[c]! + Math.floor(random() * 200_000);
    const returnNs = callNs + 1 + Math.floor(random() * 2_000_000);
    clock[c] = returnNs;
    const dice = random();
    const f: HistoryFunction = dice < 0.5 ? "get" : dice < 0.9 ? "put" : "del";
    const fate = random();
    const outcome: Outcome = fate < 0.05 ? "info" : fate < 0.08 ? "fail" : fate < 0.09 ? "pending" : "ok";
    let effectNs = callNs + random() * (returnNs - callNs);
    if (outcome === "fail") effectNs = Infinity;
    if ((outcome === "info" || outcome === "pending") && f !== "get") {
      effectNs = random() < 0.5 ? Infinity : callNs + random() * 10 * (returnNs - callNs);
    }
    ops.push({
      f,
      key: `k${Math.floor(random() * options.keys)}`,
      process: process[c]!,
      callNs,
      returnNs,
      outcome,
      effectNs,
      written: f === "put" ? `v${nextValue++}` : null,
      read: null,
    });
    // A client whose operation ended unknown is retired, as Jepsen does.
    if (outcome === "info" || outcome === "pending") process[c] = nextProcess++;
  }
  const register = new Map<string, string | null>();
  for (const op of [...ops].filter((o) => o.effectNs !== Infinity).sort((a, b) => a.effectNs - b.effectNs)) {
    if (op.f === "get") op.read = register.get(op.key) ?? null;
    else register.set(op.key, op.written);
  }
  const events: Omit<HistoryEvent, "index">[] = [];
  for (const op of ops) {
    events.push({ type: "invoke", process: op.process, f: op.f, key: op.key, value: op.written, time: op.callNs });
    if (op.outcome === "pending") continue;
    const value = op.f === "get" ? (op.outcome === "ok" ? op.read : null) : op.written;
    events.push({ type: op.outcome, process: op.process, f: op.f, key: op.key, value, time: op.returnNs });
  }
  // At equal times completions sort first: a client may invoke again the instant its last op returned.
  return events
    .sort((a, b) => a.time - b.time || (a.type === "invoke" ? 1 : 0) - (b.type === "invoke" ? 1 : 0))
    .map((event, index) => ({ ...event, index }));
}

describe("checkHistory: randomized simulated histories", () => {
  const cases = [
    { clients: 3, operations: 60, keys: 1 },
    { clients: 8, operations: 200, keys: 2 },
    { clients: 16, operations: 400, keys: 8 },
    { clients: 32, operations: 2000, keys: 20 },
  ];
  for (const shape of cases) {
    it(`accepts linearizable histories, and catches one read of a never-written value (${shape.clients} clients, ${shape.operations} ops, ${shape.keys} keys)`, () => {
      for (let seed = 1; seed <= 25; seed++) {
        const events = simulate(seed, shape);
        const result = check(events);
        expect(result.verdict, `seed ${seed}`).toBe("linearizable");

        const okGets = events.filter((event) => event.type === "ok" && event.f === "get");
        if (okGets.length === 0) continue;
        const victim = okGets[Math.floor(prng(seed * 7919)() * okGets.length)]!;
        const mutated = events.map((event) => (event === victim ? { ...event, value: "never-written" } : event));
        const broken = check(mutated);
        expect(broken.verdict, `seed ${seed}`).toBe("not-linearizable");
        expect(broken.violatedKeys, `seed ${seed}`).toEqual([victim.key]);
        // The window holds the mutated read, and it is the one that cannot be placed.
        const violation = broken.violation!;
        expect(violation.window.some((event) => event.index === victim.index), `seed ${seed}`).toBe(true);
        const conflictInvoke = violation.window.find((event) => event.index === violation.conflictIndex)!;
        expect(conflictInvoke.process).toBe(victim.process);
        expect(violation.explanation).toContain('"never-written"');
      }
    });
  }

  it("catches a stale read planted in a simulated history", () => {
    // A put that completed, then a get that started after it reading the value before it (when
    // that differs): a stale read the checker must find.
    let caught = 0;
    for (let seed = 100; seed < 130; seed++) {
      const events = simulate(seed, { clients: 4, operations: 300, keys: 3 });
      const okGets = events.filter((event) => event.type === "ok" && event.f === "get");
      // Find a get whose value was overwritten by an acknowledged put before it began, and read it
      // from before that put.
      const plant = findStalePlant(events, okGets);
      if (plant === null) continue;
      const mutated = events.map((event) => (event === plant.get ? { ...event, value: plant.staleValue } : event));
      const result = check(mutated);
      expect(result.verdict, `seed ${seed}`).toBe("not-linearizable");
      expect(result.violatedKeys).toEqual([plant.get.key]);
      caught += 1;
    }
    expect(caught).toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Against a brute-force oracle

interface OracleOp {
  readonly f: HistoryFunction;
  readonly value: string | null;
  readonly call: number;
  /** Infinity: may take effect at any time after its call, or never. */
  readonly ret: number;
}

/** Every order of every admissible subset, tried one by one: exponential, for a handful of ops. */
function oracleLinearizable(ops: OracleOp[], initial: string | null): boolean {
  const placed = ops.map(() => false);
  const go = (state: string | null): boolean => {
    if (ops.every((op, i) => placed[i] || op.ret === Infinity)) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      const op = ops[i]!;
      // Every op that returned before this one was invoked must already be placed.
      if (ops.some((other, j) => !placed[j] && other.ret < op.call)) continue;
      if (op.f === "get" && op.value !== state) continue;
      placed[i] = true;
      const ok = go(op.f === "get" ? state : op.f === "put" ? op.value : null);
      placed[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(initial);
}

/** The ops of a history as the oracle sees them: no fail, no get that observed nothing. */
function oracleOps(events: HistoryEvent[]): OracleOp[] {
  const open = new Map<number, HistoryEvent>();
  const ops: OracleOp[] = [];
  const add = (invoke: HistoryEvent, completion: HistoryEvent | null): void => {
    const type = completion?.type ?? "pending";
    if (type === "fail") return;
    if (invoke.f === "get" && type !== "ok") return;
    const value = invoke.f === "get" ? completion!.value : invoke.f === "put" ? invoke.value : null;
    ops.push({ f: invoke.f, value, call: invoke.time, ret: type === "ok" ? completion!.time : Infinity });
  };
  for (const event of events) {
    if (event.type === "invoke") {
      open.set(event.process, event);
    } else {
      add(open.get(event.process)!, event);
      open.delete(event.process);
    }
  }
  for (const invoke of open.values()) add(invoke, null);
  return ops;
}

describe("checkHistory: against a brute-force oracle", () => {
  it("agrees on thousands of small random histories, and every window it reports fails on its own", () => {
    // Small integer times make equal times (concurrent by definition) common; few values make
    // duplicate writes and reads of absent common: the corners of the search's pruning rules.
    const random = prng(4242);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    let violations = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const count = 2 + Math.floor(random() * 6);
      const ops: Op[] = [];
      for (let p = 0; p < count; p++) {
        const call = Math.floor(random() * 10);
        const f = pick(["get", "get", "put", "put", "del"] as const);
        const outcome = pick(["ok", "ok", "ok", "ok", "info", "fail", "pending"] as const);
        ops.push({ process: p, f, value: pick(["a", "b", "c", null]) ?? (f === "put" ? "a" : null), call, ret: call + Math.floor(random() * 6), outcome });
      }
      const events = history(...ops);
      const expected = oracleLinearizable(oracleOps(events), null);
      const result = check(events);
      expect(result.verdict, `trial ${trial}: ${JSON.stringify(ops)}`).toBe(expected ? "linearizable" : "not-linearizable");
      if (expected) continue;
      violations += 1;
      // The window, from any value the key may have held before it, admits no order.
      const violation = result.violation!;
      const windowOnly = oracleOps(violation.window);
      for (const before of violation.valuesBefore) {
        expect(oracleLinearizable(windowOnly, before), `trial ${trial} window from ${before}: ${JSON.stringify(ops)}\n${formatViolation(result)}`).toBe(false);
      }
    }
    expect(violations).toBeGreaterThan(200);
  });
});

describe("checkHistory: a violation deep in one busy key", () => {
  // Proving a key not linearizable means trying every order of everything before the violation;
  // on one key with 32 clients that is more than memory allows. The checker pauses a search that
  // stops making progress and proves the violation with a small window around where it got stuck.
  // This checks that path finds the planted read (it is the one that "cannot be placed"), with a
  // window small enough to read, which brute force confirms admits no order.
  const events = simulate(11, { clients: 32, operations: 30_000, keys: 1 });
  const pairs = pairUp(events);
  const okGets = pairs.filter((pair) => pair.invoke.f === "get" && pair.completion?.type === "ok");

  function expectProvenBySmallWindow(mutated: HistoryEvent[], victim: HistoryEvent): void {
    const result = check(mutated);
    expect(result.verdict).toBe("not-linearizable");
    const violation = result.violation!;
    const conflict = violation.window.find((event) => event.index === violation.conflictIndex)!;
    expect(conflict.process).toBe(victim.process);
    const windowOps = oracleOps(violation.window);
    expect(windowOps.length).toBeLessThanOrEqual(8);
    for (const before of violation.valuesBefore) expect(oracleLinearizable(windowOps, before)).toBe(false);
  }

  it("accepts the history as recorded", () => {
    expect(check(events).verdict).toBe("linearizable");
  });

  it("catches a read of a value never written, 70% of the way in", () => {
    const victim = okGets[Math.floor(okGets.length * 0.7)]!.completion!;
    expectProvenBySmallWindow(events.map((event) => (event === victim ? { ...event, value: "never-written" } : event)), victim);
  });

  it("catches a stale read, 60% of the way in", () => {
    const victim = okGets[Math.floor(okGets.length * 0.6)]!;
    const victimInvoke = victim.invoke;
    // A put that completed before another ok write began, which completed before the get began:
    // the put's value (written only by it) is certainly overwritten. M is the latest call of a
    // write that completed before the get began; the stale put is the last to complete before M.
    const okWrites = pairs.filter((pair) => pair.invoke.f !== "get" && pair.completion?.type === "ok");
    const lastCallNs = Math.max(...okWrites.filter((w) => w.completion!.time < victimInvoke.time).map((w) => w.invoke.time));
    const stale = okWrites
      .filter((old) => old.invoke.f === "put" && old.invoke.value !== victim.completion!.value && old.completion!.time < lastCallNs)
      .sort((a, b) => a.completion!.time - b.completion!.time)
      .at(-1)!;
    const victimCompletion = victim.completion!;
    const mutated = events.map((event) => (event === victimCompletion ? { ...event, value: stale.invoke.value } : event));
    expectProvenBySmallWindow(mutated, victimCompletion);
  });
});

/** Each invoke with its completion (null: none). */
function pairUp(events: HistoryEvent[]): { invoke: HistoryEvent; completion: HistoryEvent | null }[] {
  const pairs: { invoke: HistoryEvent; completion: HistoryEvent | null }[] = [];
  const open = new Map<number, { invoke: HistoryEvent; completion: HistoryEvent | null }>();
  for (const event of events) {
    if (event.type === "invoke") {
      const pair = { invoke: event, completion: null };
      pairs.push(pair);
      open.set(event.process, pair);
    } else {
      open.get(event.process)!.completion = event;
      open.delete(event.process);
    }
  }
  return pairs;
}

/**
 * A get G and a value it can no longer read: the value of an ok put P1 on G's key such that an ok
 * put P2 of another value began after P1 returned and returned before G began, and no other write
 * of that key was running or invoked between P1's call and G's return (so nothing else could write
 * it again or leave it in doubt).
 */
function findStalePlant(events: HistoryEvent[], gets: HistoryEvent[]): { get: HistoryEvent; staleValue: string } | null {
  // Pair events by process once: completion -> invoke, invoke -> completion.
  const invokeOf = new Map<HistoryEvent, HistoryEvent>();
  const completionOf = new Map<HistoryEvent, HistoryEvent>();
  const open = new Map<number, HistoryEvent>();
  for (const event of events) {
    if (event.type === "invoke") {
      open.set(event.process, event);
    } else {
      const invoke = open.get(event.process)!;
      invokeOf.set(event, invoke);
      completionOf.set(invoke, event);
      open.delete(event.process);
    }
  }
  const okPuts = events.filter((event) => event.type === "ok" && event.f === "put").map((ok) => ({ ok, invoke: invokeOf.get(ok)! }));
  for (const get of gets) {
    const getInvoke = invokeOf.get(get)!;
    const sameKey = okPuts.filter((put) => put.invoke.key === get.key);
    const writesBeforeGetReturned = events.filter((event) => event.type === "invoke" && event.f !== "get" && event.key === get.key && event.time <= get.time);
    for (const p2 of sameKey) {
      if (p2.ok.time >= getInvoke.time) continue;
      for (const p1 of sameKey) {
        if (p1.ok.time >= p2.invoke.time || p1.ok.value === get.value || p1.ok.value === null) continue;
        // Every other write of the key invoked before G returned must have completed (ok or fail)
        // before P1 began: then nothing can write P1's value again after P2.
        const clear = writesBeforeGetReturned.every((invoke) => {
          if (invoke === p1.invoke || invoke === p2.invoke) return true;
          const completion = completionOf.get(invoke);
          return completion !== undefined && completion.type !== "info" && completion.time < p1.invoke.time;
        });
        if (clear) return { get, staleValue: p1.ok.value };
      }
    }
  }
  return null;
}

describe("runCheckCommand (kv check FILE)", () => {
  // The shell: exit 0, 1 or 2 and what it prints, on history files in a temporary directory.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kv-check-test-"));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const lines = (events: HistoryEvent[]): string => events.map(formatEvent).join("\n") + "\n";
  const run = async (file: string, json = false): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void out.push(args.join(" ")));
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => void err.push(args.join(" ")));
    const code = await runCheckCommand({ file, timeout: 60_000, json });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  afterEach(() => vi.restoreAllMocks());

  it("exits 0 on a linearizable history and says how much it checked", async () => {
    const file = write("ok.jsonl", lines(history({ process: 0, f: "put", value: "a", call: 0, ret: 1 }, { process: 1, f: "get", value: "a", call: 2, ret: 3 })));
    const { code, out } = await run(file);
    expect(code).toBe(0);
    expect(out).toMatch(/^linearizable: 2 operations on 1 keys checked in \d+ ms$/);
  });

  it("exits 1 on a violation and prints the window; --json prints the result object", async () => {
    const file = write("stale.jsonl", lines(history(
      { process: 0, f: "put", value: "a", call: 0, ret: 1 },
      { process: 1, f: "put", value: "b", call: 2, ret: 3 },
      { process: 2, f: "get", value: "a", call: 4, ret: 5 },
    )));
    const text = await run(file);
    expect(text.code).toBe(1);
    expect(text.out).toContain('NOT linearizable: key "k"');
    expect(text.out).toContain("<- cannot be placed");
    const json = await run(file, true);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out) as CheckResult;
    expect(parsed.verdict).toBe("not-linearizable");
    expect(parsed.violation?.key).toBe("k");
  });

  it("exits 2 on a malformed file, naming the line", async () => {
    const notJson = write("bad.jsonl", `${formatEvent(history({ process: 0, f: "put", value: "a", call: 0, ret: 1 })[0]!)}\n\nnot json\n`);
    const bad = await run(notJson);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("line 3: not JSON");
    // Valid lines that do not pair: a completion for a process with nothing outstanding (line 2).
    const orphan = write("orphan.jsonl", lines([
      { index: 0, type: "invoke", process: 0, f: "put", key: "k", value: "a", time: 1 },
      { index: 1, type: "ok", process: 1, f: "put", key: "k", value: "a", time: 2 },
    ]));
    const unpaired = await run(orphan);
    expect(unpaired.code).toBe(2);
    expect(unpaired.err).toContain("line 2: ok for process 1, which has no operation outstanding");
    const missing = await run(path.join(dir, "missing.jsonl"));
    expect(missing.code).toBe(2);
  });
});
