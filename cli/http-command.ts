// `kv http`: runs the HTTP/JSON gateway (http/gateway.ts) over the client library until SIGINT or
// SIGTERM. It finds the coordinators as every client command does (--coordinator, KV_COORDINATOR,
// the coordinators of `npm start`), with the same --timeout and --retry-for for each call it makes.
import { KvClient } from "../client/client";
import { logLevels, type LogLevel } from "../common/logger";
import { parseAddress } from "../common/validate";
import type { HttpGateway } from "../http/gateway";
import { clientOptions, clientTls } from "./client-options";
import { exitCodes } from "./exit";
import { createLogger } from "./logger";
import { subcommand } from "./subcommand";

/** Where `kv http` listens by default: loopback only, since the gateway has no authentication. */
export const defaultHttpListen = "127.0.0.1:8080";

// `command` and `describe`: cli/main.ts (registered lazily).
export const httpCommand = subcommand({
  builder: (y) =>
    clientOptions(y)
      .option("listen", {
        type: "string",
        default: defaultHttpListen,
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
      }),
  run: async (argv) => {
    const { host, port } = parseAddress("--listen", argv.listen, true);
    const logger = createLogger("http", argv["log-level"]);
    const client = new KvClient(argv.coordinator, { timeoutMs: argv.timeout, retryForMs: argv["retry-for"], tls: clientTls(argv) });
    let gateway: HttpGateway;
    try {
      // Loaded here, not at the top: fastify is needed by this command alone, and every other `kv`
      // command would otherwise pay for loading it at startup.
      const { startHttpGateway } = await import("../http/gateway");
      gateway = await startHttpGateway({ host, port, store: client, logger });
    } catch (error) {
      logger.fatal({ err: error }, `the HTTP gateway failed to start on ${argv.listen}: ${error instanceof Error ? error.message : String(error)}`);
      client.close();
      return exitCodes.failure;
    }
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await gateway.stop();
    client.close();
    return exitCodes.ok;
  },
});
