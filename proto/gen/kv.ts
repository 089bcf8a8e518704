import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DeleteRequest as _twopc_kv_DeleteRequest, DeleteRequest__Output as _twopc_kv_DeleteRequest__Output } from './twopc/kv/DeleteRequest';
import type { DeleteResponse as _twopc_kv_DeleteResponse, DeleteResponse__Output as _twopc_kv_DeleteResponse__Output } from './twopc/kv/DeleteResponse';
import type { GetRequest as _twopc_kv_GetRequest, GetRequest__Output as _twopc_kv_GetRequest__Output } from './twopc/kv/GetRequest';
import type { GetResponse as _twopc_kv_GetResponse, GetResponse__Output as _twopc_kv_GetResponse__Output } from './twopc/kv/GetResponse';
import type { InDoubtTxn as _twopc_kv_InDoubtTxn, InDoubtTxn__Output as _twopc_kv_InDoubtTxn__Output } from './twopc/kv/InDoubtTxn';
import type { InFlightTxn as _twopc_kv_InFlightTxn, InFlightTxn__Output as _twopc_kv_InFlightTxn__Output } from './twopc/kv/InFlightTxn';
import type { KvClient as _twopc_kv_KvClient, KvDefinition as _twopc_kv_KvDefinition } from './twopc/kv/Kv';
import type { PutRequest as _twopc_kv_PutRequest, PutRequest__Output as _twopc_kv_PutRequest__Output } from './twopc/kv/PutRequest';
import type { PutResponse as _twopc_kv_PutResponse, PutResponse__Output as _twopc_kv_PutResponse__Output } from './twopc/kv/PutResponse';
import type { ReplicaStatus as _twopc_kv_ReplicaStatus, ReplicaStatus__Output as _twopc_kv_ReplicaStatus__Output } from './twopc/kv/ReplicaStatus';
import type { ResolveRequest as _twopc_kv_ResolveRequest, ResolveRequest__Output as _twopc_kv_ResolveRequest__Output } from './twopc/kv/ResolveRequest';
import type { ResolveResponse as _twopc_kv_ResolveResponse, ResolveResponse__Output as _twopc_kv_ResolveResponse__Output } from './twopc/kv/ResolveResponse';
import type { StatusRequest as _twopc_kv_StatusRequest, StatusRequest__Output as _twopc_kv_StatusRequest__Output } from './twopc/kv/StatusRequest';
import type { StatusResponse as _twopc_kv_StatusResponse, StatusResponse__Output as _twopc_kv_StatusResponse__Output } from './twopc/kv/StatusResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  twopc: {
    kv: {
      DeleteRequest: MessageTypeDefinition<_twopc_kv_DeleteRequest, _twopc_kv_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_twopc_kv_DeleteResponse, _twopc_kv_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_twopc_kv_GetRequest, _twopc_kv_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_twopc_kv_GetResponse, _twopc_kv_GetResponse__Output>
      InDoubtTxn: MessageTypeDefinition<_twopc_kv_InDoubtTxn, _twopc_kv_InDoubtTxn__Output>
      InFlightTxn: MessageTypeDefinition<_twopc_kv_InFlightTxn, _twopc_kv_InFlightTxn__Output>
      Kv: SubtypeConstructor<typeof grpc.Client, _twopc_kv_KvClient> & { service: _twopc_kv_KvDefinition }
      PutRequest: MessageTypeDefinition<_twopc_kv_PutRequest, _twopc_kv_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_twopc_kv_PutResponse, _twopc_kv_PutResponse__Output>
      ReplicaStatus: MessageTypeDefinition<_twopc_kv_ReplicaStatus, _twopc_kv_ReplicaStatus__Output>
      ResolveRequest: MessageTypeDefinition<_twopc_kv_ResolveRequest, _twopc_kv_ResolveRequest__Output>
      ResolveResponse: MessageTypeDefinition<_twopc_kv_ResolveResponse, _twopc_kv_ResolveResponse__Output>
      StatusRequest: MessageTypeDefinition<_twopc_kv_StatusRequest, _twopc_kv_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_twopc_kv_StatusResponse, _twopc_kv_StatusResponse__Output>
    }
  }
}

