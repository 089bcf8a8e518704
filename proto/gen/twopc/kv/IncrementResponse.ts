// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface IncrementResponse {
  'value'?: (number | string | Long);
  'version'?: (number | string | Long);
  'txnId'?: (string);
}

export interface IncrementResponse__Output {
  'value': (number);
  'version': (number);
  'txnId': (string);
}
