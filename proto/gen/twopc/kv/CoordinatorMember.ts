// Original file: proto/kv.proto


export interface CoordinatorMember {
  'id'?: (string);
  'address'?: (string);
}

export interface CoordinatorMember__Output {
  'id': (string);
  'address': (string);
}
