// Original file: proto/participant.proto

import type { Outcome as _twopc_participant_Outcome, Outcome__Output as _twopc_participant_Outcome__Output } from '../../twopc/participant/Outcome';
import type { Long } from '@grpc/proto-loader';

export interface TxnOutcome {
  'txnId'?: (string);
  'outcome'?: (_twopc_participant_Outcome);
  'commitSeq'?: (number | string | Long);
}

export interface TxnOutcome__Output {
  'txnId': (string);
  'outcome': (_twopc_participant_Outcome__Output);
  'commitSeq': (number);
}
