// The wire of the comparison benchmark's other two targets: etcd's v3 API (the subset in
// proto/etcd/rpc.proto) and the echo service (tools/bench/echo.proto). twopc-kv's own Kv service
// comes from proto/load.ts as everywhere else. The message shapes below are what @grpc/proto-loader
// produces with these loader options (proto/load.ts's, except that 64-bit integers stay strings:
// etcd's member ids use all 64 bits).
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The package root (where proto/ and tools/ are), whether this runs from source or from dist/. */
function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "proto", "etcd", "rpc.proto")) && fs.existsSync(path.join(dir, "tools", "bench", "echo.proto"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`proto/etcd/rpc.proto not found above ${__dirname}`);
  }
}

function load(file: string, includeDir: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...loaderOptions, includeDirs: [includeDir] }));
}

// --- etcd ---------------------------------------------------------------------------------------

export interface EtcdResponseHeader {
  readonly clusterId: string;
  readonly memberId: string;
  readonly revision: string;
  readonly raftTerm: string;
}

export interface EtcdKeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly modRevision: string;
}

export interface EtcdRangeRequest {
  readonly key: Buffer;
  readonly serializable: boolean;
}

export interface EtcdRangeResponse {
  readonly header: EtcdResponseHeader | null;
  readonly kvs: readonly EtcdKeyValue[];
  readonly count: string;
}

export interface EtcdPutRequest {
  readonly key: Buffer;
  readonly value: Buffer;
}

export interface EtcdPutResponse {
  readonly header: EtcdResponseHeader | null;
}

export interface EtcdStatusResponse {
  readonly header: EtcdResponseHeader | null;
  readonly version: string;
  /** The member id the responding member believes leads ("0": none). */
  readonly leader: string;
  readonly raftTerm: string;
}

export interface EtcdKvStub extends grpc.Client {
  Range(request: EtcdRangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<EtcdRangeResponse>): grpc.ClientUnaryCall;
  Put(request: EtcdPutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<EtcdPutResponse>): grpc.ClientUnaryCall;
}

export interface EtcdMaintenanceStub extends grpc.Client {
  Status(request: Record<string, never>, options: grpc.CallOptions, callback: grpc.requestCallback<EtcdStatusResponse>): grpc.ClientUnaryCall;
}

// --- echo ---------------------------------------------------------------------------------------

export interface EchoMessage {
  readonly payload: Buffer;
}

export interface EchoStub extends grpc.Client {
  Echo(request: EchoMessage, options: grpc.CallOptions, callback: grpc.requestCallback<EchoMessage>): grpc.ClientUnaryCall;
}

type StubConstructor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

/** A service constructor from a loaded package ("etcdserverpb.KV"), checked to be one. */
function serviceOf(root: grpc.GrpcObject, name: string): grpc.ServiceClientConstructor {
  let node: unknown = root;
  for (const part of name.split(".")) node = node !== null && typeof node === "object" ? (node as grpc.GrpcObject)[part] : undefined;
  if (typeof node !== "function" || !("service" in node)) throw new Error(`${name} is not a service of the loaded protos`);
  return node as grpc.ServiceClientConstructor;
}

const root = packageRoot();
const etcd = load(path.join(root, "proto", "etcd", "rpc.proto"), path.join(root, "proto", "etcd"));
const echo = load(path.join(root, "tools", "bench", "echo.proto"), path.join(root, "tools", "bench"));
const etcdKv = serviceOf(etcd, "etcdserverpb.KV");
const etcdMaintenance = serviceOf(etcd, "etcdserverpb.Maintenance");
const echoConstructor = serviceOf(echo, "twopc.bench.Echo");

/** The echo service, for the server to implement. */
export const echoServiceDefinition: grpc.ServiceDefinition = echoConstructor.service;

/** A stub of etcd's KV service. */
export function etcdKvStub(address: string, options: grpc.ChannelOptions): EtcdKvStub {
  const Kv: StubConstructor = etcdKv;
  return new Kv(address, grpc.credentials.createInsecure(), options) as EtcdKvStub;
}

export function etcdMaintenanceStub(address: string, options: grpc.ChannelOptions): EtcdMaintenanceStub {
  const Maintenance: StubConstructor = etcdMaintenance;
  return new Maintenance(address, grpc.credentials.createInsecure(), options) as EtcdMaintenanceStub;
}

export function echoStub(address: string, options: grpc.ChannelOptions): EchoStub {
  const Echo: StubConstructor = echoConstructor;
  return new Echo(address, grpc.credentials.createInsecure(), options) as EchoStub;
}
