// Original file: proto/participant.proto

import type { VoteResult as _twopc_participant_VoteResult, VoteResult__Output as _twopc_participant_VoteResult__Output } from '../../twopc/participant/VoteResult';

export interface PrepareResponse {
  'replicaId'?: (string);
  'votes'?: (_twopc_participant_VoteResult)[];
}

export interface PrepareResponse__Output {
  'replicaId': (string);
  'votes': (_twopc_participant_VoteResult__Output)[];
}
