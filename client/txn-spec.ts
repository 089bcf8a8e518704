// The JSON of a transaction as a person writes it, checked for shape before it is sent: what
// `kv txn` takes and what POST /v1/txn of the HTTP gateway (http/gateway.ts) takes, so that both
// front ends accept the very same text (hence here, beside the client library, not under cli/).
//
//   {"if":   [{"key": "a", "version": 3}, {"key": "b", "value": "x", "op": "!="}, {"key": "c", "exists": false}],
//    "then": [{"type": "put", "key": "a", "value": "1"}, {"type": "incr", "key": "n", "delta": -1, "min": 0},
//             {"type": "del", "key": "b"}, {"type": "get", "key": "c"}],
//    "else": [{"type": "get", "key": "a"}]}
//
// "if" and "else" are optional; without "else" a failed condition fails the transaction.
import { InvalidArgument } from "../common/errors";
import type { TxnCondition, TxnOperation, TxnSpec } from "./client";

type Json = Record<string, unknown>;

function object(path: string, value: unknown): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgument(path, `${path} must be a JSON object`);
  return value as Json;
}

function list(path: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new InvalidArgument(path, `${path} must be a JSON list`);
  return value;
}

function text(path: string, value: unknown): string {
  if (typeof value !== "string") throw new InvalidArgument(path, `${path} must be a string`);
  return value;
}

function integer(path: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new InvalidArgument(path, `${path} must be an integer`);
  return value;
}

function optionalInteger(path: string, value: unknown): number | undefined {
  return value === undefined ? undefined : integer(path, value);
}

const compareOps = ["=", "!=", "<", ">"] as const;

function compareOp(path: string, value: unknown): (typeof compareOps)[number] | undefined {
  if (value === undefined) return undefined;
  const op = compareOps.find((candidate) => candidate === value);
  if (op === undefined) throw new InvalidArgument(path, `${path} must be one of ${compareOps.join(" ")}`);
  return op;
}

function condition(path: string, value: unknown): TxnCondition {
  const item = object(path, value);
  const key = text(`${path}.key`, item.key);
  const targets = ["version", "value", "exists"].filter((name) => item[name] !== undefined);
  if (targets.length !== 1) throw new InvalidArgument(path, `${path} must have exactly one of "version", "value" or "exists"`);
  const op = compareOp(`${path}.op`, item.op);
  if (item.exists !== undefined) {
    if (typeof item.exists !== "boolean") throw new InvalidArgument(`${path}.exists`, `${path}.exists must be true or false`);
    if (op !== undefined) throw new InvalidArgument(`${path}.op`, `${path}: an "exists" condition takes no op`);
    return { key, exists: item.exists };
  }
  if (item.version !== undefined) return { key, version: integer(`${path}.version`, item.version), ...(op === undefined ? {} : { op }) };
  return { key, value: text(`${path}.value`, item.value), ...(op === undefined ? {} : { op }) };
}

function operation(path: string, value: unknown): TxnOperation {
  const item = object(path, value);
  const key = text(`${path}.key`, item.key);
  const type = text(`${path}.type`, item.type);
  switch (type) {
    case "put":
      return { type, key, value: text(`${path}.value`, item.value) };
    case "del":
    case "get":
      return { type, key };
    case "incr":
    case "decr": {
      const amount = integer(`${path}.delta`, item.delta);
      const min = optionalInteger(`${path}.min`, item.min);
      const max = optionalInteger(`${path}.max`, item.max);
      const mustExist = item.mustExist === undefined ? undefined : item.mustExist === true;
      return { type: "incr", key, delta: type === "decr" ? -amount : amount, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), ...(mustExist === undefined ? {} : { mustExist }) };
    }
    default:
      throw new InvalidArgument(`${path}.type`, `${path}.type must be "put", "del", "incr", "decr" or "get", not ${JSON.stringify(type)}`);
  }
}

/** Parses and checks the shape of a transaction given as JSON text. */
export function parseTxnSpec(source: string): TxnSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new InvalidArgument("txn", `the transaction is not valid JSON: ${(error as Error).message}`);
  }
  const spec = object("txn", parsed);
  for (const name of Object.keys(spec)) {
    if (name !== "if" && name !== "then" && name !== "else") throw new InvalidArgument(name, `unknown field ${JSON.stringify(name)}; a transaction has "if", "then" and "else"`);
  }
  return {
    if: spec.if === undefined ? [] : list("if", spec.if).map((item, i) => condition(`if[${i}]`, item)),
    then: spec.then === undefined ? [] : list("then", spec.then).map((item, i) => operation(`then[${i}]`, item)),
    ...(spec.else === undefined ? {} : { else: list("else", spec.else).map((item, i) => operation(`else[${i}]`, item)) }),
  };
}
