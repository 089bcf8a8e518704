// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface PutResponse {
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface PutResponse__Output {
  'version': (number);
  'txnId': (string);
}
