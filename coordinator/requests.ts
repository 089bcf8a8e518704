// The client's mutating requests as they arrive on the wire, checked and turned into transaction
// programs (common/txn.ts), and transaction outcomes turned back into replies. Every rejection is
// INVALID_ARGUMENT naming the field (and the limit, for a size).
import { assertNever } from "../common/assert";
import { InvalidArgument, overLimit } from "../common/errors";
import { limits } from "../common/limits";
import { programKeys, type CompareOp, type Condition, type Operation, type OpResult, type Program } from "../common/txn";
import { checkKey, checkValue, checkWholeNumber } from "../common/validate";
import type { CompareAndDeleteRequest__Output } from "../proto/gen/twopc/kv/CompareAndDeleteRequest";
import type { CompareAndSetRequest__Output } from "../proto/gen/twopc/kv/CompareAndSetRequest";
import type { Compare__Output } from "../proto/gen/twopc/kv/Compare";
import type { IncrementRequest__Output } from "../proto/gen/twopc/kv/IncrementRequest";
import type { TxnOpResult } from "../proto/gen/twopc/kv/TxnOpResult";
import type { TxnOp__Output } from "../proto/gen/twopc/kv/TxnOp";
import type { TxnRequest__Output } from "../proto/gen/twopc/kv/TxnRequest";

/** The request id of a mutating request; null when the client sent none (no exactly-once then). */
export function checkRequestId(field: string, requestId: string): string | null {
  if (requestId.length === 0) return null;
  const bytes = Buffer.byteLength(requestId, "utf8");
  if (bytes > limits.requestIdBytesMax) throw overLimit(field, bytes, "requestIdBytesMax", "bytes");
  return requestId;
}

function checkInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || Math.abs(value) > limits.counterAbsMax) {
    throw new InvalidArgument(field, `${field} must be an integer within +-${limits.counterAbsMax} (counterAbsMax), not ${value}`);
  }
  return value;
}

function optionalInteger(field: string, value: number | undefined): number | null {
  return value === undefined ? null : checkInteger(field, value);
}

function incrementOf(field: string, key: string, delta: number, min: number | undefined, max: number | undefined, mustExist: boolean): Operation {
  const op: Operation = {
    kind: "incr",
    key,
    delta: checkInteger(`${field}delta`, delta),
    min: optionalInteger(`${field}min`, min),
    max: optionalInteger(`${field}max`, max),
    mustExist,
  };
  if (op.min !== null && op.max !== null && op.min > op.max) throw new InvalidArgument(`${field}min`, `${field}min (${op.min}) is above ${field}max (${op.max})`);
  return op;
}

export function incrementProgram(request: IncrementRequest__Output): Program {
  const key = checkKey("key", request.key);
  return { conditions: [], then: [incrementOf("", key, request.delta, request.min, request.max, request.mustExist)], otherwise: null };
}

/** The one condition of a compare-and-set or compare-and-delete: exactly one expectation. */
function expectation(
  key: string,
  request: { expectedVersion?: number | undefined; expectedValue?: Buffer | undefined; mustNotExist?: boolean | undefined },
  allowMustNotExist: boolean,
): Condition {
  const given = [request.expectedVersion !== undefined, request.expectedValue !== undefined, request.mustNotExist === true].filter(Boolean).length;
  const names = allowMustNotExist ? "expected_version, expected_value or must_not_exist" : "expected_version or expected_value";
  if (given !== 1) throw new InvalidArgument("expected_version", `give exactly one of ${names} (${given} given)`);
  if (request.expectedVersion !== undefined) {
    if (request.expectedVersion < 1) throw new InvalidArgument("expected_version", "expected_version must be at least 1 (use must_not_exist for a missing key)");
    checkWholeNumber("expected_version", request.expectedVersion, 1);
    return { key, target: "version", op: "=", version: request.expectedVersion };
  }
  if (request.expectedValue !== undefined) return { key, target: "value", op: "=", value: checkValue("expected_value", request.expectedValue) };
  return { key, target: "exists", exists: false };
}

export function compareAndSetProgram(request: CompareAndSetRequest__Output): Program {
  const key = checkKey("key", request.key);
  if (request.newValue === undefined) throw new InvalidArgument("new_value", "new_value is missing (an empty value must be sent as empty bytes)");
  const value = checkValue("new_value", request.newValue);
  return { conditions: [expectation(key, request, true)], then: [{ kind: "put", key, value }], otherwise: null };
}

export function compareAndDeleteProgram(request: CompareAndDeleteRequest__Output): Program {
  const key = checkKey("key", request.key);
  return { conditions: [expectation(key, request, false)], then: [{ kind: "del", key }], otherwise: null };
}

const compareOps: readonly CompareOp[] = ["=", "!=", "<", ">"];

function conditionOf(field: string, compare: Compare__Output): Condition {
  const key = checkKey(`${field}.key`, compare.key);
  const op = compare.op === "" ? "=" : compare.op;
  if (!(compareOps as readonly string[]).includes(op)) throw new InvalidArgument(`${field}.op`, `${field}.op must be one of ${compareOps.join(" ")}, not ${JSON.stringify(op)}`);
  const compareOp = op as CompareOp;
  switch (compare.target) {
    case "value":
      return { key, target: "value", op: compareOp, value: checkValue(`${field}.value`, compare.value) };
    case "version":
      return { key, target: "version", op: compareOp, version: checkWholeNumber(`${field}.version`, compare.version, 0) };
    case "exists":
      if (compareOp !== "=") throw new InvalidArgument(`${field}.op`, `${field}: an "exists" condition takes no op`);
      return { key, target: "exists", exists: compare.exists };
    default:
      throw new InvalidArgument(`${field}.target`, `${field}.target must be "value", "version" or "exists", not ${JSON.stringify(compare.target)}`);
  }
}

function operationOf(field: string, op: TxnOp__Output): Operation {
  const key = checkKey(`${field}.key`, op.key);
  switch (op.type) {
    case "put":
      if (op.value === undefined) throw new InvalidArgument(`${field}.value`, `${field}.value is missing`);
      return { kind: "put", key, value: checkValue(`${field}.value`, op.value) };
    case "del":
      return { kind: "del", key };
    case "get":
      return { kind: "get", key };
    case "incr":
      return incrementOf(`${field}.`, key, op.delta, op.min, op.max, op.mustExist);
    default:
      throw new InvalidArgument(`${field}.type`, `${field}.type must be "put", "del", "incr" or "get", not ${JSON.stringify(op.type)}`);
  }
}

export function txnProgram(request: TxnRequest__Output): Program {
  const count = request.conditions.length + request.onSuccess.length + request.onFailure.length;
  if (count === 0) throw new InvalidArgument("on_success", "the transaction has no condition and no operation");
  if (count > limits.txnOpsMax) throw overLimit("conditions + on_success + on_failure", count, "txnOpsMax", "items");
  if (!request.hasOnFailure && request.onFailure.length > 0) throw new InvalidArgument("has_on_failure", "on_failure is given but has_on_failure is false");
  const program: Program = {
    conditions: request.conditions.map((compare, i) => conditionOf(`conditions[${i}]`, compare)),
    then: request.onSuccess.map((op, i) => operationOf(`on_success[${i}]`, op)),
    otherwise: request.hasOnFailure ? request.onFailure.map((op, i) => operationOf(`on_failure[${i}]`, op)) : null,
  };
  const keys = programKeys(program).length;
  if (keys > limits.txnKeysMax) throw overLimit("keys of the transaction", keys, "txnKeysMax", "keys");
  const bytes = programBytes(program);
  if (bytes > limits.txnBytesMax) throw overLimit("keys and values of the transaction", bytes, "txnBytesMax", "bytes");
  return program;
}

/** Bytes of the keys and values a program carries. */
function programBytes(program: Program): number {
  let bytes = 0;
  for (const condition of program.conditions) {
    bytes += Buffer.byteLength(condition.key, "utf8") + (condition.target === "value" ? condition.value.length : 0);
  }
  for (const op of [...program.then, ...(program.otherwise ?? [])]) {
    bytes += Buffer.byteLength(op.key, "utf8") + (op.kind === "put" ? op.value.length : 0);
  }
  return bytes;
}

export function resultToWire(result: OpResult): TxnOpResult {
  switch (result.kind) {
    case "put":
    case "del":
      return { type: result.kind, key: result.key };
    case "incr":
      return { type: "incr", key: result.key, number: result.value };
    case "get":
      return result.state === null
        ? { type: "get", key: result.key, found: false }
        : { type: "get", key: result.key, found: true, value: result.state.value, version: result.state.version };
    default:
      return assertNever(result);
  }
}
