// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface TxnOp {
  'type'?: (string);
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'delta'?: (number | string | Long);
  'min'?: (number | string | Long);
  'max'?: (number | string | Long);
  'mustExist'?: (boolean);
  '_value'?: "value";
  '_min'?: "min";
  '_max'?: "max";
}

export interface TxnOp__Output {
  'type': (string);
  'key': (string);
  'value'?: (Buffer);
  'delta': (number);
  'min'?: (number);
  'max'?: (number);
  'mustExist': (boolean);
  '_value'?: "value";
  '_min'?: "min";
  '_max'?: "max";
}
