// The client finds the active coordinator among several (issue 12). Each test starts small fake Kv
// servers (grpc-js, the real proto) on random ports of 127.0.0.1: an "active" one that answers, a
// "standby" that refuses every call but Status with UNAVAILABLE (naming the active one in the
// trailing metadata key kv-active-coordinator, or not), and dead ports where nothing listens. Each
// fake records the calls it got, so a test proves where a call went and what it carried (the request
// id of a write), not only that it succeeded in the end.
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { activeCoordinatorMetadataKey, KvClient } from "../../client/client";
import { Code } from "../../common/errors";
import { kvProto } from "../../proto/load";
import type { CoordinatorMember } from "../../proto/gen/twopc/kv/CoordinatorMember";
import type { StatusResponse } from "../../proto/gen/twopc/kv/StatusResponse";
import { failure, freePort, runKv } from "./harness";

type Role = { readonly kind: "active" } | { readonly kind: "standby"; readonly names: () => string | null };

interface Call {
  readonly method: string;
  readonly request: Record<string, unknown>;
}

/** A fake coordinator: answers every Kv method as its role says and records each call. */
class FakeCoordinator {
  readonly calls: Call[] = [];
  members: CoordinatorMember[] = [];

  private constructor(
    readonly id: string,
    readonly address: string,
    private readonly server: grpc.Server,
    readonly role: Role,
    readonly epoch: number,
  ) {}

  static async start(id: string, role: Role, epoch = 3): Promise<FakeCoordinator> {
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const fake = new FakeCoordinator(id, `127.0.0.1:${port}`, server, role, epoch);
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(kvProto.Kv.service)) {
      handlers[method] = (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        fake.calls.push({ method, request: call.request });
        fake.answer(method, callback);
      };
    }
    // The library sends its calls as messages of a Session stream: each is recorded and answered as
    // its unary call would be (a refusal's redirect in active_coordinator).
    handlers.Session = (stream: grpc.ServerDuplexStream<Record<string, unknown>, unknown>) => {
      stream.on("data", (message: Record<string, unknown>) => {
        const field = message.call as string;
        const method = field.charAt(0).toUpperCase() + field.slice(1);
        fake.calls.push({ method, request: message[field] as Record<string, unknown> });
        fake.answer(method, (error, response) => {
          if (error) stream.write({ callId: message.callId, code: error.code, details: error.details, activeCoordinator: error.metadata?.get(activeCoordinatorMetadataKey)[0] ?? "" });
          else stream.write({ callId: message.callId, [field]: response });
        });
      });
      stream.on("end", () => stream.end());
    };
    server.addService(kvProto.Kv.service, handlers);
    return fake;
  }

  count(method: string): number {
    return this.calls.filter((call) => call.method === method).length;
  }

  stop(): void {
    this.server.forceShutdown();
  }

  private answer(method: string, callback: grpc.sendUnaryData<unknown>): void {
    if (method === "Status") return callback(null, this.status());
    const role = this.role;
    switch (role.kind) {
      case "active":
        return callback(null, activeResponse(method));
      case "standby": {
        const named = role.names();
        const metadata = new grpc.Metadata();
        if (named !== null) metadata.set(activeCoordinatorMetadataKey, named);
        const where = named === null ? "no active coordinator is known" : `the active coordinator is coordinator at ${named} (epoch ${this.epoch})`;
        return callback({ code: grpc.status.UNAVAILABLE, details: `coordinator ${this.id} is a standby; ${where}`, metadata });
      }
      default:
        throw new Error(`unknown role ${JSON.stringify(role)}`);
    }
  }

  private status(): StatusResponse {
    const active = this.role.kind === "active" ? this.address : (this.role.names() ?? "");
    return {
      coordinatorId: this.id,
      epoch: this.epoch,
      lastCommitSeq: 41,
      role: this.role.kind,
      activeCoordinator: active,
      activeCoordinatorId: active === "" ? "" : "the-active-one",
      coordinators: this.members,
      ready: this.role.kind === "active",
      minInSync: 2,
    };
  }
}

function activeResponse(method: string): Record<string, unknown> {
  switch (method) {
    case "Get":
      return { found: true, value: Buffer.from("from the active one"), version: 7 };
    case "Put":
    case "Delete":
    case "CompareAndSet":
    case "CompareAndDelete":
      return { version: 8, txnId: "3.1" };
    case "Increment":
      return { value: 5, version: 8, txnId: "3.1" };
    case "TxnStatus":
      return { state: "COMMITTED", txnId: "3.1", commitSeq: 8, message: "committed" };
    case "Resolve":
      return { message: "resolved" };
    default:
      return {};
  }
}

/** HOST:PORT where nothing listens: a port the OS just handed out and took back. */
async function deadAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

const started: FakeCoordinator[] = [];
const clients: KvClient[] = [];

async function fake(id: string, role: Role, epoch?: number): Promise<FakeCoordinator> {
  const coordinator = await FakeCoordinator.start(id, role, epoch);
  started.push(coordinator);
  return coordinator;
}

function client(coordinators: string | readonly string[], retryForMs: number): KvClient {
  const kv = new KvClient(coordinators, { timeoutMs: 2_000, retryForMs });
  clients.push(kv);
  return kv;
}

afterEach(() => {
  for (const kv of clients.splice(0)) kv.close();
  for (const coordinator of started.splice(0)) coordinator.stop();
});

describe("the client finds the active coordinator", () => {
  it("(a) follows a standby's redirect: get and put succeed, the put's request id reaches the active one unchanged", async () => {
    const active = await fake("coordinator-1", { kind: "active" });
    // Between the standby and the active one: a standby that names no one. A client that ignored the
    // redirect and went round robin would call it; with retryForMs 0 its refusal (no metadata, so the
    // outcome counts as unknown) would end the call.
    const bystander = await fake("coordinator-3", { kind: "standby", names: () => null });
    const standby = await fake("coordinator-2", { kind: "standby", names: () => active.address });
    const kv = client([standby.address, bystander.address, active.address], 0);

    const entry = await kv.get("k");
    expect(entry?.value.toString("utf8")).toBe("from the active one");
    expect(kv.address).toBe(active.address);

    const put = await kv.put("k", "v", { requestId: "request-a" });
    expect(put).toEqual({ version: 8, txnId: "3.1" });
    expect(active.calls.filter((call) => call.method === "Put").map((call) => call.request.requestId)).toEqual(["request-a"]);
    expect(bystander.calls).toEqual([]);
    // The redirect was learned: the put went straight to the active one.
    expect(standby.calls.map((call) => call.method)).toEqual(["Get"]);
  });

  it("(a) a write refused by a standby keeps its request id on the active one (a fresh id per call, the same across the switch)", async () => {
    const active = await fake("coordinator-1", { kind: "active" });
    const standby = await fake("coordinator-2", { kind: "standby", names: () => active.address });
    const kv = client(`${standby.address},${active.address}`, 5_000);

    await kv.increment("n", 2);
    const refused = standby.calls.filter((call) => call.method === "Increment").map((call) => call.request.requestId);
    const served = active.calls.filter((call) => call.method === "Increment").map((call) => call.request.requestId);
    expect(refused).toHaveLength(1);
    expect(typeof refused[0]).toBe("string");
    expect(served).toEqual(refused);
  });

  it("(b) moves past a dead coordinator (connection refused) to the next, even with retryForMs 0: nothing ran there", async () => {
    const active = await fake("coordinator-2", { kind: "active" });
    const kv = client([await deadAddress(), active.address], 0);

    expect((await kv.get("k"))?.version).toBe(7);
    await kv.put("k", "v", { requestId: "request-b" });
    expect(active.calls.map((call) => [call.method, call.request.requestId ?? null])).toEqual([
      ["Get", null],
      ["Put", "request-b"],
    ]);
    expect(kv.address).toBe(active.address);
  });

  it("(c) tries the others when a standby knows no active coordinator (no metadata), round robin, past a dead one", async () => {
    const lost = await fake("coordinator-1", { kind: "standby", names: () => null });
    const active = await fake("coordinator-3", { kind: "active" });
    const kv = client([lost.address, await deadAddress(), active.address], 5_000);

    expect((await kv.get("k"))?.version).toBe(7);
    await kv.put("k", "v", { requestId: "request-c" });
    expect(lost.calls.map((call) => call.method)).toEqual(["Get"]);
    expect(active.calls.map((call) => [call.method, call.request.requestId ?? null])).toEqual([
      ["Get", null],
      ["Put", "request-c"],
    ]);
  });

  it("a standby with no metadata ends a call when retryForMs is 0 (its outcome counts as unknown), and the next call goes on to the next coordinator", async () => {
    const lost = await fake("coordinator-1", { kind: "standby", names: () => null });
    const active = await fake("coordinator-2", { kind: "active" });
    const kv = client([lost.address, active.address], 0);

    const error = await failure(kv.put("k", "v", { requestId: "request-d" }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect((error as { requestId?: string }).requestId).toBe("request-d");
    expect(active.calls).toEqual([]);
    await kv.put("k", "v", { requestId: "request-d" });
    expect(active.calls.map((call) => call.request.requestId)).toEqual(["request-d"]);
  });

  it("when no coordinator serves, a write fails UNAVAILABLE with its request id once retryForMs is over, having tried every one in rounds", async () => {
    const a = await fake("coordinator-1", { kind: "standby", names: () => null });
    const b = await fake("coordinator-2", { kind: "standby", names: () => a.address });
    const kv = client([a.address, b.address], 600);

    const startedAt = Date.now();
    const error = await failure(kv.put("k", "v", { requestId: "request-e" }));
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect((error as { requestId?: string }).requestId).toBe("request-e");
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    // Several rounds (with backoff between them), each visiting both, every attempt with the same id.
    expect(a.count("Put")).toBeGreaterThanOrEqual(2);
    expect(b.count("Put")).toBeGreaterThanOrEqual(2);
    const ids = new Set([...a.calls, ...b.calls].map((call) => call.request.requestId));
    expect([...ids]).toEqual(["request-e"]);
  });

  it("status() returns the active coordinator's status, asking the one a standby names", async () => {
    const active = await fake("coordinator-2", { kind: "active" }, 4);
    const standby = await fake("coordinator-1", { kind: "standby", names: () => active.address }, 4);
    const kv = client([await deadAddress(), standby.address, active.address], 0);
    const status = await kv.status();
    expect(status.coordinatorId).toBe("coordinator-2");
    expect(status.role).toBe("active");
    expect(kv.address).toBe(active.address);
  });

  it("resolve follows a redirect but is not retried where it may have run", async () => {
    const active = await fake("coordinator-2", { kind: "active" });
    const standby = await fake("coordinator-1", { kind: "standby", names: () => active.address });
    const kv = client([standby.address, active.address], 5_000);
    expect(await kv.resolve("3.9", "abort")).toEqual({ message: "resolved" });
    expect(active.count("Resolve")).toBe(1);
  });
});

describe("kv status with several coordinators (the built CLI, bin/kv.js)", () => {
  it("(d) --json reports activeCoordinator and every coordinator: role, epoch, reachable or the error", async () => {
    const active = await fake("coordinator-2", { kind: "active" }, 5);
    const standby = await fake("coordinator-1", { kind: "standby", names: () => active.address }, 5);
    const dead = await deadAddress();
    // A coordinator the list lacks, named by the coordinators' members: asked too (it is down).
    const unlisted = await deadAddress();
    const members = [
      { id: "coordinator-1", address: standby.address },
      { id: "coordinator-2", address: active.address },
      { id: "coordinator-3", address: dead },
      { id: "coordinator-4", address: unlisted },
    ];
    standby.members = members;
    active.members = members;

    const list = [standby.address, active.address, dead].join(",");
    const json = await runKv(["status", "--json", "--coordinator", list, "--timeout", "2000"]);
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { coordinatorId: string; lastCommitSeq: number; activeCoordinator: string | null; coordinators: unknown[] };
    expect(parsed.coordinatorId).toBe("coordinator-2");
    expect(parsed.lastCommitSeq).toBe(41);
    expect(parsed.activeCoordinator).toBe(active.address);
    expect(parsed.coordinators).toEqual([
      { id: "coordinator-1", address: standby.address, role: "standby", epoch: 5, reachable: true },
      { id: "coordinator-2", address: active.address, role: "active", epoch: 5, reachable: true },
      { id: "coordinator-3", address: dead, role: null, epoch: null, reachable: false, error: expect.stringContaining("UNAVAILABLE") },
      { id: "coordinator-4", address: unlisted, role: null, epoch: null, reachable: false, error: expect.stringContaining("UNAVAILABLE") },
    ]);

    // KV_COORDINATOR takes the same list; the table marks the active one.
    const text = await runKv(["status"], { KV_COORDINATOR: list });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`\\*\\s+coordinator-2\\s+${active.address.replace(/\./g, "\\.")}\\s+active\\s+epoch 5`));
    expect(text.stdout).toMatch(new RegExp(`coordinator-1\\s+${standby.address.replace(/\./g, "\\.")}\\s+standby`));
    expect(text.stdout).toContain("unreachable: UNAVAILABLE");
  });

  it("(d) --json has activeCoordinator null when only standbys answer; exit 4 when no coordinator answers", async () => {
    const standby = await fake("coordinator-1", { kind: "standby", names: () => null });
    const dead = await deadAddress();
    const none = await runKv(["status", "--json", "--coordinator", `${standby.address},${dead}`]);
    expect(none.code).toBe(0);
    const parsed = JSON.parse(none.stdout) as { activeCoordinator: string | null; coordinators: { role: string | null }[] };
    expect(parsed.activeCoordinator).toBeNull();
    expect(parsed.coordinators.map((row) => row.role)).toEqual(["standby", null]);

    const down = await runKv(["status", "--coordinator", `${dead},${await deadAddress()}`]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain("UNAVAILABLE");
  });

  it("a --coordinator list with an item that is not HOST:PORT is a usage error (exit 2)", async () => {
    const bad = await runKv(["get", "k", "--coordinator", "127.0.0.1:50051,nonsense"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--coordinator");
  });
});
