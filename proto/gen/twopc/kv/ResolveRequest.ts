// Original file: proto/kv.proto


export interface ResolveRequest {
  'txnId'?: (string);
  'outcome'?: (string);
}

export interface ResolveRequest__Output {
  'txnId': (string);
  'outcome': (string);
}
