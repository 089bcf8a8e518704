// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface ReplicaStatus {
  'id'?: (string);
  'address'?: (string);
  'up'?: (boolean);
  'error'?: (string);
  'appliedSeq'?: (number | string | Long);
  'prepared'?: (number);
  'keys'?: (number | string | Long);
}

export interface ReplicaStatus__Output {
  'id': (string);
  'address': (string);
  'up': (boolean);
  'error': (string);
  'appliedSeq': (number);
  'prepared': (number);
  'keys': (number);
}
