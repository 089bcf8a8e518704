// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface TxnStatusResponse {
  'state'?: (string);
  'txnId'?: (string);
  'commitSeq'?: (number | string | Long);
  'message'?: (string);
}

export interface TxnStatusResponse__Output {
  'state': (string);
  'txnId': (string);
  'commitSeq': (number);
  'message': (string);
}
