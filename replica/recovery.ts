// Rebuilding a replica from its log after a restart. Pure: records in, state out.
//
// The log is authoritative (replica/DESIGN.md). The SQLite store records, in the same SQLite
// transaction as the writes, the LSN up to which every commit record has been applied
// (appliedLsn). Recovery redoes, in log order, the commits logged after that point, and hands back
// the transactions that are prepared and undecided: they keep their locks until the coordinator
// (or a peer) says how they ended.
//
// A COMMIT with writes for a transaction this replica never prepared (intent commits) is logged as
// a prepare record without participants followed by its commit record, and replays as any commit.
// Both are forced together, but a crash can leave the prepare without the commit (a torn tail): that
// prepare is dropped, not held in doubt. Its COMMIT was never acknowledged, so the coordinator sends
// it again (with the writes); holding it would lock keys a stale prepared transaction may hold too.
// A later prepare record of the same transaction (that COMMIT again, or its PREPARE) replaces it.
import { mutation } from "../common/mutations";
import { assert, assertNever } from "../common/assert";
import { DecisionLogCopy, type Promised } from "./log-copy";
import type { Apply, Decided, PrepareItem } from "./core";
import type { ReplicaRecord } from "./records";

export interface Recovered {
  readonly prepared: PrepareItem[];
  /** Every decision in the log, oldest first. */
  readonly decided: { txnId: string; decided: Decided }[];
  /** The newest id among decisions forgotten before the last compaction, if any. */
  readonly newestForgotten: string | null;
  /** Commits logged after appliedLsn, to apply to the store in this order. */
  readonly redo: Apply[];
  /** Failover: the epoch promised, and the copy of the coordinator's decision log. */
  readonly promised: Promised;
  readonly copy: DecisionLogCopy;
  /** Counts for the one line a replica logs about its recovery. */
  readonly committedInLog: number;
  readonly abortedInLog: number;
}

export function recoverReplica(records: readonly { lsn: number; record: ReplicaRecord }[], appliedLsn: number): Recovered {
  const prepared = new Map<string, PrepareItem>();
  const decided: { txnId: string; decided: Decided }[] = [];
  let abortedInLog = 0;
  let newestForgotten: string | null = null;
  const redo: Apply[] = [];
  let committedInLog = 0;
  let promised: Promised = { epoch: 0, coordinatorId: "", address: "" };
  const copy = new DecisionLogCopy();
  for (const { lsn, record } of records) {
    switch (record.kind) {
      case "promise":
        promised = { epoch: record.epoch, coordinatorId: record.coordinatorId, address: record.address };
        break;
      case "copy":
        copy.take(record.epoch, record.base, record.firstIndex, record.records);
        break;
      case "prepare": {
        const earlier = prepared.get(record.txnId);
        assert(earlier === undefined || isIntent(earlier), `transaction ${record.txnId} prepared twice in the log (record ${lsn})`);
        prepared.set(record.txnId, { txnId: record.txnId, writes: record.writes, participants: record.participants });
        break;
      }
      case "commit": {
        const txn = prepared.get(record.txnId);
        assert(txn !== undefined, `commit record ${lsn} for ${record.txnId}, which the log never prepared`);
        prepared.delete(record.txnId);
        committedInLog += 1;
        decided.push({ txnId: record.txnId, decided: { outcome: "commit", commitSeq: record.commitSeq } });
        if (lsn > appliedLsn) redo.push({ txnId: record.txnId, commitSeq: record.commitSeq, writes: txn.writes });
        break;
      }
      case "committed":
        // Knowledge kept by compaction; its writes were forced in SQLite before the compaction.
        decided.push({ txnId: record.txnId, decided: { outcome: "commit", commitSeq: record.commitSeq } });
        break;
      case "forgotten":
        newestForgotten = record.txnId;
        break;
      case "abort":
      case "refuse":
        prepared.delete(record.txnId);
        decided.push({ txnId: record.txnId, decided: { outcome: "abort" } });
        abortedInLog += 1;
        break;
      default:
        assertNever(record);
    }
  }
  for (const txn of [...prepared.values()]) if (isIntent(txn)) prepared.delete(txn.txnId);
  if (mutation() === "recovery-prepared-as-aborted" && prepared.size > 0) {
    // Planted bug (test-only): a transaction prepared and undecided is taken as aborted.
    const aborted = [...prepared.keys()].map((txnId) => ({ txnId, decided: { outcome: "abort" as const } }));
    return { prepared: [], decided: [...decided, ...aborted], newestForgotten, redo, promised, copy, committedInLog, abortedInLog };
  }
  return { prepared: [...prepared.values()], decided, newestForgotten, redo, promised, copy, committedInLog, abortedInLog };
}

/**
 * A prepare record written for a COMMIT with writes (replica/core.ts commitUnprepared): a PREPARE
 * always names its participants, this replica among them (replica/decode.ts).
 */
function isIntent(txn: PrepareItem): boolean {
  return txn.participants.length === 0;
}
