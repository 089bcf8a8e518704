import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Compare as _twopc_kv_Compare, Compare__Output as _twopc_kv_Compare__Output } from './twopc/kv/Compare';
import type { CompareAndDeleteRequest as _twopc_kv_CompareAndDeleteRequest, CompareAndDeleteRequest__Output as _twopc_kv_CompareAndDeleteRequest__Output } from './twopc/kv/CompareAndDeleteRequest';
import type { CompareAndDeleteResponse as _twopc_kv_CompareAndDeleteResponse, CompareAndDeleteResponse__Output as _twopc_kv_CompareAndDeleteResponse__Output } from './twopc/kv/CompareAndDeleteResponse';
import type { CompareAndSetRequest as _twopc_kv_CompareAndSetRequest, CompareAndSetRequest__Output as _twopc_kv_CompareAndSetRequest__Output } from './twopc/kv/CompareAndSetRequest';
import type { CompareAndSetResponse as _twopc_kv_CompareAndSetResponse, CompareAndSetResponse__Output as _twopc_kv_CompareAndSetResponse__Output } from './twopc/kv/CompareAndSetResponse';
import type { CoordinatorMember as _twopc_kv_CoordinatorMember, CoordinatorMember__Output as _twopc_kv_CoordinatorMember__Output } from './twopc/kv/CoordinatorMember';
import type { DeleteRequest as _twopc_kv_DeleteRequest, DeleteRequest__Output as _twopc_kv_DeleteRequest__Output } from './twopc/kv/DeleteRequest';
import type { DeleteResponse as _twopc_kv_DeleteResponse, DeleteResponse__Output as _twopc_kv_DeleteResponse__Output } from './twopc/kv/DeleteResponse';
import type { GetRequest as _twopc_kv_GetRequest, GetRequest__Output as _twopc_kv_GetRequest__Output } from './twopc/kv/GetRequest';
import type { GetResponse as _twopc_kv_GetResponse, GetResponse__Output as _twopc_kv_GetResponse__Output } from './twopc/kv/GetResponse';
import type { InDoubtTxn as _twopc_kv_InDoubtTxn, InDoubtTxn__Output as _twopc_kv_InDoubtTxn__Output } from './twopc/kv/InDoubtTxn';
import type { InFlightTxn as _twopc_kv_InFlightTxn, InFlightTxn__Output as _twopc_kv_InFlightTxn__Output } from './twopc/kv/InFlightTxn';
import type { IncrementRequest as _twopc_kv_IncrementRequest, IncrementRequest__Output as _twopc_kv_IncrementRequest__Output } from './twopc/kv/IncrementRequest';
import type { IncrementResponse as _twopc_kv_IncrementResponse, IncrementResponse__Output as _twopc_kv_IncrementResponse__Output } from './twopc/kv/IncrementResponse';
import type { KvClient as _twopc_kv_KvClient, KvDefinition as _twopc_kv_KvDefinition } from './twopc/kv/Kv';
import type { KvSessionRequest as _twopc_kv_KvSessionRequest, KvSessionRequest__Output as _twopc_kv_KvSessionRequest__Output } from './twopc/kv/KvSessionRequest';
import type { KvSessionResponse as _twopc_kv_KvSessionResponse, KvSessionResponse__Output as _twopc_kv_KvSessionResponse__Output } from './twopc/kv/KvSessionResponse';
import type { PhaseLatency as _twopc_kv_PhaseLatency, PhaseLatency__Output as _twopc_kv_PhaseLatency__Output } from './twopc/kv/PhaseLatency';
import type { PutRequest as _twopc_kv_PutRequest, PutRequest__Output as _twopc_kv_PutRequest__Output } from './twopc/kv/PutRequest';
import type { PutResponse as _twopc_kv_PutResponse, PutResponse__Output as _twopc_kv_PutResponse__Output } from './twopc/kv/PutResponse';
import type { ReplicaStatus as _twopc_kv_ReplicaStatus, ReplicaStatus__Output as _twopc_kv_ReplicaStatus__Output } from './twopc/kv/ReplicaStatus';
import type { ResolveRequest as _twopc_kv_ResolveRequest, ResolveRequest__Output as _twopc_kv_ResolveRequest__Output } from './twopc/kv/ResolveRequest';
import type { ResolveResponse as _twopc_kv_ResolveResponse, ResolveResponse__Output as _twopc_kv_ResolveResponse__Output } from './twopc/kv/ResolveResponse';
import type { StatusRequest as _twopc_kv_StatusRequest, StatusRequest__Output as _twopc_kv_StatusRequest__Output } from './twopc/kv/StatusRequest';
import type { StatusResponse as _twopc_kv_StatusResponse, StatusResponse__Output as _twopc_kv_StatusResponse__Output } from './twopc/kv/StatusResponse';
import type { TxnOp as _twopc_kv_TxnOp, TxnOp__Output as _twopc_kv_TxnOp__Output } from './twopc/kv/TxnOp';
import type { TxnOpResult as _twopc_kv_TxnOpResult, TxnOpResult__Output as _twopc_kv_TxnOpResult__Output } from './twopc/kv/TxnOpResult';
import type { TxnRequest as _twopc_kv_TxnRequest, TxnRequest__Output as _twopc_kv_TxnRequest__Output } from './twopc/kv/TxnRequest';
import type { TxnResponse as _twopc_kv_TxnResponse, TxnResponse__Output as _twopc_kv_TxnResponse__Output } from './twopc/kv/TxnResponse';
import type { TxnStatusRequest as _twopc_kv_TxnStatusRequest, TxnStatusRequest__Output as _twopc_kv_TxnStatusRequest__Output } from './twopc/kv/TxnStatusRequest';
import type { TxnStatusResponse as _twopc_kv_TxnStatusResponse, TxnStatusResponse__Output as _twopc_kv_TxnStatusResponse__Output } from './twopc/kv/TxnStatusResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  twopc: {
    kv: {
      Compare: MessageTypeDefinition<_twopc_kv_Compare, _twopc_kv_Compare__Output>
      CompareAndDeleteRequest: MessageTypeDefinition<_twopc_kv_CompareAndDeleteRequest, _twopc_kv_CompareAndDeleteRequest__Output>
      CompareAndDeleteResponse: MessageTypeDefinition<_twopc_kv_CompareAndDeleteResponse, _twopc_kv_CompareAndDeleteResponse__Output>
      CompareAndSetRequest: MessageTypeDefinition<_twopc_kv_CompareAndSetRequest, _twopc_kv_CompareAndSetRequest__Output>
      CompareAndSetResponse: MessageTypeDefinition<_twopc_kv_CompareAndSetResponse, _twopc_kv_CompareAndSetResponse__Output>
      CoordinatorMember: MessageTypeDefinition<_twopc_kv_CoordinatorMember, _twopc_kv_CoordinatorMember__Output>
      DeleteRequest: MessageTypeDefinition<_twopc_kv_DeleteRequest, _twopc_kv_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_twopc_kv_DeleteResponse, _twopc_kv_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_twopc_kv_GetRequest, _twopc_kv_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_twopc_kv_GetResponse, _twopc_kv_GetResponse__Output>
      InDoubtTxn: MessageTypeDefinition<_twopc_kv_InDoubtTxn, _twopc_kv_InDoubtTxn__Output>
      InFlightTxn: MessageTypeDefinition<_twopc_kv_InFlightTxn, _twopc_kv_InFlightTxn__Output>
      IncrementRequest: MessageTypeDefinition<_twopc_kv_IncrementRequest, _twopc_kv_IncrementRequest__Output>
      IncrementResponse: MessageTypeDefinition<_twopc_kv_IncrementResponse, _twopc_kv_IncrementResponse__Output>
      Kv: SubtypeConstructor<typeof grpc.Client, _twopc_kv_KvClient> & { service: _twopc_kv_KvDefinition }
      KvSessionRequest: MessageTypeDefinition<_twopc_kv_KvSessionRequest, _twopc_kv_KvSessionRequest__Output>
      KvSessionResponse: MessageTypeDefinition<_twopc_kv_KvSessionResponse, _twopc_kv_KvSessionResponse__Output>
      PhaseLatency: MessageTypeDefinition<_twopc_kv_PhaseLatency, _twopc_kv_PhaseLatency__Output>
      PutRequest: MessageTypeDefinition<_twopc_kv_PutRequest, _twopc_kv_PutRequest__Output>
      PutResponse: MessageTypeDefinition<_twopc_kv_PutResponse, _twopc_kv_PutResponse__Output>
      ReplicaStatus: MessageTypeDefinition<_twopc_kv_ReplicaStatus, _twopc_kv_ReplicaStatus__Output>
      ResolveRequest: MessageTypeDefinition<_twopc_kv_ResolveRequest, _twopc_kv_ResolveRequest__Output>
      ResolveResponse: MessageTypeDefinition<_twopc_kv_ResolveResponse, _twopc_kv_ResolveResponse__Output>
      StatusRequest: MessageTypeDefinition<_twopc_kv_StatusRequest, _twopc_kv_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_twopc_kv_StatusResponse, _twopc_kv_StatusResponse__Output>
      TxnOp: MessageTypeDefinition<_twopc_kv_TxnOp, _twopc_kv_TxnOp__Output>
      TxnOpResult: MessageTypeDefinition<_twopc_kv_TxnOpResult, _twopc_kv_TxnOpResult__Output>
      TxnRequest: MessageTypeDefinition<_twopc_kv_TxnRequest, _twopc_kv_TxnRequest__Output>
      TxnResponse: MessageTypeDefinition<_twopc_kv_TxnResponse, _twopc_kv_TxnResponse__Output>
      TxnStatusRequest: MessageTypeDefinition<_twopc_kv_TxnStatusRequest, _twopc_kv_TxnStatusRequest__Output>
      TxnStatusResponse: MessageTypeDefinition<_twopc_kv_TxnStatusResponse, _twopc_kv_TxnStatusResponse__Output>
    }
  }
}

