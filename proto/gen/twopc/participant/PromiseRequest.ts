// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface PromiseRequest {
  'epoch'?: (number | string | Long);
  'coordinatorId'?: (string);
  'coordinatorAddress'?: (string);
}

export interface PromiseRequest__Output {
  'epoch': (number);
  'coordinatorId': (string);
  'coordinatorAddress': (string);
}
