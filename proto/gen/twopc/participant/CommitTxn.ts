// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface CommitTxn {
  'txnId'?: (string);
  'commitSeq'?: (number | string | Long);
}

export interface CommitTxn__Output {
  'txnId': (string);
  'commitSeq': (number);
}
