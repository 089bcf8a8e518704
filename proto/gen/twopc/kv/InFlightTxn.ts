// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface InFlightTxn {
  'txnId'?: (string);
  'phase'?: (string);
  'keys'?: (string)[];
  'ageMs'?: (number | string | Long);
  'waitingFor'?: (string)[];
}

export interface InFlightTxn__Output {
  'txnId': (string);
  'phase': (string);
  'keys': (string)[];
  'ageMs': (number);
  'waitingFor': (string)[];
}
