// The kinds of fault `kv chaos` injects, in a module of their own: chaos.ts draws and applies them,
// netns-cluster.ts says which of the link faults this machine can make, and neither imports the other.
/** The faults of a cluster on 127.0.0.1: on its processes, and partitions behind a TCP proxy. */
export const faultKinds = ["kill", "pause", "failpoint", "partition"] as const;
/**
 * Faults on a member's own link, in a cluster across network namespaces (`--faults netem` asks for
 * every one this machine can make): net-partition (its bridge port disabled: 100% loss both ways),
 * net-loss (netem loss, or nftables drops without netem), net-delay (netem delay with jitter; only
 * with netem), net-throttle (a tbf token bucket).
 */
export const netFaultKinds = ["net-partition", "net-loss", "net-delay", "net-throttle"] as const;
export type NetFaultKind = (typeof netFaultKinds)[number];
export type FaultKind = (typeof faultKinds)[number] | NetFaultKind;

/** What --faults accepts besides the kinds: `netem`, every net-* fault this machine can make. */
export const netemFaultsGroup = "netem";

export function isNetFaultKind(kind: string): kind is NetFaultKind {
  return (netFaultKinds as readonly string[]).includes(kind);
}

