// kv.proto in protobufjs's JSON form, as tools/proto/gen-descriptor.ts writes it to
// proto/gen/kv.descriptor.json and test/unit/kv-descriptor.test.ts compares it.
import * as protobuf from "protobufjs";

/** kv.proto parsed with camelCase field names (proto/load.ts: keepCase false), as JSON. */
export function kvDescriptorFromProto(file: string): protobuf.INamespace {
  const root = new protobuf.Root();
  root.loadSync(file, { keepCase: false });
  return root.toJSON();
}
