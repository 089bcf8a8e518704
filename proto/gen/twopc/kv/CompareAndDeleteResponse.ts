// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface CompareAndDeleteResponse {
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface CompareAndDeleteResponse__Output {
  'version': (number);
  'txnId': (string);
}
