// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface IncrementRequest {
  'key'?: (string);
  'delta'?: (number | string | Long);
  'min'?: (number | string | Long);
  'max'?: (number | string | Long);
  'mustExist'?: (boolean);
  'requestId'?: (string);
  '_min'?: "min";
  '_max'?: "max";
}

export interface IncrementRequest__Output {
  'key': (string);
  'delta': (number);
  'min'?: (number);
  'max'?: (number);
  'mustExist': (boolean);
  'requestId': (string);
  '_min'?: "min";
  '_max'?: "max";
}
