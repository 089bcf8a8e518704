// Original file: proto/kv.proto

import type { TxnOpResult as _twopc_kv_TxnOpResult, TxnOpResult__Output as _twopc_kv_TxnOpResult__Output } from '../../twopc/kv/TxnOpResult';
import type { Long } from '@grpc/proto-loader';

export interface TxnResponse {
  'succeeded'?: (boolean);
  'results'?: (_twopc_kv_TxnOpResult)[];
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface TxnResponse__Output {
  'succeeded': (boolean);
  'results': (_twopc_kv_TxnOpResult__Output)[];
  'version': (number);
  'txnId': (string);
}
