// `kv backup FILE` and `kv restore FILE --data-dir DIR` (issue 14): a consistent snapshot of the
// store, and a new cluster's data directories seeded from it.
//
// Backup: the coordinator knows which replicas are in sync (Status); the snapshot comes from one of
// them, directly, over its Backup stream (replica/backup.ts, which says why the snapshot holds
// exactly the commits up to the sequence number it reflects). The stream is checked (a header, as
// many bytes as it announced, their SHA-256, a trailer), and the coordinator is asked again
// afterwards: the replica must still be in sync in the same epoch, otherwise the copy is taken again
// (a replica that left the set and caught up meanwhile may have missed commits, and a takeover may
// re-send commits it had not prepared). The file is written beside FILE and renamed over it only
// when all of that holds. FILE is a SQLite database: the replica's store, as of that moment.
//
// Restore writes what `kv cluster --data-dir DIR` expects (tools/cluster/process-args.ts): for each
// replica, DIR/<id>/store.sqlite (the snapshot; applied_lsn removed, since its log starts afresh) and
// DIR/<id>/replica.wal, a log holding a promise of epoch 1 and one copy record: a base of the
// coordinator's decision log of epoch 1 with a single start record whose lastCommitSeq is the
// snapshot's commit sequence number. The first
// coordinator to take over recovers from that copy, so new commits are numbered after the snapshot's
// (a write numbered at or below a key's version would never be applied: replica/store.ts); with no
// membership record every replica starts in sync, which is true, since they hold the same data.
// The coordinators keep no log of their own: their directories are created empty.
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { Code, FailedPrecondition, InvalidArgument, KvError, Unavailable } from "../../common/errors";
import { limits } from "../../common/limits";
import type { KvClient, KvStatus } from "../../client/client";
import { encodeCoordinatorRecord } from "../../coordinator/records";
import { FileLog, fsyncDirectory } from "../../logs/file-log";
import { channelOptions, participantProto } from "../../proto/load";
import { channelCredentials, type Tls } from "../../proto/tls";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import { receiveBackup } from "../../replica/backup-stream";
import { encodeReplicaRecord } from "../../replica/records";
import { consecutiveLayout } from "../cluster/process-args";

export interface BackupResult {
  readonly file: string;
  readonly replicaId: string;
  readonly commitSeq: number;
  readonly bytes: number;
  readonly keys: number;
  readonly verifiedBy: string;
  readonly attempts: number;
}

export interface BackupOptions {
  /** Back up this replica (it must be in sync); default: the in-sync replica with the highest applied commit. */
  readonly replicaId?: string;
  /** Bytes per chunk (0: the replica's maximum, backupChunkBytesMax). */
  readonly chunkBytes?: number;
  /** Deadline of the whole stream of one attempt. */
  readonly streamTimeoutMs?: number;
  /** Called before each attempt after the first, with why the previous one failed. */
  readonly onRetry?: (attempt: number, reason: string) => void;
}

/** Takes a consistent snapshot from an in-sync replica and writes it to `file` (replaced only when complete and checked). */
export async function backup(client: KvClient, file: string, options: BackupOptions = {}): Promise<BackupResult> {
  const chunkBytes = options.chunkBytes ?? 0;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 0 || chunkBytes > limits.backupChunkBytesMax) {
    throw new InvalidArgument("--chunk-bytes", `--chunk-bytes is ${chunkBytes}; it must be a whole number from 0 to ${limits.backupChunkBytesMax} (backupChunkBytesMax)`);
  }
  const partial = `${file}.partial-${process.pid}`;
  let lastReason = "";
  try {
    for (let attempt = 1; attempt <= limits.backupAttemptsMax; attempt++) {
      if (attempt > 1) options.onRetry?.(attempt, lastReason);
      const before = await client.status();
      const replica = pickReplica(before, options.replicaId);
      let streamed: { commitSeq: number; bytes: number; verifiedBy: string };
      try {
        streamed = await streamBackup(replica.address, client.tls, chunkBytes, partial, options.streamTimeoutMs ?? 10 * 60_000);
      } catch (error) {
        // ABORTED: the snapshot could not be shown complete; UNAVAILABLE: the replica is catching up or gone. Take another.
        if (error instanceof KvError && (error.code === Code.ABORTED || error.code === Code.UNAVAILABLE)) {
          lastReason = error.message;
          continue;
        }
        // RESOURCE_EXHAUSTED: the replica is sending another snapshot (a backup, or another
        // replica's catch-up: backupsInFlightMax); wait a moment, then take one.
        if (error instanceof KvError && error.code === Code.RESOURCE_EXHAUSTED) {
          lastReason = error.message;
          await new Promise((resolve) => setTimeout(resolve, limits.backupBusyWaitMs));
          continue;
        }
        throw error;
      }
      const after = await client.status();
      const still = after.replicas.find((r) => r.id === replica.id);
      if (after.epoch !== before.epoch || still === undefined || still.state !== "in-sync") {
        lastReason = `replica ${replica.id} did not stay in sync in epoch ${before.epoch} while it was backed up (now epoch ${after.epoch}, ${still?.state ?? "unknown"})`;
        continue;
      }
      const keys = checkSnapshot(partial).keys;
      fs.renameSync(partial, file);
      return { file, replicaId: replica.id, commitSeq: streamed.commitSeq, bytes: streamed.bytes, keys, verifiedBy: streamed.verifiedBy, attempts: attempt };
    }
  } finally {
    fs.rmSync(partial, { force: true });
  }
  throw new Unavailable(`no consistent snapshot after ${limits.backupAttemptsMax} attempts (backupAttemptsMax); the last failed: ${lastReason}`);
}

function pickReplica(status: KvStatus, wanted: string | undefined): { id: string; address: string } {
  const inSync = status.replicas.filter((r) => r.state === "in-sync" && r.up && r.healthy);
  if (wanted !== undefined) {
    const replica = status.replicas.find((r) => r.id === wanted);
    if (replica === undefined) throw new InvalidArgument("--replica", `--replica ${wanted}: the coordinator knows no such replica (it knows ${status.replicas.map((r) => r.id).join(", ")})`);
    if (!inSync.includes(replica)) throw new Unavailable(`replica ${wanted} is not in sync and healthy (${replica.state}, ${replica.up ? "up" : "down"}): back up an in-sync one`);
    return replica;
  }
  const best = [...inSync].sort((a, b) => b.appliedSeq - a.appliedSeq)[0];
  if (best === undefined) throw new Unavailable("no replica is in sync and healthy: nothing to back up from");
  return best;
}

/** One Backup stream into `partial`: header, data (counted and hashed), trailer. */
function streamBackup(address: string, tls: Tls | null, chunkBytes: number, partial: string, timeoutMs: number): Promise<{ commitSeq: number; bytes: number; verifiedBy: string }> {
  // With TLS, the replica wants a certificate its CA signed (the client's: proto/tls.ts lets any such certificate take a backup).
  const participant = new participantProto.Participant(address, channelCredentials(tls), channelOptions) as unknown as ParticipantClient;
  return receiveBackup(participant, address, { chunkBytes, forCatchUp: false }, partial, timeoutMs).finally(() => participant.close());
}

/** Checks that `file` is a replica's store (SQLite's quick_check, the kv and meta tables) and reads what it holds. */
export function checkSnapshot(file: string): { commitSeq: number; keys: number } {
  if (!fs.existsSync(file)) throw new InvalidArgument("FILE", `${file} does not exist`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InvalidArgument("FILE", `${file} is not a backup of twopc-kv (a SQLite database): ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    const check = db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new InvalidArgument("FILE", `${file} is damaged: SQLite's quick_check says ${String(check)}`);
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((row) => row.name));
    if (!tables.has("kv") || !tables.has("meta")) throw new InvalidArgument("FILE", `${file} is not a backup of twopc-kv: it has no kv and meta tables`);
    const commitSeq = (db.prepare("SELECT value FROM meta WHERE name = 'applied_seq'").get() as { value: number } | undefined)?.value ?? 0;
    const keys = (db.prepare("SELECT count(*) AS n FROM kv WHERE value IS NOT NULL").get() as { n: number }).n;
    return { commitSeq, keys };
  } catch (error) {
    if (error instanceof KvError) throw error;
    throw new InvalidArgument("FILE", `${file} is not a backup of twopc-kv: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    db.close();
  }
}

export interface RestoreOptions {
  readonly file: string;
  readonly dataDir: string;
  /** The replicas' ids, as `kv cluster` names them (r1, r2, ...). */
  readonly replicaIds: readonly string[];
  /** The coordinators' ids (coordinator, coordinator-2, ...): their directories are created empty. */
  readonly coordinatorIds: readonly string[];
}

/** The epoch of the decision log a restore seeds; the first coordinator takes over with a newer one. */
const restoredLogEpoch = 1;

/** Writes the data directories of a new cluster holding the snapshot in `file`. Refuses a directory that holds anything. */
export async function restore(options: RestoreOptions): Promise<{ commitSeq: number; keys: number }> {
  const { file, dataDir } = options;
  const snapshot = checkSnapshot(file);
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    throw new FailedPrecondition(`--data-dir ${dataDir} is not empty: a restore seeds a new cluster only, and never writes over data`);
  }
  fs.mkdirSync(dataDir, { recursive: true });
  // Each replica promised the restored log's epoch, as a replica holding a copy of an epoch has: a
  // coordinator taking over must then propose a newer epoch than the log's start record (a promise
  // of that very epoch would be granted, and its coordinator would recover an epoch newer than its own).
  const promise = encodeReplicaRecord({ kind: "promise", epoch: restoredLogEpoch, coordinatorId: "", address: "" });
  const copy = encodeReplicaRecord({
    kind: "copy",
    epoch: restoredLogEpoch,
    base: true,
    firstIndex: 1,
    records: [encodeCoordinatorRecord({ kind: "start", epoch: restoredLogEpoch, lastCommitSeq: snapshot.commitSeq })],
  });
  for (const id of options.replicaIds) {
    const dir = path.join(dataDir, id);
    fs.mkdirSync(dir);
    const store = path.join(dir, "store.sqlite");
    fs.copyFileSync(file, store);
    const db = new Database(store);
    try {
      // applied_lsn counts in the source replica's log; this replica's log starts again at 0, and
      // recovery redoes every commit logged after applied_lsn: none may be skipped.
      db.prepare("DELETE FROM meta WHERE name = 'applied_lsn'").run();
      db.pragma("wal_checkpoint(TRUNCATE)");
    } finally {
      db.close();
    }
    const { log } = await FileLog.open(path.join(dir, "replica.wal"));
    log.append(promise);
    log.append(copy);
    await log.force();
    await log.close();
    await fsyncDirectory(dir);
  }
  for (const id of options.coordinatorIds) fs.mkdirSync(path.join(dataDir, id));
  await fsyncDirectory(dataDir);
  return snapshot;
}

/** The ids `kv cluster` gives its processes, from its one layout builder (tools/cluster/process-args.ts). */
export function clusterIds(replicas: number, coordinators: number): { replicaIds: string[]; coordinatorIds: string[] } {
  const layout = consecutiveLayout("127.0.0.1", 0, replicas, "", coordinators);
  return { replicaIds: layout.replicas.map((r) => r.id), coordinatorIds: layout.coordinators.map((c) => c.id) };
}
