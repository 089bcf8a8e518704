// Original file: proto/kv.proto


export interface StatusRequest {
  'brief'?: (boolean);
}

export interface StatusRequest__Output {
  'brief': (boolean);
}
