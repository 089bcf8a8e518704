// Plain-text tables for reports (kv bench, the bookstore, the crash matrix, the fuzzer): columns
// padded to their widest cell, two spaces apart, trailing spaces trimmed. Pure.

export interface TableOptions {
  /** Columns whose cells are aligned right (numbers); the others align left. */
  readonly rightAligned?: ReadonlySet<number> | "all-but-first";
}

export function formatTable(rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  if (rows.length === 0) return "";
  const columns = Math.max(...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  const right = (column: number): boolean =>
    options.rightAligned === "all-but-first" ? column > 0 : (options.rightAligned?.has(column) ?? false);
  return rows
    .map((row) =>
      row
        .map((cell, column) => (right(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
