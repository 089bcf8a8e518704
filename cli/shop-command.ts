// `kv shop`: runs the web shop (shop/service.ts: the order, stock and payment services' REST API,
// checkout as one transaction) over one client of the store until SIGINT or SIGTERM. It finds the
// coordinators as every client command does (--coordinator, KV_COORDINATOR, the coordinators of
// `npm start`), with the same --timeout and --retry-for for each call it makes. Stateless: run
// several behind any load balancer.
import { InvalidArgument } from "../common/errors";
import { limits } from "../common/limits";
import { defaultShopPrefix } from "../shop/model";
import { httpServerOptions, serveHttpOverClient } from "./serve-http";
import { subcommand } from "./subcommand";

/** Where `kv shop` listens by default: loopback only, since the shop has no authentication. */
export const defaultShopListen = "127.0.0.1:8000";

/** A prefix of the shop's keys: non-empty, leaving room for the longest record key under keyBytesMax. */
export function checkShopPrefix(prefix: string): string {
  if (prefix.length === 0) throw new InvalidArgument("--prefix", "--prefix is empty; the shop's keys need a prefix of their own, e.g. shop/");
  // The longest key is PREFIX item/ID/stock (or /price) with an id of shopIdBytesMax bytes.
  const room = limits.keyBytesMax - limits.shopIdBytesMax - "item//price".length;
  const bytes = Buffer.byteLength(prefix, "utf8");
  if (bytes > room) throw new InvalidArgument("--prefix", `--prefix is ${bytes} bytes; at most ${room} leave room for ids under keyBytesMax (${limits.keyBytesMax})`);
  return prefix;
}

// `command` and `describe`: cli/main.ts (registered lazily).
export const shopCommand = subcommand({
  builder: (y) =>
    httpServerOptions(y, defaultShopListen)
      .option("prefix", { type: "string", default: defaultShopPrefix, describe: "the prefix of every key the shop reads and writes, so that it shares a cluster with other data" })
      .check((argv) => {
        checkShopPrefix(argv.prefix);
        return true;
      }),
  run: (argv) =>
    serveHttpOverClient(argv, "shop", "the shop", async ({ host, port, client, logger }) => {
      // Loaded here, not at the top: fastify is needed by this command alone (and `kv http`).
      const { startShop } = await import("../shop/service");
      return startShop({ host, port, store: client, prefix: argv.prefix, logger });
    }),
});
