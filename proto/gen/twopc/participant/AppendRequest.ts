// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface AppendRequest {
  'epoch'?: (number | string | Long);
  'coordinatorId'?: (string);
  'coordinatorAddress'?: (string);
  'base'?: (boolean);
  'firstIndex'?: (number | string | Long);
  'records'?: (Buffer | Uint8Array | string)[];
  'more'?: (boolean);
  'baseFirstIndex'?: (number | string | Long);
}

export interface AppendRequest__Output {
  'epoch': (number);
  'coordinatorId': (string);
  'coordinatorAddress': (string);
  'base': (boolean);
  'firstIndex': (number);
  'records': (Buffer)[];
  'more': (boolean);
  'baseFirstIndex': (number);
}
