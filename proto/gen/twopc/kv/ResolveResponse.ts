// Original file: proto/kv.proto


export interface ResolveResponse {
  'message'?: (string);
}

export interface ResolveResponse__Output {
  'message': (string);
}
