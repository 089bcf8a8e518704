// Checks of input where it arrives (gRPC handlers, the CLI). Each rejection is INVALID_ARGUMENT and
// names the field, and for a size the value and the limit.
import { InvalidArgument, overLimit } from "./errors";
import { limits } from "./limits";

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
