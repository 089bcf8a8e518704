// Original file: proto/participant.proto


export interface AbortRequest {
  'txnIds'?: (string)[];
}

export interface AbortRequest__Output {
  'txnIds': (string)[];
}
