// The client's part of the wire contract: the Kv service and the channel options. Apart from
// proto/load.ts, so that a program that only talks to the store (the client library, `kv get`) loads
// neither the participant and health protocols nor @grpc/proto-loader: it builds the Kv service from
// kv.proto's precompiled JSON form (proto/gen/kv.descriptor.json, `npm run gen:proto`) with
// protobufjs/light, which costs a `kv` command about 25 ms less at every start than parsing
// kv.proto. The service is built as proto-loader builds one, with the same options
// (test/unit/kv-descriptor.test.ts compares the two, method by method and byte for byte).
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protobuf from "protobufjs/light";
import { limits } from "../common/limits";
import type { ProtoGrpcType as KvProto } from "./gen/kv";

/**
 * How a message becomes a plain object: must match proto/load.ts's loader options and the flags of
 * gen:proto in package.json (longs as numbers, enums as names, defaults filled in, oneof fields
 * named), so that the generated types are true.
 */
export const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

/** The .proto files sit in proto/ at the package root, whether this runs from source or dist/. */
export function protoDirectory(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "proto", "kv.proto");
    if (fs.existsSync(candidate)) return path.dirname(candidate);
    if (path.dirname(dir) === dir) throw new Error(`proto/kv.proto not found above ${__dirname}`);
  }
}

/** proto-loader's name for a method's alias on a client: the first letter in lower case. */
function originalName(method: string): string {
  return method.charAt(0).toLowerCase() + method.slice(1);
}

/** The service `name` of a JSON descriptor as a grpc-js service definition (each method's path, streaming and codecs). */
export function serviceDefinition(root: protobuf.Root, name: string): grpc.ServiceDefinition {
  const service = root.lookupService(name);
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  for (const method of service.methodsArray) {
    method.resolve();
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (request === null || response === null) throw new Error(`${name}.${method.name}: unresolved message types`);
    definition[method.name] = {
      path: `/${name}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (message: object) => Buffer.from(request.encode(request.fromObject(message)).finish()),
      requestDeserialize: (bytes: Buffer) => request.toObject(request.decode(bytes), toObjectOptions),
      responseSerialize: (message: object) => Buffer.from(response.encode(response.fromObject(message)).finish()),
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), toObjectOptions),
      originalName: originalName(method.name),
    };
  }
  return definition;
}

/** kv.proto's JSON form, as `npm run gen:proto` wrote it. */
export function kvDescriptor(): protobuf.INamespace {
  return JSON.parse(fs.readFileSync(path.join(protoDirectory(), "gen", "kv.descriptor.json"), "utf8")) as protobuf.INamespace;
}

const kvDefinition = serviceDefinition(protobuf.Root.fromJSON(kvDescriptor()), "twopc.kv.Kv");
export const kvProto = { Kv: grpc.makeGenericClientConstructor(kvDefinition, "Kv") } as unknown as KvProto["twopc"]["kv"];

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
