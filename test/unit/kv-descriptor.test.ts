// What this proves: the client's Kv service, built from kv.proto's precompiled JSON form with
// protobufjs/light (proto/kv-load.ts), is the service proto-loader builds from kv.proto itself:
//   (a) proto/gen/kv.descriptor.json is kv.proto as it is now (`npm run gen:proto` was run);
//   (b) every method has the same path, streaming and alias;
//   (c) every message of every method, with each of its fields set, encodes to the same bytes both
//       ways, and decodes to the same object both ways (from proto-loader's bytes and from ours).
// How: each message type gets a sample object with every field set (a value per scalar type, one
// nested level deep, the first field of each oneof), built from the descriptor itself.
import * as path from "node:path";
import * as protoLoader from "@grpc/proto-loader";
import * as protobuf from "protobufjs";
import { describe, expect, it } from "vitest";
import { kvDescriptor, protoDirectory, serviceDefinition } from "../../proto/kv-load";
import { loaderOptions } from "../../proto/load";
import { kvDescriptorFromProto } from "../../tools/proto/descriptor";

const kvFile = path.join(protoDirectory(), "kv.proto");
const fromLoader = protoLoader.loadSync(kvFile, loaderOptions)["twopc.kv.Kv"] as Record<string, protoLoader.MethodDefinition<object, object>>;
const root = protobuf.Root.fromJSON(kvDescriptor());
const ours = serviceDefinition(root, "twopc.kv.Kv") as Record<string, protoLoader.MethodDefinition<object, object>>;

/** A plain object with every field of `type` set (nested messages `depth` levels down; one field per oneof). */
function sample(type: protobuf.Type, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const oneofFieldsSkipped = new Set(type.oneofsArray.flatMap((oneof) => oneof.fieldsArray.slice(1).map((field) => field.name)));
  for (const field of type.fieldsArray) {
    if (oneofFieldsSkipped.has(field.name)) continue;
    field.resolve();
    let value: unknown;
    if (field.resolvedType instanceof protobuf.Type) {
      if (depth === 0) continue;
      value = sample(field.resolvedType, depth - 1);
    } else if (field.resolvedType instanceof protobuf.Enum) {
      value = Object.keys(field.resolvedType.values).at(-1);
    } else {
      value = scalar(field.type);
    }
    object[field.name] = field.repeated ? [value, value] : value;
  }
  return object;
}

function scalar(type: string): unknown {
  switch (type) {
    case "string":
      return "k\u00e9y-1";
    case "bytes":
      return Buffer.from([0, 255, 98, 105, 110]);
    case "bool":
      return true;
    case "double":
    case "float":
      return 1.5;
    case "int32":
    case "sint32":
    case "sfixed32":
      return -7;
    default:
      return 123_456; // uint32, uint64, int64, fixed64, ...
  }
}

describe("the client's Kv service from kv.proto's JSON form", () => {
  it("(a) the descriptor is kv.proto as it is now", () => {
    expect(kvDescriptor(), "run npm run gen:proto").toEqual(JSON.parse(JSON.stringify(kvDescriptorFromProto(kvFile))));
  });

  it("(b) every method has proto-loader's path, streaming and alias", () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(fromLoader).sort());
    for (const [name, method] of Object.entries(fromLoader)) {
      const mine = ours[name]!;
      expect({ path: mine.path, requestStream: mine.requestStream, responseStream: mine.responseStream, originalName: mine.originalName }, name).toEqual({
        path: method.path,
        requestStream: method.requestStream,
        responseStream: method.responseStream,
        originalName: method.originalName,
      });
    }
  });

  it("(c) every message encodes to proto-loader's bytes and decodes to proto-loader's object", () => {
    let messages = 0;
    for (const [name, method] of Object.entries(fromLoader)) {
      const service = root.lookupService("twopc.kv.Kv");
      const rpc = service.methods[name]!;
      rpc.resolve();
      const sides = [
        { type: rpc.resolvedRequestType!, serialize: [method.requestSerialize, ours[name]!.requestSerialize], deserialize: [method.requestDeserialize, ours[name]!.requestDeserialize] },
        { type: rpc.resolvedResponseType!, serialize: [method.responseSerialize, ours[name]!.responseSerialize], deserialize: [method.responseDeserialize, ours[name]!.responseDeserialize] },
      ] as const;
      for (const side of sides) {
        for (const object of [{}, sample(side.type, 2)]) {
          const [theirBytes, myBytes] = side.serialize.map((serialize) => serialize(object));
          expect(myBytes, `${name} ${side.type.name}`).toEqual(theirBytes);
          expect(side.deserialize[1](theirBytes!), `${name} ${side.type.name}`).toEqual(side.deserialize[0](theirBytes!));
          messages += 1;
        }
      }
    }
    expect(messages).toBeGreaterThanOrEqual(4 * Object.keys(fromLoader).length);
  });
});
