// Original file: proto/participant.proto


export interface PeerOutcomeRequest {
  'replicaId'?: (string);
  'txnIds'?: (string)[];
}

export interface PeerOutcomeRequest__Output {
  'replicaId': (string);
  'txnIds': (string)[];
}
