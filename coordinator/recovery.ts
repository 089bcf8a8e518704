// Rebuilding the coordinator from its decision log. Pure: records in, state out.
import { assertNever } from "../common/assert";
import type { Membership, RecoveredCoordinator } from "./core";
import { isNewerTxnId } from "../common/txn-id";
import type { CoordinatorRecord, RememberedCommit } from "./records";


export function recoverCoordinator(records: readonly CoordinatorRecord[]): RecoveredCoordinator & { committedInLog: number } {
  let epoch = 0;
  let lastCommitSeq = 0;
  let committedInLog = 0;
  let membership: Membership | null = null;
  // Committed requests in decision order (a Map keeps the first position of a key set twice).
  const remembered = new Map<string, RememberedCommit>();
  let newestForgotten: string | null = null;
  const unfinished = new Map<string, { txnId: string; commitSeq: number; participants: readonly string[]; keys: readonly string[] }>();
  for (const record of records) {
    switch (record.kind) {
      case "start":
        epoch = Math.max(epoch, record.epoch);
        lastCommitSeq = Math.max(lastCommitSeq, record.lastCommitSeq);
        break;
      case "commit":
        committedInLog += 1;
        lastCommitSeq = Math.max(lastCommitSeq, record.commitSeq);
        unfinished.set(record.txnId, { txnId: record.txnId, commitSeq: record.commitSeq, participants: record.participants, keys: record.keys });
        if (record.remember !== undefined) remembered.set(record.txnId, record.remember);
        // A commit logged by a version that did not remember requests: txn-status must not call a
        // transaction this old "aborted", so it counts as forgotten.
        else if (newestForgotten === null || isNewerTxnId(record.txnId, newestForgotten)) newestForgotten = record.txnId;
        break;
      case "remembered":
        for (const commit of record.commits) remembered.set(commit.txnId, commit);
        if (record.newestForgotten !== null && (newestForgotten === null || isNewerTxnId(record.newestForgotten, newestForgotten))) newestForgotten = record.newestForgotten;
        break;
      case "end":
        unfinished.delete(record.txnId);
        break;
      case "membership":
        membership = { inSync: record.inSync, outSince: record.outSince };
        break;
      default:
        assertNever(record);
    }
  }
  return {
    epoch: epoch + 1,
    lastCommitSeq,
    unfinished: [...unfinished.values()],
    membership,
    remembered: [...remembered.values()],
    newestForgotten,
    committedInLog,
  };
}
