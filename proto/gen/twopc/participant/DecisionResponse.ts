// Original file: proto/participant.proto


export interface DecisionResponse {
  'replicaId'?: (string);
  'ackedTxnIds'?: (string)[];
}

export interface DecisionResponse__Output {
  'replicaId': (string);
  'ackedTxnIds': (string)[];
}
