// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface PreparedTxn {
  'txnId'?: (string);
  'keys'?: (string)[];
  'ageMs'?: (number | string | Long);
}

export interface PreparedTxn__Output {
  'txnId': (string);
  'keys': (string)[];
  'ageMs': (number);
}
