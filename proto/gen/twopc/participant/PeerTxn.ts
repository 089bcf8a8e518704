// Original file: proto/participant.proto

import type { PeerTxnState as _twopc_participant_PeerTxnState, PeerTxnState__Output as _twopc_participant_PeerTxnState__Output } from '../../twopc/participant/PeerTxnState';
import type { Long } from '@grpc/proto-loader';

export interface PeerTxn {
  'txnId'?: (string);
  'state'?: (_twopc_participant_PeerTxnState);
  'commitSeq'?: (number | string | Long);
}

export interface PeerTxn__Output {
  'txnId': (string);
  'state': (_twopc_participant_PeerTxnState__Output);
  'commitSeq': (number);
}
