// Original file: proto/kv.proto


export interface StatusRequest {
  'brief'?: (boolean);
  'resetTrace'?: (boolean);
}

export interface StatusRequest__Output {
  'brief': (boolean);
  'resetTrace': (boolean);
}
