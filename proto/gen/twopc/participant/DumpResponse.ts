// Original file: proto/participant.proto

import type { DumpEntry as _twopc_participant_DumpEntry, DumpEntry__Output as _twopc_participant_DumpEntry__Output } from '../../twopc/participant/DumpEntry';
import type { Long } from '@grpc/proto-loader';

export interface DumpResponse {
  'replicaId'?: (string);
  'entries'?: (_twopc_participant_DumpEntry)[];
  'checksum'?: (string);
  'appliedSeq'?: (number | string | Long);
}

export interface DumpResponse__Output {
  'replicaId': (string);
  'entries': (_twopc_participant_DumpEntry__Output)[];
  'checksum': (string);
  'appliedSeq': (number);
}
