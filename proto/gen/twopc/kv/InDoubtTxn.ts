// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface InDoubtTxn {
  'txnId'?: (string);
  'keys'?: (string)[];
  'ageMs'?: (number | string | Long);
}

export interface InDoubtTxn__Output {
  'txnId': (string);
  'keys': (string)[];
  'ageMs': (number);
}
