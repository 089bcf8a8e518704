// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface Compare {
  'key'?: (string);
  'target'?: (string);
  'op'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (number | string | Long);
  'exists'?: (boolean);
}

export interface Compare__Output {
  'key': (string);
  'target': (string);
  'op': (string);
  'value': (Buffer);
  'version': (number);
  'exists': (boolean);
}
