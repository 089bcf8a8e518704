// Errors that cross a process boundary, each with the gRPC status code it travels as. The library
// itself never produces INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, ABORTED or DATA_LOSS, so
// a client seeing one of those knows it came from twopc-kv. UNAVAILABLE and DEADLINE_EXCEEDED on a
// write mean the outcome is unknown.
import { limits, type LimitName } from "./limits";

/** gRPC status codes by name (grpc/grpc doc/statuscodes.md); kept here so cores need no grpc import. */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type CodeName = keyof typeof Code;
export type CodeValue = (typeof Code)[CodeName];

export function codeName(code: number): string {
  for (const [name, value] of Object.entries(Code)) if (value === code) return name;
  return `CODE_${code}`;
}

/**
 * What a failed call's status code says about a write. "refused": the store refused it and nothing
 * was written (codes gRPC itself never produces, so they cannot come from a broken transport).
 * "unavailable": the transport or the store could not finish it in time; a write may or may not
 * have committed, and a retry with the same request id is safe. "other": anything else (INTERNAL,
 * UNKNOWN, CANCELLED, ...); a write's outcome is unknown, and retrying is not expected to help.
 * The one classification the client library (what it retries), kv bench (fail or info in a
 * history) and the kv command (its exit code) share.
 */
export type FailureClass = "refused" | "unavailable" | "other";

export function classifyCode(code: number): FailureClass {
  switch (code) {
    case Code.INVALID_ARGUMENT:
    case Code.ABORTED:
    case Code.FAILED_PRECONDITION:
    case Code.RESOURCE_EXHAUSTED:
    case Code.NOT_FOUND:
    case Code.ALREADY_EXISTS:
    case Code.OUT_OF_RANGE:
      return "refused";
    case Code.UNAVAILABLE:
    case Code.DEADLINE_EXCEEDED:
      return "unavailable";
    default:
      return "other";
  }
}

/**
 * "Not started, nothing written" (issue 14). UNAVAILABLE alone leaves a write's outcome unknown: the
 * transport may have lost the answer of a write that committed. But the coordinator also answers
 * UNAVAILABLE where it knows the call started nothing: a standby or a coordinator taking over
 * (nothing runs there), too few replicas in sync or up (refused at admission), a transaction that
 * failed while reading its keys (no replica was ever asked to prepare it: presumed abort), a
 * coordinator that stood down before the call arrived. Those carry this trailing metadata key with
 * the value "1" (on the Session stream: KvSessionResponse.not_started), and the code stays
 * UNAVAILABLE, so that every client that retries UNAVAILABLE still does, with the same request id.
 * A coordinator never sets it on a call that joined a running attempt of the same request id, nor
 * once any replica may have prepared the transaction.
 *
 * A client may take a call as certainly without effect (KvError.notStarted) only when every one of
 * its attempts certainly ran nothing: each carried this marker, was a standby's redirect, or never
 * had a connection. One attempt of unknown outcome (a timeout, a dropped connection) makes the
 * whole call unknown, since the same request id may still commit from it (client/coordinators.ts
 * callOutcome). `kv bench` records such a write as `fail`, not `info`.
 */
export const notStartedMetadataKey = "kv-not-started";

export class KvError extends Error {
  override readonly name: string = "KvError";
  /**
   * True only when this call certainly wrote nothing although its code (UNAVAILABLE) does not say
   * so: every attempt was refused before it started, or never reached a coordinator (see
   * notStartedMetadataKey). False when unknown, and for codes that are definite by themselves.
   */
  readonly notStarted: boolean;
  constructor(
    readonly code: CodeValue,
    message: string,
    options?: { cause?: unknown; notStarted?: boolean },
  ) {
    super(message, options);
    this.notStarted = options?.notStarted ?? false;
  }
}

/**
 * Makes an error without capturing a stack trace: for an expected answer to a request that a client
 * acts on (a shop's "already paid"), whose stack nobody reads. Capturing one took about 50 us a
 * refusal under the shop's load (issue 15).
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Bad input: the message names the field. */
export class InvalidArgument extends KvError {
  override readonly name = "InvalidArgument";
  constructor(readonly field: string, message: string) {
    super(Code.INVALID_ARGUMENT, message);
  }
}

/** Input over a named limit: the message names the field, the size and the limit. */
export function overLimit(field: string, actual: number, limit: LimitName, unit: string): InvalidArgument {
  return new InvalidArgument(
    field,
    `${field} is ${actual} ${unit}; the limit is ${limits[limit]} (${limit})`,
  );
}

/** The request contradicts the state it would act on (a decision already taken, a field the state rules out): the message says which. */
export class FailedPrecondition extends KvError {
  override readonly name = "FailedPrecondition";
  constructor(message: string) {
    super(Code.FAILED_PRECONDITION, message);
  }
}

/** A conflict with another transaction: retrying may succeed. */
export class Conflict extends KvError {
  override readonly name = "Conflict";
  constructor(message: string) {
    super(Code.ABORTED, message);
  }
}

export class Unavailable extends KvError {
  override readonly name = "Unavailable";
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.UNAVAILABLE, message, options);
  }
}

export class ResourceExhausted extends KvError {
  override readonly name = "ResourceExhausted";
  constructor(message: string) {
    super(Code.RESOURCE_EXHAUSTED, message);
  }
}

/** Durable data is damaged: the process must stop rather than guess. */
export class DataLoss extends KvError {
  override readonly name = "DataLoss";
  constructor(message: string) {
    super(Code.DATA_LOSS, message);
  }
}

/**
 * The refusal a replica gives a call from a coordinator whose epoch is older than the one it
 * promised (failover: coordinator/DESIGN.md). The coordinator that gets it has been superseded and
 * stands down; fencedBy reads the promised epoch back out of the message.
 */
export function fencedMessage(epoch: number, promised: number, promisedTo: string): string {
  return `fenced: epoch ${epoch} is older than epoch ${promised}, which this replica promised${promisedTo === "" ? "" : ` to coordinator ${promisedTo}`}; a newer coordinator took over`;
}

/** The epoch that fenced a call (from fencedMessage's text), or null when the reason is another. */
export function fencedBy(reason: string): number | null {
  const match = /fenced: epoch \d+ is older than epoch (\d+)/.exec(reason);
  return match === null ? null : Number(match[1]);
}
