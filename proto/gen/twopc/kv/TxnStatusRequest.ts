// Original file: proto/kv.proto


export interface TxnStatusRequest {
  'id'?: (string);
}

export interface TxnStatusRequest__Output {
  'id': (string);
}
