// Original file: proto/kv.proto


export interface DeleteRequest {
  'key'?: (string);
  'requestId'?: (string);
}

export interface DeleteRequest__Output {
  'key': (string);
  'requestId': (string);
}
