// Writes proto/gen/kv.descriptor.json: kv.proto parsed (protobufjs, field names in camelCase, as
// proto/load.ts's loader options have them) into protobufjs's JSON form. The client's loader
// (proto/kv-load.ts) reads that with protobufjs/light instead of parsing kv.proto at every start of
// every `kv` command (about 25 ms of it). Run by `npm run gen:proto`; test/unit/kv-descriptor.test.ts
// fails if the file and kv.proto ever differ.
import * as fs from "node:fs";
import * as path from "node:path";
import { kvDescriptorFromProto } from "./descriptor";

const root = path.resolve(__dirname, "..", "..");
const out = path.join(root, "proto", "gen", "kv.descriptor.json");
fs.writeFileSync(out, `${JSON.stringify(kvDescriptorFromProto(path.join(root, "proto", "kv.proto")), null, 1)}\n`);
console.log(`wrote ${path.relative(root, out)}`);
