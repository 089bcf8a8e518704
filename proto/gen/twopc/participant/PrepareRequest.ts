// Original file: proto/participant.proto

import type { PrepareTxn as _twopc_participant_PrepareTxn, PrepareTxn__Output as _twopc_participant_PrepareTxn__Output } from '../../twopc/participant/PrepareTxn';
import type { Long } from '@grpc/proto-loader';

export interface PrepareRequest {
  'coordinatorId'?: (string);
  'txns'?: (_twopc_participant_PrepareTxn)[];
  'epoch'?: (number | string | Long);
}

export interface PrepareRequest__Output {
  'coordinatorId': (string);
  'txns': (_twopc_participant_PrepareTxn__Output)[];
  'epoch': (number);
}
