// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface CompareAndDeleteRequest {
  'key'?: (string);
  'expectedVersion'?: (number | string | Long);
  'expectedValue'?: (Buffer | Uint8Array | string);
  'requestId'?: (string);
  '_expectedVersion'?: "expectedVersion";
  '_expectedValue'?: "expectedValue";
}

export interface CompareAndDeleteRequest__Output {
  'key': (string);
  'expectedVersion'?: (number);
  'expectedValue'?: (Buffer);
  'requestId': (string);
  '_expectedVersion'?: "expectedVersion";
  '_expectedValue'?: "expectedValue";
}
