// Original file: proto/participant.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { OutcomeRequest as _twopc_participant_OutcomeRequest, OutcomeRequest__Output as _twopc_participant_OutcomeRequest__Output } from '../../twopc/participant/OutcomeRequest';
import type { OutcomeResponse as _twopc_participant_OutcomeResponse, OutcomeResponse__Output as _twopc_participant_OutcomeResponse__Output } from '../../twopc/participant/OutcomeResponse';

export interface CoordinationClient extends grpc.Client {
  QueryOutcome(argument: _twopc_participant_OutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  QueryOutcome(argument: _twopc_participant_OutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  QueryOutcome(argument: _twopc_participant_OutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  QueryOutcome(argument: _twopc_participant_OutcomeRequest, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  queryOutcome(argument: _twopc_participant_OutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  queryOutcome(argument: _twopc_participant_OutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  queryOutcome(argument: _twopc_participant_OutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  queryOutcome(argument: _twopc_participant_OutcomeRequest, callback: grpc.requestCallback<_twopc_participant_OutcomeResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CoordinationHandlers extends grpc.UntypedServiceImplementation {
  QueryOutcome: grpc.handleUnaryCall<_twopc_participant_OutcomeRequest__Output, _twopc_participant_OutcomeResponse>;
  
}

export interface CoordinationDefinition extends grpc.ServiceDefinition {
  QueryOutcome: MethodDefinition<_twopc_participant_OutcomeRequest, _twopc_participant_OutcomeResponse, _twopc_participant_OutcomeRequest__Output, _twopc_participant_OutcomeResponse__Output>
}
