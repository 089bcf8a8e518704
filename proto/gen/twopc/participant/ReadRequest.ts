// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadRequest {
  'keys'?: (string)[];
  'epoch'?: (number | string | Long);
}

export interface ReadRequest__Output {
  'keys': (string)[];
  'epoch': (number);
}
