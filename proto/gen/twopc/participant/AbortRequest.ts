// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface AbortRequest {
  'txnIds'?: (string)[];
  'epoch'?: (number | string | Long);
}

export interface AbortRequest__Output {
  'txnIds': (string)[];
  'epoch': (number);
}
