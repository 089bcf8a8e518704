// Proves that no message sent straight to a replica's participant port can kill it or change its
// data (issue 10): the exact two calls of the issue (a PREPARE of txn id "../../etc" from coordinator
// "nobody", then a COMMIT of it without commit_seq), commits and aborts contradicting what the
// replica decided, over-limit batches and malformed fields of every method are answered with
// INVALID_ARGUMENT or FAILED_PRECONDITION naming the field, the transaction or the limit; the
// process stays alive (by pid) and serving (Status answers), its Dump checksum and its write-ahead
// log are unchanged by the refused calls, and a transaction prepared before them stays prepared.
// Also: bogus answers to the replica's own outcome queries (COMMIT with commit_seq 0, an id it did
// not ask about) are dropped with a log line instead of crashing it.
//
// Failover (issue 12): every call a coordinator makes carries its epoch. The replica has no real
// coordinator here, so the test speaks as one of epoch 1 (then 2, once it has fenced epoch 1): a call
// without an epoch is refused INVALID_ARGUMENT naming the field; after a call of epoch 2, every call
// of epoch 1 is refused FAILED_PRECONDITION "fenced" and changes nothing; Promise and Append with
// malformed fields are refused INVALID_ARGUMENT naming the field. A call's transaction ids are of its
// epoch (a Prepare) or of it or an earlier one (a Commit or Abort): a Prepare of "9007199254740991.1"
// in a call of epoch 1 (the request that once made every later takeover fail), and a Commit or Abort
// naming an id of a later epoch, are refused INVALID_ARGUMENT naming that id's field, change neither
// the store nor the log, and leave the highest epoch of an id the replica saw (max_txn_epoch, what a
// new coordinator must pass) as it was; a decision of an earlier epoch's transaction is taken (1.3,
// committed in epoch 2 at the end).
//
// How: one real replica process (`kv replica`, from dist/) on a random free port in a temp
// directory; its coordinator address is a fake Coordination server in this test that answers only
// bogus outcomes. Raw gRPC calls go to the participant port; the replica is killed by its own pid
// at the end.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import { channelOptions, participantProto, serverOptions } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import { freePort, isAlive, kvScript, Proc, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-participant-port-"));
const walPath = path.join(dataDir, "r1", "replica.wal");
let replica: Proc;
let client: ParticipantClient;
let fakeCoordinator: grpc.Server;
const asked: string[] = [];
/**
 * The epoch this test's calls carry, as the replica's coordinator would: 1 until the fencing test
 * makes the replica promise epoch 2 (after which a call of epoch 1 is fenced).
 */
let epoch = 1;

interface Result {
  readonly code: number;
  readonly details: string;
  readonly response: unknown;
}

/** One unary call; resolves with the status code (0 for OK) and details, never rejects. */
function send(method: keyof ParticipantClient, request: unknown, timeoutMs = 5_000): Promise<Result> {
  return new Promise((resolve) => {
    const fn = (client[method] as (...args: unknown[]) => unknown).bind(client);
    fn(request, { deadline: new Date(Date.now() + timeoutMs) }, (error: grpc.ServiceError | null, response: unknown) =>
      resolve(error ? { code: error.code, details: error.details, response: undefined } : { code: grpc.status.OK, details: "", response }),
    );
  });
}

async function expectCode(method: keyof ParticipantClient, request: unknown, code: grpc.status, detail: string | RegExp): Promise<void> {
  const result = await send(method, request);
  expect({ method, code: result.code }).toEqual({ method, code });
  expect(result.details).toMatch(detail);
}

const put = (key: string, value: string) => ({ key, value: Buffer.from(value), delete: false });

async function dumpChecksum(): Promise<{ checksum: string; appliedSeq: number }> {
  const dump = await send("Dump", {});
  expect(dump.code).toBe(grpc.status.OK);
  const response = dump.response as { checksum: string; appliedSeq: number };
  return { checksum: response.checksum, appliedSeq: response.appliedSeq };
}

async function prepared(): Promise<string[]> {
  const status = await send("Status", {});
  expect(status.code).toBe(grpc.status.OK);
  return (status.response as { prepared: { txnId: string }[] }).prepared.map((txn) => txn.txnId);
}

beforeAll(async () => {
  // The replica's coordinator: answers every outcome query with nonsense.
  fakeCoordinator = new grpc.Server(serverOptions);
  fakeCoordinator.addService(participantProto.Coordination.service, {
    QueryOutcome: (callRef: grpc.ServerUnaryCall<{ txnIds: string[] }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      asked.push(...callRef.request.txnIds);
      callback(null, {
        outcomes: [
          ...callRef.request.txnIds.map((txnId) => ({ txnId, outcome: "OUTCOME_COMMIT", commitSeq: 0 })),
          { txnId: "9.9", outcome: "OUTCOME_COMMIT", commitSeq: 5 },
        ],
      });
    },
  });
  const coordinatorPort = await new Promise<number>((resolve, reject) =>
    fakeCoordinator.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [kvScript, "replica", "--id", "r1", "--listen", `127.0.0.1:${port}`, "--data-dir", path.join(dataDir, "r1"), "--coordinator", `127.0.0.1:${coordinatorPort}`, "--log-level", "info"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  replica = new Proc("r1", child);
  client = new participantProto.Participant(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
  await waitFor("the replica to answer Status", async () => (await send("Status", {}, 1_000)).code === grpc.status.OK);
});

afterAll(async () => {
  client?.close();
  await replica?.kill("SIGKILL");
  fakeCoordinator?.forceShutdown();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("the participant port refuses bad input and keeps serving", () => {
  let before: { checksum: string; appliedSeq: number };
  let walBytes: number;

  it("seeds state: 1.1 committed (seq 1), 1.2 aborted, 1.3 prepared", async () => {
    const prepare = (txnId: string, key: string) => send("Prepare", { coordinatorId: "c", txns: [{ txnId, writes: [put(key, txnId)], participants: ["r1"] }], epoch });
    expect(await prepare("1.1", "a")).toMatchObject({ code: grpc.status.OK });
    expect(await send("Commit", { txns: [{ txnId: "1.1", commitSeq: 1 }], epoch })).toMatchObject({ code: grpc.status.OK });
    expect(await prepare("1.2", "b")).toMatchObject({ code: grpc.status.OK });
    expect(await send("Abort", { txnIds: ["1.2"], epoch })).toMatchObject({ code: grpc.status.OK });
    // Forced, so the abort record before it is on disk too: the log's size is settled.
    expect(await prepare("1.3", "c")).toMatchObject({ code: grpc.status.OK });
    expect(await prepared()).toEqual(["1.3"]);
    before = await dumpChecksum();
    expect(before.appliedSeq).toBe(1);
    walBytes = fs.statSync(walPath).size;
  });

  it("survives the two calls of issue 10: PREPARE of ../../etc from coordinator nobody, then its COMMIT without commit_seq", async () => {
    const prepare = await send("Prepare", { coordinatorId: "nobody", txns: [{ txnId: "../../etc", writes: [put("x", "evil")], participants: ["nobody"] }], epoch });
    const commit = await send("Commit", { txns: [{ txnId: "../../etc" }], epoch });
    // Alive first: before the fix, the commit killed the process (an assertion in replica/core.ts).
    expect(await send("Status", {}, 2_000)).toMatchObject({ code: grpc.status.OK });
    expect(isAlive(replica.pid)).toBe(true);
    expect(prepare.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(prepare.details).toContain('txns[0].txn_id "../../etc" is not a transaction id');
    expect(commit.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(commit.details).toContain("txns[0].txn_id");
  });

  it("refuses a commit without commit_seq of a transaction it holds prepared", async () => {
    await expectCode("Commit", { txns: [{ txnId: "1.3" }], epoch }, grpc.status.INVALID_ARGUMENT, /txns\[0\]\.commit_seq is 0/);
  });

  it("refuses commits and aborts that contradict what it decided (FAILED_PRECONDITION, naming the transaction)", async () => {
    await expectCode("Commit", { txns: [{ txnId: "1.2", commitSeq: 2 }], epoch }, grpc.status.FAILED_PRECONDITION, "commit of 1.2, which this replica aborted");
    await expectCode("Abort", { txnIds: ["1.1"], epoch }, grpc.status.FAILED_PRECONDITION, "abort of 1.1, which this replica committed");
    await expectCode("Commit", { txns: [{ txnId: "1.1", commitSeq: 9 }], epoch }, grpc.status.FAILED_PRECONDITION, "txns[0].commit_seq: commit of 1.1 with commit sequence number 9, but this replica committed it with 1");
    // Refused whole: 1.3, which alone could commit, stays prepared.
    await expectCode("Commit", { txns: [{ txnId: "1.3", commitSeq: 2 }, { txnId: "1.2", commitSeq: 3 }], epoch }, grpc.status.FAILED_PRECONDITION, "txns[1]: commit of 1.2, which this replica aborted");
    await expectCode("Abort", { txnIds: ["1.3", "1.1"], epoch }, grpc.status.FAILED_PRECONDITION, "txn_ids[1]: abort of 1.1, which this replica committed");
    expect(await prepared()).toEqual(["1.3"]);
  });

  it("refuses over-limit batches, naming the limit", async () => {
    const ids = (count: number) => Array.from({ length: count }, (_, i) => `2.${i + 1}`);
    await expectCode("Abort", { txnIds: ids(limits.txnIdsPerCallMax + 1), epoch }, grpc.status.INVALID_ARGUMENT, `txn_ids is ${limits.txnIdsPerCallMax + 1} transaction ids; the limit is ${limits.txnIdsPerCallMax} (txnIdsPerCallMax)`);
    await expectCode(
      "Prepare",
      { coordinatorId: "c", txns: ids(limits.txnsPerBatchMax + 1).map((txnId) => ({ txnId, writes: [put(`k${txnId}`, "v")], participants: ["r1"] })), epoch },
      grpc.status.INVALID_ARGUMENT,
      "(txnsPerBatchMax)",
    );
    await expectCode("Commit", { txns: ids(limits.txnsPerBatchMax + 1).map((txnId) => ({ txnId, commitSeq: 1 })), epoch }, grpc.status.INVALID_ARGUMENT, "(txnsPerBatchMax)");
    await expectCode("Read", { keys: Array.from({ length: limits.keysPerReadMax + 1 }, (_, i) => `k${i}`), epoch }, grpc.status.INVALID_ARGUMENT, "(keysPerReadMax)");
    await expectCode("PeerOutcome", { replicaId: "r2", txnIds: ids(limits.txnIdsPerCallMax + 1) }, grpc.status.INVALID_ARGUMENT, "(txnIdsPerCallMax)");
    await expectCode(
      "Prepare",
      { coordinatorId: "c", txns: [{ txnId: "2.1", writes: Array.from({ length: limits.txnOpsMax + 1 }, (_, i) => put(`k${i}`, "v")), participants: ["r1"] }], epoch },
      grpc.status.INVALID_ARGUMENT,
      "txns[0].writes is 129 writes; the limit is 128 (txnOpsMax)",
    );
  });

  it("refuses malformed fields of every method, naming the field", async () => {
    const prepare = (txn: object) => ({ coordinatorId: "c", txns: [{ txnId: "2.1", writes: [put("k", "v")], participants: ["r1"], ...txn }], epoch });
    await expectCode("Prepare", prepare({ participants: ["r2", "r3"] }), grpc.status.INVALID_ARGUMENT, /txns\[0\]\.participants does not name this replica/);
    await expectCode("Prepare", prepare({ writes: [] }), grpc.status.INVALID_ARGUMENT, /txns\[0\]\.writes is empty/);
    await expectCode("Prepare", { ...prepare({}), coordinatorId: "" }, grpc.status.INVALID_ARGUMENT, /coordinator_id is missing/);
    await expectCode("Prepare", { coordinatorId: "c", txns: [prepare({}).txns[0], prepare({}).txns[0]], epoch }, grpc.status.INVALID_ARGUMENT, /txns\[1\]\.txn_id 2\.1 repeats txns\[0\]\.txn_id/);
    await expectCode("Commit", { txns: [{ txnId: "3.1", commitSeq: 1 }, { txnId: "3.1", commitSeq: 2 }], epoch }, grpc.status.INVALID_ARGUMENT, /txns\[1\]\.commit_seq is 2, but txns\[0\] commits 3\.1 with 1/);
    await expectCode("Read", { keys: [], epoch }, grpc.status.INVALID_ARGUMENT, /keys is empty/);
    await expectCode("PeerOutcome", { replicaId: "", txnIds: ["2.1"] }, grpc.status.INVALID_ARGUMENT, /replica_id is missing/);
    await expectCode("Inspect", { txnIds: ["1.x"] }, grpc.status.INVALID_ARGUMENT, /txn_ids\[0\]/);
    await expectCode("Fetch", { sinceSeq: 0, afterKey: "k".repeat(limits.keyBytesMax + 1), limit: 10 }, grpc.status.INVALID_ARGUMENT, /after_key .*\(keyBytesMax\)/);
    await expectCode("CatchUp", { sourceId: "r2", sourceAddress: "not-an-address", sinceSeq: 0, epoch }, grpc.status.INVALID_ARGUMENT, /source_address "not-an-address" is not HOST:PORT/);
    await expectCode("CatchUp", { sourceId: "", sourceAddress: "127.0.0.1:1", sinceSeq: 0, epoch }, grpc.status.INVALID_ARGUMENT, /source_id is missing/);
  });

  // Each call below is well formed but for its epoch: without the epoch check, the Commit would commit
  // 1.3, the Abort abort it, the Prepare lock "e", and the Promise and Append change what the replica
  // promised or its copy of the decision log; the later tests would see it. The Prepare's id is of
  // epoch 1, the epoch it is sent with once fenced, so that the fence refuses it, not the id's epoch.
  const epochCalls = (): [keyof ParticipantClient, Record<string, unknown>][] => [
    ["Prepare", { coordinatorId: "c", txns: [{ txnId: "1.4", writes: [put("e", "v")], participants: ["r1"] }] }],
    ["Commit", { txns: [{ txnId: "1.3", commitSeq: 2 }] }],
    ["Abort", { txnIds: ["1.3"] }],
    ["Read", { keys: ["a"] }],
    ["CatchUp", { sourceId: "r2", sourceAddress: "127.0.0.1:1", sinceSeq: 0 }],
    ["Append", { coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1", firstIndex: 1, records: [Buffer.from("not a record")] }],
    ["ReadCopy", { coordinatorId: "c2", fromIndex: 0 }],
  ];

  it("refuses a Prepare of 9007199254740991.1 in epoch 1, and a Commit or Abort naming a later epoch's id (INVALID_ARGUMENT naming it), changing nothing", async () => {
    expect(epoch).toBe(1);
    const huge = `${Number.MAX_SAFE_INTEGER}.1`;
    const of = (txnId: string, field: string, verb: string) =>
      `${field} ${txnId} is of epoch ${txnId.split(".")[0]}, but the call is of epoch 1: a coordinator ${verb}`;
    const prepareOnly = "prepares only transactions of its own epoch";
    const decidesNone = "decides no transaction of a later epoch";
    await expectCode("Prepare", { coordinatorId: "c", txns: [{ txnId: huge, writes: [put("m", "evil")], participants: ["r1"] }], epoch }, grpc.status.INVALID_ARGUMENT, of(huge, "txns[0].txn_id", prepareOnly));
    // Refused whole: 1.5, of the call's epoch, is not prepared either.
    await expectCode(
      "Prepare",
      { coordinatorId: "c", txns: [{ txnId: "1.5", writes: [put("m", "v")], participants: ["r1"] }, { txnId: "2.1", writes: [put("n", "v")], participants: ["r1"] }], epoch },
      grpc.status.INVALID_ARGUMENT,
      of("2.1", "txns[1].txn_id", prepareOnly),
    );
    // 1.3, which alone could be decided, stays prepared.
    await expectCode("Commit", { txns: [{ txnId: "1.3", commitSeq: 2 }, { txnId: "2.1", commitSeq: 3 }], epoch }, grpc.status.INVALID_ARGUMENT, of("2.1", "txns[1].txn_id", decidesNone));
    await expectCode("Commit", { txns: [{ txnId: huge, commitSeq: 2 }], epoch }, grpc.status.INVALID_ARGUMENT, of(huge, "txns[0].txn_id", decidesNone));
    await expectCode("Abort", { txnIds: ["1.3", huge], epoch }, grpc.status.INVALID_ARGUMENT, of(huge, "txn_ids[1]", decidesNone));
    expect(isAlive(replica.pid)).toBe(true);
    expect(await prepared()).toEqual(["1.3"]);
    expect(await dumpChecksum()).toEqual(before);
    expect(fs.statSync(walPath).size).toBe(walBytes);
    // The highest epoch of an id it saw is still 1: a new coordinator need only pass epoch 1.
    const promise = await send("Promise", { epoch: 1, coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1" });
    expect(promise).toMatchObject({ code: grpc.status.OK, response: { granted: false, promisedEpoch: 1, maxTxnEpoch: 1 } });
  });

  it("refuses a coordinator's call without an epoch (INVALID_ARGUMENT naming epoch), whatever the method", async () => {
    for (const [method, request] of [...epochCalls(), ["Promise", { coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1" }] as const]) {
      await expectCode(method, request, grpc.status.INVALID_ARGUMENT, /^epoch is missing/);
    }
    expect(await prepared()).toEqual(["1.3"]);
    expect(await dumpChecksum()).toEqual(before);
  });

  it("after a call of epoch 2, refuses every call of epoch 1 (FAILED_PRECONDITION, fenced), changing nothing", async () => {
    // Epoch 2 comes with a call that asks nothing else: an empty batch of prepares. The replica
    // forces its promise of epoch 2 before it answers.
    expect(await send("Prepare", { coordinatorId: "c", txns: [], epoch: 2 })).toMatchObject({ code: grpc.status.OK });
    const promisedWalBytes = fs.statSync(walPath).size;
    expect(promisedWalBytes).toBeGreaterThan(walBytes);
    for (const [method, request] of epochCalls()) {
      await expectCode(method, { ...request, epoch: 1 }, grpc.status.FAILED_PRECONDITION, /fenced: epoch 1 is older than epoch 2, which this replica promised/);
    }
    // A Promise of epoch 1 is not granted: the answer says what the replica promised, and that its copy of the log is empty.
    const promise = await send("Promise", { epoch: 1, coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1" });
    expect(promise).toMatchObject({ code: grpc.status.OK, response: { granted: false, promisedEpoch: 2, logEpoch: 0, logFirstIndex: 0, logIndex: 0 } });
    // The coordinator of epoch 2 may read that copy (empty); one of epoch 3, never promised, may not.
    expect(await send("ReadCopy", { epoch: 2, coordinatorId: "c", fromIndex: 0 })).toMatchObject({ code: grpc.status.OK, response: { logEpoch: 0, logIndex: 0, records: [] } });
    await expectCode("ReadCopy", { epoch: 3, coordinatorId: "c", fromIndex: 0 }, grpc.status.FAILED_PRECONDITION, /^replica r1: epoch 3 was not promised here|epoch 3 was not promised here/);
    expect(await prepared()).toEqual(["1.3"]);
    expect(await dumpChecksum()).toEqual(before);
    expect(fs.statSync(walPath).size).toBe(promisedWalBytes);
    walBytes = promisedWalBytes;
    epoch = 2;
  });

  it("refuses Promise and Append with a malformed field (INVALID_ARGUMENT naming it) and lives", async () => {
    // Well formed but for one field each. The Promise is of epoch 3, which would be granted; the
    // Append of epoch 2, the one promised, whose records would be taken into the copy of the log.
    const promise = { epoch: 3, coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1" };
    const append = { epoch: 2, coordinatorId: "c2", coordinatorAddress: "127.0.0.1:1", firstIndex: 1, records: [Buffer.from("not a record")] };
    await expectCode("Promise", { ...promise, coordinatorId: "" }, grpc.status.INVALID_ARGUMENT, /^coordinator_id is missing/);
    await expectCode("Promise", { ...promise, coordinatorAddress: "not-an-address" }, grpc.status.INVALID_ARGUMENT, /^coordinator_address "not-an-address" is not HOST:PORT/);
    await expectCode("ReadCopy", { epoch: 2, coordinatorId: "", fromIndex: 0 }, grpc.status.INVALID_ARGUMENT, /^coordinator_id is missing/);
    await expectCode("Append", { ...append, coordinatorId: "" }, grpc.status.INVALID_ARGUMENT, /^coordinator_id is missing/);
    await expectCode("Append", { ...append, coordinatorAddress: "127.0.0.1" }, grpc.status.INVALID_ARGUMENT, /^coordinator_address "127\.0\.0\.1" is not HOST:PORT/);
    await expectCode("Append", { ...append, firstIndex: 0 }, grpc.status.INVALID_ARGUMENT, /^first_index is 0/);
    await expectCode("Append", { ...append, records: [] }, grpc.status.INVALID_ARGUMENT, /^records is empty/);
    await expectCode("Append", { ...append, more: true }, grpc.status.INVALID_ARGUMENT, /^more is set on an Append that is not a base/);
    await expectCode("Append", { ...append, base: true, baseFirstIndex: 5, firstIndex: 2 }, grpc.status.INVALID_ARGUMENT, /^base_first_index 5 is after first_index 2/);
    await expectCode(
      "Append",
      { ...append, records: Array.from({ length: limits.appendRecordsMax + 1 }, () => Buffer.from("r")) },
      grpc.status.INVALID_ARGUMENT,
      `records is ${limits.appendRecordsMax + 1} records; the limit is ${limits.appendRecordsMax} (appendRecordsMax)`,
    );
    expect(isAlive(replica.pid)).toBe(true);
    // Nothing was promised or taken: still epoch 2, and the copy of the log is empty.
    expect(await send("Promise", { ...promise, epoch: 2 })).toMatchObject({ code: grpc.status.OK, response: { granted: false, promisedEpoch: 2, logEpoch: 0, logIndex: 0 } });
    expect(fs.statSync(walPath).size).toBe(walBytes);
  });

  it("drops bogus answers to its own outcome queries (COMMIT with commit_seq 0, an id it did not ask about) and stays up", async () => {
    // 1.3 is in doubt: the replica asks its (fake) coordinator after inDoubtQueryAfterMs, with backoff.
    await waitFor("two outcome queries about 1.3", () => asked.filter((txnId) => txnId === "1.3").length >= 2, 20_000);
    await waitFor("the log line of the dropped answer", () => replica.output.some((line) => line.includes("answer-items-dropped")), 5_000);
    expect(await prepared()).toEqual(["1.3"]);
  });

  it("is still the same process, serving, with its store and log unchanged by every refused call", async () => {
    expect(replica.alive).toBe(true);
    expect(isAlive(replica.pid)).toBe(true);
    expect(await dumpChecksum()).toEqual(before);
    expect(fs.statSync(walPath).size).toBe(walBytes);
    // And it still does its job: 1.3 commits.
    expect(epoch).toBe(2);
    expect(await send("Commit", { txns: [{ txnId: "1.3", commitSeq: 2 }], epoch })).toMatchObject({ code: grpc.status.OK });
    expect((await dumpChecksum()).appliedSeq).toBe(2);
  });
});
