// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface FetchedRow {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'deleted'?: (boolean);
  'version'?: (number | string | Long);
}

export interface FetchedRow__Output {
  'key': (string);
  'value': (Buffer);
  'deleted': (boolean);
  'version': (number);
}
