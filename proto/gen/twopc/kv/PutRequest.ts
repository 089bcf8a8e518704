// Original file: proto/kv.proto


export interface PutRequest {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  '_value'?: "value";
}

export interface PutRequest__Output {
  'key': (string);
  'value'?: (Buffer);
  '_value'?: "value";
}
