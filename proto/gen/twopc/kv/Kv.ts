// Original file: proto/kv.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeleteRequest as _twopc_kv_DeleteRequest, DeleteRequest__Output as _twopc_kv_DeleteRequest__Output } from '../../twopc/kv/DeleteRequest';
import type { DeleteResponse as _twopc_kv_DeleteResponse, DeleteResponse__Output as _twopc_kv_DeleteResponse__Output } from '../../twopc/kv/DeleteResponse';
import type { GetRequest as _twopc_kv_GetRequest, GetRequest__Output as _twopc_kv_GetRequest__Output } from '../../twopc/kv/GetRequest';
import type { GetResponse as _twopc_kv_GetResponse, GetResponse__Output as _twopc_kv_GetResponse__Output } from '../../twopc/kv/GetResponse';
import type { PutRequest as _twopc_kv_PutRequest, PutRequest__Output as _twopc_kv_PutRequest__Output } from '../../twopc/kv/PutRequest';
import type { PutResponse as _twopc_kv_PutResponse, PutResponse__Output as _twopc_kv_PutResponse__Output } from '../../twopc/kv/PutResponse';
import type { ResolveRequest as _twopc_kv_ResolveRequest, ResolveRequest__Output as _twopc_kv_ResolveRequest__Output } from '../../twopc/kv/ResolveRequest';
import type { ResolveResponse as _twopc_kv_ResolveResponse, ResolveResponse__Output as _twopc_kv_ResolveResponse__Output } from '../../twopc/kv/ResolveResponse';
import type { StatusRequest as _twopc_kv_StatusRequest, StatusRequest__Output as _twopc_kv_StatusRequest__Output } from '../../twopc/kv/StatusRequest';
import type { StatusResponse as _twopc_kv_StatusResponse, StatusResponse__Output as _twopc_kv_StatusResponse__Output } from '../../twopc/kv/StatusResponse';

export interface KvClient extends grpc.Client {
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
  
  Status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_kv_StatusRequest, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_kv_StatusRequest, callback: grpc.requestCallback<_twopc_kv_StatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface KvHandlers extends grpc.UntypedServiceImplementation {
  Delete: grpc.handleUnaryCall<_twopc_kv_DeleteRequest__Output, _twopc_kv_DeleteResponse>;
  
  Get: grpc.handleUnaryCall<_twopc_kv_GetRequest__Output, _twopc_kv_GetResponse>;
  
  Put: grpc.handleUnaryCall<_twopc_kv_PutRequest__Output, _twopc_kv_PutResponse>;
  
  Resolve: grpc.handleUnaryCall<_twopc_kv_ResolveRequest__Output, _twopc_kv_ResolveResponse>;
  
  Status: grpc.handleUnaryCall<_twopc_kv_StatusRequest__Output, _twopc_kv_StatusResponse>;
  
}

export interface KvDefinition extends grpc.ServiceDefinition {
  Delete: MethodDefinition<_twopc_kv_DeleteRequest, _twopc_kv_DeleteResponse, _twopc_kv_DeleteRequest__Output, _twopc_kv_DeleteResponse__Output>
  Get: MethodDefinition<_twopc_kv_GetRequest, _twopc_kv_GetResponse, _twopc_kv_GetRequest__Output, _twopc_kv_GetResponse__Output>
  Put: MethodDefinition<_twopc_kv_PutRequest, _twopc_kv_PutResponse, _twopc_kv_PutRequest__Output, _twopc_kv_PutResponse__Output>
  Resolve: MethodDefinition<_twopc_kv_ResolveRequest, _twopc_kv_ResolveResponse, _twopc_kv_ResolveRequest__Output, _twopc_kv_ResolveResponse__Output>
  Status: MethodDefinition<_twopc_kv_StatusRequest, _twopc_kv_StatusResponse, _twopc_kv_StatusRequest__Output, _twopc_kv_StatusResponse__Output>
}
