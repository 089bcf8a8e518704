// Rebuilding the coordinator from its decision log. Pure: records in, state out.
import { mutation } from "../common/mutations";
import { assertNever } from "../common/assert";
import type { Membership, RecoveredCoordinator } from "./core";
import { isNewerTxnId } from "../common/txn-id";
import type { CoordinatorRecord, RememberedCommit, RememberedFailure } from "./records";


export function recoverCoordinator(records: readonly CoordinatorRecord[]): RecoveredCoordinator & { committedInLog: number } {
  let epoch = 0;
  let lastCommitSeq = 0;
  let committedInLog = 0;
  let membership: Membership | null = null;
  // Committed requests in decision order (a Map keeps the first position of a key set twice).
  const remembered = new Map<string, RememberedCommit>();
  let newestForgotten: string | null = null;
  // Definite failures by request id, oldest first. A request id has one answer: the newest record
  // about it (a commit, or a failure) wins, as in the core that wrote them.
  const failures = new Map<string, RememberedFailure>();
  const committedRequests = new Map<string, string>();
  const unfinished = new Map<string, RecoveredCoordinator["unfinished"][number]>();
  for (const record of records) {
    switch (record.kind) {
      case "start":
        epoch = Math.max(epoch, record.epoch);
        lastCommitSeq = Math.max(lastCommitSeq, record.lastCommitSeq);
        break;
      case "commit":
        committedInLog += 1;
        lastCommitSeq = Math.max(lastCommitSeq, record.commitSeq);
        unfinished.set(record.txnId, { txnId: record.txnId, commitSeq: record.commitSeq, participants: record.participants, keys: record.keys, writes: record.writes ?? null });
        if (record.remember !== undefined) {
          remembered.set(record.txnId, record.remember);
          if (record.remember.requestId !== null) {
            failures.delete(record.remember.requestId);
            committedRequests.set(record.remember.requestId, record.txnId);
          }
        }
        // A commit logged by a version that did not remember requests: txn-status must not call a
        // transaction this old "aborted", so it counts as forgotten.
        else if (newestForgotten === null || isNewerTxnId(record.txnId, newestForgotten)) newestForgotten = record.txnId;
        break;
      case "remembered":
        for (const commit of record.commits) {
          remembered.set(commit.txnId, commit);
          if (commit.requestId !== null) {
            failures.delete(commit.requestId);
            committedRequests.set(commit.requestId, commit.txnId);
          }
        }
        if (record.newestForgotten !== null && (newestForgotten === null || isNewerTxnId(record.newestForgotten, newestForgotten))) newestForgotten = record.newestForgotten;
        break;
      case "failed": {
        const { kind: _kind, ...failure } = record;
        // An earlier commit of this request id had been forgotten (requestIdsRememberedMax) when this
        // attempt ran and failed: the failure answers the request id now, the commit only its txn id.
        const txnId = committedRequests.get(failure.requestId);
        if (txnId !== undefined) {
          const commit = remembered.get(txnId);
          if (commit !== undefined) remembered.set(txnId, { ...commit, requestId: null, fingerprint: null });
          committedRequests.delete(failure.requestId);
        }
        failures.delete(failure.requestId);
        failures.set(failure.requestId, failure);
        break;
      }
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
    // Planted bug (test-only, common/mutations.ts): recovery forgets the committed requests.
    remembered: mutation() === "recovery-forgets-requests" ? [] : [...remembered.values()],
    newestForgotten,
    failures: [...failures.values()],
    committedInLog,
  };
}
