// What the simulator checks, and the ledger of facts the checks need.
//
// Safety checks run as the step they concern happens (a decision, an apply, an acknowledgement),
// which is after every step in effect. The end-of-run checks (every acknowledged write on every
// in-sync replica, identical replicas, the client history linearizable) run once the healed
// cluster has settled. A failed check throws SimViolation, which ends the run and names the check.
import { lastWriteOf } from "./disk";
import type { Write } from "../../common/types";

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
  /** The client history is not linearizable. */
  "linearizability",
  /** After the heal, transactions stayed in doubt or replicas did not converge in time. */
  "liveness",
  /** A core, recovery or the shell glue failed an assertion (AssertionFailure), or threw. */
  "assertion",
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

  prepared(txnId: string, writes: readonly Write[]): void {
    if (!this.writesOf.has(txnId)) this.writesOf.set(txnId, writes);
  }

  writes(txnId: string): readonly Write[] | undefined {
    return this.writesOf.get(txnId);
  }

  /** A COMMIT record of the coordinator became durable. */
  decisionDurable(txnId: string, commitSeq: number): void {
    const seq = this.durableCommit.get(txnId);
    if (seq !== undefined && seq !== commitSeq) violation("commit-seq", `transaction ${txnId} has two durable COMMIT decisions: ${seq} and ${commitSeq}`);
    const other = this.txnOfSeq.get(commitSeq);
    if (other !== undefined && other !== txnId) violation("commit-seq", `commit sequence number ${commitSeq} decided for both ${other} and ${txnId}`);
    if (seq === undefined) this.commits += 1;
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

  isDurablyCommitted(txnId: string): boolean {
    return this.durableCommit.has(txnId);
  }
}
