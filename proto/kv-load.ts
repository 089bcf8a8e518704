// The client's part of the wire contract: the loader of the .proto files, the Kv service and the
// channel options. Apart from proto/load.ts, so that a program that only talks to the store (the
// client library, `kv get`) parses kv.proto alone and not the participant and health protocols:
// parsing a .proto file costs milliseconds of every `kv` command's startup.
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { limits } from "../common/limits";
import type { ProtoGrpcType as KvProto } from "./gen/kv";

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

export function load<T>(file: string): T {
  const definition = protoLoader.loadSync(path.join(protoDirectory(), file), loaderOptions);
  return grpc.loadPackageDefinition(definition) as unknown as T;
}

export const kvProto = load<KvProto>("kv.proto").twopc.kv;

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

export type { KvProto };
