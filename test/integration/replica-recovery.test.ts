// Proves the replica's durability design (replica/DESIGN.md): the log is authoritative. A replica
// runs in this process on a random port and is driven with real Prepare/Commit calls; then its SQLite
// file is rolled back behind the log's back (as a power cut may do with synchronous=NORMAL) and
// recovery must redo every acknowledged commit. A transaction prepared and undecided at restart keeps
// its lock, holds reads of its key, is asked about at once, and is applied when the coordinator (here
// a fake Coordination server) answers COMMIT. Failover: the epoch a replica promised and its copy of
// the coordinator's decision log survive a restart, replayed from the log or from a compacted one: a
// call of an older epoch is still refused as fenced, and the copy is handed to the next coordinator.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../cli/logger";
import { limits } from "../../common/limits";
import { channelOptions, participantProto, serverOptions } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import { FileLog } from "../../logs/file-log";
import { decodeReplicaRecord } from "../../replica/records";
import { startReplica, type RunningReplica } from "../../replica/server";
import { freePort, waitFor } from "./harness";
import type { PrepareRequest } from "../../proto/gen/twopc/participant/PrepareRequest";
import type { PrepareResponse__Output } from "../../proto/gen/twopc/participant/PrepareResponse";
import type { CommitRequest } from "../../proto/gen/twopc/participant/CommitRequest";
import type { DecisionResponse__Output } from "../../proto/gen/twopc/participant/DecisionResponse";
import type { ParticipantStatusRequest } from "../../proto/gen/twopc/participant/ParticipantStatusRequest";
import type { ParticipantStatusResponse__Output } from "../../proto/gen/twopc/participant/ParticipantStatusResponse";
import type { DumpRequest } from "../../proto/gen/twopc/participant/DumpRequest";
import type { DumpResponse__Output } from "../../proto/gen/twopc/participant/DumpResponse";
import type { ReadRequest } from "../../proto/gen/twopc/participant/ReadRequest";
import type { ReadResponse__Output } from "../../proto/gen/twopc/participant/ReadResponse";
import type { PromiseRequest } from "../../proto/gen/twopc/participant/PromiseRequest";
import type { PromiseResponse__Output } from "../../proto/gen/twopc/participant/PromiseResponse";
import type { ReadCopyRequest } from "../../proto/gen/twopc/participant/ReadCopyRequest";
import type { ReadCopyResponse__Output } from "../../proto/gen/twopc/participant/ReadCopyResponse";
import type { AppendRequest } from "../../proto/gen/twopc/participant/AppendRequest";
import type { AppendResponse__Output } from "../../proto/gen/twopc/participant/AppendResponse";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-replica-"));
const logger = createLogger("replica-test", "silent");

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function call<Req, Res>(method: (req: Req, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, request: Req, timeoutMs = 5_000): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => (error || !response ? reject(error) : resolve(response))),
  );
}

function participant(port: number): ParticipantClient {
  return new participantProto.Participant(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
}

const put = (key: string, value: string) => ({ key, value: Buffer.from(value), delete: false });
/** The epoch of the (fake) coordinator's calls: the replica promises it at the first one. */
const EPOCH = 1;

describe("replica recovery", () => {
  it("redoes commits SQLite lost, and settles an in-doubt transaction by asking the coordinator", async () => {
    // A fake coordinator that answers COMMIT (seq 4) for "1.4" and records who asked.
    const asked: string[] = [];
    const coordinator = new grpc.Server(serverOptions);
    coordinator.addService(participantProto.Coordination.service, {
      QueryOutcome: (
        callRef: grpc.ServerUnaryCall<{ txnIds: string[] }, unknown>,
        callback: grpc.sendUnaryData<{ outcomes: { txnId: string; outcome: string; commitSeq: number }[] }>,
      ) => {
        asked.push(...callRef.request.txnIds);
        callback(null, { outcomes: callRef.request.txnIds.map((txnId) => ({ txnId, outcome: txnId === "1.4" ? "OUTCOME_COMMIT" : "OUTCOME_ABORT", commitSeq: 4 })) });
      },
    });
    const coordinatorPort = await new Promise<number>((resolve, reject) =>
      coordinator.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const port = await freePort();
    const start = (): Promise<RunningReplica> =>
      startReplica({ id: "r1", listen: `127.0.0.1:${port}`, dataDir, coordinators: [`127.0.0.1:${coordinatorPort}`], peers: [], compactLogBytes: limits.logCompactBytes, logger });

    let replica = await start();
    let client = participant(port);
    try {
      const votes = await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.1", writes: [put("a", "one")], participants: ["r1"] }] });
      expect(votes.votes[0]?.vote).toBe("VOTE_YES");
      await call<CommitRequest, DecisionResponse__Output>(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 1 }] });
      client.close();
      await replica.stop();

      // Keep a copy of SQLite as it is now: it knows only "a".
      const storeFile = path.join(dataDir, "store.sqlite");
      const snapshot = fs.readFileSync(storeFile);

      replica = await start();
      client = participant(port);
      const batch = await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), {
        epoch: EPOCH,
        coordinatorId: "c",
        txns: [
          { txnId: "1.2", writes: [put("b", "two")], participants: ["r1"] },
          { txnId: "1.3", writes: [{ key: "a", value: Buffer.alloc(0), delete: true }], participants: ["r1"] },
        ],
      });
      expect(batch.votes.map((vote) => vote.vote)).toEqual(["VOTE_YES", "VOTE_YES"]);
      const acks = await call<CommitRequest, DecisionResponse__Output>(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.2", commitSeq: 2 }, { txnId: "1.3", commitSeq: 3 }] });
      expect(acks.ackedTxnIds).toEqual(["1.2", "1.3"]);
      // Prepared, never decided: in doubt across the restart.
      const inDoubt = await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.4", writes: [put("c", "four")], participants: ["r1"] }] });
      expect(inDoubt.votes[0]?.vote).toBe("VOTE_YES");
      client.close();
      await replica.stop();

      // Roll SQLite back behind the log's back.
      for (const suffix of ["-wal", "-shm"]) fs.rmSync(storeFile + suffix, { force: true });
      fs.writeFileSync(storeFile, snapshot);

      asked.length = 0;
      replica = await start();
      client = participant(port);
      // The in-doubt transaction was asked about at once and settled as the coordinator said.
      await waitFor("the in-doubt transaction to settle", async () => (await call<ParticipantStatusRequest, ParticipantStatusResponse__Output>(client.Status.bind(client), {})).prepared.length === 0);
      expect(asked).toContain("1.4");
      const dump = await call<DumpRequest, DumpResponse__Output>(client.Dump.bind(client), {});
      expect(dump.entries.map((entry) => [entry.key, entry.value.toString(), entry.version])).toEqual([
        ["b", "two", 2],
        ["c", "four", 4],
      ]);
      expect(dump.appliedSeq).toBe(4);
    } finally {
      client.close();
      await replica.stop();
      coordinator.forceShutdown();
    }
  });

  it("holds a read of a key locked by an in-doubt transaction until its outcome is known", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-replica-read-"));
    // A coordinator that is not there yet: the replica cannot learn the outcome.
    const coordinatorPort = await freePort();
    const port = await freePort();
    const replica = await startReplica({ id: "r1", listen: `127.0.0.1:${port}`, dataDir: dir, coordinators: [`127.0.0.1:${coordinatorPort}`], peers: [], compactLogBytes: limits.logCompactBytes, logger });
    const client = participant(port);
    try {
      await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.1", writes: [put("k", "old")], participants: ["r1"] }] });
      await call<CommitRequest, DecisionResponse__Output>(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 1 }] });
      await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.2", writes: [put("k", "new")], participants: ["r1"] }] });
      let answered: string | null = null;
      const read = call<ReadRequest, ReadResponse__Output>(client.Read.bind(client), { epoch: EPOCH, keys: ["k"] }).then((response) => {
        answered = response.results[0]!.value.toString();
        return answered;
      });
      // A read of another key is not held.
      const other = await call<ReadRequest, ReadResponse__Output>(client.Read.bind(client), { epoch: EPOCH, keys: ["other"] });
      expect(other.results[0]?.found).toBe(false);
      expect(answered).toBeNull();
      await call<CommitRequest, DecisionResponse__Output>(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.2", commitSeq: 2 }] });
      expect(await read).toBe("new");

      // With no decision, the read gives up after readWaitTimeoutMs with UNAVAILABLE naming it.
      await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.3", writes: [put("k", "newer")], participants: ["r1"] }] });
      const error = await call<ReadRequest, ReadResponse__Output>(client.Read.bind(client), { epoch: EPOCH, keys: ["k"] }, 10_000).then(
        () => null,
        (e: grpc.ServiceError) => e,
      );
      expect(error?.code).toBe(grpc.status.UNAVAILABLE);
      expect(error?.details).toContain("readWaitTimeoutMs");
    } finally {
      client.close();
      await replica.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    { log: "replayed as written", compactLogBytes: limits.logCompactBytes, kinds: ["promise", "copy", "copy"] },
    { log: "compacted (its live records)", compactLogBytes: 1, kinds: ["promise", "copy"] },
  ])("keeps its promise and its copy of the decision log across a restart (log $log)", async ({ compactLogBytes, kinds }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-replica-promise-"));
    const coordinatorAddress = `127.0.0.1:${await freePort()}`;
    const port = await freePort();
    const start = (): Promise<RunningReplica> => startReplica({ id: "r1", listen: `127.0.0.1:${port}`, dataDir: dir, coordinators: [coordinatorAddress], peers: [], compactLogBytes, logger });
    let replica = await start();
    let client = participant(port);
    const records = [Buffer.from("d1"), Buffer.from([0, 255, 128]), Buffer.from("d3")];
    try {
      const promised = await call<PromiseRequest, PromiseResponse__Output>(client.Promise.bind(client), { epoch: 3, coordinatorId: "c2", coordinatorAddress });
      expect(promised).toMatchObject({ granted: true, promisedEpoch: 3, promisedTo: "c2", logEpoch: 0, logIndex: 0 });
      const base = await call<AppendRequest, AppendResponse__Output>(client.Append.bind(client), {
        epoch: 3,
        coordinatorId: "c2",
        coordinatorAddress,
        base: true,
        more: false,
        baseFirstIndex: 1,
        firstIndex: 1,
        records: records.slice(0, 2),
      });
      expect(base).toMatchObject({ logEpoch: 3, logIndex: 2 });
      const next = await call<AppendRequest, AppendResponse__Output>(client.Append.bind(client), { epoch: 3, coordinatorId: "c2", coordinatorAddress, base: false, firstIndex: 3, records: records.slice(2) });
      expect(next).toMatchObject({ logEpoch: 3, logIndex: 3 });
      // Status is answered only once every turn before it is done, a compaction included: stop()
      // does not wait for one in flight (reported with these tests).
      await call<ParticipantStatusRequest, ParticipantStatusResponse__Output>(client.Status.bind(client), {});
      client.close();
      await replica.stop();
      // What recovery will read: the records as written, or the compacted live records.
      const { log, replayed } = await FileLog.open(path.join(dir, "replica.wal"));
      await log.close();
      expect(replayed.records.map((payload, i) => decodeReplicaRecord(payload, replayed.firstLsn + i).kind)).toEqual(kinds);

      replica = await start();
      client = participant(port);
      const fenced = await call<PrepareRequest, PrepareResponse__Output>(client.Prepare.bind(client), { epoch: 2, coordinatorId: "c1", txns: [{ txnId: "2.1", writes: [put("k", "v")], participants: ["r1"] }] }).then(
        () => null,
        (e: grpc.ServiceError) => e,
      );
      expect(fenced?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(fenced?.details).toContain("fenced: epoch 2 is older than epoch 3, which this replica promised to coordinator c2");
      const successor = await call<PromiseRequest, PromiseResponse__Output>(client.Promise.bind(client), { epoch: 4, coordinatorId: "c3", coordinatorAddress });
      expect(successor).toMatchObject({ granted: true, promisedEpoch: 4, promisedTo: "c3", logEpoch: 3, logFirstIndex: 1, logIndex: 3 });
      const copy = await call<ReadCopyRequest, ReadCopyResponse__Output>(client.ReadCopy.bind(client), { epoch: 4, coordinatorId: "c3", fromIndex: 0 });
      expect(copy).toMatchObject({ logEpoch: 3, logFirstIndex: 1, logIndex: 3 });
      expect(copy.records).toEqual(records);
    } finally {
      client.close();
      await replica.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
