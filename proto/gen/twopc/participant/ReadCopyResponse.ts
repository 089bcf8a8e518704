// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadCopyResponse {
  'replicaId'?: (string);
  'logEpoch'?: (number | string | Long);
  'logFirstIndex'?: (number | string | Long);
  'logIndex'?: (number | string | Long);
  'records'?: (Buffer | Uint8Array | string)[];
}

export interface ReadCopyResponse__Output {
  'replicaId': (string);
  'logEpoch': (number);
  'logFirstIndex': (number);
  'logIndex': (number);
  'records': (Buffer)[];
}
