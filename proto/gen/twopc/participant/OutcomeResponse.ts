// Original file: proto/participant.proto

import type { TxnOutcome as _twopc_participant_TxnOutcome, TxnOutcome__Output as _twopc_participant_TxnOutcome__Output } from '../../twopc/participant/TxnOutcome';

export interface OutcomeResponse {
  'outcomes'?: (_twopc_participant_TxnOutcome)[];
}

export interface OutcomeResponse__Output {
  'outcomes': (_twopc_participant_TxnOutcome__Output)[];
}
