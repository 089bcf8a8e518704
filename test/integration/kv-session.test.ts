// The client-facing Session stream (kv.proto Session, issue 13): what the client library sends. A
// message on it means exactly what the unary call of the same name means, on a real cluster:
// - a put sent as a Session message and again, under the same request id, as a unary Put is one
//   request: the second gets the first's version and txn id, and nothing is applied twice;
// - a get on the stream sees the write; a message that names no call, or a put with a bad field,
//   is refused INVALID_ARGUMENT naming the field, and the coordinator lives and serves;
// - a standby answers a Session message UNAVAILABLE with the active coordinator's address in
//   active_coordinator (the unary call's kv-active-coordinator trailer), nothing applied;
// - a brief Status (kv cluster's poll) says ready for the active coordinator and why not for a
//   standby, without asking the replicas; on the stream too (the coordinators' polls of each other),
//   where a standby answers it as well;
// - calls made in one go travel as one envelope message, and their answers come back in few; a call
//   larger than sessionBatchBytesMax goes alone, in its place in the order; an envelope whose item
//   does not decode, or is itself an envelope, is refused (logged), and the coordinator serves on;
// - a session to a server that accepts the TCP connection and never speaks (as a stopped process's
//   kernel does) fails its calls UNAVAILABLE once clientConnectTimeoutMs is over, long before their
//   deadline, so that the client goes on to the next coordinator.
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limits } from "../../common/limits";
import { ClientSession } from "../../proto/session";
import { kvProto } from "../../proto/load";
import type { KvClient as KvStub } from "../../proto/gen/twopc/kv/Kv";
import type { KvSessionRequest } from "../../proto/gen/twopc/kv/KvSessionRequest";
import type { KvSessionResponse__Output } from "../../proto/gen/twopc/kv/KvSessionResponse";
import type { PutResponse__Output } from "../../proto/gen/twopc/kv/PutResponse";
import type { StatusResponse__Output } from "../../proto/gen/twopc/kv/StatusResponse";
import { killAllStarted, TestCluster, waitFor } from "./harness";

afterAll(async () => {
  await killAllStarted();
});

type Session = ClientSession<KvSessionRequest, KvSessionResponse__Output>;

function call(session: Session, request: Omit<KvSessionRequest, "callId">): Promise<{ code: number; details: string; answer: KvSessionResponse__Output | undefined }> {
  return new Promise((resolve) =>
    session.call(request, new Date(Date.now() + 10_000), (status, answer) => resolve({ code: status?.code ?? grpc.status.OK, details: status?.details ?? "", answer })),
  );
}

describe("the Kv Session stream", () => {
  let cluster: TestCluster;
  let stub: KvStub;
  let session: Session;
  beforeAll(async () => {
    cluster = await TestCluster.start();
    stub = new kvProto.Kv(cluster.coordinatorAddress, grpc.credentials.createInsecure()) as unknown as KvStub;
    session = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "the coordinator");
  });
  afterAll(async () => {
    session.close("the test is over");
    stub.close();
    await cluster.stop();
  });

  it("a put on the stream and its unary retry under the same request id are one request", async () => {
    const first = await call(session, { put: { key: "s", value: Buffer.from("one"), requestId: "session-1" } });
    expect(first.code, first.details).toBe(grpc.status.OK);
    const put = first.answer!.put!;
    expect(put.version).toBeGreaterThan(0);
    const retry = await new Promise<PutResponse__Output>((resolve, reject) =>
      stub.Put({ key: "s", value: Buffer.from("one"), requestId: "session-1" }, { deadline: Date.now() + 10_000 }, (error, response) => (error ? reject(error) : resolve(response!))),
    );
    expect({ version: retry.version, txnId: retry.txnId }).toEqual({ version: put.version, txnId: put.txnId });
    const got = await call(session, { get: { key: "s" } });
    expect(got.answer?.get).toMatchObject({ found: true, version: put.version });
    expect(got.answer?.get?.value.toString()).toBe("one");
  });

  it("refuses a message that names no call, and a put without its value, naming what is wrong; the coordinator serves on", async () => {
    const empty = await call(session, {});
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toMatch(/^call: /);
    const noValue = await call(session, { put: { key: "k", requestId: "session-2" } });
    expect(noValue.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(noValue.details).toMatch(/^value/);
    expect(cluster.coordinator.alive).toBe(true);
    expect((await call(session, { delete: { key: "s", requestId: "session-3" } })).code).toBe(grpc.status.OK);
    expect((await call(session, { get: { key: "s" } })).answer?.get?.found).toBe(false);
  });

  it("calls made in one go travel as one message, each answered on its own, the answers batched too", async () => {
    const written = { ...session.written };
    const received = { ...session.received };
    const keys = Array.from({ length: 40 }, (_, i) => `batch-${i}`);
    const puts = await Promise.all(keys.map((key) => call(session, { put: { key, value: Buffer.from(`value of ${key}`), requestId: `batch-request-${key}` } })));
    for (const put of puts) expect(put.code, put.details).toBe(grpc.status.OK);
    expect(new Set(puts.map((put) => put.answer!.put!.txnId)).size).toBe(keys.length);
    expect({ messages: session.written.messages - written.messages, items: session.written.items - written.items }).toEqual({ messages: 1, items: keys.length });
    expect(session.received.items - received.items).toBe(keys.length);
    expect(session.received.messages - received.messages).toBeLessThanOrEqual(keys.length / 4);
    const gets = await Promise.all(keys.map((key) => call(session, { get: { key } })));
    expect(gets.map((get) => get.answer?.get?.value.toString())).toEqual(keys.map((key) => `value of ${key}`));
  });

  it("a call larger than sessionBatchBytesMax goes alone, in its place: the order on the stream holds", async () => {
    const written = { ...session.written };
    const big = Buffer.alloc(limits.valueBytesMax, 7);
    expect(big.length + 64).toBeGreaterThan(limits.sessionBatchBytesMax);
    const [a, b, c] = await Promise.all([
      call(session, { put: { key: "order", value: Buffer.from("a"), requestId: "order-a" } }),
      call(session, { put: { key: "order", value: big, requestId: "order-big" } }),
      call(session, { put: { key: "order", value: Buffer.from("c"), requestId: "order-c" } }),
    ]);
    expect([a, b, c].map((put) => put.code)).toEqual([grpc.status.OK, grpc.status.OK, grpc.status.OK]);
    // One key, waiting in arrival order: the versions say the order the coordinator got them in.
    expect(a.answer!.put!.version).toBeLessThan(b.answer!.put!.version);
    expect(b.answer!.put!.version).toBeLessThan(c.answer!.put!.version);
    expect(session.written.messages - written.messages).toBe(3);
    expect(session.written.items - written.items).toBe(3);
    expect((await call(session, { get: { key: "order" } })).answer?.get?.value.toString()).toBe("c");
  });

  it("a call that cannot be encoded fails as a message alone would, without taking the caller down", async () => {
    const lone = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "the coordinator");
    const poisoned = {
      get key(): string {
        throw new Error("a field that cannot be read");
      },
    };
    const [bad, good] = await Promise.all([call(lone, { get: poisoned }), call(lone, { get: { key: "s" } })]);
    // grpc-js fails the stream's serialization (INTERNAL), and with it the calls on the stream.
    expect(bad.code).not.toBe(grpc.status.OK);
    expect(good.code).not.toBe(grpc.status.DEADLINE_EXCEEDED);
    lone.close("the test is over");
    expect((await call(session, { get: { key: "s" } })).code).toBe(grpc.status.OK);
  });

  it("refuses an envelope item that does not decode or is itself an envelope; the coordinator serves on", async () => {
    const method = kvProto.Kv.service.Session;
    const raw = stub.Session();
    const answers: KvSessionResponse__Output[] = [];
    raw.on("data", (answer: KvSessionResponse__Output) => {
      for (const item of answer.more.length > 0 ? answer.more.map((bytes) => method.responseDeserialize(bytes)) : [answer]) answers.push(item);
    });
    raw.on("error", () => undefined);
    const nested = method.requestSerialize({ more: [method.requestSerialize({ callId: 5, get: { key: "s" } })] });
    raw.write({ more: [Buffer.from([0xff, 0xff, 0xff, 0xff])] });
    raw.write({ more: [nested, method.requestSerialize({ callId: 6, get: { key: "order" } })] });
    await waitFor("the good item of the envelope answered", () => answers.find((answer) => answer.callId === 6));
    raw.write({ callId: 7, get: { key: "order" } });
    await waitFor("a plain call after them answered", () => answers.find((answer) => answer.callId === 7));
    expect(answers.find((answer) => answer.callId === 6)?.get?.value.toString()).toBe("c");
    expect(answers.map((answer) => answer.callId)).not.toContain(5);
    expect(cluster.coordinator.alive).toBe(true);
    raw.cancel();
  });
});

describe("a standby on the Kv Session stream", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await TestCluster.start({ coordinators: 2 });
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("a brief Status (what kv cluster polls every second) says whether each is ready, without asking the replicas", async () => {
    const active = await waitFor("an active coordinator", () => cluster.activeCoordinator().then((index) => index ?? undefined));
    await waitFor("the other coordinator standing by", async () => (await cluster.roleOf(1 - active)) === "standby");
    const brief = (index: number) => {
      const stub = new kvProto.Kv(cluster.coordinatorAddressOf(index), grpc.credentials.createInsecure()) as unknown as KvStub;
      return new Promise<StatusResponse__Output>((resolve, reject) =>
        stub.Status({ brief: true }, { deadline: Date.now() + 5_000 }, (error, response) => {
          stub.close();
          if (error) reject(error);
          else resolve(response!);
        }),
      );
    };
    await waitFor("the active one ready", async () => (await brief(active)).ready);
    expect(await brief(active)).toMatchObject({ role: "active", ready: true, notReadyReason: "", replicas: [] });
    expect(await brief(1 - active)).toMatchObject({ role: "standby", ready: false, notReadyReason: expect.stringContaining("is a standby") });
  });

  it("a brief Status on the stream (what coordinators poll each other with) answers as the unary call does, on the active and on a standby", async () => {
    const active = await waitFor("an active coordinator", () => cluster.activeCoordinator().then((index) => index ?? undefined));
    await waitFor("the other coordinator standing by", async () => (await cluster.roleOf(1 - active)) === "standby");
    const briefOnSession = async (index: number): Promise<StatusResponse__Output | undefined> => {
      const stub = new kvProto.Kv(cluster.coordinatorAddressOf(index), grpc.credentials.createInsecure()) as unknown as KvStub;
      const peer = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "a coordinator");
      try {
        const answered = await call(peer, { status: { brief: true } });
        expect(answered.code, answered.details).toBe(grpc.status.OK);
        return answered.answer?.status ?? undefined;
      } finally {
        peer.close("the test is over");
        stub.close();
      }
    };
    expect(await briefOnSession(active)).toMatchObject({ role: "active", epoch: expect.any(Number), replicas: [] });
    // A standby serves it too (it refuses every other call on the stream).
    expect(await briefOnSession(1 - active)).toMatchObject({
      role: "standby",
      ready: false,
      activeCoordinator: cluster.coordinatorAddressOf(active),
      notReadyReason: expect.stringContaining("is a standby"),
    });
  });

  it("answers UNAVAILABLE naming the active coordinator in active_coordinator, nothing applied", async () => {
    const active = await waitFor("an active coordinator", () => cluster.activeCoordinator().then((index) => index ?? undefined));
    await waitFor("the other coordinator standing by", async () => (await cluster.roleOf(1 - active)) === "standby");
    const standby = cluster.coordinatorAddressOf(1 - active);
    const stub = new kvProto.Kv(standby, grpc.credentials.createInsecure()) as unknown as KvStub;
    const session = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "the standby");
    try {
      const refused = await call(session, { put: { key: "redirected", value: Buffer.from("x"), requestId: "session-4" } });
      expect(refused.code).toBe(grpc.status.UNAVAILABLE);
      expect(refused.details).toContain("standby");
      expect(refused.answer?.activeCoordinator).toBe(cluster.coordinatorAddressOf(active));
      expect(await cluster.client().get("redirected")).toBeNull();
    } finally {
      session.close("the test is over");
      stub.close();
    }
  });
});

describe("a session whose connection never comes up", () => {
  it("fails its calls UNAVAILABLE after clientConnectTimeoutMs, not at their deadline", async () => {
    // Accepts connections and says nothing: what a SIGSTOPped coordinator's kernel does.
    const sockets: net.Socket[] = [];
    const mute = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
    const address = `127.0.0.1:${(mute.address() as net.AddressInfo).port}`;
    const stub = new kvProto.Kv(address, grpc.credentials.createInsecure()) as unknown as KvStub;
    const session = new ClientSession<KvSessionRequest, KvSessionResponse__Output>(() => stub.Session(), kvProto.Kv.service.Session, "the mute server", {
      waitForReady: stub.waitForReady.bind(stub),
      timeoutMs: limits.clientConnectTimeoutMs,
    });
    try {
      const started = Date.now();
      const result = await new Promise<{ code: number; details: string }>((resolve) =>
        session.call({ get: { key: "k" } }, new Date(Date.now() + 20_000), (status) => resolve({ code: status?.code ?? grpc.status.OK, details: status?.details ?? "" })),
      );
      expect(result.code).toBe(grpc.status.UNAVAILABLE);
      expect(result.details).toContain(`no connection to the mute server within ${limits.clientConnectTimeoutMs} ms`);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      session.close("the test is over");
      stub.close();
      for (const socket of sockets) socket.destroy();
      mute.close();
    }
  });
});
