// Original file: proto/kv.proto

import type { InDoubtTxn as _twopc_kv_InDoubtTxn, InDoubtTxn__Output as _twopc_kv_InDoubtTxn__Output } from '../../twopc/kv/InDoubtTxn';
import type { Long } from '@grpc/proto-loader';

export interface ReplicaStatus {
  'id'?: (string);
  'address'?: (string);
  'up'?: (boolean);
  'error'?: (string);
  'appliedSeq'?: (number | string | Long);
  'prepared'?: (number);
  'keys'?: (number | string | Long);
  'inDoubt'?: (_twopc_kv_InDoubtTxn)[];
  'state'?: (string);
  'healthy'?: (boolean);
}

export interface ReplicaStatus__Output {
  'id': (string);
  'address': (string);
  'up': (boolean);
  'error': (string);
  'appliedSeq': (number);
  'prepared': (number);
  'keys': (number);
  'inDoubt': (_twopc_kv_InDoubtTxn__Output)[];
  'state': (string);
  'healthy': (boolean);
}
