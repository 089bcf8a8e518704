// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchRequest {
  'sinceSeq'?: (number | string | Long);
  'afterKey'?: (string);
  'limit'?: (number);
}

export interface FetchRequest__Output {
  'sinceSeq': (number);
  'afterKey': (string);
  'limit': (number);
}
