// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadResult {
  'key'?: (string);
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (number | string | Long);
}

export interface ReadResult__Output {
  'key': (string);
  'found': (boolean);
  'value': (Buffer);
  'version': (number);
}
