// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface DeleteResponse {
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface DeleteResponse__Output {
  'version': (number);
  'txnId': (string);
}
