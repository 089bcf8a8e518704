// The one rule both nodes follow for when a log is compacted: past the threshold, and only once it
// has doubled since the last compaction, so that a large live set never makes every turn a rewrite.
import { describe, expect, it } from "vitest";
import { compactionDue } from "../../common/compaction";

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
