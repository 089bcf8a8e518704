// Original file: proto/kv.proto

import type { GetResponse as _twopc_kv_GetResponse, GetResponse__Output as _twopc_kv_GetResponse__Output } from '../../twopc/kv/GetResponse';
import type { PutResponse as _twopc_kv_PutResponse, PutResponse__Output as _twopc_kv_PutResponse__Output } from '../../twopc/kv/PutResponse';
import type { DeleteResponse as _twopc_kv_DeleteResponse, DeleteResponse__Output as _twopc_kv_DeleteResponse__Output } from '../../twopc/kv/DeleteResponse';
import type { IncrementResponse as _twopc_kv_IncrementResponse, IncrementResponse__Output as _twopc_kv_IncrementResponse__Output } from '../../twopc/kv/IncrementResponse';
import type { CompareAndSetResponse as _twopc_kv_CompareAndSetResponse, CompareAndSetResponse__Output as _twopc_kv_CompareAndSetResponse__Output } from '../../twopc/kv/CompareAndSetResponse';
import type { CompareAndDeleteResponse as _twopc_kv_CompareAndDeleteResponse, CompareAndDeleteResponse__Output as _twopc_kv_CompareAndDeleteResponse__Output } from '../../twopc/kv/CompareAndDeleteResponse';
import type { TxnResponse as _twopc_kv_TxnResponse, TxnResponse__Output as _twopc_kv_TxnResponse__Output } from '../../twopc/kv/TxnResponse';
import type { TxnStatusResponse as _twopc_kv_TxnStatusResponse, TxnStatusResponse__Output as _twopc_kv_TxnStatusResponse__Output } from '../../twopc/kv/TxnStatusResponse';
import type { StatusResponse as _twopc_kv_StatusResponse, StatusResponse__Output as _twopc_kv_StatusResponse__Output } from '../../twopc/kv/StatusResponse';
import type { Long } from '@grpc/proto-loader';

export interface KvSessionResponse {
  'callId'?: (number | string | Long);
  'code'?: (number);
  'details'?: (string);
  'activeCoordinator'?: (string);
  'get'?: (_twopc_kv_GetResponse | null);
  'put'?: (_twopc_kv_PutResponse | null);
  'delete'?: (_twopc_kv_DeleteResponse | null);
  'increment'?: (_twopc_kv_IncrementResponse | null);
  'compareAndSet'?: (_twopc_kv_CompareAndSetResponse | null);
  'compareAndDelete'?: (_twopc_kv_CompareAndDeleteResponse | null);
  'txn'?: (_twopc_kv_TxnResponse | null);
  'txnStatus'?: (_twopc_kv_TxnStatusResponse | null);
  'status'?: (_twopc_kv_StatusResponse | null);
  'more'?: (Buffer | Uint8Array | string)[];
  'notStarted'?: (boolean);
  'answer'?: "get"|"put"|"delete"|"increment"|"compareAndSet"|"compareAndDelete"|"txn"|"txnStatus"|"status";
}

export interface KvSessionResponse__Output {
  'callId': (number);
  'code': (number);
  'details': (string);
  'activeCoordinator': (string);
  'get'?: (_twopc_kv_GetResponse__Output | null);
  'put'?: (_twopc_kv_PutResponse__Output | null);
  'delete'?: (_twopc_kv_DeleteResponse__Output | null);
  'increment'?: (_twopc_kv_IncrementResponse__Output | null);
  'compareAndSet'?: (_twopc_kv_CompareAndSetResponse__Output | null);
  'compareAndDelete'?: (_twopc_kv_CompareAndDeleteResponse__Output | null);
  'txn'?: (_twopc_kv_TxnResponse__Output | null);
  'txnStatus'?: (_twopc_kv_TxnStatusResponse__Output | null);
  'status'?: (_twopc_kv_StatusResponse__Output | null);
  'more': (Buffer)[];
  'notStarted': (boolean);
  'answer'?: "get"|"put"|"delete"|"increment"|"compareAndSet"|"compareAndDelete"|"txn"|"txnStatus"|"status";
}
