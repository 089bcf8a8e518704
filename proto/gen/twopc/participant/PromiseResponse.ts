// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface PromiseResponse {
  'replicaId'?: (string);
  'granted'?: (boolean);
  'promisedEpoch'?: (number | string | Long);
  'promisedTo'?: (string);
  'logEpoch'?: (number | string | Long);
  'logIndex'?: (number | string | Long);
  'records'?: (Buffer | Uint8Array | string)[];
  'maxTxnEpoch'?: (number | string | Long);
  'prepared'?: (string)[];
}

export interface PromiseResponse__Output {
  'replicaId': (string);
  'granted': (boolean);
  'promisedEpoch': (number);
  'promisedTo': (string);
  'logEpoch': (number);
  'logIndex': (number);
  'records': (Buffer)[];
  'maxTxnEpoch': (number);
  'prepared': (string)[];
}
