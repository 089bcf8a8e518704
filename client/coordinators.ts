// Which coordinator a client sends to, among several (issue 12: coordinator failover). Pure
// bookkeeping, no I/O: client/client.ts reports each failed attempt here and asks where to go next.
//
// One coordinator is active; the others are standbys that refuse every call but Status with
// UNAVAILABLE, naming the active one in the trailing metadata key `kv-active-coordinator` when they
// know it. The client believes one address active and sends there. When a call there fails with
// UNAVAILABLE or DEADLINE_EXCEEDED it moves on: to the address a standby named, else to the next
// configured address, round robin.
import type * as grpc from "@grpc/grpc-js";
import { assertNever } from "../common/assert";
import { InvalidArgument, notStartedMetadataKey } from "../common/errors";
import type { KvSessionResponse__Output } from "../proto/gen/twopc/kv/KvSessionResponse";
import { sessionCallError, type SessionStatus } from "../proto/session";
import { parseAddress } from "../common/validate";

/** Coordinators as the library takes them: "HOST:PORT", "HOST:PORT,HOST:PORT,...", or an array of HOST:PORT. */
export type Coordinators = string | readonly string[];

/** The trailing metadata key in which a standby names the active coordinator's HOST:PORT. */
export const activeCoordinatorMetadataKey = "kv-active-coordinator";

/**
 * A call that failed on a coordinator's Session stream, as the ServiceError its unary call would have
 * ended with: a standby's redirect (the answer's active_coordinator) and a refusal before anything
 * started (not_started) in its trailing metadata.
 */
export function coordinatorSessionError(status: SessionStatus, answer: KvSessionResponse__Output | undefined): grpc.ServiceError {
  return sessionCallError(status.code, status.details, {
    [activeCoordinatorMetadataKey]: answer?.activeCoordinator ?? "",
    [notStartedMetadataKey]: answer?.notStarted === true ? "1" : "",
  });
}

/** Coordinators one client may be configured with. */
export const coordinatorsMax = 16;
/**
 * Addresses a client adds to its configured ones because a standby named them (an active coordinator
 * reached under another name, or not configured here). Bounded, so a confused server cannot make the
 * client open a channel per call.
 */
export const learnedCoordinatorsMax = 4;

/**
 * The configured list: items split on commas and trimmed, empty items dropped, duplicates dropped
 * (the first one kept). Each must be HOST:PORT. INVALID_ARGUMENT naming `field` otherwise.
 */
export function parseCoordinators(coordinators: Coordinators, field = "coordinators"): string[] {
  const items = (typeof coordinators === "string" ? coordinators.split(",") : coordinators).map((item) => item.trim()).filter((item) => item.length > 0);
  if (items.length === 0) throw new InvalidArgument(field, `${field} names no coordinator (give HOST:PORT, or several comma-separated)`);
  const unique = [...new Set(items)];
  if (unique.length > coordinatorsMax) {
    throw new InvalidArgument(field, `${field} names ${unique.length} coordinators; the limit is ${coordinatorsMax} (coordinatorsMax)`);
  }
  for (const address of unique) parseAddress(field, address);
  return unique;
}

/** True when `address` is HOST:PORT (a redirect's value is input from the network: checked before use). */
export function isAddress(address: string): boolean {
  try {
    parseAddress("address", address);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a failed attempt tells about where to go, for a call that failed with UNAVAILABLE or
 * DEADLINE_EXCEEDED:
 * - "redirect": a standby refused it and named the active coordinator (`to`); nothing ran.
 * - "not-sent": nothing ran, and no one was named: a standby that knows no active coordinator (the
 *   metadata key present but empty, or naming the refusing coordinator itself), or a connection that
 *   was never established (a dead coordinator refuses connections).
 * - "unknown": anything else; for a write, the outcome is unknown.
 */
export type AttemptFailure = { readonly kind: "redirect"; readonly to: string } | { readonly kind: "not-sent" } | { readonly kind: "unknown" };

/**
 * Classifies a failed attempt at `address` from what the transport gave: the trailing metadata value
 * (null when the key is absent) and the status details.
 */
export function classifyFailure(address: string, activeCoordinator: string | null, details: string): AttemptFailure {
  if (activeCoordinator !== null) {
    const named = activeCoordinator.trim();
    if (named.length > 0 && named !== address && isAddress(named)) return { kind: "redirect", to: named };
    return { kind: "not-sent" };
  }
  // grpc-js fails a call whose channel could not connect with this message; the call never left.
  if (details.startsWith("No connection established")) return { kind: "not-sent" };
  return { kind: "unknown" };
}

/**
 * Whether a failed attempt certainly ran nothing anywhere (issue 14): a standby's redirect or a
 * connection never established ("redirect", "not-sent"), or a refusal the coordinator marked as
 * not started (notStartedMarker: the kv-not-started metadata, common/errors.ts). Anything else (a
 * timeout, a dropped connection, an error without the marker) may have started the write.
 */
export function attemptRanNothing(failure: AttemptFailure, notStartedMarker: boolean): boolean {
  switch (failure.kind) {
    case "redirect":
    case "not-sent":
      return true;
    case "unknown":
      return notStartedMarker;
    default:
      return assertNever(failure);
  }
}

/**
 * Whether a call whose attempts all failed certainly wrote nothing: only if every attempt ran
 * nothing. The attempts share one request id, so one of unknown outcome may still commit however
 * the later ones end; and a call without attempts proves nothing.
 */
export function callNotStarted(attemptsRanNothing: readonly boolean[]): boolean {
  return attemptsRanNothing.length > 0 && attemptsRanNothing.every((ranNothing) => ranNothing);
}

/** The coordinators a client knows and the one it believes active. */
export class CoordinatorRing {
  readonly configured: readonly string[];
  private readonly learned: string[] = [];
  /** Index in `configured` of the last configured address pointed at: round robin continues after it. */
  private cursor = 0;
  private currentAddress: string;

  constructor(configured: readonly string[]) {
    if (configured.length === 0) throw new InvalidArgument("coordinators", "coordinators names no coordinator");
    this.configured = [...configured];
    this.currentAddress = this.configured[0]!;
  }

  /** The address calls go to now. */
  get current(): string {
    return this.currentAddress;
  }

  /** Every address known: the configured ones, then the learned ones. */
  get known(): readonly string[] {
    return [...this.configured, ...this.learned];
  }

  /**
   * An attempt at `address` failed with UNAVAILABLE or DEADLINE_EXCEEDED. A redirect is believed at
   * once (unless it names an address beyond learnedCoordinatorsMax). Otherwise the belief moves to
   * the next configured address, but only if it still is `address`: a late failure of a call started
   * before another call moved on must not undo that move.
   */
  failed(address: string, failure: AttemptFailure): void {
    if (failure.kind === "redirect" && this.believe(failure.to)) return;
    if (this.currentAddress !== address) return;
    const index = this.configured.indexOf(address);
    this.cursor = ((index >= 0 ? index : this.cursor) + 1) % this.configured.length;
    this.currentAddress = this.configured[this.cursor]!;
  }

  /** Believes `address` active; adds it to the learned ones if new. False when there is no room for it. */
  believe(address: string): boolean {
    const index = this.configured.indexOf(address);
    if (index >= 0) {
      this.cursor = index;
    } else if (!this.learned.includes(address)) {
      if (this.learned.length >= learnedCoordinatorsMax) return false;
      this.learned.push(address);
    }
    this.currentAddress = address;
    return true;
  }
}
