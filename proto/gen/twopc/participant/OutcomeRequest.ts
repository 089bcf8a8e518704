// Original file: proto/participant.proto


export interface OutcomeRequest {
  'replicaId'?: (string);
  'txnIds'?: (string)[];
}

export interface OutcomeRequest__Output {
  'replicaId': (string);
  'txnIds': (string)[];
}
