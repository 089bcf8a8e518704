// Original file: proto/kv.proto

import type { Compare as _twopc_kv_Compare, Compare__Output as _twopc_kv_Compare__Output } from '../../twopc/kv/Compare';
import type { TxnOp as _twopc_kv_TxnOp, TxnOp__Output as _twopc_kv_TxnOp__Output } from '../../twopc/kv/TxnOp';

export interface TxnRequest {
  'conditions'?: (_twopc_kv_Compare)[];
  'onSuccess'?: (_twopc_kv_TxnOp)[];
  'onFailure'?: (_twopc_kv_TxnOp)[];
  'hasOnFailure'?: (boolean);
  'requestId'?: (string);
}

export interface TxnRequest__Output {
  'conditions': (_twopc_kv_Compare__Output)[];
  'onSuccess': (_twopc_kv_TxnOp__Output)[];
  'onFailure': (_twopc_kv_TxnOp__Output)[];
  'hasOnFailure': (boolean);
  'requestId': (string);
}
