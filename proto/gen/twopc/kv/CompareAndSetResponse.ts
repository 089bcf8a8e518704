// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface CompareAndSetResponse {
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface CompareAndSetResponse__Output {
  'version': (number);
  'txnId': (string);
}
