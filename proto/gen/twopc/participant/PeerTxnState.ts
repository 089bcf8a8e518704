// Original file: proto/participant.proto

export const PeerTxnState = {
  PEER_TXN_STATE_UNSPECIFIED: 'PEER_TXN_STATE_UNSPECIFIED',
  PEER_COMMITTED: 'PEER_COMMITTED',
  PEER_ABORTED: 'PEER_ABORTED',
  PEER_PREPARED: 'PEER_PREPARED',
  PEER_UNKNOWN: 'PEER_UNKNOWN',
} as const;

export type PeerTxnState =
  | 'PEER_TXN_STATE_UNSPECIFIED'
  | 0
  | 'PEER_COMMITTED'
  | 1
  | 'PEER_ABORTED'
  | 2
  | 'PEER_PREPARED'
  | 3
  | 'PEER_UNKNOWN'
  | 4

export type PeerTxnState__Output = typeof PeerTxnState[keyof typeof PeerTxnState]
