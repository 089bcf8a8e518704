// Original file: proto/participant.proto

import type { PrepareRequest as _twopc_participant_PrepareRequest, PrepareRequest__Output as _twopc_participant_PrepareRequest__Output } from '../../twopc/participant/PrepareRequest';
import type { CommitRequest as _twopc_participant_CommitRequest, CommitRequest__Output as _twopc_participant_CommitRequest__Output } from '../../twopc/participant/CommitRequest';
import type { AbortRequest as _twopc_participant_AbortRequest, AbortRequest__Output as _twopc_participant_AbortRequest__Output } from '../../twopc/participant/AbortRequest';
import type { ReadRequest as _twopc_participant_ReadRequest, ReadRequest__Output as _twopc_participant_ReadRequest__Output } from '../../twopc/participant/ReadRequest';
import type { AppendRequest as _twopc_participant_AppendRequest, AppendRequest__Output as _twopc_participant_AppendRequest__Output } from '../../twopc/participant/AppendRequest';
import type { Long } from '@grpc/proto-loader';

export interface SessionRequest {
  'callId'?: (number | string | Long);
  'prepare'?: (_twopc_participant_PrepareRequest | null);
  'commit'?: (_twopc_participant_CommitRequest | null);
  'abort'?: (_twopc_participant_AbortRequest | null);
  'read'?: (_twopc_participant_ReadRequest | null);
  'append'?: (_twopc_participant_AppendRequest | null);
  'more'?: (Buffer | Uint8Array | string)[];
  'call'?: "prepare"|"commit"|"abort"|"read"|"append";
}

export interface SessionRequest__Output {
  'callId': (number);
  'prepare'?: (_twopc_participant_PrepareRequest__Output | null);
  'commit'?: (_twopc_participant_CommitRequest__Output | null);
  'abort'?: (_twopc_participant_AbortRequest__Output | null);
  'read'?: (_twopc_participant_ReadRequest__Output | null);
  'append'?: (_twopc_participant_AppendRequest__Output | null);
  'more': (Buffer)[];
  'call'?: "prepare"|"commit"|"abort"|"read"|"append";
}
