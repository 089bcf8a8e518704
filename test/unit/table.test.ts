// The one table formatter of the reports: widths from the widest cell, alignment per column.
import { describe, expect, it } from "vitest";
import { formatTable } from "../../common/table";

describe("formatTable", () => {
  it("pads each column to its widest cell, two spaces apart, trailing spaces trimmed", () => {
    expect(formatTable([["a", "bb", "c"], ["ddd", "e", ""]])).toBe("a    bb  c\nddd  e");
  });
  it("aligns the chosen columns right, or all but the first", () => {
    const rows = [["method", "ok"], ["Get", "1234"]];
    expect(formatTable(rows, { rightAligned: new Set([1]) })).toBe("method    ok\nGet     1234");
    expect(formatTable(rows, { rightAligned: "all-but-first" })).toBe(formatTable(rows, { rightAligned: new Set([1]) }));
  });
  it("takes short rows and no rows", () => {
    expect(formatTable([["x", "y"], ["long"]])).toBe("x     y\nlong");
    expect(formatTable([])).toBe("");
  });
});
