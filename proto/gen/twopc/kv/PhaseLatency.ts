// Original file: proto/kv.proto

import type { Long } from '@grpc/proto-loader';

export interface PhaseLatency {
  'phase'?: (string);
  'count'?: (number | string | Long);
  'meanUs'?: (number | string | Long);
  'p50Us'?: (number | string | Long);
  'p90Us'?: (number | string | Long);
  'p99Us'?: (number | string | Long);
  'maxUs'?: (number | string | Long);
}

export interface PhaseLatency__Output {
  'phase': (string);
  'count': (number);
  'meanUs': (number);
  'p50Us': (number);
  'p90Us': (number);
  'p99Us': (number);
  'maxUs': (number);
}
