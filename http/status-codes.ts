// How a gRPC status code travels over HTTP: the status of the response, and the JSON body every
// failure of the gateway carries. Pure.
//
// The mapping follows grpc-gateway's (runtime/errors.go, HTTPStatusFromCode), the one most HTTP
// fronts of gRPC services use, with one change: FAILED_PRECONDITION is 412 Precondition Failed
// rather than 400, since here it always means "a condition of yours did not hold, nothing was
// written" (a transaction's if, a bound, a compare-and-set), which is exactly 412's meaning, and a
// client must be able to tell it from bad input without reading the message.
import { assertNever } from "../common/assert";
import { Code, codeName, type CodeValue } from "../common/errors";

export function httpStatusOf(code: CodeValue): number {
  switch (code) {
    case Code.OK:
      return 200;
    case Code.INVALID_ARGUMENT:
    case Code.OUT_OF_RANGE:
      return 400;
    case Code.UNAUTHENTICATED:
      return 401;
    case Code.PERMISSION_DENIED:
      return 403;
    case Code.NOT_FOUND:
      return 404;
    case Code.ABORTED:
    case Code.ALREADY_EXISTS:
      return 409;
    case Code.FAILED_PRECONDITION:
      return 412;
    case Code.RESOURCE_EXHAUSTED:
      return 429;
    // nginx's "client closed request", as grpc-gateway uses it.
    case Code.CANCELLED:
      return 499;
    case Code.UNKNOWN:
    case Code.INTERNAL:
    case Code.DATA_LOSS:
      return 500;
    case Code.UNIMPLEMENTED:
      return 501;
    case Code.UNAVAILABLE:
      return 503;
    case Code.DEADLINE_EXCEEDED:
      return 504;
    default:
      return assertNever(code);
  }
}

/** The JSON body of every failure of the gateway. */
export interface ErrorBody {
  /** The gRPC status code's name, e.g. "ABORTED". */
  readonly code: string;
  /** Its number, e.g. 10. */
  readonly grpcCode: number;
  readonly message: string;
  /** A write whose outcome is unknown: the request id to ask GET /v1/txn-status/{id} about, or to retry with. */
  readonly requestId?: string;
}

export function errorBody(code: CodeValue, message: string, requestId?: string): ErrorBody {
  return { code: codeName(code), grpcCode: code, message, ...(requestId === undefined ? {} : { requestId }) };
}
