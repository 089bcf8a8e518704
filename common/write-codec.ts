// How writes are stored inside log records (JSON, values in base64). Pure.
import { DataLoss } from "./errors";
import type { Write } from "./types";

/** key, then the value in base64, or null for a delete. */
export type EncodedWrite = [string, string | null];

export function encodeWrites(writes: readonly Write[]): EncodedWrite[] {
  return writes.map((write) => [write.key, write.value === null ? null : write.value.toString("base64")]);
}

export function decodeWrites(value: unknown, where: string): Write[] {
  if (!Array.isArray(value)) throw new DataLoss(`${where}: writes are not a list`);
  return value.map((item: unknown) => {
    if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") {
      throw new DataLoss(`${where}: a write has an unknown shape`);
    }
    const encoded: unknown = item[1];
    if (encoded === null) return { key: item[0], value: null };
    if (typeof encoded !== "string") throw new DataLoss(`${where}: a value is not base64 text`);
    return { key: item[0], value: Buffer.from(encoded, "base64") };
  });
}
