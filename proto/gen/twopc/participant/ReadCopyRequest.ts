// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadCopyRequest {
  'epoch'?: (number | string | Long);
  'coordinatorId'?: (string);
  'fromIndex'?: (number | string | Long);
}

export interface ReadCopyRequest__Output {
  'epoch': (number);
  'coordinatorId': (string);
  'fromIndex': (number);
}
