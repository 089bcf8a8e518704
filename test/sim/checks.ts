// What the simulator checks, and the ledger of facts the checks need.
//
// Safety checks run as the step they concern happens (a decision, an apply, an acknowledgement, a
// transaction's read), which is after every step in effect. The end-of-run checks (every
// acknowledged write on every in-sync replica, identical replicas, the committed transactions
// serializable in commit order, the client history linearizable, the workload's invariants) run
// once the healed cluster has settled. A failed check throws SimViolation, which ends the run and
// names the check.
import { isDeepStrictEqual } from "node:util";
import { evaluate, keysToRead, type KeyState, type Program, type TxnOutcome } from "../../common/txn";
import type { Write } from "../../common/types";
import { codeName, type CodeValue } from "../../common/errors";
import { definiteFailureCodes, type RememberedCommit } from "../../coordinator/records";
import { lastWriteOf } from "./disk";

export const checkNames = [
  /** A transaction committed on one replica and aborted on another (or aborted after a durable COMMIT). */
  "atomicity",
  /** A replica applied (or copied) a write with no durable COMMIT decision behind it. */
  "applied-uncommitted",
  /** A replica acknowledged a COMMIT whose writes it does not hold. */
  "ack-without-apply",
  /** The coordinator acknowledged a write to a client without a durable COMMIT decision. */
  "client-ack-without-decision",
  /** Two COMMIT decisions share a commit sequence number, or one transaction got two. */
  "commit-seq",
  /** An acknowledged write is missing from an in-sync replica after the run healed. */
  "lost-write",
  /**
   * A backup's snapshot that its replica declared complete (ReplicaNode.snapshotMoment) does not
   * hold exactly the commits up to the sequence number it reflects.
   */
  "backup-snapshot",
  /** The client history is not linearizable. */
  "linearizability",
  /** A transaction read a key's state that is not its latest committed one, though it held the key's lock. */
  "stale-read",
  /**
   * Replayed in commit order from an empty store, a committed transaction does not write what it
   * prepared, or its remembered result differs from the replay's.
   */
  "serializability",
  /** One client request (every attempt of it, whatever request id each carried) committed twice. */
  "exactly-once",
  /** A snapshot of the accounts (or the settled store) does not sum to the funds put in. */
  "transfer-invariant",
  /** A counter's value does not match the increments acknowledged, or an up-only counter returned a value twice. */
  "counter",
  /** A bounded counter or an account holds or returned a value out of its bounds. */
  "bounds",
  /** txn-status reported a request committed that did not commit, or aborted one that did. */
  "txn-status",
  /** After the heal, transactions stayed in doubt or replicas did not converge in time. */
  "liveness",
  /**
   * One request (one request id) both failed definitely (ABORTED, FAILED_PRECONDITION or
   * INVALID_ARGUMENT: "nothing was written") and committed, in either order.
   */
  "definite-failure",
  /** An operator's Resolve was answered "done" with a choice that contradicts the transaction's outcome. */
  "resolve",
  /** The end-of-run linearizability check could not decide within its step budget. */
  "linearizability-undecided",
  /** Two coordinators made COMMIT decisions in the same epoch: the fence let two act at once. */
  "split-brain",
  /** A core, a node or recovery failed an assertion (AssertionFailure). */
  "assertion",
  /**
   * Anything else thrown (a TypeError, ...): a bug in the simulator or in a node, never the check a
   * planted bug is expected to trip.
   */
  "exception",
] as const;
export type CheckName = (typeof checkNames)[number];

export class SimViolation extends Error {
  override readonly name = "SimViolation";
  constructor(
    readonly check: CheckName,
    message: string,
  ) {
    super(message);
  }
}

function violation(check: CheckName, message: string): never {
  throw new SimViolation(check, message);
}

/** A committed transaction as the ledger knows it, for the replay in commit order. */
export interface CommittedTxn {
  readonly txnId: string;
  readonly commitSeq: number;
  readonly writes: readonly Write[];
  readonly program: Program;
  readonly remember: RememberedCommit | undefined;
}

export interface AckedWrite {
  readonly key: string;
  readonly value: string | null;
  readonly commitSeq: number;
}

/** Facts gathered while the run goes, each checked against the others as it arrives. */
export class Ledger {
  /** Writes of every transaction the coordinator sent PREPARE for. */
  private readonly writesOf = new Map<string, readonly Write[]>();
  /** COMMIT decisions that reached the coordinator's disk: txnId -> commitSeq, and back. */
  private readonly durableCommit = new Map<string, number>();
  private readonly txnOfSeq = new Map<number, string>();
  /** Replica decisions: txnId -> replicas that decided commit / abort. */
  private readonly committedAt = new Map<string, Set<string>>();
  private readonly abortedAt = new Map<string, Set<string>>();
  readonly ackedWrites: AckedWrite[] = [];
  commits = 0;
  /** The program of every transaction the coordinator sent PREPARE for. */
  private readonly programOf = new Map<string, Program>();
  /** What the COMMIT record of a transaction remembered (its request id and result). */
  private readonly rememberOf = new Map<string, RememberedCommit>();
  /** key -> the latest durably committed write of it (by commit sequence number). */
  private readonly latest = new Map<string, { readonly commitSeq: number; readonly value: Buffer | null }>();
  /** Request id -> the client operation it is an attempt of (the workload registers each id). */
  private readonly operationOf = new Map<string, string>();
  /** Request id -> the transaction that committed it. */
  private readonly committedRequest = new Map<string, string>();
  /** Client operation -> the one transaction that committed it. */
  private readonly committedOperation = new Map<string, string>();
  /** Client operations answered with a definite failure, or as writing nothing. */
  private readonly answeredUnwritten = new Set<string>();
  /** Request ids answered with a definite failure (definiteFailureCodes): they must never commit. */
  private readonly failedDefinitely = new Set<string>();
  /** Transactions an operator's abort was answered "done" for: they must never commit. */
  private readonly resolvedAborted = new Set<string>();
  /**
   * Operations that committed after the client was answered that they wrote nothing: another attempt
   * (or a duplicate of one) still on its way ran the request again. Allowed (a failed request may be
   * retried), and counted, since the client was told otherwise.
   */
  committedAfterAnswer = 0;
  /** Keys whose values must stay within bounds: key -> [min, max]. */
  readonly bounds = new Map<string, readonly [number, number]>();

  /** Every transaction id the coordinator prepared, oldest first (for the operator's resolve). */
  readonly preparedTxnIds: string[] = [];

  prepared(txnId: string, writes: readonly Write[], program: Program | null): void {
    if (!this.writesOf.has(txnId)) {
      this.writesOf.set(txnId, writes);
      this.preparedTxnIds.push(txnId);
    }
    if (program !== null && !this.programOf.has(txnId)) this.programOf.set(txnId, program);
    for (const write of writes) {
      if (this.bounds.has(write.key)) this.checkBounds(`transaction ${txnId} prepares`, write.key, write.value === null ? null : Number(write.value.toString("utf8")));
    }
  }

  /** A value read or written for a bounded key must be in its bounds (null: absent, allowed). */
  checkBounds(what: string, key: string, value: number | null): void {
    const bounds = this.bounds.get(key);
    if (bounds === undefined || value === null) return;
    if (!(value >= bounds[0] && value <= bounds[1])) violation("bounds", `${what} ${key}=${value}, out of its bounds [${bounds[0]}, ${bounds[1]}]`);
  }

  /** The workload sends requestId as an attempt of the client operation `operation`. */
  attempt(requestId: string, operation: string): void {
    this.operationOf.set(requestId, operation);
  }

  /** The client operation a request id is an attempt of (itself when none was registered). */
  operation(requestId: string): string {
    return this.operationOf.get(requestId) ?? requestId;
  }

  /** The client heard a failure (not UNAVAILABLE or DEADLINE_EXCEEDED) of an attempt of this operation, under requestId. */
  clientFailed(operation: string, requestId: string, code: CodeValue): void {
    this.answeredUnwritten.add(operation);
    if (!definiteFailureCodes.includes(code)) return;
    const committed = this.committedRequest.get(requestId);
    if (committed !== undefined) violation("definite-failure", `request ${requestId} was answered ${codeName(code)} (nothing written), but it committed as ${committed}`);
    this.failedDefinitely.add(requestId);
  }

  /** An operator's Resolve of txnId with `choice` was answered "done". */
  resolved(txnId: string, choice: "commit" | "abort"): void {
    const committed = this.durableCommit.has(txnId);
    if (choice === "abort" && committed) violation("resolve", `an operator's abort of ${txnId} was answered "done", but ${txnId} has a durable COMMIT decision`);
    if (choice === "commit" && !committed) violation("resolve", `an operator's commit of ${txnId} was answered "done", but ${txnId} has no durable COMMIT decision`);
    if (choice === "abort") this.resolvedAborted.add(txnId);
  }

  /** The transaction that committed a client operation, if one did. */
  committedTxnOf(operation: string): string | undefined {
    return this.committedOperation.get(operation);
  }

  /**
   * The coordinator fed a transaction the keys' states it read. It holds their locks, so every
   * earlier commit of those keys is applied on every in-sync replica: the read must be the latest.
   */
  txnRead(txnId: string, replicaId: string, states: ReadonlyMap<string, KeyState>, epoch: number): boolean {
    // A coordinator's locks bind only its own epoch: once a successor took over, an answer read
    // before it did may arrive late at the superseded one, which can no longer commit anything.
    if (epoch < this.newestEpoch) return false;
    for (const [key, state] of states) {
      const latest = this.latest.get(key);
      const expected = latest === undefined || latest.value === null ? "absent" : `${latest.value.toString("utf8")}@${latest.commitSeq}`;
      const got = state === null ? "absent" : `${state.value.toString("utf8")}@${state.version}`;
      if (got !== expected) violation("stale-read", `transaction ${txnId} read ${key} from ${replicaId} as ${got}; its latest commit is ${expected}`);
    }
    return true;
  }

  /** The newest epoch a coordinator took over with. */
  private newestEpoch = 0;

  /** A coordinator took over with this epoch (its replicas promised it). */
  epochStarted(epoch: number): void {
    this.newestEpoch = Math.max(this.newestEpoch, epoch);
  }

  writes(txnId: string): readonly Write[] | undefined {
    return this.writesOf.get(txnId);
  }

  /** Replicas whose copy of the decision log holds each COMMIT decision (failover). */
  private readonly holders = new Map<string, Set<string>>();
  /** Epoch -> the coordinator that decided in it. */
  private readonly deciderOf = new Map<number, string>();

  /**
   * A replica made a COMMIT decision durable in its copy of the decision log. Held by a majority of
   * the replicas, the decision is durable (coordinator/replicated-log.ts): what a successor finds.
   */
  decisionHeld(replicaId: string, txnId: string, commitSeq: number, remember: RememberedCommit | undefined, replicaCount: number): void {
    const holders = this.holders.get(txnId) ?? new Set<string>();
    holders.add(replicaId);
    this.holders.set(txnId, holders);
    if (holders.size >= Math.floor(replicaCount / 2) + 1) this.decisionDurable(txnId, commitSeq, remember);
  }

  /** A coordinator decided COMMIT in its epoch: one coordinator per epoch. */
  decidedBy(coordinatorId: string, epoch: number, txnId: string): void {
    const other = this.deciderOf.get(epoch);
    if (other !== undefined && other !== coordinatorId) violation("split-brain", `coordinators ${other} and ${coordinatorId} both decided in epoch ${epoch} (${coordinatorId}: COMMIT of ${txnId})`);
    this.deciderOf.set(epoch, coordinatorId);
  }

  /** A COMMIT decision became durable (held by a majority of the replicas). */
  decisionDurable(txnId: string, commitSeq: number, remember: RememberedCommit | undefined): void {
    if (remember !== undefined && !this.rememberOf.has(txnId)) {
      this.rememberOf.set(txnId, remember);
      if (remember.requestId !== null) {
        const operation = this.operation(remember.requestId);
        const other = this.committedOperation.get(operation);
        if (other !== undefined && other !== txnId) {
          violation("exactly-once", `client operation ${operation} committed twice: as ${other} and as ${txnId} (request id ${remember.requestId})`);
        }
        this.committedOperation.set(operation, txnId);
        this.committedRequest.set(remember.requestId, txnId);
        if (this.failedDefinitely.has(remember.requestId)) {
          violation("definite-failure", `request ${remember.requestId} was answered with a definite failure (nothing written), then committed as ${txnId}`);
        }
        if (this.answeredUnwritten.has(operation)) this.committedAfterAnswer += 1;
      }
    }
    if (this.resolvedAborted.has(txnId)) violation("resolve", `an operator's abort of ${txnId} was answered "done", then ${txnId} got a durable COMMIT decision`);
    const seq = this.durableCommit.get(txnId);
    if (seq !== undefined && seq !== commitSeq) violation("commit-seq", `transaction ${txnId} has two durable COMMIT decisions: ${seq} and ${commitSeq}`);
    const other = this.txnOfSeq.get(commitSeq);
    if (other !== undefined && other !== txnId) violation("commit-seq", `commit sequence number ${commitSeq} decided for both ${other} and ${txnId}`);
    if (seq === undefined) {
      this.commits += 1;
      for (const write of this.writesOf.get(txnId) ?? []) {
        if ((this.latest.get(write.key)?.commitSeq ?? 0) < commitSeq) this.latest.set(write.key, { commitSeq, value: write.value });
      }
    }
    this.durableCommit.set(txnId, commitSeq);
    this.txnOfSeq.set(commitSeq, txnId);
    const aborted = this.abortedAt.get(txnId);
    if (aborted !== undefined) violation("atomicity", `transaction ${txnId} is durably committed (seq ${commitSeq}) but replica(s) ${[...aborted].join(", ")} aborted it`);
  }

  /** A replica's core decided a transaction (a commit, abort or refuse record). */
  replicaDecided(replicaId: string, txnId: string, outcome: "commit" | "abort"): void {
    const mine = outcome === "commit" ? this.committedAt : this.abortedAt;
    const theirs = outcome === "commit" ? this.abortedAt : this.committedAt;
    const set = mine.get(txnId) ?? new Set<string>();
    set.add(replicaId);
    mine.set(txnId, set);
    const other = theirs.get(txnId);
    if (other !== undefined) {
      violation("atomicity", `transaction ${txnId} ${outcome === "commit" ? "committed" : "aborted"} on ${replicaId} but ${outcome === "commit" ? "aborted" : "committed"} on ${[...other].join(", ")}`);
    }
    if (outcome === "abort" && this.durableCommit.has(txnId)) {
      violation("atomicity", `replica ${replicaId} aborted ${txnId}, which the coordinator durably committed (seq ${this.durableCommit.get(txnId)})`);
    }
  }

  /** A replica applies a committed transaction to its store. */
  applied(replicaId: string, txnId: string, commitSeq: number): void {
    const seq = this.durableCommit.get(txnId);
    if (seq === undefined) violation("applied-uncommitted", `replica ${replicaId} applied ${txnId} (seq ${commitSeq}) with no durable COMMIT decision`);
    if (seq !== commitSeq) violation("applied-uncommitted", `replica ${replicaId} applied ${txnId} as seq ${commitSeq}; the decision says ${seq}`);
  }

  /**
   * Whether the latest durably committed write of key (so far) deletes it, at commitSeq or later: a
   * replica may then hold no row for it at all (the tombstone collected, or dropped by a full copy).
   */
  deletedSince(key: string, commitSeq: number): boolean {
    const latest = this.latest.get(key);
    return latest !== undefined && latest.value === null && latest.commitSeq >= commitSeq;
  }

  /** A replica acknowledged a COMMIT of txnId, yet its store holds key at an older version. */
  ackWithoutApply(replicaId: string, txnId: string, commitSeq: number, key: string, version: number): never {
    violation("ack-without-apply", `replica ${replicaId} acknowledged COMMIT of ${txnId} (seq ${commitSeq}) but holds ${key} at version ${version}`);
  }

  /** A replica copied a row from a peer (catch-up): it must be a committed write. */
  copied(replicaId: string, key: string, value: Buffer | null, version: number): void {
    const txnId = this.txnOfSeq.get(version);
    if (txnId === undefined) violation("applied-uncommitted", `replica ${replicaId} copied ${key}@${version}, a version no durable COMMIT decision has`);
    const write = lastWriteOf(this.writesOf.get(txnId) ?? [], key);
    const expected = write?.value?.toString("utf8") ?? null;
    const got = value?.toString("utf8") ?? null;
    if (write === undefined || expected !== got) {
      violation("applied-uncommitted", `replica ${replicaId} copied ${key}=${got}@${version}, but ${txnId} wrote ${key}=${expected}`);
    }
  }

  /** The coordinator answered a client: the write is committed as commitSeq. */
  clientAcked(key: string, value: string | null, commitSeq: number): void {
    const txnId = this.txnOfSeq.get(commitSeq);
    if (txnId === undefined) violation("client-ack-without-decision", `a write of ${key} was acknowledged as seq ${commitSeq}, which no durable COMMIT decision has`);
    const write = lastWriteOf(this.writesOf.get(txnId) ?? [], key);
    const expected = write?.value?.toString("utf8") ?? null;
    if (write === undefined || expected !== value) {
      violation("client-ack-without-decision", `a write ${key}=${value} was acknowledged as seq ${commitSeq}, which is ${txnId} writing ${key}=${expected}`);
    }
    this.ackedWrites.push({ key, value, commitSeq });
  }

  /**
   * The coordinator answered a client's transaction (or write) with ok. A written one (commitSeq > 0)
   * must be the durable decision of its transaction, of this client operation, with the result that
   * decision remembered; one that wrote nothing (commitSeq 0: only reads, or an empty branch) has no
   * decision, and nothing else of this operation committed.
   */
  clientAckedTxn(operation: string, result: { readonly commitSeq: number; readonly txnId?: string; readonly outcome?: TxnOutcome }): void {
    const txnId = result.txnId ?? "";
    if (result.commitSeq === 0) {
      this.answeredUnwritten.add(operation);
      if (this.durableCommit.has(txnId)) violation("client-ack-without-decision", `operation ${operation} was answered as writing nothing, but its transaction ${txnId} committed (seq ${this.durableCommit.get(txnId)})`);
      if (result.outcome?.results.some((op) => op.kind !== "get") ?? false) {
        violation("client-ack-without-decision", `operation ${operation} was answered with commit sequence 0, yet its results write: ${JSON.stringify(result.outcome)}`);
      }
      const committed = this.committedOperation.get(operation);
      if (committed !== undefined) violation("exactly-once", `operation ${operation} was answered as writing nothing by ${txnId}, but ${committed} committed it`);
      return;
    }
    const decided = this.txnOfSeq.get(result.commitSeq);
    if (decided === undefined || decided !== txnId) {
      violation("client-ack-without-decision", `operation ${operation} was acknowledged as ${txnId} seq ${result.commitSeq}, which ${decided === undefined ? "no durable COMMIT decision has" : `is ${decided}'s`}`);
    }
    const committed = this.committedOperation.get(operation);
    if (committed !== undefined && committed !== txnId) violation("exactly-once", `operation ${operation} was acknowledged as ${txnId}, but ${committed} committed it`);
    const remembered = this.rememberOf.get(txnId)?.outcome ?? null;
    if (remembered !== null && !isDeepStrictEqual(result.outcome, remembered)) {
      violation("client-ack-without-decision", `operation ${operation} got ${JSON.stringify(result.outcome)}; its commit ${txnId} remembered ${JSON.stringify(remembered)}`);
    }
  }

  /**
   * The coordinator answers txn-status about a request id: "committed" must name the transaction that
   * committed it (or, with commit sequence 0, none did: it wrote nothing), and "aborted" holds only
   * if nothing committed it. Checked as the answer leaves, when the coordinator's view is current.
   */
  statusAnswered(id: string, status: { readonly state: string; readonly txnId: string; readonly commitSeq: number }): void {
    const committed = this.committedRequest.get(id);
    switch (status.state) {
      case "committed":
        if (status.commitSeq === 0 ? committed !== undefined : committed !== status.txnId || this.durableCommit.get(committed) !== status.commitSeq) {
          violation("txn-status", `txn-status says request ${id} committed as ${status.txnId} seq ${status.commitSeq}, but ${committed === undefined ? "no transaction committed it" : `${committed} (seq ${this.durableCommit.get(committed)}) did`}`);
        }
        return;
      case "aborted":
        if (committed !== undefined) violation("txn-status", `txn-status says request ${id} aborted, but ${committed} committed it (seq ${this.durableCommit.get(committed)})`);
        return;
      default:
        return;
    }
  }

  isDurablyCommitted(txnId: string): boolean {
    return this.durableCommit.has(txnId);
  }

  /**
   * The store as the durably committed transactions up to commitSeq leave it, by key: each key's
   * last write up to there (value null: deleted) and its sequence number.
   */
  stateThrough(commitSeq: number): Map<string, { readonly value: Buffer | null; readonly version: number }> {
    const store = new Map<string, { readonly value: Buffer | null; readonly version: number }>();
    const committed = [...this.durableCommit].filter(([, seq]) => seq <= commitSeq).sort((a, b) => a[1] - b[1]);
    for (const [txnId, seq] of committed) {
      for (const write of this.writesOf.get(txnId) ?? []) store.set(write.key, { value: write.value, version: seq });
    }
    return store;
  }

  /**
   * Replays every committed transaction in commit order over an empty store, with the programs
   * evaluated as the coordinator does (common/txn.ts): each must write what it prepared, and its
   * remembered result must be the replay's. Locks make commit order a serial order, so this holds
   * unless a transaction read stale state or a write was applied twice. Returns the store the
   * replicas must hold.
   */
  replay(): Map<string, { readonly value: Buffer | null; readonly version: number }> {
    const store = new Map<string, { readonly value: Buffer | null; readonly version: number }>();
    const committed = [...this.durableCommit].sort((a, b) => a[1] - b[1]);
    for (const [txnId, commitSeq] of committed) {
      const program = this.programOf.get(txnId);
      const writes = this.writesOf.get(txnId);
      if (program === undefined || writes === undefined) violation("serializability", `committed transaction ${txnId} (seq ${commitSeq}) was never prepared`);
      const states = new Map<string, KeyState>();
      for (const key of keysToRead(program)) {
        const row = store.get(key);
        states.set(key, row === undefined || row.value === null ? null : { value: row.value, version: row.version });
      }
      const evaluation = evaluate(program, states);
      const describe = (list: readonly Write[]): string =>
        [...list].sort((a, b) => (a.key < b.key ? -1 : 1)).map((w) => `${w.key}=${w.value === null ? "(deleted)" : w.value.toString("utf8")}`).join(" ");
      if (!evaluation.ok) violation("serializability", `committed transaction ${txnId} (seq ${commitSeq}) fails when replayed in commit order: ${evaluation.message}`);
      if (describe(evaluation.writes) !== describe(writes)) {
        violation("serializability", `committed transaction ${txnId} (seq ${commitSeq}) wrote ${describe(writes)}; replayed in commit order it writes ${describe(evaluation.writes)}`);
      }
      const remembered = this.rememberOf.get(txnId)?.outcome ?? null;
      if (remembered !== null && !isDeepStrictEqual(remembered, evaluation.outcome)) {
        violation("serializability", `committed transaction ${txnId} (seq ${commitSeq}) remembered ${JSON.stringify(remembered)}; the replay gives ${JSON.stringify(evaluation.outcome)}`);
      }
      for (const write of writes) store.set(write.key, { value: write.value, version: commitSeq });
    }
    return store;
  }
}
