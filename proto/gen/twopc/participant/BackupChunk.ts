// Original file: proto/participant.proto

import type { BackupHeader as _twopc_participant_BackupHeader, BackupHeader__Output as _twopc_participant_BackupHeader__Output } from '../../twopc/participant/BackupHeader';
import type { BackupTrailer as _twopc_participant_BackupTrailer, BackupTrailer__Output as _twopc_participant_BackupTrailer__Output } from '../../twopc/participant/BackupTrailer';

export interface BackupChunk {
  'header'?: (_twopc_participant_BackupHeader | null);
  'data'?: (Buffer | Uint8Array | string);
  'trailer'?: (_twopc_participant_BackupTrailer | null);
  'part'?: "header"|"data"|"trailer";
}

export interface BackupChunk__Output {
  'header'?: (_twopc_participant_BackupHeader__Output | null);
  'data'?: (Buffer);
  'trailer'?: (_twopc_participant_BackupTrailer__Output | null);
  'part'?: "header"|"data"|"trailer";
}
