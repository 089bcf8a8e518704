// Turning errors into gRPC statuses, for the shells (cores never import gRPC).
import * as grpc from "@grpc/grpc-js";
import { AssertionFailure } from "../common/assert";
import { Code, KvError } from "../common/errors";

/** The status a handler answers with. An assertion failure is re-thrown: it must crash the process. */
export function toStatus(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof AssertionFailure) throw error;
  if (error instanceof KvError) return { code: error.code as grpc.status, details: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: Code.INTERNAL as grpc.status, details: `internal error: ${message}` };
}

/** A KvError from a failed call's status, keeping its code and message. */
export function fromServiceError(error: unknown, what: string): KvError {
  if (error instanceof KvError) return error;
  const status = error as Partial<grpc.ServiceError>;
  const code = typeof status.code === "number" ? status.code : Code.UNKNOWN;
  const details = typeof status.details === "string" && status.details.length > 0 ? status.details : String(error);
  return new KvError(code as KvError["code"], `${what}: ${details}`, { cause: error });
}

export function deadline(ms: number): Date {
  return new Date(Date.now() + ms);
}

/** Stops a server: no new calls; the ones under way get graceMs to finish, then are cut off. */
export function shutdownServer(server: grpc.Server, graceMs = 2_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
