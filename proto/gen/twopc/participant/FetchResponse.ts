// Original file: proto/participant.proto

import type { FetchedRow as _twopc_participant_FetchedRow, FetchedRow__Output as _twopc_participant_FetchedRow__Output } from '../../twopc/participant/FetchedRow';
import type { Long } from '@grpc/proto-loader';

export interface FetchResponse {
  'rows'?: (_twopc_participant_FetchedRow)[];
  'done'?: (boolean);
  'collectedThrough'?: (number | string | Long);
}

export interface FetchResponse__Output {
  'rows': (_twopc_participant_FetchedRow__Output)[];
  'done': (boolean);
  'collectedThrough': (number);
}
