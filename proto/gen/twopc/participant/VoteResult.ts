// Original file: proto/participant.proto

import type { Vote as _twopc_participant_Vote, Vote__Output as _twopc_participant_Vote__Output } from '../../twopc/participant/Vote';

export interface VoteResult {
  'txnId'?: (string);
  'vote'?: (_twopc_participant_Vote);
  'reason'?: (string);
  'lockedBy'?: (string);
}

export interface VoteResult__Output {
  'txnId': (string);
  'vote': (_twopc_participant_Vote__Output);
  'reason': (string);
  'lockedBy': (string);
}
