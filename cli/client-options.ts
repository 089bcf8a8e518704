// What the commands that talk to a running store share: the flags that say where it is and how
// long to try (--coordinator, --timeout, --retry-for, and --request-id for writes), and one client
// per command, closed at the end, whose failure becomes the exit code.
import type { Argv } from "yargs";
import { defaultCoordinators, defaultRetryForMs, KvClient, parseCoordinators } from "../client/client";
import { fail } from "./exit";
import { clientTlsFlags, clientTlsFrom, type Tls } from "../proto/tls";

export function clientOptions<T>(y: Argv<T>) {
  return y
    .option("coordinator", {
      type: "string",
      default: process.env.KV_COORDINATOR ?? defaultCoordinators,
      describe:
        "the coordinators, HOST:PORT,HOST:PORT,... (or set KV_COORDINATOR, same format): calls go to the active one, " +
        "found by asking; a standby's redirect or an unreachable coordinator moves them to the next",
    })
    .check((argv) => {
      // A list that names nothing, or an item that is not HOST:PORT, is a usage error (exit 2).
      parseCoordinators(argv.coordinator, "--coordinator");
      return true;
    })
    .option("timeout", { type: "number", default: 10_000, describe: "deadline of each attempt, in milliseconds" })
    .option("retry-for", {
      type: "number",
      default: defaultRetryForMs,
      describe: "keep retrying UNAVAILABLE and DEADLINE_EXCEEDED this many milliseconds (writes keep their request id: applied once); 0: no retry",
    })
    .option("tls-ca", {
      type: "string",
      default: process.env.KV_TLS_CA,
      describe: "talk TLS, verifying the coordinators' certificates with this CA certificate (PEM file; or set KV_TLS_CA). Without it: plaintext",
    })
    .option("tls-cert", { type: "string", default: process.env.KV_TLS_CERT, describe: "a client certificate to present (PEM file; or set KV_TLS_CERT), with --tls-key" })
    .option("tls-key", { type: "string", default: process.env.KV_TLS_KEY, describe: "the client certificate's private key (PEM file; or set KV_TLS_KEY)" });
}

/** The TLS the client flags ask for: none without --tls-ca (the files are checked here: a mistake is a usage error naming the flag). */
export function clientTls(argv: { "tls-ca"?: string | undefined; "tls-cert"?: string | undefined; "tls-key"?: string | undefined }): Tls | null {
  return clientTlsFrom({ ca: argv["tls-ca"], cert: argv["tls-cert"], key: argv["tls-key"] }, clientTlsFlags);
}


/** Options of the mutating commands. */
export function writeOptions<T>(y: Argv<T>) {
  return clientOptions(y).option("request-id", {
    type: "string",
    describe: "the request id (default: a fresh one); repeat a command with the same id to retry it exactly once",
  });
}

/** The request options of a write: the --request-id given, if any. */
export const requestOptions = (argv: { "request-id"?: string | undefined }) => (argv["request-id"] === undefined ? {} : { requestId: argv["request-id"] });

/** Runs `use` with a client of the coordinators the flags name; a failure is printed and becomes the exit code. */
export async function withClient(
  argv: { coordinator: string; timeout: number; "retry-for": number; "tls-ca"?: string | undefined; "tls-cert"?: string | undefined; "tls-key"?: string | undefined },
  use: (client: KvClient) => Promise<number>,
): Promise<number> {
  const client = new KvClient(argv.coordinator, { timeoutMs: argv.timeout, retryForMs: argv["retry-for"], tls: clientTls(argv) });
  try {
    return await use(client);
  } catch (error) {
    return fail(error);
  } finally {
    client.close();
  }
}
