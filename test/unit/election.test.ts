// Proves the rule of coordinator/election.ts decide(), which says what a coordinator does from what
// it saw of the others (a bully order by --coordinators; the replicas' epochs make it safe):
// - the first live coordinator in the order takes over when no active one answers; a later one
//   waits while an earlier one is alive, and takes over once every earlier one is down;
// - nobody takes over while an active or taking-over coordinator is alive (it stands by and names
//   the one of the newest epoch);
// - an active (or taking-over) coordinator stays unless it sees another one of a newer epoch, and
//   then stands down;
// - before it polled every other coordinator once, a standby only stands by;
// - a peer is alive while its last answer is at most downAfterMs old, or takingOverDownAfterMs when
//   that answer said it was taking over: a standby does not fence a coordinator busy recovering.
//
// How: decide() is pure: each case is a table of what a coordinator knows, at nowMs 10 000 with a
// downAfterMs of 500 (an answer at 9 600 is fresh, one at 9 000 or never is down).
import { describe, expect, it } from "vitest";
import { alive, decide, type PeerSeen, type Role } from "../../coordinator/election";

const ORDER = ["c1", "c2", "c3"] as const;
const NOW_MS = 10_000;
const DOWN_AFTER_MS = 500;

function peer(id: string, state: "up" | "down" | "never", role: Role | null = "standby", epoch = 0): PeerSeen {
  const lastOkMs = state === "up" ? NOW_MS - 400 : state === "down" ? NOW_MS - 900 : null;
  return { id, address: `127.0.0.1:5005${id.slice(1)}`, lastOkMs, role: state === "never" ? null : role, epoch };
}

function decideFor(id: string, role: Role, epoch: number, peers: PeerSeen[], polledAll = true): ReturnType<typeof decide> {
  return decide({ id, role, epoch }, ORDER, peers, polledAll, NOW_MS, DOWN_AFTER_MS);
}

describe("election: who takes over", () => {
  it("the first coordinator in the order takes over when nobody is active, even with the others alive", () => {
    expect(decideFor("c1", "standby", 0, [peer("c2", "up"), peer("c3", "up")])).toEqual({ kind: "take-over" });
  });

  it("a later coordinator waits while an earlier one is alive", () => {
    expect(decideFor("c2", "standby", 0, [peer("c1", "up"), peer("c3", "down")])).toEqual({ kind: "stand-by", active: null });
    expect(decideFor("c3", "standby", 0, [peer("c1", "down"), peer("c2", "up")])).toEqual({ kind: "stand-by", active: null });
  });

  it("the first live one takes over once every earlier one is down (or never answered); later ones do not stop it", () => {
    expect(decideFor("c2", "standby", 0, [peer("c1", "down", "active", 4), peer("c3", "up")])).toEqual({ kind: "take-over" });
    expect(decideFor("c3", "standby", 0, [peer("c1", "never"), peer("c2", "down")])).toEqual({ kind: "take-over" });
  });
});

describe("election: nobody takes over from a live leader", () => {
  it.each(["active", "taking-over"] as const)("every standby stands by while a %s coordinator is alive, and names it", (role) => {
    const leader = peer("c3", "up", role, 4);
    expect(decideFor("c1", "standby", 0, [peer("c2", "up"), leader])).toEqual({ kind: "stand-by", active: leader });
    expect(decideFor("c2", "standby", 0, [peer("c1", "down"), leader])).toEqual({ kind: "stand-by", active: leader });
  });

  it("names the leader of the newest epoch when it sees two", () => {
    const old = peer("c2", "up", "active", 4);
    const newer = peer("c3", "up", "active", 5);
    expect(decideFor("c1", "standby", 0, [old, newer])).toEqual({ kind: "stand-by", active: newer });
    expect(decideFor("c1", "standby", 0, [newer, old])).toEqual({ kind: "stand-by", active: newer });
  });

  it("a leader that stopped answering does not hold the others back", () => {
    expect(decideFor("c1", "standby", 0, [peer("c2", "down", "active", 4), peer("c3", "up")])).toEqual({ kind: "take-over" });
  });
});

describe("election: an active coordinator", () => {
  it.each(["active", "taking-over"] as const)("a %s coordinator stays with no newer leader in sight, whatever the order says", (role) => {
    expect(decideFor("c3", role, 5, [peer("c1", "up"), peer("c2", "up")])).toEqual({ kind: "stay" });
    expect(decideFor("c3", role, 5, [peer("c1", "up", "active", 4), peer("c2", "up", "taking-over", 5)])).toEqual({ kind: "stay" });
  });

  it("stands down on seeing a live leader of a newer epoch, naming it", () => {
    const newer = peer("c2", "up", "active", 6);
    expect(decideFor("c1", "active", 5, [newer, peer("c3", "up")])).toEqual({ kind: "stand-by", active: newer });
    const takingOver = peer("c3", "up", "taking-over", 6);
    expect(decideFor("c1", "taking-over", 5, [peer("c2", "up"), takingOver])).toEqual({ kind: "stand-by", active: takingOver });
    // Not for one that stopped answering.
    expect(decideFor("c1", "active", 5, [peer("c2", "down", "active", 6)])).toEqual({ kind: "stay" });
  });
});

describe("election: before every peer was polled", () => {
  it("a standby does not take over, even first in the order with nobody alive", () => {
    expect(decideFor("c1", "standby", 0, [peer("c2", "never"), peer("c3", "never")], false)).toEqual({ kind: "stand-by", active: null });
    expect(decideFor("c1", "standby", 0, [peer("c2", "down"), peer("c3", "down")], false)).toEqual({ kind: "stand-by", active: null });
    // Once polled, it does.
    expect(decideFor("c1", "standby", 0, [peer("c2", "down"), peer("c3", "down")], true)).toEqual({ kind: "take-over" });
  });

  it("but already stands by a live leader it heard", () => {
    const leader = peer("c2", "up", "active", 3);
    expect(decideFor("c1", "standby", 0, [leader, peer("c3", "never")], false)).toEqual({ kind: "stand-by", active: leader });
  });
});

describe("alive", () => {
  it("is true while the last answer is at most downAfterMs old, false after and when it never answered", () => {
    const at = (lastOkMs: number | null): PeerSeen => ({ id: "c2", address: "a", lastOkMs, role: "standby", epoch: 0 });
    expect(alive(at(NOW_MS - DOWN_AFTER_MS), NOW_MS, DOWN_AFTER_MS)).toBe(true);
    expect(alive(at(NOW_MS - DOWN_AFTER_MS - 1), NOW_MS, DOWN_AFTER_MS)).toBe(false);
    expect(alive(at(null), NOW_MS, DOWN_AFTER_MS)).toBe(false);
  });
});

describe("a coordinator taking over", () => {
  const TAKING_OVER_DOWN_AFTER_MS = 10_000;
  const silentFor = (ms: number, role: Role): PeerSeen => ({ id: "c2", address: "a", lastOkMs: NOW_MS - ms, role, epoch: 4 });

  it("counts as alive for takingOverDownAfterMs after its last answer, so that a standby waits for it instead of fencing it", () => {
    const busy = silentFor(3_000, "taking-over");
    expect(alive(busy, NOW_MS, DOWN_AFTER_MS, TAKING_OVER_DOWN_AFTER_MS)).toBe(true);
    expect(decide({ id: "c1", role: "standby", epoch: 3 }, ORDER, [busy], true, NOW_MS, DOWN_AFTER_MS, TAKING_OVER_DOWN_AFTER_MS)).toEqual({ kind: "stand-by", active: busy });
  });

  it("but not longer, and an active or standby one as silent is down after downAfterMs", () => {
    const gone = silentFor(TAKING_OVER_DOWN_AFTER_MS + 1, "taking-over");
    expect(decide({ id: "c1", role: "standby", epoch: 3 }, ORDER, [gone], true, NOW_MS, DOWN_AFTER_MS, TAKING_OVER_DOWN_AFTER_MS)).toEqual({ kind: "take-over" });
    for (const role of ["active", "standby"] as const) {
      expect(alive(silentFor(3_000, role), NOW_MS, DOWN_AFTER_MS, TAKING_OVER_DOWN_AFTER_MS), role).toBe(false);
    }
  });
});
