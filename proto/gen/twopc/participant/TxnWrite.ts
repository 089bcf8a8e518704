// Original file: proto/participant.proto


export interface TxnWrite {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'delete'?: (boolean);
}

export interface TxnWrite__Output {
  'key': (string);
  'value': (Buffer);
  'delete': (boolean);
}
