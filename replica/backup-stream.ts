// The receiving end of a replica's Backup stream (replica/backup.ts serves it): `kv backup`
// (tools/backup/backup.ts) and a catch-up's snapshot (replica/server.ts) both take a snapshot this
// way. The stream is checked as it arrives: one header, at most backupChunkBytesMax per chunk, no
// more bytes than announced, their SHA-256, and a trailer; anything else fails with DATA_LOSS.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import type * as grpc from "@grpc/grpc-js";
import { Code, KvError } from "../common/errors";
import { limits } from "../common/limits";
import type { BackupChunk__Output } from "../proto/gen/twopc/participant/BackupChunk";
import type { ParticipantClient } from "../proto/gen/twopc/participant/Participant";

export interface ReceivedBackup {
  /** The commit sequence number the snapshot reflects (its header). */
  readonly commitSeq: number;
  readonly bytes: number;
  /** The trailer: "floor" or "catch-up" (replica/node.ts SnapshotVerifiedBy). */
  readonly verifiedBy: string;
}

/** Receives one Backup stream into `partial` (created or truncated; forced and closed at the end, whatever happens). */
export function receiveBackup(
  participant: ParticipantClient,
  address: string,
  request: { readonly chunkBytes: number; readonly forCatchUp: boolean },
  partial: string,
  timeoutMs: number,
): Promise<ReceivedBackup> {
  const out = fs.openSync(partial, "w");
  return new Promise<ReceivedBackup>((resolve, reject) => {
    let header: { commitSeq: number; totalBytes: number; sha256: string } | null = null;
    let received = 0;
    let verifiedBy: string | null = null;
    let failed = false;
    const hash = createHash("sha256");
    const fail = (error: KvError): void => {
      if (failed) return;
      failed = true;
      call.cancel();
      reject(error);
    };
    const call = participant.Backup({ chunkBytes: request.chunkBytes, forCatchUp: request.forCatchUp }, { deadline: Date.now() + timeoutMs });
    call.on("data", (chunk: BackupChunk__Output) => {
      switch (chunk.part) {
        case "header":
          if (header !== null || chunk.header === null || chunk.header === undefined) return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: a second or empty backup header`));
          header = { commitSeq: Number(chunk.header.commitSeq), totalBytes: Number(chunk.header.totalBytes), sha256: chunk.header.sha256 };
          return;
        case "data": {
          const data = chunk.data ?? Buffer.alloc(0);
          if (header === null || verifiedBy !== null) return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: backup data outside header and trailer`));
          if (data.length > limits.backupChunkBytesMax) return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: a backup chunk of ${data.length} bytes; the limit is ${limits.backupChunkBytesMax} (backupChunkBytesMax)`));
          received += data.length;
          if (received > header.totalBytes) return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: more backup data than the ${header.totalBytes} bytes announced`));
          hash.update(data);
          fs.writeSync(out, data);
          return;
        }
        case "trailer":
          verifiedBy = chunk.trailer?.verifiedBy ?? "";
          return;
        case undefined:
          return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: a backup message with no part`));
        default:
          return fail(new KvError(Code.DATA_LOSS, `replica at ${address}: an unknown backup part`));
      }
    });
    call.on("error", (error: grpc.ServiceError) => {
      if (failed) return;
      failed = true;
      reject(new KvError((error.code ?? Code.UNKNOWN) as KvError["code"], `backup from the replica at ${address}: ${error.details || error.message}`));
    });
    call.on("end", () => {
      if (failed) return;
      const h = header as { commitSeq: number; totalBytes: number; sha256: string } | null;
      if (h === null || verifiedBy === null) return reject(new KvError(Code.DATA_LOSS, `replica at ${address}: the backup stream ended without ${h === null ? "a header" : "a trailer"}`));
      if (received !== h.totalBytes) return reject(new KvError(Code.DATA_LOSS, `replica at ${address}: ${received} backup bytes received, ${h.totalBytes} announced`));
      const sha256 = hash.digest("hex");
      if (sha256 !== h.sha256) return reject(new KvError(Code.DATA_LOSS, `replica at ${address}: the backup's SHA-256 is ${sha256}, the replica announced ${h.sha256}`));
      resolve({ commitSeq: h.commitSeq, bytes: received, verifiedBy });
    });
  }).finally(() => {
    fs.fsyncSync(out);
    fs.closeSync(out);
  });
}
