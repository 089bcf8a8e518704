// Every limit of twopc-kv, in one place. Units and qualifiers come last in each name
// (keyBytesMax, prepareTimeoutMs). A rejection names the limit it hit, so an operator can find it
// here. Checks at the bottom keep the limits consistent with each other.

export const limits = {
  /** Largest key, in UTF-8 bytes. */
  keyBytesMax: 1024,
  /** Largest value, in bytes. */
  valueBytesMax: 1024 * 1024,
  /** Largest gRPC message either side accepts: a batch of prepares can carry many values. */
  grpcMessageBytesMax: 64 * 1024 * 1024,
  /** Transactions the coordinator runs at once; more are refused with RESOURCE_EXHAUSTED. */
  inFlightTxnsMax: 10_000,
  /** Keys one transaction may name (conditions and operations together). */
  txnKeysMax: 64,
  /** Conditions plus operations of one transaction. */
  txnOpsMax: 128,
  /** Bytes of keys and values one transaction may carry (conditions and operations together). */
  txnBytesMax: 16 * 1024 * 1024,
  /**
   * Largest body of POST /v1/txn on the HTTP gateway (http/gateway.ts): the transaction's JSON text,
   * whose escaping can make it longer than the keys and values it carries (txnBytesMax, which the
   * coordinator checks after parsing). The body of a PUT is the value: valueBytesMax bounds it.
   */
  httpTxnBodyBytesMax: 32 * 1024 * 1024,
  /**
   * Bytes of keys and values one batched call to a replica carries at most (a batch takes at least
   * one transaction): well under grpcMessageBytesMax, so that no batch is refused for its size.
   */
  batchBytesMax: 24 * 1024 * 1024,
  /** Largest integer an increment may leave in a key (and the largest delta, bound): +-(2^53 - 1). */
  counterAbsMax: Number.MAX_SAFE_INTEGER,
  /** Longest request id a client may send (the id names one logical operation across retries). */
  requestIdBytesMax: 128,
  /** Longest transaction id accepted on any port ("EPOCH.COUNTER"; longer is never one we issued). */
  txnIdBytesMax: 64,
  /** Longest replica or coordinator id accepted on the participant port. */
  memberIdBytesMax: 64,
  /** Replicas one transaction may name as participants (and replicas a cluster may have). */
  participantsMax: 64,
  /** Keys one Read call to a replica may carry (a transaction reads at most txnKeysMax). */
  keysPerReadMax: 64,
  /**
   * Transaction ids one Abort, PeerOutcome, Inspect or QueryOutcome call may carry; senders split
   * longer lists into several calls.
   */
  txnIdsPerCallMax: 4_096,
  /**
   * Records of the coordinator's decision log in one Append to a replica (failover): a base larger
   * than this, or than logPartBytesMax, comes in parts.
   */
  appendRecordsMax: 65_536,
  /**
   * The coordinator remembers the result of each committed request (by request id and transaction
   * id) and each request that failed definitely (by request id), durably, for requestIdRetentionMs
   * or until it holds requestIdsRememberedMax of them (commits and failures together), whichever
   * comes first: a retry within that window returns the original result, or the same failure.
   */
  requestIdRetentionMs: 10 * 60 * 1000,
  requestIdsRememberedMax: 200_000,
  /**
   * The active coordinator's cache of committed key states (coordinator/value-cache.ts), in bytes
   * (each entry counted as its key, its value and 350 bytes, about what it takes in memory): a transaction whose read keys are all
   * in it is evaluated without a read round. The coordinator's --value-cache-mib sets it; 0: none.
   */
  valueCacheBytesMax: 128 * 1024 * 1024,
  /** Writes queued behind a held key lock with --on-conflict wait; more are refused. */
  lockWaitersPerKeyMax: 1_000,
  /** How long a write may wait for a key lock with --on-conflict wait. */
  lockWaitTimeoutMs: 5_000,
  /**
   * Runs of one request inside the coordinator: a transaction whose replica leaves the in-sync set
   * before the decision runs again without it, up to this many times in all, before the client hears
   * UNAVAILABLE.
   */
  txnAttemptsMax: 3,
  /** How long the coordinator waits for every vote before it aborts the transaction. */
  prepareTimeoutMs: 5_000,
  /** First and largest delay between re-sends of a decision to a replica that has not acked. */
  decisionResendMsMin: 100,
  decisionResendMsMax: 2_000,
  /** Deadline of one coordinator -> replica call. */
  replicaCallTimeoutMs: 3_000,
  /** How long a replica holds a read on a key locked by a prepared transaction, then UNAVAILABLE. */
  readWaitTimeoutMs: 3_000,
  /** Deadline of one read the coordinator sends to a replica (covers readWaitTimeoutMs). */
  readCallTimeoutMs: 4_000,
  /** A replica asks the coordinator for the outcome of a transaction prepared this long ago. */
  inDoubtQueryAfterMs: 1_000,
  /** Backoff between a replica's outcome queries for one transaction: from min, doubling, to max. */
  outcomeQueryBackoffMsMin: 200,
  outcomeQueryBackoffMsMax: 5_000,
  /**
   * Decided transactions a replica remembers (outcome and commit sequence number), to answer its
   * peers' outcome queries and to refuse a prepare that arrives after its abort.
   */
  decisionsRememberedMax: 100_000,
  /** Transactions one prepare or decision call to a replica carries at most. */
  txnsPerBatchMax: 512,
  /** Calls the coordinator keeps in flight to one replica, per kind; more wait and are batched. */
  callsInFlightPerReplicaMax: 4,
  /**
   * Turns of the coordinator's StepLoop stepped before the first of them is durable (common/
   * step-loop.ts): the coordinator steps new requests, votes and acks while the Append round of
   * earlier decisions runs, instead of standing idle through it.
   */
  coordinatorTurnsInFlightMax: 8,
  /**
   * Encoded calls (or answers) written to one Session stream in one go travel as one envelope
   * message of at most this many bytes of them (proto/session.ts); a larger one goes alone.
   */
  sessionBatchBytesMax: 1024 * 1024,
  /** Calls a replica serves at once on one coordinator's Session stream; more are refused with RESOURCE_EXHAUSTED. */
  sessionCallsInFlightMax: 4_096,
  /** Requests and transactions the coordinator's phase trace follows at once (coordinator/trace.ts); older ones are dropped. */
  traceOpenMax: 20_000,
  /**
   * How long a scrape of /metrics waits for the node's figures (a step of its loop, or a replica's
   * barrier) before it answers without them: a stuck disk must not hang the scrape.
   */
  metricsFiguresTimeoutMs: 1_000,
  /** How often the coordinator checks each replica's health, and the deadline of one check. */
  healthCheckIntervalMs: 100,
  healthCheckTimeoutMs: 500,
  /**
   * Failover: every coordinator asks the others for their role this often (a brief Status), with
   * this deadline; a standby takes over once the active coordinator has not answered for
   * coordinatorDownAfterMs, if no coordinator before it in --coordinators answers either.
   */
  coordinatorPollMs: 100,
  coordinatorPollTimeoutMs: 500,
  coordinatorDownAfterMs: 1_500,
  /**
   * A coordinator whose last answer said it was taking over counts as alive this long: recovering
   * from a large copy of the decision log can keep it from answering polls, and a standby must not
   * fence it halfway (coordinator/election.ts).
   */
  coordinatorTakingOverDownAfterMs: 10_000,
  /**
   * A coordinator that just started counts the others it has not heard yet as alive this long: at a
   * cluster's start they may not listen yet, and the first in --coordinators order should take over
   * rather than race another one (a duel is safe, but costs a takeover).
   */
  coordinatorStartGraceMs: 2_000,
  /**
   * The client library's HTTP/2 keepalive to the coordinators: a ping this often, and a connection
   * whose ping is not answered within clientKeepaliveTimeoutMs is dropped, failing its calls with
   * UNAVAILABLE, so that a client notices a stopped (SIGSTOP) or cut-off coordinator and goes on to
   * the next one instead of waiting out each call's deadline.
   */
  clientKeepaliveMs: 500,
  clientKeepaliveTimeoutMs: 750,
  /**
   * The client library's session to a coordinator fails its calls with UNAVAILABLE when its
   * connection is not up within this (a stopped coordinator accepts TCP connections and never
   * answers), so that the client goes on to the next coordinator.
   */
  clientConnectTimeoutMs: 1_000,
  /** Failover: how long a round of promises waits for the replicas' answers. */
  promiseTimeoutMs: 1_000,
  /**
   * The decision log travels in parts of at most this many bytes (and appendRecordsMax records): a
   * base to a replica, and a copy read back by a coordinator taking over. A part is encoded and
   * decoded in one piece, holding up its process's event loop meanwhile; a 24 MiB part held the
   * coordinator up long enough for a standby to take it for dead.
   */
  logPartBytesMax: 4 * 1024 * 1024,
  /** Failover: the deadline of each page of the copy a coordinator taking over reads. */
  copyPageTimeoutMs: 5_000,
  /**
   * A replica whose health checks have failed this long is removed from the in-sync set. (One that
   * refuses connections, as a killed process does, is removed at once.) Generous, because a removal
   * costs a catch-up, and a busy 2-core machine can delay a healthy replica's answers.
   */
  replicaDownAfterMs: 1_500,
  /**
   * Tombstones a replica deletes in one collection batch (one SQLite transaction, run between two
   * turns of its StepLoop or on an idle tick): bounds how long collection holds up the hot path.
   */
  tombstonesPerCollectMax: 1_000,
  /**
   * A replica keeps a tombstone this long after the coordinator's floor allowed its collection
   * (--tombstone-retention-ms overrides it): a replica back within it catches up from the rows
   * since it left, a longer absence takes a full copy. Floors heard are sampled at most
   * tombstoneRetentionSamplesMax times per retention period (a bounded list).
   */
  tombstoneRetentionMs: 60_000,
  tombstoneRetentionSamplesMax: 64,
  /** Rows one catch-up Fetch call carries. */
  catchUpRowsPerFetchMax: 1_000,
  /** Deadline of a whole catch-up (CatchUp call) and of each Fetch page. */
  catchUpTimeoutMs: 120_000,
  fetchTimeoutMs: 10_000,
  /**
   * A catch-up that copied this many rows page by page with more to come, or that needs a full copy,
   * takes a snapshot of its source instead (replica/node.ts copyRows; --catch-up-snapshot-rows, 0:
   * never): one SQLite online backup streamed whole, installed locally, instead of a Fetch round
   * trip (and the source's barrier) per catchUpRowsPerFetchMax rows.
   */
  catchUpSnapshotRows: 20_000,
  /** Deadline of the snapshot a catch-up takes (its Backup stream, whole). */
  catchUpSnapshotTimeoutMs: 90_000,
  /** Rows of a snapshot installed per SQLite transaction: between two, the replica serves its other calls. */
  snapshotInstallRowsMax: 5_000,
  /**
   * Before a full copy, a catching-up replica waits for the transactions it holds prepared to be
   * decided (replica/DESIGN.md, "Full copy"); if they are not within this, the catch-up fails and
   * the coordinator tries again.
   */
  fullCopyDecisionsWaitMs: 10_000,
  /** After a failed catch-up, how long the coordinator waits before it tries again. */
  catchUpRetryMs: 1_000,
  /**
   * A replica's COMMIT record that no write waits for is forced with the next turn (its fsync shared
   * with the next PREPARE's), or after this long if nothing else arrives (common/step-loop.ts, lazy
   * forces). The coordinator marks a COMMIT urgent, forced at once, when a write waits for its keys.
   */
  commitForceWaitMs: 1,
  /**
   * A COMMIT that no write waits for, with nothing else to send to its replica, waits this long for a
   * PREPARE or an ABORT to travel with (coordinator/node.ts ReplicaLink.flush); a read to that
   * replica, or an urgent COMMIT, sends it at once. 0 sends every COMMIT at once.
   */
  commitLingerMs: 1,
  /** Period of the timer tick that drives timeouts in both cores. */
  tickMs: 50,
  /**
   * A write-ahead log is compacted (rewritten with only the records still needed) once it grows past
   * this many bytes. The --compact-log-bytes flag of `kv coordinator` and `kv replica` overrides it.
   */
  logCompactBytes: 64 * 1024 * 1024,
  /** Largest log record accepted on replay (a larger length field is corruption). */
  logRecordBytesMax: 128 * 1024 * 1024,
  /**
   * Backup (issue 14, `kv backup`): bytes of one data chunk of a replica's Backup stream, at most
   * (a request asking for more is refused; 0 asks for this).
   */
  backupChunkBytesMax: 1024 * 1024,
  /** Backups one replica serves at once: each holds a SQLite read transaction and a temporary copy of the store. */
  backupsInFlightMax: 1,
  /**
   * After its snapshot, how long a replica waits to see that no commit at or below the snapshot's
   * commit sequence number can still arrive (the coordinator's floor reaching it) before the backup
   * fails with ABORTED (retry it).
   */
  backupVerifyWaitMs: 10_000,
  /** Attempts `kv backup` makes (a snapshot that could not be verified is taken again). */
  backupAttemptsMax: 5,
  /** How long `kv backup` waits before another attempt when the replica was sending another snapshot (RESOURCE_EXHAUSTED). */
  backupBusyWaitMs: 2_000,
  /**
   * The web shop (issue 15, `kv shop`, shop/): longest id of an item, a user or an order in a path,
   * in UTF-8 bytes. Ids become parts of keys under the shop's prefix, so they stay far below
   * keyBytesMax.
   */
  shopIdBytesMax: 64,
  /**
   * Longest Idempotency-Key header a shop request may carry (its request ids are derived from it by
   * hashing, so any length up to this fits requestIdBytesMax).
   */
  shopIdempotencyKeyBytesMax: 128,
  /**
   * Distinct items one order may hold: a checkout is one transaction naming the order, the user's
   * credit and each item's stock, so at most txnKeysMax - 2 items.
   */
  shopOrderItemsMax: 62,
  /** Largest n of a batch_init (items, users or orders "0".."n-1" in one request). */
  shopBatchInitMax: 1_000_000,
  /** Transactions a batch_init keeps in flight at once (each writes up to txnKeysMax keys). */
  shopBatchInitTxnsInFlightMax: 32,
  /**
   * Attempts of one checkout or addItem inside the shop when the order changed between its read and
   * its transaction, or a conflict (ABORTED) refused it; after that the request answers 503 (retry).
   */
  shopOrderAttemptsMax: 8,
  /**
   * Orders a shop process keeps as it last wrote or read them (shop/service.ts), so that a checkout
   * needs no read before its transaction (the transaction checks the version): about 200 bytes each.
   */
  shopOrdersCachedMax: 200_000,
  /** How long a stopping shop waits for requests still running (their clients may have gone) before it closes its store client. */
  shopStopDrainMs: 15_000,
} as const;

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`limits.ts is inconsistent: ${message}`);
}

check(limits.backupChunkBytesMax < limits.grpcMessageBytesMax, "a backup chunk must fit in a message");
check(limits.readCallTimeoutMs > limits.readWaitTimeoutMs, "readCallTimeoutMs must exceed readWaitTimeoutMs");
check(limits.grpcMessageBytesMax > 2 * (limits.valueBytesMax + limits.keyBytesMax), "a message must hold a write");
check(limits.logRecordBytesMax >= limits.grpcMessageBytesMax, "a log record must hold a whole prepare batch");
check(limits.decisionResendMsMin <= limits.decisionResendMsMax, "decision resend backoff range");
check(limits.outcomeQueryBackoffMsMin <= limits.outcomeQueryBackoffMsMax, "outcome query backoff range");
check(limits.tickMs < limits.prepareTimeoutMs, "the tick must be finer than the timeouts it drives");
check(limits.coordinatorPollTimeoutMs < limits.coordinatorDownAfterMs, "the active coordinator must get more than one poll before a takeover");
check(limits.healthCheckTimeoutMs < limits.replicaDownAfterMs, "a replica must get more than one health check before removal");
check(limits.fetchTimeoutMs < limits.catchUpTimeoutMs, "a fetch page must fit in a catch-up");
check(limits.fullCopyDecisionsWaitMs + limits.fetchTimeoutMs < limits.catchUpTimeoutMs, "the wait before a full copy must leave room for the copy");
check(limits.fullCopyDecisionsWaitMs + limits.catchUpSnapshotTimeoutMs < limits.catchUpTimeoutMs, "the wait before a snapshot must leave room for it and its install");
check(limits.tombstonesPerCollectMax >= 1, "a collection batch deletes something");

check(limits.txnBytesMax >= limits.valueBytesMax + limits.keyBytesMax, "a transaction must hold a write");
check(limits.batchBytesMax >= limits.txnBytesMax, "a batch must hold the largest transaction");
check(limits.httpTxnBodyBytesMax >= limits.txnBytesMax, "the HTTP gateway's transaction body must hold the largest transaction");
check(limits.grpcMessageBytesMax >= 2 * limits.batchBytesMax, "a batch's message must fit, with room for its framing");
check(limits.grpcMessageBytesMax >= 2 * limits.txnBytesMax, "a transaction's request must fit in one message");
check(limits.grpcMessageBytesMax >= 2 * limits.sessionBatchBytesMax, "an envelope of calls must fit in a message, with room for its framing");
check(limits.keysPerReadMax >= limits.txnKeysMax, "a transaction's keys must fit in one read");
check(limits.txnIdsPerCallMax >= limits.txnsPerBatchMax, "a batch of transactions must fit in one call of ids");
check(limits.shopOrderItemsMax + 2 <= limits.txnKeysMax, "a checkout names its order, its user's credit and every item's stock in one transaction");
check(limits.shopOrderItemsMax + 4 <= limits.txnOpsMax, "a checkout's conditions and operations fit in one transaction");

export type LimitName = keyof typeof limits;
