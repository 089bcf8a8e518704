// What `kv http` and `kv shop` share: each serves HTTP over one client of the store (found as every
// client command finds the coordinators, with the same --timeout and --retry-for and TLS flags)
// until SIGINT or SIGTERM, on --listen, logging at --log-level.
import type { Argv } from "yargs";
import { KvClient } from "../client/client";
import { logLevels, type Logger, type LogLevel } from "../common/logger";
import { parseAddress } from "../common/validate";
import { clientOptions, clientTls } from "./client-options";
import { exitCodes } from "./exit";
import { createLogger } from "./logger";

/** The client's flags, --listen (default `defaultListen`) and --log-level. */
export function httpServerOptions<T>(y: Argv<T>, defaultListen: string) {
  return clientOptions(y)
    .option("listen", {
      type: "string",
      default: defaultListen,
      describe: "HOST:PORT to serve HTTP on (port 0: any free port, printed in the listening line); 0.0.0.0 exposes it to the network, unauthenticated",
    })
    .check((argv) => {
      parseAddress("--listen", argv.listen, true);
      return true;
    })
    .option("log-level", {
      type: "string",
      choices: logLevels,
      default: (process.env.KV_LOG_LEVEL ?? "info") as LogLevel,
      describe: "log level; or set KV_LOG_LEVEL",
    });
}

type HttpServerArgv = Parameters<typeof clientTls>[0] & { readonly coordinator: string; readonly timeout: number; readonly "retry-for": number; readonly listen: string; readonly "log-level": LogLevel };

/**
 * Starts the server `start` makes over a new client, then waits for SIGINT or SIGTERM and stops it.
 * A server that fails to start is logged (naming `what`) and the command exits with failure.
 */
export async function serveHttpOverClient(
  argv: HttpServerArgv,
  name: string,
  what: string,
  start: (on: { host: string; port: number; client: KvClient; logger: Logger }) => Promise<{ stop(): Promise<void> }>,
): Promise<number> {
  const { host, port } = parseAddress("--listen", argv.listen, true);
  const logger = createLogger(name, argv["log-level"]);
  const client = new KvClient(argv.coordinator, { timeoutMs: argv.timeout, retryForMs: argv["retry-for"], tls: clientTls(argv) });
  let server: { stop(): Promise<void> };
  try {
    server = await start({ host, port, client, logger });
  } catch (error) {
    logger.fatal({ err: error }, `${what} failed to start on ${argv.listen}: ${error instanceof Error ? error.message : String(error)}`);
    client.close();
    return exitCodes.failure;
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.stop();
  client.close();
  return exitCodes.ok;
}
