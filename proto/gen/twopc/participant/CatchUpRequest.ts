// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface CatchUpRequest {
  'sourceId'?: (string);
  'sourceAddress'?: (string);
  'sinceSeq'?: (number | string | Long);
  'epoch'?: (number | string | Long);
}

export interface CatchUpRequest__Output {
  'sourceId': (string);
  'sourceAddress': (string);
  'sinceSeq': (number);
  'epoch': (number);
}
