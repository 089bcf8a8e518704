// Proves that the replica's Session stream (proto/participant.proto, issue 13) is the hot path's
// unary calls over one stream, and nothing else:
//   - every call (Prepare, Commit, Abort, Read, Append), good or malformed, gets over the stream the
//     very answer the unary call gets: the same response, or the same status code and details
//     (INVALID_ARGUMENT naming the field, FAILED_PRECONDITION "fenced" for an old epoch);
//   - a message carrying no call is refused INVALID_ARGUMENT naming `call`, and the stream serves on;
//   - past sessionCallsInFlightMax calls in flight, a call is refused RESOURCE_EXHAUSTED naming the
//     limit, and the stream serves on;
//   - on the coordinator's side (coordinator/replica-link.ts ReplicaSession, through GrpcParticipant
//     as the coordinator node calls it): a replica that stops answering fails the call with
//     DEADLINE_EXCEEDED at its deadline; a replica that dies fails every call waiting on the stream
//     with UNAVAILABLE at once (not at its deadline), and the next call opens a new stream.
// How: one real replica process (`kv replica`, from dist/) on a random free port in a temp directory,
// with a fake Coordination server that knows no outcome; raw gRPC from the test. The replica is
// stopped and killed by its own pid.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import { channelOptions, participantProto, serverOptions } from "../../proto/load";
import type { ParticipantClient } from "../../proto/gen/twopc/participant/Participant";
import type { SessionRequest } from "../../proto/gen/twopc/participant/SessionRequest";
import type { SessionResponse__Output } from "../../proto/gen/twopc/participant/SessionResponse";
import { GrpcParticipant, ReplicaChannel } from "../../coordinator/replica-link";
import { freePort, kvScript, Proc, waitFor } from "./harness";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-session-"));
let replica: Proc;
let port: number;
let client: ParticipantClient;
let fakeCoordinator: grpc.Server;

interface Answer {
  readonly code: number;
  readonly details: string;
  readonly response: unknown;
}

type HotMethod = "Prepare" | "Commit" | "Abort" | "Read" | "Append";
const sessionField = { Prepare: "prepare", Commit: "commit", Abort: "abort", Read: "read", Append: "append" } as const;
const answerField = { Prepare: "prepare", Commit: "decision", Abort: "decision", Read: "read", Append: "append" } as const;

function unary(method: HotMethod, request: unknown): Promise<Answer> {
  return new Promise((resolve) => {
    const fn = (client[method] as (...args: unknown[]) => unknown).bind(client);
    fn(request, { deadline: new Date(Date.now() + 5_000) }, (error: grpc.ServiceError | null, response: unknown) =>
      resolve(error ? { code: error.code, details: error.details, response: undefined } : { code: grpc.status.OK, details: "", response }),
    );
  });
}

/** One stream for the whole file, as a coordinator keeps one: answers by call id. */
let stream: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>;
const waiting = new Map<number, (answer: SessionResponse__Output) => void>();
let nextCallId = 1;

function overSession(request: Omit<SessionRequest, "callId">): Promise<SessionResponse__Output> {
  const callId = nextCallId++;
  return new Promise((resolve) => {
    waiting.set(callId, resolve);
    stream.write({ ...request, callId });
  });
}

async function session(method: HotMethod, request: unknown): Promise<Answer> {
  const answer = await overSession({ [sessionField[method]]: request });
  if (answer.code !== grpc.status.OK) return { code: answer.code, details: answer.details, response: undefined };
  return { code: grpc.status.OK, details: "", response: answer[answerField[method]] };
}

/** The call over the stream, then the same call unary: both answers, for the test to compare. */
async function both(method: HotMethod, request: unknown): Promise<{ session: Answer; unary: Answer }> {
  const overStream = await session(method, request);
  return { session: overStream, unary: await unary(method, request) };
}

const put = (key: string, value: string) => ({ key, value: Buffer.from(value), delete: false });
const prepareOf = (txnId: string, key: string, epoch = 1) => ({ coordinatorId: "c", txns: [{ txnId, writes: [put(key, txnId)], participants: ["r1"] }], epoch });

beforeAll(async () => {
  fakeCoordinator = new grpc.Server(serverOptions);
  fakeCoordinator.addService(participantProto.Coordination.service, {
    QueryOutcome: (_callRef: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback({ code: grpc.status.UNAVAILABLE, details: "fake coordinator" }),
  });
  const coordinatorPort = await new Promise<number>((resolve, reject) =>
    fakeCoordinator.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  port = await freePort();
  const child = spawn(
    process.execPath,
    [kvScript, "replica", "--id", "r1", "--listen", `127.0.0.1:${port}`, "--data-dir", path.join(dataDir, "r1"), "--coordinator", `127.0.0.1:${coordinatorPort}`, "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  replica = new Proc("r1", child);
  client = new participantProto.Participant(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), channelOptions) as unknown as ParticipantClient;
  await waitFor("the replica to answer Read", async () => (await unary("Read", { keys: ["x"], epoch: 1 })).code === grpc.status.OK);
  stream = client.Session();
  // Answers written in one go come as the items of one envelope (proto/session.ts).
  stream.on("data", (message: SessionResponse__Output) => {
    const answers = message.more.length > 0 ? message.more.map((bytes) => participantProto.Participant.service.Session.responseDeserialize(bytes)) : [message];
    for (const answer of answers) {
      const resolve = waiting.get(answer.callId);
      waiting.delete(answer.callId);
      resolve?.(answer);
    }
  });
  stream.on("error", () => undefined);
});

afterAll(async () => {
  stream?.cancel();
  client?.close();
  await replica?.kill("SIGKILL");
  fakeCoordinator?.forceShutdown();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe("a Session message is its unary call", () => {
  it("good calls: the same votes, acknowledgements, rows and copy positions", async () => {
    // Over the stream first, then unary on other transactions and keys: the answers must match.
    const viaSession = [
      await session("Prepare", prepareOf("1.1", "a")),
      await session("Commit", { txns: [{ txnId: "1.1", commitSeq: 1 }], epoch: 1 }),
      await session("Prepare", prepareOf("1.2", "b")),
      await session("Abort", { txnIds: ["1.2"], epoch: 1 }),
      await session("Read", { keys: ["a", "b"], epoch: 1 }),
    ];
    const viaUnary = [
      await unary("Prepare", prepareOf("1.3", "c")),
      await unary("Commit", { txns: [{ txnId: "1.3", commitSeq: 2 }], epoch: 1 }),
      await unary("Prepare", prepareOf("1.4", "d")),
      await unary("Abort", { txnIds: ["1.4"], epoch: 1 }),
    ];
    // The unary answers, about 1.3 and 1.4, are those over the stream about 1.1 and 1.2.
    const asFirst = (answer: Answer): unknown => JSON.parse(JSON.stringify(answer).replaceAll('"1.3"', '"1.1"').replaceAll('"1.4"', '"1.2"'));
    expect(viaSession.slice(0, 4)).toEqual(viaUnary.map(asFirst));
    expect(viaSession[0]).toMatchObject({ code: grpc.status.OK, response: { replicaId: "r1", votes: [{ txnId: "1.1", vote: "VOTE_YES" }] } });
    expect(viaSession[1]).toMatchObject({ code: grpc.status.OK, response: { replicaId: "r1", ackedTxnIds: ["1.1"] } });
    expect(viaSession[3]).toMatchObject({ code: grpc.status.OK, response: { replicaId: "r1", ackedTxnIds: ["1.2"] } });
    // The rows read over the stream: a (committed at version 1) and no b (aborted).
    const rows = (viaSession[4]!.response as { results: { key: string; found: boolean; version: number }[] }).results;
    expect(rows.map((row) => ({ key: row.key, found: row.found, version: row.version }))).toEqual([
      { key: "a", found: true, version: 1 },
      { key: "b", found: false, version: 0 },
    ]);
    const append = await both("Append", { epoch: 1, coordinatorId: "c", coordinatorAddress: "127.0.0.1:1", base: true, more: false, baseFirstIndex: 1, firstIndex: 1, records: [Buffer.from("start")] });
    expect(append.session).toEqual(append.unary);
    expect(append.session.code).toBe(grpc.status.OK);
  });

  it("malformed calls: the same status code and details, naming the field", async () => {
    const cases: [HotMethod, unknown][] = [
      ["Prepare", { ...prepareOf("../../etc", "e") }],
      ["Prepare", { coordinatorId: "c", txns: [{ txnId: "1.9", writes: [put("e", "v")], participants: ["r1"] }] }],
      ["Commit", { txns: [{ txnId: "1.9", commitSeq: 0 }], epoch: 1 }],
      ["Abort", { txnIds: ["not-an-id"], epoch: 1 }],
      ["Read", { keys: [], epoch: 1 }],
      ["Append", { epoch: 1, coordinatorId: "c", coordinatorAddress: "", base: false, more: false, baseFirstIndex: 0, firstIndex: 0, records: [] }],
    ];
    for (const [method, request] of cases) {
      const answers = await both(method, request);
      expect({ method, ...answers.session }).toEqual({ method, ...answers.unary });
      expect({ method, code: answers.session.code }).toEqual({ method, code: grpc.status.INVALID_ARGUMENT });
    }
  });

  it("a call of an epoch the replica has fenced: FAILED_PRECONDITION fenced, alike", async () => {
    // Epoch 2 is promised by its first call; epoch 1 is fenced from then on.
    expect((await session("Read", { keys: ["a"], epoch: 2 })).code).toBe(grpc.status.OK);
    const answers = await both("Prepare", prepareOf("1.20", "f"));
    expect(answers.session).toEqual(answers.unary);
    expect(answers.session.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(answers.session.details).toMatch(/fenced/);
  });

  it("a message with no call is refused INVALID_ARGUMENT naming call, and the stream serves on", async () => {
    const answer = await overSession({});
    expect(answer.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(answer.details).toMatch(/^call: /);
    expect((await session("Read", { keys: ["a"], epoch: 2 })).code).toBe(grpc.status.OK);
  });

  it("an envelope's items are calls in order; an item that does not decode, or is an envelope, is dropped and the replica serves on", async () => {
    const method = participantProto.Participant.service.Session;
    const answered = (callId: number): Promise<SessionResponse__Output> => new Promise((resolve) => waiting.set(callId, resolve));
    const [first, second, nested] = [nextCallId++, nextCallId++, nextCallId++];
    const good = [answered(first), answered(second)];
    void answered(nested); // must never come: its waiter stays
    stream.write({
      more: [
        Buffer.from([0xff, 0xff, 0xff, 0xff]),
        method.requestSerialize({ callId: first, prepare: prepareOf("2.30", "env", 2) }),
        method.requestSerialize({ more: [method.requestSerialize({ callId: nested, read: { keys: ["a"], epoch: 2 } })] }),
        // In order: the commit comes after the prepare of the same envelope.
        method.requestSerialize({ callId: second, commit: { txns: [{ txnId: "2.30", commitSeq: 40 }], epoch: 2 } }),
      ],
    });
    const [prepared, committed] = await Promise.all(good);
    expect(prepared).toMatchObject({ code: grpc.status.OK, prepare: { votes: [{ txnId: "2.30", vote: "VOTE_YES" }] } });
    expect(committed).toMatchObject({ code: grpc.status.OK, decision: { ackedTxnIds: ["2.30"] } });
    const read = await session("Read", { keys: ["env"], epoch: 2 });
    expect(read.response).toMatchObject({ results: [{ key: "env", found: true, version: 40 }] });
    expect(waiting.has(nested)).toBe(true);
    waiting.delete(nested);
    expect(replica.alive).toBe(true);
  });
});

describe("a session's calls in flight are bounded (sessionCallsInFlightMax)", () => {
  it("the call past the limit is refused at once with RESOURCE_EXHAUSTED naming it; the ones before wait", async () => {
    // Reads of a key held by a prepared transaction wait (readWaitTimeoutMs): they stay in flight.
    expect((await session("Prepare", prepareOf("2.1", "held", 2))).code).toBe(grpc.status.OK);
    const waiting = Array.from({ length: limits.sessionCallsInFlightMax }, () => session("Read", { keys: ["held"], epoch: 2 }));
    const refused = await session("Read", { keys: ["held"], epoch: 2 });
    expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(refused.details).toContain("sessionCallsInFlightMax");
    // The waiting ones end as parked reads do (not refused for the limit), and the stream serves on.
    const ended = await Promise.all(waiting);
    expect(ended.every((answer) => answer.code !== grpc.status.RESOURCE_EXHAUSTED)).toBe(true);
    expect((await session("Abort", { txnIds: ["2.1"], epoch: 2 })).code).toBe(grpc.status.OK);
    expect((await session("Read", { keys: ["held"], epoch: 2 })).code).toBe(grpc.status.OK);
  });
});

describe("the coordinator's side of the stream (ReplicaSession)", () => {
  it("a silent replica fails the call at its deadline; a dead one fails every waiting call at once with UNAVAILABLE", async () => {
    const channel = new ReplicaChannel("r1", `127.0.0.1:${port}`);
    const participant = new GrpcParticipant(channel, 2, "c", "127.0.0.1:1", () => undefined);
    try {
      const read = (timeoutMs: number) =>
        new Promise<{ ok: boolean; code?: number; ms: number }>((resolve) => {
          const started = Date.now();
          participant.read(["a"], timeoutMs, (result) => resolve({ ok: result.ok, ...(result.ok ? {} : { code: result.code }), ms: Date.now() - started }));
        });
      expect((await read(5_000)).ok).toBe(true);
      replica.child.kill("SIGSTOP");
      const silent = await read(300);
      expect(silent).toMatchObject({ ok: false, code: grpc.status.DEADLINE_EXCEEDED });
      // Calls waiting on the stream when the process dies: failed when the connection drops, well
      // before their 20 s deadline.
      const waitingCalls = [read(20_000), read(20_000)];
      await replica.kill("SIGKILL");
      const dead = await Promise.all(waitingCalls);
      for (const call of dead) {
        expect(call).toMatchObject({ ok: false, code: grpc.status.UNAVAILABLE });
        expect(call.ms).toBeLessThan(10_000);
      }
      // The next call opens a new stream (and fails: nothing listens).
      expect(await read(2_000)).toMatchObject({ ok: false });
    } finally {
      channel.close();
    }
  });
});
