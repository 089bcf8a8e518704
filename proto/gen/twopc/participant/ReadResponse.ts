// Original file: proto/participant.proto

import type { ReadResult as _twopc_participant_ReadResult, ReadResult__Output as _twopc_participant_ReadResult__Output } from '../../twopc/participant/ReadResult';

export interface ReadResponse {
  'replicaId'?: (string);
  'results'?: (_twopc_participant_ReadResult)[];
}

export interface ReadResponse__Output {
  'replicaId': (string);
  'results': (_twopc_participant_ReadResult__Output)[];
}
