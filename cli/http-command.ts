// `kv http`: runs the HTTP/JSON gateway (http/gateway.ts) over the client library until SIGINT or
// SIGTERM. It finds the coordinators as every client command does (--coordinator, KV_COORDINATOR,
// the coordinators of `npm start`), with the same --timeout and --retry-for for each call it makes.
import { httpServerOptions, serveHttpOverClient } from "./serve-http";
import { subcommand } from "./subcommand";

/** Where `kv http` listens by default: loopback only, since the gateway has no authentication. */
export const defaultHttpListen = "127.0.0.1:8080";

// `command` and `describe`: cli/main.ts (registered lazily).
export const httpCommand = subcommand({
  builder: (y) => httpServerOptions(y, defaultHttpListen),
  run: (argv) =>
    serveHttpOverClient(argv, "http", "the HTTP gateway", async ({ host, port, client, logger }) => {
      // Loaded here, not at the top: fastify is needed by this command alone (and `kv shop`), and
      // every other `kv` command would otherwise pay for loading it at startup.
      const { startHttpGateway } = await import("../http/gateway");
      return startHttpGateway({ host, port, store: client, logger });
    }),
});
