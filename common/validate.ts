// Checks of input where it arrives (gRPC handlers, the CLI). Each rejection is INVALID_ARGUMENT and
// names the field, and for a size the value and the limit.
import { InvalidArgument, overLimit } from "./errors";
import { limits, type LimitName } from "./limits";
import { formatTxnId, parseTxnId } from "./txn-id";

export function checkKey(field: string, key: unknown): string {
  if (typeof key !== "string") throw new InvalidArgument(field, `${field} is missing`);
  if (key.length === 0) throw new InvalidArgument(field, `${field} is empty; a key must have 1 to ${limits.keyBytesMax} bytes`);
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > limits.keyBytesMax) throw overLimit(field, bytes, "keyBytesMax", "bytes");
  return key;
}

export function checkValue(field: string, value: unknown): Buffer {
  if (!Buffer.isBuffer(value)) throw new InvalidArgument(field, `${field} is missing`);
  if (value.length > limits.valueBytesMax) throw overLimit(field, value.length, "valueBytesMax", "bytes");
  return value;
}

export function checkTxnId(field: string, txnId: unknown): string {
  if (typeof txnId !== "string" || txnId.length === 0) throw new InvalidArgument(field, `${field} is missing`);
  return txnId;
}

/**
 * A transaction id as the coordinator issues them: "EPOCH.COUNTER", both whole numbers from 1 in
 * canonical form (no leading zeros, so one transaction has one id), at most txnIdBytesMax bytes.
 */
export function checkTxnIdFormat(field: string, txnId: unknown): string {
  if (typeof txnId !== "string" || txnId.length === 0) throw new InvalidArgument(field, `${field} is missing`);
  const bytes = Buffer.byteLength(txnId, "utf8");
  if (bytes > limits.txnIdBytesMax) throw overLimit(field, bytes, "txnIdBytesMax", "bytes");
  const parsed = parseTxnId(txnId);
  const valid =
    parsed !== null &&
    Number.isSafeInteger(parsed.epoch) &&
    Number.isSafeInteger(parsed.counter) &&
    parsed.epoch >= 1 &&
    parsed.counter >= 1 &&
    formatTxnId(parsed.epoch, parsed.counter) === txnId;
  if (!valid) {
    throw new InvalidArgument(field, `${field} ${JSON.stringify(txnId)} is not a transaction id (EPOCH.COUNTER, whole numbers from 1)`);
  }
  return txnId;
}

/** The id of a replica or coordinator: 1 to memberIdBytesMax bytes. */
export function checkMemberId(field: string, id: unknown): string {
  if (typeof id !== "string" || id.length === 0) throw new InvalidArgument(field, `${field} is missing`);
  const bytes = Buffer.byteLength(id, "utf8");
  if (bytes > limits.memberIdBytesMax) throw overLimit(field, bytes, "memberIdBytesMax", "bytes");
  return id;
}

/** A whole number from min up to Number.MAX_SAFE_INTEGER (a uint64 above that lost its precision on decoding). */
export function checkWholeNumber(field: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgument(field, `${field} is ${String(value)}; it must be a whole number from ${min} to ${Number.MAX_SAFE_INTEGER}`);
  }
  return value;
}

/** A list of at most limit items; checked before any item is looked at. */
export function checkCount(field: string, count: number, limit: LimitName, unit: string): void {
  if (count > limits[limit]) throw overLimit(field, count, limit, unit);
}

/** host:port with a port in 1..65535 (port 0 is allowed where listening on any free port is meant). */
export function parseAddress(field: string, address: string, allowPortZero = false): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = colon > 0 ? address.slice(0, colon) : "";
  const port = Number(address.slice(colon + 1));
  if (host.length === 0 || !Number.isInteger(port) || port < (allowPortZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgument(field, `${field} ${JSON.stringify(address)} is not HOST:PORT`);
  }
  return { host, port };
}

/** Parses "ID=HOST:PORT,ID=HOST:PORT,..." (replicas, peers). */
export function parseMembers(field: string, spec: string): { id: string; address: string }[] {
  const replicas = spec
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
    .map((item) => {
      const eq = item.indexOf("=");
      if (eq <= 0) throw new InvalidArgument(field, `${field}: ${JSON.stringify(item)} is not ID=HOST:PORT`);
      const member = { id: item.slice(0, eq), address: item.slice(eq + 1) };
      parseAddress(`${field} ${member.id}`, member.address);
      return member;
    });
  if (replicas.length === 0) throw new InvalidArgument(field, `${field} names no member`);
  const ids = new Set(replicas.map((replica) => replica.id));
  if (ids.size !== replicas.length) throw new InvalidArgument(field, `${field} names an id twice`);
  return replicas;
}
