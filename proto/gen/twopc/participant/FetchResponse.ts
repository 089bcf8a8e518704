// Original file: proto/participant.proto

import type { FetchedRow as _twopc_participant_FetchedRow, FetchedRow__Output as _twopc_participant_FetchedRow__Output } from '../../twopc/participant/FetchedRow';

export interface FetchResponse {
  'rows'?: (_twopc_participant_FetchedRow)[];
  'done'?: (boolean);
}

export interface FetchResponse__Output {
  'rows': (_twopc_participant_FetchedRow__Output)[];
  'done': (boolean);
}
