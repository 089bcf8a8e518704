// The one loader of the wire contract. Everything that speaks gRPC gets its service definitions and
// message types from here; the types are generated from the .proto files by `npm run gen:proto`.
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { limits } from "../common/limits";
import type { ProtoGrpcType as HealthProto } from "./gen/health";
import type { ProtoGrpcType as KvProto } from "./gen/kv";
import type { ProtoGrpcType as ParticipantProto } from "./gen/participant";

// Must match the flags of gen:proto in package.json, so that the generated types are true.
const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The .proto files sit in proto/ at the package root, whether this runs from source or dist/. */
function protoDirectory(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "proto", "kv.proto");
    if (fs.existsSync(candidate)) return path.dirname(candidate);
    if (path.dirname(dir) === dir) throw new Error(`proto/kv.proto not found above ${__dirname}`);
  }
}

function load<T>(file: string): T {
  const definition = protoLoader.loadSync(path.join(protoDirectory(), file), loaderOptions);
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

export const kvProto = load<KvProto>("kv.proto").twopc.kv;
export const participantProto = load<ParticipantProto>("participant.proto").twopc.participant;
export const healthProto = load<HealthProto>("health.proto").grpc.health.v1;

/** Channel options both sides use: message size limits and keepalive so a dead peer is noticed. */
export const channelOptions: grpc.ChannelOptions = {
  "grpc.max_receive_message_length": limits.grpcMessageBytesMax,
  "grpc.max_send_message_length": limits.grpcMessageBytesMax,
  "grpc.keepalive_time_ms": 10_000,
  "grpc.keepalive_timeout_ms": 5_000,
  "grpc.keepalive_permit_without_calls": 1,
  // Reconnect to a peer that was down within a second or two of its return (the defaults back off
  // to two minutes): a replica restarted after a long outage is noticed and caught up promptly.
  "grpc.initial_reconnect_backoff_ms": 200,
  "grpc.max_reconnect_backoff_ms": 2_000,
};

export const serverOptions: grpc.ServerOptions = {
  "grpc.max_receive_message_length": limits.grpcMessageBytesMax,
  "grpc.max_send_message_length": limits.grpcMessageBytesMax,
  "grpc.keepalive_permit_without_calls": 1,
  // Clients ping every clientKeepaliveMs (common/limits.ts); a server refuses pings that come faster
  // than this, so it must be below that.
  "grpc.http2.min_ping_interval_without_data_ms": 250,
};

export type { KvProto, ParticipantProto };
