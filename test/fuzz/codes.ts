// The status codes each method may answer with: anything else (INTERNAL, UNKNOWN, UNIMPLEMENTED,
// DATA_LOSS, ...) is a failure of the fuzz run. A handler that crashes shows up as one of those, or
// as its process exiting (which run.ts checks by pid). Written per method so that one can be
// narrowed without touching the others.
import { Code, type CodeName } from "../../common/errors";
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
  // twopc.participant.Participant, a replica's port.
  "Participant.Prepare": codes("INVALID_ARGUMENT"),
  "Participant.Commit": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Abort": codes("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
  "Participant.Read": codes("INVALID_ARGUMENT"),
  "Participant.Status": codes(),
  "Participant.Dump": codes(),
  "Participant.PeerOutcome": codes("INVALID_ARGUMENT"),
  "Participant.Inspect": codes("INVALID_ARGUMENT"),
  "Participant.CatchUp": codes("INVALID_ARGUMENT"),
  "Participant.Fetch": codes("INVALID_ARGUMENT"),
  // twopc.participant.Coordination, served by the coordinator to its replicas.
  "Coordination.QueryOutcome": codes("INVALID_ARGUMENT"),
};

export function isDocumented(method: MethodName, code: number): boolean {
  return documentedCodes[method].some((name) => Code[name] === code);
}
