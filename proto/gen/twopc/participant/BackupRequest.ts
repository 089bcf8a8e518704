// Original file: proto/participant.proto


export interface BackupRequest {
  'chunkBytes'?: (number);
  'forCatchUp'?: (boolean);
}

export interface BackupRequest__Output {
  'chunkBytes': (number);
  'forCatchUp': (boolean);
}
