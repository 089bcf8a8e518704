// Original file: proto/participant.proto

import type { PreparedTxn as _twopc_participant_PreparedTxn, PreparedTxn__Output as _twopc_participant_PreparedTxn__Output } from '../../twopc/participant/PreparedTxn';
import type { Long } from '@grpc/proto-loader';

export interface ParticipantStatusResponse {
  'replicaId'?: (string);
  'appliedSeq'?: (number | string | Long);
  'prepared'?: (_twopc_participant_PreparedTxn)[];
  'keys'?: (number | string | Long);
  'logForces'?: (number | string | Long);
  'logRecordsForced'?: (number | string | Long);
  'collectedThrough'?: (number | string | Long);
  'tombstones'?: (number | string | Long);
}

export interface ParticipantStatusResponse__Output {
  'replicaId': (string);
  'appliedSeq': (number);
  'prepared': (_twopc_participant_PreparedTxn__Output)[];
  'keys': (number);
  'logForces': (number);
  'logRecordsForced': (number);
  'collectedThrough': (number);
  'tombstones': (number);
}
