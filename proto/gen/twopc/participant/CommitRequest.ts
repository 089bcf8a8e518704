// Original file: proto/participant.proto

import type { CommitTxn as _twopc_participant_CommitTxn, CommitTxn__Output as _twopc_participant_CommitTxn__Output } from '../../twopc/participant/CommitTxn';
import type { Long } from '@grpc/proto-loader';

export interface CommitRequest {
  'txns'?: (_twopc_participant_CommitTxn)[];
  'epoch'?: (number | string | Long);
  'gcFloor'?: (number | string | Long);
  'urgent'?: (boolean);
}

export interface CommitRequest__Output {
  'txns': (_twopc_participant_CommitTxn__Output)[];
  'epoch': (number);
  'gcFloor': (number);
  'urgent': (boolean);
}
