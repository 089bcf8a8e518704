// Original file: proto/participant.proto


export interface ReadRequest {
  'keys'?: (string)[];
}

export interface ReadRequest__Output {
  'keys': (string)[];
}
