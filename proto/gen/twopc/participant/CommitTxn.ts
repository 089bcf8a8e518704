// Original file: proto/participant.proto

import type { TxnWrite as _twopc_participant_TxnWrite, TxnWrite__Output as _twopc_participant_TxnWrite__Output } from '../../twopc/participant/TxnWrite';
import type { Long } from '@grpc/proto-loader';

export interface CommitTxn {
  'txnId'?: (string);
  'commitSeq'?: (number | string | Long);
  'writes'?: (_twopc_participant_TxnWrite)[];
}

export interface CommitTxn__Output {
  'txnId': (string);
  'commitSeq': (number);
  'writes': (_twopc_participant_TxnWrite__Output)[];
}
