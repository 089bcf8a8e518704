// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface DumpEntry {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'version'?: (number | string | Long);
}

export interface DumpEntry__Output {
  'key': (string);
  'value': (Buffer);
  'version': (number);
}
