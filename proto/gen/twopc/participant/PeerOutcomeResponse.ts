// Original file: proto/participant.proto

import type { PeerTxn as _twopc_participant_PeerTxn, PeerTxn__Output as _twopc_participant_PeerTxn__Output } from '../../twopc/participant/PeerTxn';

export interface PeerOutcomeResponse {
  'replicaId'?: (string);
  'txns'?: (_twopc_participant_PeerTxn)[];
}

export interface PeerOutcomeResponse__Output {
  'replicaId': (string);
  'txns': (_twopc_participant_PeerTxn__Output)[];
}
