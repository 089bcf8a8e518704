// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface AppendResponse {
  'replicaId'?: (string);
  'logEpoch'?: (number | string | Long);
  'logIndex'?: (number | string | Long);
}

export interface AppendResponse__Output {
  'replicaId': (string);
  'logEpoch': (number);
  'logIndex': (number);
}
