// Original file: proto/participant.proto

import type { Long } from '@grpc/proto-loader';

export interface CatchUpResponse {
  'rowsCopied'?: (number | string | Long);
  'appliedSeq'?: (number | string | Long);
}

export interface CatchUpResponse__Output {
  'rowsCopied': (number);
  'appliedSeq': (number);
}
