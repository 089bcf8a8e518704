// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface CompareAndSetRequest {
  'key'?: (string);
  'newValue'?: (Buffer | Uint8Array | string);
  'expectedVersion'?: (number | string | Long);
  'expectedValue'?: (Buffer | Uint8Array | string);
  'mustNotExist'?: (boolean);
  'requestId'?: (string);
  '_newValue'?: "newValue";
  '_expectedVersion'?: "expectedVersion";
  '_expectedValue'?: "expectedValue";
}

export interface CompareAndSetRequest__Output {
  'key': (string);
  'newValue'?: (Buffer);
  'expectedVersion'?: (number);
  'expectedValue'?: (Buffer);
  'mustNotExist': (boolean);
  'requestId': (string);
  '_newValue'?: "newValue";
  '_expectedVersion'?: "expectedVersion";
  '_expectedValue'?: "expectedValue";
}
