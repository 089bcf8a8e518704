// Original file: proto/kv.proto


export interface PutRequest {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'requestId'?: (string);
  '_value'?: "value";
}

export interface PutRequest__Output {
  'key': (string);
  'value'?: (Buffer);
  'requestId': (string);
  '_value'?: "value";
}
