// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface PromiseResponse {
  'replicaId'?: (string);
  'granted'?: (boolean);
  'promisedEpoch'?: (number | string | Long);
  'promisedTo'?: (string);
  'logEpoch'?: (number | string | Long);
  'logIndex'?: (number | string | Long);
  'maxTxnEpoch'?: (number | string | Long);
  'prepared'?: (string)[];
  'logFirstIndex'?: (number | string | Long);
}

export interface PromiseResponse__Output {
  'replicaId': (string);
  'granted': (boolean);
  'promisedEpoch': (number);
  'promisedTo': (string);
  'logEpoch': (number);
  'logIndex': (number);
  'maxTxnEpoch': (number);
  'prepared': (string)[];
  'logFirstIndex': (number);
}
