// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface BackupHeader {
  'replicaId'?: (string);
  'commitSeq'?: (number | string | Long);
  'totalBytes'?: (number | string | Long);
  'sha256'?: (string);
}

export interface BackupHeader__Output {
  'replicaId': (string);
  'commitSeq': (number);
  'totalBytes': (number);
  'sha256': (string);
}
