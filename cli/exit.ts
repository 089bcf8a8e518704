// The exit codes of `kv` and how a failure maps to one.
//
// Exit codes: 0 success; 1 get of a key that does not exist; 2 bad usage; 3 the store refused the
// request (INVALID_ARGUMENT, ABORTED, FAILED_PRECONDITION, RESOURCE_EXHAUSTED, ...: nothing was
// written); 4 UNAVAILABLE or DEADLINE_EXCEEDED (for a write the outcome is unknown, unless the
// store said it never started: then stderr says nothing was written); 5 any other
// failure (INTERNAL, DATA_LOSS, ...). Failures print the gRPC code and message on stderr.
import { assertNever } from "../common/assert";
import { classifyCode, codeName, KvError } from "../common/errors";

export const exitCodes = { ok: 0, notFound: 1, usage: 2, refused: 3, unknownOutcome: 4, failure: 5 } as const;

function exitCodeFor(error: unknown): number {
  if (!(error instanceof KvError)) return exitCodes.failure;
  const failure = classifyCode(error.code);
  switch (failure) {
    case "refused":
      return exitCodes.refused;
    case "unavailable":
      return exitCodes.unknownOutcome;
    case "other":
      return exitCodes.failure;
    default:
      return assertNever(failure);
  }
}

/** Prints a failure on stderr (with how to find the outcome of a write left unknown); returns its exit code. */
export function fail(error: unknown): number {
  if (error instanceof KvError) {
    console.error(`kv: ${codeName(error.code)}: ${error.message}`);
    const requestId = (error as KvError & { requestId?: string }).requestId;
    if (error.notStarted) {
      console.error("kv: nothing was written: every attempt was refused before it started, or reached no coordinator; retry");
    } else if (exitCodeFor(error) === exitCodes.unknownOutcome && requestId !== undefined) {
      console.error(`kv: the outcome is unknown; find it with: kv txn-status ${requestId}  (or retry with --request-id ${requestId})`);
    }
  } else console.error(`kv: ${error instanceof Error ? error.message : String(error)}`);
  return exitCodeFor(error);
}
