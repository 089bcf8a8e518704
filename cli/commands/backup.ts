// `kv backup FILE` and `kv restore FILE --data-dir DIR` (issue 14): tools/backup/backup.ts does the
// work and says why the snapshot is consistent and what a restore writes.
import { InvalidArgument } from "../../common/errors";
import { backup, clusterIds, restore } from "../../tools/backup/backup";
import { clientOptions, withClient } from "../client-options";
import { exitCodes, fail } from "../exit";
import { subcommand } from "../subcommand";

// `command` and `describe`: cli/main.ts (registered lazily).
export const backupCommand = subcommand({
  builder: (y) =>
    clientOptions(y)
      .positional("file", { type: "string", demandOption: true, describe: "where to write the snapshot (replaced only once complete and checked)" })
      .option("replica", { type: "string", describe: "back up this replica (it must be in sync); default: the in-sync replica furthest ahead" })
      .option("chunk-bytes", { type: "number", default: 0, describe: "bytes per streamed chunk (0: the maximum, backupChunkBytesMax)" }),
  run: (argv) =>
    withClient(argv, async (client) => {
      const result = await backup(client, argv.file, {
        ...(argv.replica === undefined ? {} : { replicaId: argv.replica }),
        chunkBytes: argv["chunk-bytes"],
        onRetry: (attempt, reason) => console.error(`kv backup: attempt ${attempt}, since ${reason}`),
      });
      console.log(
        `OK backup of commit sequence number ${result.commitSeq} from replica ${result.replicaId}: ${result.keys} keys, ${result.bytes} bytes in ${result.file}`,
      );
      return exitCodes.ok;
    }),
});

export const restoreCommand = subcommand({
  builder: (y) =>
    y
      .positional("file", { type: "string", demandOption: true, describe: "a snapshot written by kv backup" })
      .option("data-dir", { type: "string", demandOption: true, describe: "the new cluster's data directory (must be empty or absent)" })
      .option("replicas", { type: "number", default: 3, describe: "how many replicas the new cluster has (as kv cluster --replicas)" })
      .option("coordinators", { type: "number", default: 2, describe: "how many coordinators the new cluster has (as kv cluster --coordinators)" }),
  run: async (argv) => {
    try {
      if (!Number.isInteger(argv.replicas) || argv.replicas < 1) throw new InvalidArgument("--replicas", "--replicas must be a whole number of at least 1");
      if (!Number.isInteger(argv.coordinators) || argv.coordinators < 1) throw new InvalidArgument("--coordinators", "--coordinators must be a whole number of at least 1");
      const ids = clusterIds(argv.replicas, argv.coordinators);
      const restored = await restore({ file: argv.file, dataDir: argv["data-dir"], ...ids });
      console.log(
        `OK restored commit sequence number ${restored.commitSeq} (${restored.keys} keys) into ${argv["data-dir"]} (${ids.replicaIds.join(", ")}); ` +
          `start it with: kv cluster --data-dir ${argv["data-dir"]} --replicas ${argv.replicas} --coordinators ${argv.coordinators}`,
      );
      return exitCodes.ok;
    } catch (error) {
      return fail(error);
    }
  },
});
