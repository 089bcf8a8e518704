// Original file: proto/participant.proto


export interface BackupTrailer {
  'verifiedBy'?: (string);
}

export interface BackupTrailer__Output {
  'verifiedBy': (string);
}
