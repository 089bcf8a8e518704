// Original file: proto/participant.proto

import type { PrepareResponse as _twopc_participant_PrepareResponse, PrepareResponse__Output as _twopc_participant_PrepareResponse__Output } from '../../twopc/participant/PrepareResponse';
import type { DecisionResponse as _twopc_participant_DecisionResponse, DecisionResponse__Output as _twopc_participant_DecisionResponse__Output } from '../../twopc/participant/DecisionResponse';
import type { ReadResponse as _twopc_participant_ReadResponse, ReadResponse__Output as _twopc_participant_ReadResponse__Output } from '../../twopc/participant/ReadResponse';
import type { AppendResponse as _twopc_participant_AppendResponse, AppendResponse__Output as _twopc_participant_AppendResponse__Output } from '../../twopc/participant/AppendResponse';
import type { Long } from '@grpc/proto-loader';

export interface SessionResponse {
  'callId'?: (number | string | Long);
  'code'?: (number);
  'details'?: (string);
  'prepare'?: (_twopc_participant_PrepareResponse | null);
  'decision'?: (_twopc_participant_DecisionResponse | null);
  'read'?: (_twopc_participant_ReadResponse | null);
  'append'?: (_twopc_participant_AppendResponse | null);
  'more'?: (Buffer | Uint8Array | string)[];
  'answer'?: "prepare"|"decision"|"read"|"append";
}

export interface SessionResponse__Output {
  'callId': (number);
  'code': (number);
  'details': (string);
  'prepare'?: (_twopc_participant_PrepareResponse__Output | null);
  'decision'?: (_twopc_participant_DecisionResponse__Output | null);
  'read'?: (_twopc_participant_ReadResponse__Output | null);
  'append'?: (_twopc_participant_AppendResponse__Output | null);
  'more': (Buffer)[];
  'answer'?: "prepare"|"decision"|"read"|"append";
}
