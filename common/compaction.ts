// When a write-ahead log is due for compaction (both nodes use this one rule). Pure.
//
// A log is rewritten with only its live records once it passes compactLogSize. The live records can
// themselves be large (the coordinator's remembered requests; a replica's remembered decisions and
// its prepared transactions with their values): compacting again only once the log has doubled
// since the last compaction keeps a large live set from making every turn a rewrite.
//
// A compaction holds up the node's turns while it writes the live records (a replica's copy of the
// decision log holds up to requestIdsRememberedMax remembered requests: tens of MB, 0.3 to 1 s here
// under load, issue 15). The replicas of a cluster receive the same records, so their logs grow
// alike and, at one threshold, all of them would compact at once: no majority for that second, and
// every write in flight waits. A replica's stagger (compactionStaggerOf) scales its thresholds by its
// place among the replicas, so that they compact one at a time and a majority always goes on.
export function compactionDue(logSize: number, compactLogSize: number, sizeAfterLastCompaction: number, stagger = 1): boolean {
  return logSize >= stagger * Math.max(compactLogSize, 2 * sizeAfterLastCompaction);
}

/**
 * The stagger of replica `id` among `replicaIds` (every replica of the cluster; ids sorted): the
 * first 1, the others spread up to 1.5 (with three: 1, 1.25, 1.5), so that logs growing alike reach
 * their thresholds a quarter of the way apart.
 */
export function compactionStaggerOf(id: string, replicaIds: readonly string[]): number {
  const sorted = [...new Set([...replicaIds, id])].sort();
  return 1 + sorted.indexOf(id) / (2 * Math.max(1, sorted.length - 1));
}
