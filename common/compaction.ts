// When a write-ahead log is due for compaction (both nodes use this one rule). Pure.
//
// A log is rewritten with only its live records once it passes compactLogSize. The live records can
// themselves be large (the coordinator's remembered requests; a replica's remembered decisions and
// its prepared transactions with their values): compacting again only once the log has doubled
// since the last compaction keeps a large live set from making every turn a rewrite.
export function compactionDue(logSize: number, compactLogSize: number, sizeAfterLastCompaction: number): boolean {
  return logSize >= Math.max(compactLogSize, 2 * sizeAfterLastCompaction);
}
