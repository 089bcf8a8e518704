// Proves the full copy's wait (replica/node.ts afterPriorDecisions, replica/DESIGN.md "Full copy"): a
// replica that must take a full copy first settles the transactions it holds prepared, so that a
// write it held in doubt, whose key the rest of the cluster deleted meanwhile (tombstone collected),
// is applied before the copy reaches the key, and the copy deletes it; applied after, it would bring
// the deleted key back. Also: a page that shows the source collected tombstones the copy needs turns
// the catch-up into a full copy, and the rows the source no longer has go.
// How: the replica runs in this process on a random port and is driven with real calls; the source
// of its catch-up is a fake Participant server whose pages we write, and its coordinator a fake
// Coordination server that never answers (the in-doubt transaction stays undecided until the test
// sends its COMMIT, as a coordinator's re-send would).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../cli/logger";
import { limits } from "../../common/limits";
import { channelOptions, participantProto, serverOptions } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import type { FetchResponse } from "../../proto/gen/twopc/participant/FetchResponse";
import { setMutation } from "../../common/mutations";
import { startReplica } from "../../replica/server";
import { freePort, waitFor } from "./harness";
import { backupOf, snapshotFile } from "./snapshot-source";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-full-copy-"));
const logger = createLogger("replica-test", "silent");
const EPOCH = 1;

afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

function call<Req, Res>(method: (req: Req, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: Res) => void) => unknown, request: Req, timeoutMs = 5_000): Promise<Res> {
  return new Promise((resolve, reject) =>
    method(request, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => (error || !response ? reject(error) : resolve(response))),
  );
}

async function serve(service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(serverOptions);
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { server, port };
}

const put = (key: string, value: string) => ({ key, value: Buffer.from(value), delete: false });

describe("a full copy", () => {
  it("waits for the transactions the replica holds prepared, then drops the key the source deleted", async () => {
    // The coordinator: never answers an outcome query (the deadline runs out).
    const coordinator = await serve(participantProto.Coordination.service, { QueryOutcome: () => undefined });
    // The source: collected tombstones up to 2 at the first page (the copy from 2 needs a full copy),
    // up to 5 by the full copy's page, which holds a@1 only (x was written at 3, deleted at 4, and
    // that tombstone collected).
    const fetched: { sinceSeq: number; afterKey: string }[] = [];
    const source = await serve(participantProto.Participant.service, {
      Fetch: (callRef: grpc.ServerUnaryCall<{ sinceSeq: number; afterKey: string }, FetchResponse>, callback: grpc.sendUnaryData<FetchResponse>) => {
        const { sinceSeq, afterKey } = callRef.request;
        fetched.push({ sinceSeq: Number(sinceSeq), afterKey });
        if (Number(sinceSeq) > 0) return callback(null, { rows: [], done: true, collectedThrough: 2 });
        callback(null, { rows: [{ key: "a", value: Buffer.from("1"), deleted: false, version: 1 }], done: true, collectedThrough: 5 });
      },
    });
    const port = await freePort();
    const replica = await startReplica({
      id: "r1",
      listen: `127.0.0.1:${port}`,
      dataDir,
      coordinators: [`127.0.0.1:${coordinator.port}`],
      peers: [],
      compactLogBytes: limits.logCompactBytes,
      // Over Fetch: the snapshot's way is the next test's.
      catchUpSnapshotRows: 0,
      logger,
    });
    const client = new participantProto.Participant(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
    try {
      // a@1 committed; x prepared (it will commit as 3), undecided.
      await call(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.1", writes: [put("a", "1")], participants: ["r1"] }] });
      await call(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 1 }] });
      await call(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.2", writes: [put("x", "in doubt")], participants: ["r1"] }] });

      const caughtUp = call(client.CatchUp.bind(client), { epoch: EPOCH, sourceId: "r9", sourceAddress: `127.0.0.1:${source.port}`, sinceSeq: 2 }, 30_000);
      await waitFor("the first page", () => fetched.length > 0);
      // The replica waits: no page of the full copy while 1.2 is undecided.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(fetched).toEqual([{ sinceSeq: 2, afterKey: "" }]);

      // The coordinator's re-send of the COMMIT arrives: x is applied, then the copy runs and drops it.
      await call(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.2", commitSeq: 3 }] });
      const answer = (await caughtUp) as { rowsCopied: number };
      expect(Number(answer.rowsCopied)).toBe(1);
      expect(fetched).toEqual([
        { sinceSeq: 2, afterKey: "" },
        { sinceSeq: 0, afterKey: "" },
      ]);
      const dump = (await call(client.Dump.bind(client), {})) as { entries: { key: string; value: Buffer; version: number }[] };
      expect(dump.entries.map((entry) => `${entry.key}=${Buffer.from(entry.value).toString()}@${entry.version}`)).toEqual(["a=1@1"]);
      const status = (await call(client.Status.bind(client), {})) as { collectedThrough: number };
      expect(Number(status.collectedThrough)).toBe(2);
      // The write of x, should it come again, stays out (3 is above the horizon 2, but x was
      // deleted: the replica applied 1.2 already, and a decided transaction is not applied twice).
      await call(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.2", commitSeq: 3 }] });
      const again = (await call(client.Dump.bind(client), {})) as { entries: { key: string }[] };
      expect(again.entries.map((entry) => entry.key)).toEqual(["a"]);
    } finally {
      client.close();
      await replica.stop();
      coordinator.server.forceShutdown();
      source.server.forceShutdown();
    }
  });
});

/** A Dump's entries as key=value@version. */
const shown = (entries: readonly { key: string; value: Buffer; version: number }[]): string[] =>
  entries.map((entry) => `${entry.key}=${Buffer.from(entry.value).toString()}@${entry.version}`);

/** The catch-up snapshot files left in a replica's data directory. */
const snapshotsLeft = (dir: string): string[] => fs.readdirSync(dir).filter((name) => name.startsWith("catch-up-snapshot-"));

/**
 * A replica (its own data directory) whose coordinator never answers an outcome query and whose
 * catch-up source is a fake Participant server with `sourceHandlers`; `body` drives it through
 * `client`. Everything is stopped and removed afterwards.
 */
async function withReplica<T>(
  sourceHandlers: grpc.UntypedServiceImplementation,
  catchUpSnapshotRows: number | undefined,
  body: (on: { client: ParticipantClient; dir: string; sourceAddress: string }) => Promise<T>,
): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-snapshot-copy-"));
  const coordinator = await serve(participantProto.Coordination.service, { QueryOutcome: () => undefined });
  const source = await serve(participantProto.Participant.service, sourceHandlers);
  const port = await freePort();
  const replica = await startReplica({
    id: "r1",
    listen: `127.0.0.1:${port}`,
    dataDir: dir,
    coordinators: [`127.0.0.1:${coordinator.port}`],
    peers: [],
    compactLogBytes: limits.logCompactBytes,
    ...(catchUpSnapshotRows === undefined ? {} : { catchUpSnapshotRows }),
    logger,
  });
  const client = new participantProto.Participant(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
  try {
    return await body({ client, dir, sourceAddress: `127.0.0.1:${source.port}` });
  } finally {
    client.close();
    await replica.stop();
    coordinator.server.forceShutdown();
    source.server.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("a catch-up from a snapshot (issue 14)", () => {
  /**
   * The first test's replica and source, but the source streams a snapshot (a@1, collected up to
   * 5): the replica waits for 1.2 before it asks for the snapshot, then installs it, and x goes.
   */
  async function fullCopyFromSnapshot(): Promise<{ backupsDuringWait: number; backups: { forCatchUp: boolean }[]; fetched: number; rowsCopied: number; dump: string[]; collectedThrough: number; leftover: string[] }> {
    const file = await snapshotFile([{ key: "a", value: "1", version: 1 }], 5);
    const backups: { forCatchUp: boolean }[] = [];
    let fetched = 0;
    const source = {
      Fetch: (_call: grpc.ServerUnaryCall<unknown, FetchResponse>, callback: grpc.sendUnaryData<FetchResponse>) => {
        fetched += 1;
        callback(null, { rows: [], done: true, collectedThrough: 2 });
      },
      Backup: backupOf(file, backups),
    };
    return withReplica(source, undefined, async ({ client, dir, sourceAddress }) => {
      await call(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.1", writes: [put("a", "1")], participants: ["r1"] }] });
      await call(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.1", commitSeq: 1 }] });
      await call(client.Prepare.bind(client), { epoch: EPOCH, coordinatorId: "c", txns: [{ txnId: "1.2", writes: [put("x", "in doubt")], participants: ["r1"] }] });
      const caughtUp = call(client.CatchUp.bind(client), { epoch: EPOCH, sourceId: "r9", sourceAddress, sinceSeq: 2 }, 30_000);
      await waitFor("the first page", () => fetched > 0);
      // 1.2 is undecided: no snapshot yet.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const backupsDuringWait = backups.length;
      await call(client.Commit.bind(client), { epoch: EPOCH, txns: [{ txnId: "1.2", commitSeq: 3 }] });
      const answer = (await caughtUp) as { rowsCopied: number };
      const dump = (await call(client.Dump.bind(client), {})) as { entries: { key: string; value: Buffer; version: number }[] };
      const status = (await call(client.Status.bind(client), {})) as { collectedThrough: number };
      return {
        backupsDuringWait,
        backups,
        fetched,
        rowsCopied: Number(answer.rowsCopied),
        dump: shown(dump.entries),
        collectedThrough: Number(status.collectedThrough),
        leftover: snapshotsLeft(dir),
      };
    });
  }

  it("waits for the transactions the replica holds prepared, then installs the snapshot and drops the key it lacks", async () => {
    const result = await fullCopyFromSnapshot();
    expect(result.backupsDuringWait).toBe(0);
    expect(result.backups).toEqual([{ forCatchUp: true }]);
    // One page over Fetch (it showed a full copy was needed), the rest from the snapshot.
    expect(result.fetched).toBe(1);
    expect(result.rowsCopied).toBe(1);
    expect(result.dump).toEqual(["a=1@1"]);
    // The snapshot's horizon, and its file gone.
    expect(result.collectedThrough).toBe(5);
    expect(result.leftover).toEqual([]);
  });

  it("asks for the snapshot while 1.2 is still undecided with the planted bug snapshot-skips-prior-decisions", async () => {
    setMutation("snapshot-skips-prior-decisions");
    try {
      const result = await fullCopyFromSnapshot();
      expect(result.backupsDuringWait).toBe(1);
    } finally {
      setMutation("none");
    }
  });

  /**
   * A replica far behind (catchUpSnapshotRows 2) caught up from a source whose Fetch pages hold two
   * rows each (k1 k2, then k3 k4, the last), with a Backup streaming k1..k4 or (without) none.
   */
  async function farBehind(withBackup: boolean): Promise<{ fetched: string[]; backups: { forCatchUp: boolean }[]; rowsCopied: number; appliedSeq: number; dump: string[]; leftover: string[] }> {
    const rows = ["k1", "k2", "k3", "k4"].map((key, i) => ({ key, value: `v${i + 1}`, version: i + 1 }));
    const file = await snapshotFile(rows, 0);
    const backups: { forCatchUp: boolean }[] = [];
    const fetched: string[] = [];
    const source = {
      Fetch: (callRef: grpc.ServerUnaryCall<{ afterKey: string }, FetchResponse>, callback: grpc.sendUnaryData<FetchResponse>) => {
        fetched.push(callRef.request.afterKey);
        const first = callRef.request.afterKey === "";
        const page = rows.slice(first ? 0 : 2, first ? 2 : 4).map((row) => ({ key: row.key, value: Buffer.from(row.value), deleted: false, version: row.version }));
        callback(null, { rows: page, done: !first, collectedThrough: 0 });
      },
      ...(withBackup ? { Backup: backupOf(file, backups) } : {}),
    };
    return withReplica(source, 2, async ({ client, dir, sourceAddress }) => {
      const answer = (await call(client.CatchUp.bind(client), { epoch: EPOCH, sourceId: "r9", sourceAddress, sinceSeq: 1 }, 30_000)) as { rowsCopied: number; appliedSeq: number };
      const dump = (await call(client.Dump.bind(client), {})) as { entries: { key: string; value: Buffer; version: number }[] };
      return {
        fetched,
        backups,
        rowsCopied: Number(answer.rowsCopied),
        appliedSeq: Number(answer.appliedSeq),
        dump: shown(dump.entries),
        leftover: snapshotsLeft(dir),
      };
    });
  }

  it("a replica far behind takes a snapshot once it has copied catchUpSnapshotRows rows page by page", async () => {
    const result = await farBehind(true);
    // One page (2 rows) over Fetch, then the snapshot's 4 rows; no second page.
    expect(result.fetched).toEqual([""]);
    expect(result.backups).toEqual([{ forCatchUp: true }]);
    expect(result.rowsCopied).toBe(6);
    expect(result.appliedSeq).toBe(4);
    expect(result.dump).toEqual(["k1=v1@1", "k2=v2@2", "k3=v3@3", "k4=v4@4"]);
    expect(result.leftover).toEqual([]);
  });

  it("without a snapshot from the source (Backup unimplemented), goes on over Fetch where it stood", async () => {
    const result = await farBehind(false);
    expect(result.fetched).toEqual(["", "k2"]);
    expect(result.rowsCopied).toBe(4);
    expect(result.dump).toEqual(["k1=v1@1", "k2=v2@2", "k3=v3@3", "k4=v4@4"]);
    expect(result.leftover).toEqual([]);
  });
});
