// The status codes each method may answer with: anything else (INTERNAL, UNKNOWN, UNIMPLEMENTED,
// DATA_LOSS, ...) is a failure of the fuzz run. A handler that crashes shows up as one of those, or
// as its process exiting (which run.ts checks by pid). Written per method so that one can be
// narrowed without touching the others.
import { Code, fencedBy, type CodeName } from "../../common/errors";
import type { MethodName } from "./model";

/**
 * What the transport may answer any call with: the peer is unreachable or slow (for a write: outcome
 * unknown), or a message over grpcMessageBytesMax.
 */
const transport: readonly CodeName[] = ["UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED"];
const codes = (...names: CodeName[]): readonly CodeName[] => ["OK", ...transport, ...names];

/** Writes: refused input, a failed condition or bound, a conflict, too many writes in flight. */
const write = codes("INVALID_ARGUMENT", "FAILED_PRECONDITION", "ABORTED");

export const documentedCodes: Readonly<Record<MethodName, readonly CodeName[]>> = {
  // twopc.kv.Kv, the client port of the coordinator.
  "Kv.Get": codes("INVALID_ARGUMENT"),
  "Kv.Put": codes("INVALID_ARGUMENT", "ABORTED"),
  "Kv.Delete": codes("INVALID_ARGUMENT", "ABORTED"),
  "Kv.Status": codes(),
  "Kv.Resolve": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Kv.Increment": write,
  "Kv.CompareAndSet": write,
  "Kv.CompareAndDelete": write,
  "Kv.Txn": write,
  "Kv.TxnStatus": codes("INVALID_ARGUMENT"),
  // twopc.participant.Participant, a replica's port. A coordinator's call of an older epoch than the
  // replica promised is FAILED_PRECONDITION "fenced" (see fencedOnly).
  "Participant.Prepare": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Commit": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Abort": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Read": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Status": codes(),
  "Participant.Dump": codes(),
  "Participant.PeerOutcome": codes("INVALID_ARGUMENT"),
  "Participant.Inspect": codes("INVALID_ARGUMENT"),
  "Participant.CatchUp": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Fetch": codes("INVALID_ARGUMENT"),
  // Not granted is an OK answer (granted: false).
  "Participant.Promise": codes("INVALID_ARGUMENT"),
  // FAILED_PRECONDITION: fenced (an older epoch), or an epoch the replica never promised (a newer one).
  "Participant.ReadCopy": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  // Not OK: the fuzzer's Appends never carry the current epoch or a newer one (arbitraries.ts rule
  // f), so one that is taken means the fence let garbage into a replica's copy of the decision log.
  "Participant.Append": ["INVALID_ARGUMENT", "FAILED_PRECONDITION", ...transport],
  // twopc.participant.Coordination, served by the coordinator to its replicas.
  "Coordination.QueryOutcome": codes("INVALID_ARGUMENT"),
};

/** Methods whose only FAILED_PRECONDITION is the fence (the others also refuse a contradicted decision). */
const fencedOnly: ReadonlySet<MethodName> = new Set<MethodName>(["Participant.Prepare", "Participant.Read", "Participant.CatchUp", "Participant.Append"]);

export function isDocumented(method: MethodName, code: number, details: string): boolean {
  if (!documentedCodes[method].some((name) => Code[name] === code)) return false;
  return code !== Code.FAILED_PRECONDITION || !fencedOnly.has(method) || fencedBy(details) !== null;
}
