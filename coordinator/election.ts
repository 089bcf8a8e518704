// Which coordinator should be active (failover; coordinator/DESIGN.md, "Failover"). Pure.
//
// Every coordinator asks the others for their role (a brief Status) every coordinatorPollMs. A
// coordinator is alive while it answered within the last coordinatorDownAfterMs. The rule, by the
// order of --coordinators (a bully order; the replicas' epochs make it safe, not this rule):
// - a coordinator that sees another one alive and active (or taking over) stands by;
// - otherwise it takes over if no coordinator before it in the order is alive: the first live one
//   takes over, the others wait for it;
// - an active coordinator that sees another active one with a newer epoch stands down (its calls
//   would be refused as fenced anyway).
// Before it has polled every other coordinator once, a coordinator only stands by: a restarted one
// must not take over from an active one it has not heard yet.
// A coordinator whose last answer said it was taking over counts as alive for the longer
// takingOverDownAfterMs: recovering from a large copy of the decision log can keep it from answering
// for a while, and a standby that took it for dead would fence it halfway and take over in its turn,
// only to be fenced the same way: under a long load two coordinators did so for minutes, every ~20 s,
// and nothing was served.
export type Role = "standby" | "taking-over" | "active";

export interface PeerSeen {
  readonly id: string;
  readonly address: string;
  /** When it last answered (null: never). */
  readonly lastOkMs: number | null;
  readonly role: Role | null;
  readonly epoch: number;
}

export type Decision =
  | { readonly kind: "stand-by"; readonly active: PeerSeen | null }
  | { readonly kind: "take-over" }
  | { readonly kind: "stay" };

export function alive(peer: PeerSeen, nowMs: number, downAfterMs: number, takingOverDownAfterMs = downAfterMs): boolean {
  return peer.lastOkMs !== null && nowMs - peer.lastOkMs <= (peer.role === "taking-over" ? Math.max(downAfterMs, takingOverDownAfterMs) : downAfterMs);
}

/**
 * What this coordinator should do now. order: every coordinator id, in --coordinators order; peers:
 * what it knows of the others; polledAll: every other one was asked at least once.
 */
export function decide(
  self: { readonly id: string; readonly role: Role; readonly epoch: number },
  order: readonly string[],
  peers: readonly PeerSeen[],
  polledAll: boolean,
  nowMs: number,
  downAfterMs: number,
  takingOverDownAfterMs = downAfterMs,
): Decision {
  const live = peers.filter((peer) => alive(peer, nowMs, downAfterMs, takingOverDownAfterMs));
  const leaders = live.filter((peer) => peer.role === "active" || peer.role === "taking-over");
  const newest = leaders.reduce<PeerSeen | null>((best, peer) => (best === null || peer.epoch > best.epoch ? peer : best), null);
  if (self.role !== "standby") {
    // Active or taking over: only a newer epoch elsewhere makes it stand down.
    if (newest !== null && newest.epoch > self.epoch) return { kind: "stand-by", active: newest };
    return { kind: "stay" };
  }
  if (newest !== null) return { kind: "stand-by", active: newest };
  if (!polledAll) return { kind: "stand-by", active: null };
  const position = order.indexOf(self.id);
  const earlierAlive = live.some((peer) => {
    const at = order.indexOf(peer.id);
    return at !== -1 && at < position;
  });
  return earlierAlive ? { kind: "stand-by", active: null } : { kind: "take-over" };
}
