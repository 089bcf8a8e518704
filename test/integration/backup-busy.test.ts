// `kv backup` against a replica that is sending another snapshot (a backup, or another replica's
// catch-up: backupsInFlightMax): the replica refuses with RESOURCE_EXHAUSTED, and the backup waits
// backupBusyWaitMs and takes one on a later attempt instead of failing. The replica is a fake
// Participant server (the first Backup call refused, the next streamed); the coordinator's Status is
// a fake client's.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import type { KvClient } from "../../client/client";
import { Code } from "../../common/errors";
import { participantProto, serverOptions } from "../../proto/load";
import type { BackupChunk } from "../../proto/gen/twopc/participant/BackupChunk";
import { backup } from "../../tools/backup/backup";
import { backupOf, snapshotFile } from "./snapshot-source";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-backup-busy-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("kv backup of a replica busy with another snapshot", () => {
  it("waits and takes the snapshot on a later attempt", async () => {
    const file = await snapshotFile([{ key: "a", value: "1", version: 5 }], 0);
    const calls: { forCatchUp: boolean }[] = [];
    const stream = backupOf(file, calls, "floor");
    let refused = 0;
    const server = new grpc.Server(serverOptions);
    server.addService(participantProto.Participant.service, {
      Backup: (call: grpc.ServerWritableStream<{ chunkBytes: number; forCatchUp: boolean }, BackupChunk>) => {
        if (refused === 0) {
          refused += 1;
          call.emit("error", { code: Code.RESOURCE_EXHAUSTED, details: "replica r1 already serves 1 backup(s); the limit is 1 (backupsInFlightMax): try again later" });
          return;
        }
        stream(call);
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const status = { epoch: 1, replicas: [{ id: "r1", address: `127.0.0.1:${port}`, state: "in-sync", up: true, healthy: true, appliedSeq: 5 }] };
    const client = { status: async () => status, tls: null } as unknown as KvClient;
    try {
      const result = await backup(client, path.join(dir, "snap.sqlite"));
      expect(refused).toBe(1);
      expect(calls).toEqual([{ forCatchUp: false }]);
      expect(result).toMatchObject({ replicaId: "r1", commitSeq: 5, keys: 1, attempts: 2 });
      expect(fs.readFileSync(path.join(dir, "snap.sqlite")).equals(file)).toBe(true);
    } finally {
      server.forceShutdown();
    }
  }, 30_000);
});
