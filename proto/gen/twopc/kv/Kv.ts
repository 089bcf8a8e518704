// Original file: proto/kv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CompareAndDeleteRequest as _twopc_kv_CompareAndDeleteRequest, CompareAndDeleteRequest__Output as _twopc_kv_CompareAndDeleteRequest__Output } from '../../twopc/kv/CompareAndDeleteRequest';
import type { CompareAndDeleteResponse as _twopc_kv_CompareAndDeleteResponse, CompareAndDeleteResponse__Output as _twopc_kv_CompareAndDeleteResponse__Output } from '../../twopc/kv/CompareAndDeleteResponse';
import type { CompareAndSetRequest as _twopc_kv_CompareAndSetRequest, CompareAndSetRequest__Output as _twopc_kv_CompareAndSetRequest__Output } from '../../twopc/kv/CompareAndSetRequest';
import type { CompareAndSetResponse as _twopc_kv_CompareAndSetResponse, CompareAndSetResponse__Output as _twopc_kv_CompareAndSetResponse__Output } from '../../twopc/kv/CompareAndSetResponse';
import type { DeleteRequest as _twopc_kv_DeleteRequest, DeleteRequest__Output as _twopc_kv_DeleteRequest__Output } from '../../twopc/kv/DeleteRequest';
import type { DeleteResponse as _twopc_kv_DeleteResponse, DeleteResponse__Output as _twopc_kv_DeleteResponse__Output } from '../../twopc/kv/DeleteResponse';
import type { GetRequest as _twopc_kv_GetRequest, GetRequest__Output as _twopc_kv_GetRequest__Output } from '../../twopc/kv/GetRequest';
import type { GetResponse as _twopc_kv_GetResponse, GetResponse__Output as _twopc_kv_GetResponse__Output } from '../../twopc/kv/GetResponse';
import type { IncrementRequest as _twopc_kv_IncrementRequest, IncrementRequest__Output as _twopc_kv_IncrementRequest__Output } from '../../twopc/kv/IncrementRequest';
import type { IncrementResponse as _twopc_kv_IncrementResponse, IncrementResponse__Output as _twopc_kv_IncrementResponse__Output } from '../../twopc/kv/IncrementResponse';
import type { KvSessionRequest as _twopc_kv_KvSessionRequest, KvSessionRequest__Output as _twopc_kv_KvSessionRequest__Output } from '../../twopc/kv/KvSessionRequest';
import type { KvSessionResponse as _twopc_kv_KvSessionResponse, KvSessionResponse__Output as _twopc_kv_KvSessionResponse__Output } from '../../twopc/kv/KvSessionResponse';
import type { PutRequest as _twopc_kv_PutRequest, PutRequest__Output as _twopc_kv_PutRequest__Output } from '../../twopc/kv/PutRequest';
import type { PutResponse as _twopc_kv_PutResponse, PutResponse__Output as _twopc_kv_PutResponse__Output } from '../../twopc/kv/PutResponse';
import type { ResolveRequest as _twopc_kv_ResolveRequest, ResolveRequest__Output as _twopc_kv_ResolveRequest__Output } from '../../twopc/kv/ResolveRequest';
import type { ResolveResponse as _twopc_kv_ResolveResponse, ResolveResponse__Output as _twopc_kv_ResolveResponse__Output } from '../../twopc/kv/ResolveResponse';
import type { StatusRequest as _twopc_kv_StatusRequest, StatusRequest__Output as _twopc_kv_StatusRequest__Output } from '../../twopc/kv/StatusRequest';
import type { StatusResponse as _twopc_kv_StatusResponse, StatusResponse__Output as _twopc_kv_StatusResponse__Output } from '../../twopc/kv/StatusResponse';
import type { TxnRequest as _twopc_kv_TxnRequest, TxnRequest__Output as _twopc_kv_TxnRequest__Output } from '../../twopc/kv/TxnRequest';
import type { TxnResponse as _twopc_kv_TxnResponse, TxnResponse__Output as _twopc_kv_TxnResponse__Output } from '../../twopc/kv/TxnResponse';
import type { TxnStatusRequest as _twopc_kv_TxnStatusRequest, TxnStatusRequest__Output as _twopc_kv_TxnStatusRequest__Output } from '../../twopc/kv/TxnStatusRequest';
import type { TxnStatusResponse as _twopc_kv_TxnStatusResponse, TxnStatusResponse__Output as _twopc_kv_TxnStatusResponse__Output } from '../../twopc/kv/TxnStatusResponse';

export interface KvClient extends grpc.Client {
  CompareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  CompareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  CompareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  CompareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  compareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  compareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  compareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  compareAndDelete(argument: _twopc_kv_CompareAndDeleteRequest, callback: grpc.requestCallback<_twopc_kv_CompareAndDeleteResponse__Output>): grpc.ClientUnaryCall;
  
  CompareAndSet(argument: _twopc_kv_CompareAndSetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  CompareAndSet(argument: _twopc_kv_CompareAndSetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  CompareAndSet(argument: _twopc_kv_CompareAndSetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  CompareAndSet(argument: _twopc_kv_CompareAndSetRequest, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  compareAndSet(argument: _twopc_kv_CompareAndSetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  compareAndSet(argument: _twopc_kv_CompareAndSetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  compareAndSet(argument: _twopc_kv_CompareAndSetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  compareAndSet(argument: _twopc_kv_CompareAndSetRequest, callback: grpc.requestCallback<_twopc_kv_CompareAndSetResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _twopc_kv_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _twopc_kv_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _twopc_kv_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _twopc_kv_DeleteRequest, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _twopc_kv_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _twopc_kv_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _twopc_kv_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _twopc_kv_DeleteRequest, callback: grpc.requestCallback<_twopc_kv_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _twopc_kv_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _twopc_kv_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _twopc_kv_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _twopc_kv_GetRequest, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _twopc_kv_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _twopc_kv_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _twopc_kv_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _twopc_kv_GetRequest, callback: grpc.requestCallback<_twopc_kv_GetResponse__Output>): grpc.ClientUnaryCall;
  
  Increment(argument: _twopc_kv_IncrementRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  Increment(argument: _twopc_kv_IncrementRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  Increment(argument: _twopc_kv_IncrementRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  Increment(argument: _twopc_kv_IncrementRequest, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  increment(argument: _twopc_kv_IncrementRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  increment(argument: _twopc_kv_IncrementRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  increment(argument: _twopc_kv_IncrementRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  increment(argument: _twopc_kv_IncrementRequest, callback: grpc.requestCallback<_twopc_kv_IncrementResponse__Output>): grpc.ClientUnaryCall;
  
  Put(argument: _twopc_kv_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _twopc_kv_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _twopc_kv_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  Put(argument: _twopc_kv_PutRequest, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _twopc_kv_PutRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _twopc_kv_PutRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _twopc_kv_PutRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  put(argument: _twopc_kv_PutRequest, callback: grpc.requestCallback<_twopc_kv_PutResponse__Output>): grpc.ClientUnaryCall;
  
  Resolve(argument: _twopc_kv_ResolveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  Resolve(argument: _twopc_kv_ResolveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  Resolve(argument: _twopc_kv_ResolveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  Resolve(argument: _twopc_kv_ResolveRequest, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  resolve(argument: _twopc_kv_ResolveRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  resolve(argument: _twopc_kv_ResolveRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  resolve(argument: _twopc_kv_ResolveRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  resolve(argument: _twopc_kv_ResolveRequest, callback: grpc.requestCallback<_twopc_kv_ResolveResponse__Output>): grpc.ClientUnaryCall;
  
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionResponse__Output>;
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionResponse__Output>;
  
  Status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  Txn(argument: _twopc_kv_TxnRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _twopc_kv_TxnRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _twopc_kv_TxnRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  Txn(argument: _twopc_kv_TxnRequest, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _twopc_kv_TxnRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _twopc_kv_TxnRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _twopc_kv_TxnRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  txn(argument: _twopc_kv_TxnRequest, callback: grpc.requestCallback<_twopc_kv_TxnResponse__Output>): grpc.ClientUnaryCall;
  
  TxnStatus(argument: _twopc_kv_TxnStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  TxnStatus(argument: _twopc_kv_TxnStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  TxnStatus(argument: _twopc_kv_TxnStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  TxnStatus(argument: _twopc_kv_TxnStatusRequest, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  txnStatus(argument: _twopc_kv_TxnStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  txnStatus(argument: _twopc_kv_TxnStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  txnStatus(argument: _twopc_kv_TxnStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  txnStatus(argument: _twopc_kv_TxnStatusRequest, callback: grpc.requestCallback<_twopc_kv_TxnStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface KvHandlers extends grpc.UntypedServiceImplementation {
  CompareAndDelete: grpc.handleUnaryCall<_twopc_kv_CompareAndDeleteRequest__Output, _twopc_kv_CompareAndDeleteResponse>;
  
  CompareAndSet: grpc.handleUnaryCall<_twopc_kv_CompareAndSetRequest__Output, _twopc_kv_CompareAndSetResponse>;
  
  Delete: grpc.handleUnaryCall<_twopc_kv_DeleteRequest__Output, _twopc_kv_DeleteResponse>;
  
  Get: grpc.handleUnaryCall<_twopc_kv_GetRequest__Output, _twopc_kv_GetResponse>;
  
  Increment: grpc.handleUnaryCall<_twopc_kv_IncrementRequest__Output, _twopc_kv_IncrementResponse>;
  
  Put: grpc.handleUnaryCall<_twopc_kv_PutRequest__Output, _twopc_kv_PutResponse>;
  
  Resolve: grpc.handleUnaryCall<_twopc_kv_ResolveRequest__Output, _twopc_kv_ResolveResponse>;
  
  Session: grpc.handleBidiStreamingCall<_twopc_kv_KvSessionRequest__Output, _twopc_kv_KvSessionResponse>;
  
  Status: grpc.handleUnaryCall<_twopc_kv_StatusRequest__Output, _twopc_kv_StatusResponse>;
  
  Txn: grpc.handleUnaryCall<_twopc_kv_TxnRequest__Output, _twopc_kv_TxnResponse>;
  
  TxnStatus: grpc.handleUnaryCall<_twopc_kv_TxnStatusRequest__Output, _twopc_kv_TxnStatusResponse>;
  
}

export interface KvDefinition extends grpc.ServiceDefinition {
  CompareAndDelete: MethodDefinition<_twopc_kv_CompareAndDeleteRequest, _twopc_kv_CompareAndDeleteResponse, _twopc_kv_CompareAndDeleteRequest__Output, _twopc_kv_CompareAndDeleteResponse__Output>
  CompareAndSet: MethodDefinition<_twopc_kv_CompareAndSetRequest, _twopc_kv_CompareAndSetResponse, _twopc_kv_CompareAndSetRequest__Output, _twopc_kv_CompareAndSetResponse__Output>
  Delete: MethodDefinition<_twopc_kv_DeleteRequest, _twopc_kv_DeleteResponse, _twopc_kv_DeleteRequest__Output, _twopc_kv_DeleteResponse__Output>
  Get: MethodDefinition<_twopc_kv_GetRequest, _twopc_kv_GetResponse, _twopc_kv_GetRequest__Output, _twopc_kv_GetResponse__Output>
  Increment: MethodDefinition<_twopc_kv_IncrementRequest, _twopc_kv_IncrementResponse, _twopc_kv_IncrementRequest__Output, _twopc_kv_IncrementResponse__Output>
  Put: MethodDefinition<_twopc_kv_PutRequest, _twopc_kv_PutResponse, _twopc_kv_PutRequest__Output, _twopc_kv_PutResponse__Output>
  Resolve: MethodDefinition<_twopc_kv_ResolveRequest, _twopc_kv_ResolveResponse, _twopc_kv_ResolveRequest__Output, _twopc_kv_ResolveResponse__Output>
  Session: MethodDefinition<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionResponse, _twopc_kv_KvSessionRequest__Output, _twopc_kv_KvSessionResponse__Output>
  Status: MethodDefinition<_twopc_kv_StatusRequest, _twopc_kv_StatusResponse, _twopc_kv_StatusRequest__Output, _twopc_kv_StatusResponse__Output>
  Txn: MethodDefinition<_twopc_kv_TxnRequest, _twopc_kv_TxnResponse, _twopc_kv_TxnRequest__Output, _twopc_kv_TxnResponse__Output>
  TxnStatus: MethodDefinition<_twopc_kv_TxnStatusRequest, _twopc_kv_TxnStatusResponse, _twopc_kv_TxnStatusRequest__Output, _twopc_kv_TxnStatusResponse__Output>
}
