// How many replicas make a majority (failover: coordinator/DESIGN.md). Pure.

/** A majority of `replicas`: any two majorities share a replica. */
export function quorumOf(replicas: number): number {
  return Math.floor(replicas / 2) + 1;
}
