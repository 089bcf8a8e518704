// Original file: proto/participant.proto


export interface BackupRequest {
  'chunkBytes'?: (number);
}

export interface BackupRequest__Output {
  'chunkBytes': (number);
}
