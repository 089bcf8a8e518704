// Original file: proto/kv.proto

import type { ReplicaStatus as _twopc_kv_ReplicaStatus, ReplicaStatus__Output as _twopc_kv_ReplicaStatus__Output } from '../../twopc/kv/ReplicaStatus';
import type { InFlightTxn as _twopc_kv_InFlightTxn, InFlightTxn__Output as _twopc_kv_InFlightTxn__Output } from '../../twopc/kv/InFlightTxn';
import type { CoordinatorMember as _twopc_kv_CoordinatorMember, CoordinatorMember__Output as _twopc_kv_CoordinatorMember__Output } from '../../twopc/kv/CoordinatorMember';
import type { PhaseLatency as _twopc_kv_PhaseLatency, PhaseLatency__Output as _twopc_kv_PhaseLatency__Output } from '../../twopc/kv/PhaseLatency';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'coordinatorId'?: (string);
  'epoch'?: (number | string | Long);
  'lastCommitSeq'?: (number | string | Long);
  'replicas'?: (_twopc_kv_ReplicaStatus)[];
  'inFlight'?: (_twopc_kv_InFlightTxn)[];
  'lockedKeys'?: (number | string | Long);
  'onConflict'?: (string);
  'logForces'?: (number | string | Long);
  'logRecordsForced'?: (number | string | Long);
  'minInSync'?: (number);
  'ready'?: (boolean);
  'notReadyReason'?: (string);
  'role'?: (string);
  'activeCoordinatorId'?: (string);
  'activeCoordinator'?: (string);
  'coordinators'?: (_twopc_kv_CoordinatorMember)[];
  'phases'?: (_twopc_kv_PhaseLatency)[];
}

export interface StatusResponse__Output {
  'coordinatorId': (string);
  'epoch': (number);
  'lastCommitSeq': (number);
  'replicas': (_twopc_kv_ReplicaStatus__Output)[];
  'inFlight': (_twopc_kv_InFlightTxn__Output)[];
  'lockedKeys': (number);
  'onConflict': (string);
  'logForces': (number);
  'logRecordsForced': (number);
  'minInSync': (number);
  'ready': (boolean);
  'notReadyReason': (string);
  'role': (string);
  'activeCoordinatorId': (string);
  'activeCoordinator': (string);
  'coordinators': (_twopc_kv_CoordinatorMember__Output)[];
  'phases': (_twopc_kv_PhaseLatency__Output)[];
}
