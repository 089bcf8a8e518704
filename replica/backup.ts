// The replica's Backup stream (issue 14; `kv backup`): a consistent snapshot of its SQLite store.
//
// 1. At a moment between two turns (ReplicaNode.snapshotMoment: after a barrier, so that every
//    decision taken is applied and none half-applied) the store is pinned: a read-only connection
//    opens a SQLite read transaction and reads applied_seq S in it (replica/store.ts PinnedSnapshot).
// 2. SQLite's online backup copies that pinned state into a temporary file in the data directory,
//    page by page between event loop turns, while the replica goes on committing.
// 3. The stream sends a header (S, size, SHA-256), the file in chunks of at most
//    backupChunkBytesMax, and a trailer once the node has shown that the snapshot misses no commit
//    up to S (ReplicaNode.snapshotMoment says how); otherwise the stream fails with ABORTED and the
//    client takes another.
// For another replica's catch-up (BackupRequest.for_catch_up) the trailer follows the data at once
// (ReplicaNode.snapshotMoment says why no floor is needed), and the catching-up replica installs it
// (replica/node.ts copyRows).
// Read-only: nothing here touches the log or the store's own connection; the temporary file is
// removed whatever happens. At most backupsInFlightMax at once (RESOURCE_EXHAUSTED beyond).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { assert } from "../common/assert";
import type { CallResult } from "../common/env";
import { Code, type CodeValue, InvalidArgument, KvError, overLimit, ResourceExhausted } from "../common/errors";
import { limits } from "../common/limits";
import type { Logger } from "../common/logger";
import { toStatus } from "../proto/grpc-status";
import type { BackupChunk } from "../proto/gen/twopc/participant/BackupChunk";
import type { BackupRequest__Output } from "../proto/gen/twopc/participant/BackupRequest";
import type { ReplicaNode, SnapshotVerifiedBy } from "./node";
import type { PinnedSnapshot, Store } from "./store";

/** The chunk size a Backup request asks for: 0 takes the limit, more than the limit is refused. */
export function decodeBackupRequest(request: BackupRequest__Output): { chunkBytes: number; forCatchUp: boolean } {
  const asked = request.chunkBytes;
  if (!Number.isSafeInteger(asked) || asked < 0) throw new InvalidArgument("chunk_bytes", `chunk_bytes is ${asked}; it must be a whole number from 0`);
  if (asked > limits.backupChunkBytesMax) throw overLimit("chunk_bytes", asked, "backupChunkBytesMax", "bytes");
  return { chunkBytes: asked === 0 ? limits.backupChunkBytesMax : asked, forCatchUp: request.forCatchUp === true };
}

export class BackupService {
  private inFlight = 0;
  private nextFile = 1;

  constructor(
    private readonly id: string,
    private readonly dataDir: string,
    private readonly node: ReplicaNode,
    private readonly store: Store,
    private readonly logger: Logger,
  ) {}

  /** Serves one Backup call to its end: the stream ends with a trailer, or fails with a status. */
  serve(call: grpc.ServerWritableStream<BackupRequest__Output, BackupChunk>): void {
    let request: { chunkBytes: number; forCatchUp: boolean };
    try {
      request = decodeBackupRequest(call.request);
      if (this.inFlight >= limits.backupsInFlightMax) {
        throw new ResourceExhausted(`replica ${this.id} already serves ${this.inFlight} backup(s); the limit is ${limits.backupsInFlightMax} (backupsInFlightMax): try again later`);
      }
    } catch (error) {
      const status = toStatus(error);
      this.logger.warn({ event: "request-refused", method: "Backup", code: status.code, reason: status.details }, `Backup refused: ${status.details}`);
      call.emit("error", status);
      return;
    }
    this.inFlight += 1;
    const file = path.join(this.dataDir, `backup-${process.pid}-${this.nextFile++}.sqlite.tmp`);
    void this.run(call, request.chunkBytes, request.forCatchUp ? "catch-up" : "backup", file)
      .catch((error: unknown) => {
        const status = error instanceof KvError ? toStatus(error) : { code: Code.INTERNAL, details: `replica ${this.id}: backup failed: ${error instanceof Error ? error.message : String(error)}` };
        this.logger.warn({ event: "backup-failed", code: status.code, reason: status.details }, `backup failed: ${status.details}`);
        if (!call.cancelled) call.emit("error", status);
      })
      .finally(() => {
        this.inFlight -= 1;
        fs.rmSync(file, { force: true });
      });
  }

  private async run(call: grpc.ServerWritableStream<BackupRequest__Output, BackupChunk>, chunkBytes: number, purpose: "backup" | "catch-up", file: string): Promise<void> {
    let snapshot: PinnedSnapshot | null = null;
    let pinError: unknown = null;
    try {
      // Settles once the snapshot is pinned (or refused before), and again once it is verified.
      let pinnedOrRefused: () => void = () => undefined;
      const moment = new Promise<void>((resolve) => (pinnedOrRefused = resolve));
      const verified = new Promise<CallResult<SnapshotVerifiedBy>>((resolve) => {
        this.node.snapshotMoment(
          () => {
            try {
              snapshot = this.store.pinSnapshot();
              return snapshot.appliedSeq;
            } catch (error) {
              pinError = error;
              return null;
            } finally {
              pinnedOrRefused();
            }
          },
          (result) => {
            pinnedOrRefused();
            resolve(result);
          },
          purpose,
        );
      });
      await moment;
      if (pinError !== null) throw pinError;
      if (snapshot === null) {
        const early = await verified;
        throw early.ok ? failure(`replica ${this.id}: no snapshot was taken`, Code.INTERNAL) : failure(early.reason, early.code);
      }
      const pinnedSnapshot: PinnedSnapshot = snapshot;
      const startedMs = Date.now();
      await pinnedSnapshot.backupTo(file);
      const seq = pinnedSnapshot.appliedSeq;
      pinnedSnapshot.close();
      snapshot = null;
      // The file is read twice, a chunk at a time (never whole: a store can be larger than memory):
      // once for its SHA-256, which the header carries, then to send it.
      const size = fs.statSync(file).size;
      const hash = createHash("sha256");
      await forEachChunk(file, chunkBytes, (chunk) => {
        hash.update(chunk);
        return Promise.resolve();
      });
      const sha256 = hash.digest("hex");
      this.logger.info(
        { event: "backup-snapshot", commitSeq: seq, bytes: size, ms: Date.now() - startedMs },
        `backup: snapshot of commit sequence number ${seq}, ${size} bytes`,
      );
      await write(call, { header: { replicaId: this.id, commitSeq: seq, totalBytes: size, sha256 } });
      let sent = 0;
      await forEachChunk(file, chunkBytes, async (chunk) => {
        if (call.cancelled) return;
        sent += chunk.length;
        await write(call, { data: chunk });
      });
      if (call.cancelled) return;
      assert(sent === size, `backup: ${sent} bytes read to send, ${size} hashed`);
      const result = await verified;
      if (!result.ok) throw failure(result.reason, result.code);
      await write(call, { trailer: { verifiedBy: result.value } });
      call.end();
      this.logger.info({ event: "backup-done", commitSeq: seq, verifiedBy: result.value }, `backup of commit sequence number ${seq} sent (${result.value})`);
    } finally {
      (snapshot as PinnedSnapshot | null)?.close();
    }
  }
}

/** Reads `file` in chunks of at most `chunkBytes`, one after another, each handed to `each` before the next is read. */
async function forEachChunk(file: string, chunkBytes: number, each: (chunk: Buffer) => Promise<void>): Promise<void> {
  const handle = await fs.promises.open(file, "r");
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      await each(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

function failure(reason: string, code: CodeValue): KvError {
  return new KvError(code, reason);
}

/** Writes one message, waiting for the stream to drain when its buffer is full. */
function write(call: grpc.ServerWritableStream<BackupRequest__Output, BackupChunk>, chunk: BackupChunk): Promise<void> {
  return new Promise((resolve, reject) => {
    if (call.cancelled) return reject(new KvError(Code.CANCELLED, "the client cancelled the backup"));
    if (call.write(chunk)) resolve();
    else call.once("drain", () => resolve());
  });
}
