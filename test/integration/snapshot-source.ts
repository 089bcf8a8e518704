// A fake source replica's snapshot, for tests of what receives a Backup stream (a catch-up from a
// snapshot: full-copy.test.ts; `kv backup`'s retries: backup-busy.test.ts): a store file made with
// the real Store, streamed as replica/backup.ts streams it.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type { BackupChunk } from "../../proto/gen/twopc/participant/BackupChunk";
import { Store } from "../../replica/store";

/** A snapshot file as a source replica's Backup would stream it: a store holding `rows`, its horizon `collectedThrough`. */
export async function snapshotFile(rows: { key: string; value: string; version: number }[], collectedThrough: number): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-snapshot-src-"));
  try {
    const store = new Store(path.join(dir, "store.sqlite"));
    store.installFull({ entries: rows.map((row) => ({ ...row, value: Buffer.from(row.value) })), afterKey: "", throughKey: null, sourceCollectedThrough: collectedThrough, horizon: collectedThrough });
    const pinned = store.pinSnapshot();
    await pinned.backupTo(path.join(dir, "snapshot.sqlite"));
    pinned.close();
    return fs.readFileSync(path.join(dir, "snapshot.sqlite"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A fake source's Backup handler: streams `file` as replica/backup.ts does for a catch-up, and records each call. */
export function backupOf(file: Buffer, calls: { forCatchUp: boolean }[], verifiedBy = "catch-up") {
  return (stream: grpc.ServerWritableStream<{ chunkBytes: number; forCatchUp: boolean }, BackupChunk>): void => {
    calls.push({ forCatchUp: stream.request.forCatchUp });
    stream.write({ header: { replicaId: "r9", commitSeq: 5, totalBytes: file.length, sha256: createHash("sha256").update(file).digest("hex") } });
    for (let offset = 0; offset < file.length; offset += 64 * 1024) stream.write({ data: file.subarray(offset, offset + 64 * 1024) });
    stream.write({ trailer: { verifiedBy } });
    stream.end();
  };
}

