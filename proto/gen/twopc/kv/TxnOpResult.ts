// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface TxnOpResult {
  'type'?: (string);
  'key'?: (string);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (number | string | Long);
  'number'?: (number | string | Long);
}

export interface TxnOpResult__Output {
  'type': (string);
  'key': (string);
  'found': (boolean);
  'value': (Buffer);
  'version': (number);
  'number': (number);
}
