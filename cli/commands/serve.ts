// The commands of `kv` that run the store's processes: coordinator, replica (each serves until
// SIGINT or SIGTERM, then stops cleanly) and cluster (N coordinators and M replicas in the
// foreground, each its own process, restarted when it dies).
import type { Argv } from "yargs";
import { InvalidArgument } from "../../common/errors";
import { loadTls, serverTlsFlags, type ServerTls } from "../../proto/tls";
import { allFailpoints, armedFailpoints, armFailpoints } from "../../common/failpoints";
import { limits } from "../../common/limits";
import { logLevels, type LogLevel } from "../../common/logger";
import { parseAddress, parseMembers } from "../../common/validate";
import { defaultCoordinator } from "../../client/client";
import { startCoordinator } from "../../coordinator/server";
import { startReplica } from "../../replica/server";
import { runCluster } from "../../tools/cluster/cluster";
import { defaultRestartPolicy, describeRestartPolicy } from "../../tools/cluster/restart-policy";
import { exitCodes } from "../exit";
import { createLogger } from "../logger";
import { serveMetrics, type MetricsEndpoint } from "../metrics-endpoint";
import type { Registry } from "prom-client";
import { subcommand } from "../subcommand";

const failpointOption = {
  type: "string" as const,
  array: true,
  default: [] as string[],
  describe:
    "arm a failpoint, [ID:]NAME=crash|error|pause=MS[@N] (repeatable; KV_FAILPOINTS too). Names: " +
    Object.keys(allFailpoints).join(", "),
};

const compactLogBytesOption = {
  type: "number" as const,
  default: limits.logCompactBytes,
  describe: "compact the write-ahead log once it grows past this many bytes (logCompactBytes)",
};

const tombstoneRetentionOption = {
  type: "number" as const,
  default: limits.tombstoneRetentionMs,
  describe:
    "keep a deleted key's tombstone this long after every in-sync replica has applied its deletion, then collect it " +
    "(tombstoneRetentionMs): a replica back within it catches up from what it missed, a longer absence takes a full copy",
};

function checkRetention(ms: number | undefined): void {
  if (ms !== undefined && (!Number.isSafeInteger(ms) || ms < 0)) {
    throw new InvalidArgument("--tombstone-retention-ms", `--tombstone-retention-ms is ${ms}; it must be a whole number of milliseconds from 0`);
  }
}

const catchUpSnapshotRowsOption = {
  type: "number" as const,
  default: limits.catchUpSnapshotRows,
  describe:
    "a catch-up that has copied this many rows page by page and has more to come, or that needs a full copy, takes a snapshot " +
    "of its source instead (catchUpSnapshotRows; 0: never, every row over Fetch)",
};

function checkSnapshotRows(rows: number): void {
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new InvalidArgument("--catch-up-snapshot-rows", `--catch-up-snapshot-rows is ${rows}; it must be a whole number of rows from 0 (0: never)`);
  }
}

/** The TLS flags of a server command (proto/tls.ts). */
function tlsOptions<T>(y: Argv<T>, peerNamesDefault: string) {
  return y
    .option("tls-cert", { type: "string", describe: "serve TLS with this certificate (PEM file), also presented on this process's own calls; with --tls-key and --tls-ca" })
    .option("tls-key", { type: "string", describe: "the private key of --tls-cert (PEM file)" })
    .option("tls-ca", { type: "string", describe: "the CA certificate (PEM file) that signed every certificate of the cluster: callers' and servers' are verified with it" })
    .option("tls-peer-names", {
      type: "string",
      describe: `with TLS, the certificate names (subject CN or DNS name), comma-separated, that may make participant-protocol calls here: the coordinators' and the replicas' (default: ${peerNamesDefault})`,
    })
    .group(["tls-cert", "tls-key", "tls-ca", "tls-peer-names"], "TLS (every link; proto/tls.ts):");
}

/** The TLS a server command's flags ask for: none without them; all of --tls-cert, --tls-key and --tls-ca, or a usage error naming the missing one. */
function serverTls(
  argv: { "tls-cert"?: string | undefined; "tls-key"?: string | undefined; "tls-ca"?: string | undefined; "tls-peer-names"?: string | undefined },
  defaultPeerNames: readonly string[] | null,
): ServerTls | undefined {
  const given = (["tls-cert", "tls-key", "tls-ca"] as const).filter((flag) => argv[flag] !== undefined);
  if (given.length === 0) {
    if (argv["tls-peer-names"] !== undefined) throw new InvalidArgument("--tls-peer-names", "--tls-peer-names goes with TLS: --tls-cert, --tls-key and --tls-ca");
    return undefined;
  }
  const missing = (["tls-cert", "tls-key", "tls-ca"] as const).find((flag) => argv[flag] === undefined);
  if (missing !== undefined) throw new InvalidArgument(`--${missing}`, `a server with TLS needs --tls-cert, --tls-key and --tls-ca: --${missing} is missing`);
  const material = loadTls({ ca: argv["tls-ca"] ?? "", cert: argv["tls-cert"], key: argv["tls-key"] }, serverTlsFlags);
  const listed = argv["tls-peer-names"]?.split(",").map((name) => name.trim()).filter((name) => name !== "");
  const peerNames = listed ?? defaultPeerNames;
  if (peerNames === null || peerNames.length === 0) {
    throw new InvalidArgument(
      "--tls-peer-names",
      "--tls-peer-names must name the certificates this process's participant protocol is open to: the coordinators' and the replicas' (for example coordinator,coordinator-2,r1,r2,r3)",
    );
  }
  return { material, peerNames: new Set(peerNames) };
}

const metricsListenOption = {
  type: "string" as const,
  describe: "HOST:PORT to serve Prometheus metrics on, at /metrics (off when absent)",
};

const logLevelOption = {
  type: "string" as const,
  choices: logLevels,
  default: (process.env.KV_LOG_LEVEL ?? "info") as LogLevel,
  describe: "log level (protocol steps at debug); or set KV_LOG_LEVEL",
};

export const coordinatorCommand = subcommand({
  builder: (y) =>
    tlsOptions(y, "the ids of --replicas and --coordinators")
      .option("id", { type: "string", default: "coordinator", describe: "this coordinator's id" })
      .option("listen", { type: "string", default: defaultCoordinator, describe: "HOST:PORT to serve clients and replicas on" })
      .option("data-dir", { type: "string", default: "./data/coordinator", describe: "directory of the decision log" })
      .option("replicas", { type: "string", demandOption: true, describe: "the replicas, as ID=HOST:PORT,ID=HOST:PORT,..." })
      .option("coordinators", {
        type: "string",
        describe:
          "every coordinator of the cluster, this one included, as ID=HOST:PORT,...: one is active, the others stand by and take over when it dies (default: this one alone, at --listen)",
      })
      .option("on-conflict", {
        choices: ["abort", "wait"] as const,
        default: "wait" as const,
        describe: `a transaction on a key another one holds: wait for it (the default; up to lockWaitTimeoutMs = ${limits.lockWaitTimeoutMs} ms, then ABORTED), or refuse it at once with ABORTED (unless the holder has decided COMMIT and only waits for acknowledgements: then it waits)`,
      })
      .option("min-in-sync", {
        type: "number",
        describe: "writes need at least this many replicas in sync; a replica that fails leaves the in-sync set only while this many stay (default: 2, or 1 with one replica)",
      })
      .option("value-cache-mib", {
        type: "number",
        describe: `the active coordinator's cache of committed key states, in MiB: a transaction whose keys it holds is evaluated without reading them from a replica first (0: no cache; default ${limits.valueCacheBytesMax / 1024 / 1024})`,
      })
      .option("failpoint", failpointOption)
      .option("compact-log-bytes", compactLogBytesOption)
      .option("metrics-listen", metricsListenOption)
      .option("log-level", logLevelOption),
  run: async (argv) => {
    parseAddress("--listen", argv.listen, true);
    const valueCacheMib = argv["value-cache-mib"];
    if (valueCacheMib !== undefined && (!Number.isInteger(valueCacheMib) || valueCacheMib < 0 || !Number.isSafeInteger(valueCacheMib * 1024 * 1024))) {
      throw new InvalidArgument("--value-cache-mib", `--value-cache-mib must be a whole number of MiB, 0 or more (0: no cache), not ${valueCacheMib}`);
    }
    const metricsListen = checkMetricsListen(argv["metrics-listen"]);
    armFromEnvironmentAndFlags(argv.id, argv.failpoint);
    const replicas = parseMembers("--replicas", argv.replicas);
    const coordinators = argv.coordinators === undefined ? [{ id: argv.id, address: argv.listen }] : parseMembers("--coordinators", argv.coordinators);
    if (!coordinators.some((member) => member.id === argv.id)) {
      throw new InvalidArgument("--coordinators", `--coordinators must name this coordinator (--id ${argv.id})`);
    }
    const minInSync = argv["min-in-sync"] ?? Math.min(2, replicas.length);
    if (!Number.isInteger(minInSync) || minInSync < 1 || minInSync > replicas.length) {
      throw new InvalidArgument("--min-in-sync", `--min-in-sync must be a whole number from 1 to the number of replicas (${replicas.length})`);
    }
    const tls = serverTls(argv, [...replicas, ...coordinators].map((member) => member.id));
    return serve("coordinator", argv["log-level"], metricsListen, (logger) =>
      startCoordinator({ id: argv.id, listen: argv.listen, dataDir: argv["data-dir"], replicas, coordinators, onConflict: argv["on-conflict"], minInSync, compactLogBytes: argv["compact-log-bytes"], valueCacheBytes: valueCacheMib === undefined ? undefined : valueCacheMib * 1024 * 1024, logger, tls, metrics: metricsListen !== undefined }),
    );
  },
});

export const replicaCommand = subcommand({
  builder: (y) =>
    tlsOptions(y, "none: a replica with TLS must be told")
      .option("id", { type: "string", demandOption: true, describe: "this replica's id, as the coordinator's --replicas names it" })
      .option("listen", { type: "string", demandOption: true, describe: "HOST:PORT to serve the coordinator on" })
      .option("data-dir", { type: "string", demandOption: true, describe: "directory of the write-ahead log and the SQLite store" })
      .option("coordinator", {
        type: "string",
        default: defaultCoordinator,
        describe: "HOST:PORT of the coordinators, comma-separated: the one this replica promised its epoch to is asked about in-doubt transactions",
      })
      .option("peers", {
        type: "string",
        default: "",
        describe: "the other replicas, as ID=HOST:PORT,...: asked about in-doubt transactions when the coordinator cannot be reached",
      })
      .option("failpoint", failpointOption)
      .option("compact-log-bytes", compactLogBytesOption)
      .option("tombstone-retention-ms", tombstoneRetentionOption)
      .option("catch-up-snapshot-rows", catchUpSnapshotRowsOption)
      .option("metrics-listen", metricsListenOption)
      .option("log-level", logLevelOption),
  run: async (argv) => {
    parseAddress("--listen", argv.listen, true);
    const metricsListen = checkMetricsListen(argv["metrics-listen"]);
    checkRetention(argv["tombstone-retention-ms"]);
    checkSnapshotRows(argv["catch-up-snapshot-rows"]);
    const coordinators = argv.coordinator.split(",").map((address) => address.trim());
    for (const address of coordinators) parseAddress("--coordinator", address);
    armFromEnvironmentAndFlags(argv.id, argv.failpoint);
    const tls = serverTls(argv, null);
    return serve(`replica-${argv.id}`, argv["log-level"], metricsListen, (logger) =>
      startReplica({
        id: argv.id,
        listen: argv.listen,
        dataDir: argv["data-dir"],
        coordinators,
        peers: argv.peers === "" ? [] : parseMembers("--peers", argv.peers),
        compactLogBytes: argv["compact-log-bytes"],
        tombstoneRetentionMs: argv["tombstone-retention-ms"],
        catchUpSnapshotRows: argv["catch-up-snapshot-rows"],
        logger,
        tls,
        metrics: metricsListen !== undefined,
      }),
    );
  },
});

export const clusterCommand = subcommand({
  builder: (y) =>
    y
      .option("data-dir", { type: "string", default: "./data", describe: "directory holding every process's data (DIR/coordinator, DIR/coordinator-2, DIR/r1, ...) and the manifest DIR/cluster.json" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "address every process listens on" })
      .option("port", { type: "number", default: 50051, describe: "the first coordinator's port; the other coordinators take the next ports, then the replicas" })
      .option("coordinators", { type: "number", default: 2, describe: 'how many coordinators: "coordinator" on --port, "coordinator-2" on the next port, ...' })
      .option("replicas", { type: "number", default: 3, describe: "how many replicas" })
      .option("metrics-port", {
        type: "number",
        describe: "the first process's metrics port (--metrics-listen; coordinators, then replicas, on consecutive ports; recorded in cluster.json as each member's metrics); default: the port right after the last process's",
      })
      .option("restart", {
        type: "boolean",
        default: true,
        describe: `restart a process that dies: ${describeRestartPolicy(defaultRestartPolicy)}. --no-restart leaves it down (tests and benchmarks that kill on purpose)`,
      })
      .option("on-conflict", { choices: ["abort", "wait"] as const, describe: "passed on to every coordinator (default: the coordinator's, wait)" })
      .option("min-in-sync", { type: "number", describe: "passed on to every coordinator (default: 2, or 1 with one replica)" })
      .option("value-cache-mib", { type: "number", describe: `passed on to every coordinator (default: theirs, ${limits.valueCacheBytesMax / 1024 / 1024} MiB; 0: no cache)` })
      .option("tombstone-retention-ms", { type: "number", describe: `passed on to every replica (default: the replica's, ${limits.tombstoneRetentionMs} ms)` })
      .option("compact-log-bytes", { type: "number", describe: `passed on to every process (default: theirs, ${limits.logCompactBytes} bytes)` })
      .option("log-level", logLevelOption)
      .option("json-logs", { type: "boolean", default: false, describe: "print the processes' JSON log lines as they are" })
      .option("tls", {
        type: "boolean",
        default: false,
        describe:
          "run every link with mutual TLS: a private CA and a certificate per process (and one for clients) are made under DIR/tls with the openssl command, kept across restarts, and listed in the manifest; kv commands then need the KV_TLS_* variables the cluster prints",
      }),
  run: async (argv) => {
    if (!Number.isInteger(argv.coordinators) || argv.coordinators < 1) throw new InvalidArgument("--coordinators", "--coordinators must be a whole number of at least 1");
    if (!Number.isInteger(argv.replicas) || argv.replicas < 1) throw new InvalidArgument("--replicas", "--replicas must be a whole number of at least 1");
    checkRetention(argv["tombstone-retention-ms"]);
    const metricsPort = argv["metrics-port"];
    const processes = argv.coordinators + argv.replicas;
    if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort < 1 || metricsPort + processes - 1 > 65535)) {
      throw new InvalidArgument("--metrics-port", `--metrics-port must be a whole number from 1 to ${65536 - processes} (${processes} processes take consecutive ports from it)`);
    }
    return runCluster({
      dataDir: argv["data-dir"],
      host: argv.host,
      port: argv.port,
      ...(metricsPort === undefined ? {} : { metricsPort }),
      coordinators: argv.coordinators,
      replicas: argv.replicas,
      restart: argv.restart,
      onConflict: argv["on-conflict"],
      minInSync: argv["min-in-sync"],
      valueCacheMib: argv["value-cache-mib"],
      tombstoneRetentionMs: argv["tombstone-retention-ms"],
      compactLogBytes: argv["compact-log-bytes"],
      logLevel: argv["log-level"],
      jsonLogs: argv["json-logs"],
      tls: argv.tls,
    });
  },
});

/** Arms the failpoints of KV_FAILPOINTS and of --failpoint for the process `id`. */
function armFromEnvironmentAndFlags(id: string, flags: string | readonly string[]): void {
  armFailpoints("KV_FAILPOINTS", process.env.KV_FAILPOINTS ?? "", id);
  for (const flag of typeof flags === "string" ? [flags] : flags) armFailpoints("--failpoint", flag, id);
}

/** --metrics-listen, checked before anything starts (HOST:PORT; port 0 picks a free port). */
function checkMetricsListen(listen: string | undefined): string | undefined {
  if (listen !== undefined) parseAddress("--metrics-listen", listen, true);
  return listen;
}

type Running = { stop(): Promise<void>; readonly metrics: { readonly registry: Registry } | null };

/** Runs a server process until SIGINT or SIGTERM, then stops it cleanly; serves its metrics at metricsListen, if given. */
async function serve(name: string, logLevel: LogLevel, metricsListen: string | undefined, start: (logger: ReturnType<typeof createLogger>) => Promise<Running>): Promise<number> {
  const logger = createLogger(name, logLevel);
  let running: Running;
  let endpoint: MetricsEndpoint | null = null;
  const failpoints = armedFailpoints();
  if (failpoints.length > 0) logger.warn({ event: "failpoints-armed", failpoints }, `failpoints armed: ${failpoints.join(", ")}`);
  try {
    running = await start(logger);
  } catch (error) {
    logger.fatal({ err: error }, `${name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    return exitCodes.failure;
  }
  if (metricsListen !== undefined && running.metrics !== null) {
    try {
      endpoint = await serveMetrics(metricsListen, running.metrics.registry);
    } catch (error) {
      logger.fatal({ err: error }, `${name} failed to start: ${error instanceof Error ? error.message : String(error)}`);
      await running.stop();
      return exitCodes.failure;
    }
    const host = metricsListen.slice(0, metricsListen.lastIndexOf(":"));
    logger.info({ event: "metrics-listening", address: `${host}:${endpoint.port}` }, `metrics at http://${host}:${endpoint.port}/metrics`);
  }
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await endpoint?.close();
  await running.stop();
  return exitCodes.ok;
}
