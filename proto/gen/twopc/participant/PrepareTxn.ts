// Original file: proto/participant.proto

import type { TxnWrite as _twopc_participant_TxnWrite, TxnWrite__Output as _twopc_participant_TxnWrite__Output } from '../../twopc/participant/TxnWrite';

export interface PrepareTxn {
  'txnId'?: (string);
  'writes'?: (_twopc_participant_TxnWrite)[];
  'participants'?: (string)[];
}

export interface PrepareTxn__Output {
  'txnId': (string);
  'writes': (_twopc_participant_TxnWrite__Output)[];
  'participants': (string)[];
}
