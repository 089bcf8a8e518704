// The one rule both nodes follow for when a log is compacted: past the threshold, and only once it
// has doubled since the last compaction, so that a large live set never makes every turn a rewrite.
import { describe, expect, it } from "vitest";
import { compactionDue, compactionStaggerOf } from "../../common/compaction";

describe("compactionDue", () => {
  it("compacts once the log passes the threshold", () => {
    expect(compactionDue(63, 64, 0)).toBe(false);
    expect(compactionDue(64, 64, 0)).toBe(true);
  });
  it("after a compaction that left a large log (its live records), waits until the log has doubled", () => {
    expect(compactionDue(150, 64, 100)).toBe(false); // would rewrite the same 100 again
    expect(compactionDue(199, 64, 100)).toBe(false);
    expect(compactionDue(200, 64, 100)).toBe(true);
  });
  it("after a compaction that left a small log, the threshold rules", () => {
    expect(compactionDue(64, 64, 10)).toBe(true);
    expect(compactionDue(40, 64, 10)).toBe(false);
  });
});

describe("compactionStaggerOf: the replicas of a cluster compact one at a time", () => {
  it("scales each replica's thresholds by its place among the replicas, from 1 to 1.5", () => {
    const ids = ["r1", "r2", "r3"];
    expect(ids.map((id) => compactionStaggerOf(id, ids))).toEqual([1, 1.25, 1.5]);
    // The replica's own id may be missing from the list it is given (its peers): same answer.
    expect(compactionStaggerOf("r2", ["r1", "r3"])).toBe(1.25);
    expect(compactionStaggerOf("only", [])).toBe(1);
  });

  it("logs that grow alike reach their thresholds apart: at any size, at most one of three replicas is due first", () => {
    const ids = ["r1", "r2", "r3"];
    const staggers = ids.map((id) => compactionStaggerOf(id, ids));
    const firstDue = staggers.map((stagger) => {
      let size = 0;
      while (!compactionDue(size, 64, 40, stagger)) size += 1;
      return size;
    });
    expect(firstDue).toEqual([80, 100, 120]);
  });
});
