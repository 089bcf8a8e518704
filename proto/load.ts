// The one loader of the wire contract. Everything that speaks gRPC gets its service definitions and
// message types from here (the client library from proto/kv-load.ts, which this re-exports); the
// types are generated from the .proto files by `npm run gen:proto`.
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { limits } from "../common/limits";
import type { ProtoGrpcType as HealthProto } from "./gen/health";
import type { ProtoGrpcType as ParticipantProto } from "./gen/participant";
import { protoDirectory } from "./kv-load";

/** Must match the flags of gen:proto in package.json (and kv-load.ts's toObjectOptions), so that the generated types are true. */
export const loaderOptions: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export function load<T>(file: string): T {
  const definition = protoLoader.loadSync(path.join(protoDirectory(), file), loaderOptions);
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

export { channelOptions, kvProto, type KvProto } from "./kv-load";
export const participantProto = load<ParticipantProto>("participant.proto").twopc.participant;
export const healthProto = load<HealthProto>("health.proto").grpc.health.v1;

export const serverOptions: grpc.ServerOptions = {
  "grpc.max_receive_message_length": limits.grpcMessageBytesMax,
  "grpc.max_send_message_length": limits.grpcMessageBytesMax,
  "grpc.keepalive_permit_without_calls": 1,
  // Clients ping every clientKeepaliveMs (common/limits.ts); a server refuses pings that come faster
  // than this, so it must be below that.
  "grpc.http2.min_ping_interval_without_data_ms": 250,
};

export type { ParticipantProto };
