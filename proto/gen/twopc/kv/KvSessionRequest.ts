// Original file: proto/kv.proto

import type { GetRequest as _twopc_kv_GetRequest, GetRequest__Output as _twopc_kv_GetRequest__Output } from '../../twopc/kv/GetRequest';
import type { PutRequest as _twopc_kv_PutRequest, PutRequest__Output as _twopc_kv_PutRequest__Output } from '../../twopc/kv/PutRequest';
import type { DeleteRequest as _twopc_kv_DeleteRequest, DeleteRequest__Output as _twopc_kv_DeleteRequest__Output } from '../../twopc/kv/DeleteRequest';
import type { IncrementRequest as _twopc_kv_IncrementRequest, IncrementRequest__Output as _twopc_kv_IncrementRequest__Output } from '../../twopc/kv/IncrementRequest';
import type { CompareAndSetRequest as _twopc_kv_CompareAndSetRequest, CompareAndSetRequest__Output as _twopc_kv_CompareAndSetRequest__Output } from '../../twopc/kv/CompareAndSetRequest';
import type { CompareAndDeleteRequest as _twopc_kv_CompareAndDeleteRequest, CompareAndDeleteRequest__Output as _twopc_kv_CompareAndDeleteRequest__Output } from '../../twopc/kv/CompareAndDeleteRequest';
import type { TxnRequest as _twopc_kv_TxnRequest, TxnRequest__Output as _twopc_kv_TxnRequest__Output } from '../../twopc/kv/TxnRequest';
import type { TxnStatusRequest as _twopc_kv_TxnStatusRequest, TxnStatusRequest__Output as _twopc_kv_TxnStatusRequest__Output } from '../../twopc/kv/TxnStatusRequest';
import type { StatusRequest as _twopc_kv_StatusRequest, StatusRequest__Output as _twopc_kv_StatusRequest__Output } from '../../twopc/kv/StatusRequest';
import type { Long } from '@grpc/proto-loader';

export interface KvSessionRequest {
  'callId'?: (number | string | Long);
  'get'?: (_twopc_kv_GetRequest | null);
  'put'?: (_twopc_kv_PutRequest | null);
  'delete'?: (_twopc_kv_DeleteRequest | null);
  'increment'?: (_twopc_kv_IncrementRequest | null);
  'compareAndSet'?: (_twopc_kv_CompareAndSetRequest | null);
  'compareAndDelete'?: (_twopc_kv_CompareAndDeleteRequest | null);
  'txn'?: (_twopc_kv_TxnRequest | null);
  'txnStatus'?: (_twopc_kv_TxnStatusRequest | null);
  'status'?: (_twopc_kv_StatusRequest | null);
  'more'?: (Buffer | Uint8Array | string)[];
  'call'?: "get"|"put"|"delete"|"increment"|"compareAndSet"|"compareAndDelete"|"txn"|"txnStatus"|"status";
}

export interface KvSessionRequest__Output {
  'callId': (number);
  'get'?: (_twopc_kv_GetRequest__Output | null);
  'put'?: (_twopc_kv_PutRequest__Output | null);
  'delete'?: (_twopc_kv_DeleteRequest__Output | null);
  'increment'?: (_twopc_kv_IncrementRequest__Output | null);
  'compareAndSet'?: (_twopc_kv_CompareAndSetRequest__Output | null);
  'compareAndDelete'?: (_twopc_kv_CompareAndDeleteRequest__Output | null);
  'txn'?: (_twopc_kv_TxnRequest__Output | null);
  'txnStatus'?: (_twopc_kv_TxnStatusRequest__Output | null);
  'status'?: (_twopc_kv_StatusRequest__Output | null);
  'more': (Buffer)[];
  'call'?: "get"|"put"|"delete"|"increment"|"compareAndSet"|"compareAndDelete"|"txn"|"txnStatus"|"status";
}
