// Original file: proto/participant.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AbortRequest as _twopc_participant_AbortRequest, AbortRequest__Output as _twopc_participant_AbortRequest__Output } from '../../twopc/participant/AbortRequest';
import type { AppendRequest as _twopc_participant_AppendRequest, AppendRequest__Output as _twopc_participant_AppendRequest__Output } from '../../twopc/participant/AppendRequest';
import type { AppendResponse as _twopc_participant_AppendResponse, AppendResponse__Output as _twopc_participant_AppendResponse__Output } from '../../twopc/participant/AppendResponse';
import type { BackupChunk as _twopc_participant_BackupChunk, BackupChunk__Output as _twopc_participant_BackupChunk__Output } from '../../twopc/participant/BackupChunk';
import type { BackupRequest as _twopc_participant_BackupRequest, BackupRequest__Output as _twopc_participant_BackupRequest__Output } from '../../twopc/participant/BackupRequest';
import type { CatchUpRequest as _twopc_participant_CatchUpRequest, CatchUpRequest__Output as _twopc_participant_CatchUpRequest__Output } from '../../twopc/participant/CatchUpRequest';
import type { CatchUpResponse as _twopc_participant_CatchUpResponse, CatchUpResponse__Output as _twopc_participant_CatchUpResponse__Output } from '../../twopc/participant/CatchUpResponse';
import type { CommitRequest as _twopc_participant_CommitRequest, CommitRequest__Output as _twopc_participant_CommitRequest__Output } from '../../twopc/participant/CommitRequest';
import type { DecisionResponse as _twopc_participant_DecisionResponse, DecisionResponse__Output as _twopc_participant_DecisionResponse__Output } from '../../twopc/participant/DecisionResponse';
import type { DumpRequest as _twopc_participant_DumpRequest, DumpRequest__Output as _twopc_participant_DumpRequest__Output } from '../../twopc/participant/DumpRequest';
import type { DumpResponse as _twopc_participant_DumpResponse, DumpResponse__Output as _twopc_participant_DumpResponse__Output } from '../../twopc/participant/DumpResponse';
import type { FetchRequest as _twopc_participant_FetchRequest, FetchRequest__Output as _twopc_participant_FetchRequest__Output } from '../../twopc/participant/FetchRequest';
import type { FetchResponse as _twopc_participant_FetchResponse, FetchResponse__Output as _twopc_participant_FetchResponse__Output } from '../../twopc/participant/FetchResponse';
import type { ParticipantStatusRequest as _twopc_participant_ParticipantStatusRequest, ParticipantStatusRequest__Output as _twopc_participant_ParticipantStatusRequest__Output } from '../../twopc/participant/ParticipantStatusRequest';
import type { ParticipantStatusResponse as _twopc_participant_ParticipantStatusResponse, ParticipantStatusResponse__Output as _twopc_participant_ParticipantStatusResponse__Output } from '../../twopc/participant/ParticipantStatusResponse';
import type { PeerOutcomeRequest as _twopc_participant_PeerOutcomeRequest, PeerOutcomeRequest__Output as _twopc_participant_PeerOutcomeRequest__Output } from '../../twopc/participant/PeerOutcomeRequest';
import type { PeerOutcomeResponse as _twopc_participant_PeerOutcomeResponse, PeerOutcomeResponse__Output as _twopc_participant_PeerOutcomeResponse__Output } from '../../twopc/participant/PeerOutcomeResponse';
import type { PrepareRequest as _twopc_participant_PrepareRequest, PrepareRequest__Output as _twopc_participant_PrepareRequest__Output } from '../../twopc/participant/PrepareRequest';
import type { PrepareResponse as _twopc_participant_PrepareResponse, PrepareResponse__Output as _twopc_participant_PrepareResponse__Output } from '../../twopc/participant/PrepareResponse';
import type { PromiseRequest as _twopc_participant_PromiseRequest, PromiseRequest__Output as _twopc_participant_PromiseRequest__Output } from '../../twopc/participant/PromiseRequest';
import type { PromiseResponse as _twopc_participant_PromiseResponse, PromiseResponse__Output as _twopc_participant_PromiseResponse__Output } from '../../twopc/participant/PromiseResponse';
import type { ReadCopyRequest as _twopc_participant_ReadCopyRequest, ReadCopyRequest__Output as _twopc_participant_ReadCopyRequest__Output } from '../../twopc/participant/ReadCopyRequest';
import type { ReadCopyResponse as _twopc_participant_ReadCopyResponse, ReadCopyResponse__Output as _twopc_participant_ReadCopyResponse__Output } from '../../twopc/participant/ReadCopyResponse';
import type { ReadRequest as _twopc_participant_ReadRequest, ReadRequest__Output as _twopc_participant_ReadRequest__Output } from '../../twopc/participant/ReadRequest';
import type { ReadResponse as _twopc_participant_ReadResponse, ReadResponse__Output as _twopc_participant_ReadResponse__Output } from '../../twopc/participant/ReadResponse';
import type { SessionRequest as _twopc_participant_SessionRequest, SessionRequest__Output as _twopc_participant_SessionRequest__Output } from '../../twopc/participant/SessionRequest';
import type { SessionResponse as _twopc_participant_SessionResponse, SessionResponse__Output as _twopc_participant_SessionResponse__Output } from '../../twopc/participant/SessionResponse';

export interface ParticipantClient extends grpc.Client {
  Abort(argument: _twopc_participant_AbortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Abort(argument: _twopc_participant_AbortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Abort(argument: _twopc_participant_AbortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Abort(argument: _twopc_participant_AbortRequest, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  abort(argument: _twopc_participant_AbortRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  abort(argument: _twopc_participant_AbortRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  abort(argument: _twopc_participant_AbortRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  abort(argument: _twopc_participant_AbortRequest, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  
  Append(argument: _twopc_participant_AppendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  Append(argument: _twopc_participant_AppendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  Append(argument: _twopc_participant_AppendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  Append(argument: _twopc_participant_AppendRequest, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  append(argument: _twopc_participant_AppendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  append(argument: _twopc_participant_AppendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  append(argument: _twopc_participant_AppendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  append(argument: _twopc_participant_AppendRequest, callback: grpc.requestCallback<_twopc_participant_AppendResponse__Output>): grpc.ClientUnaryCall;
  
  Backup(argument: _twopc_participant_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_twopc_participant_BackupChunk__Output>;
  Backup(argument: _twopc_participant_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_twopc_participant_BackupChunk__Output>;
  backup(argument: _twopc_participant_BackupRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_twopc_participant_BackupChunk__Output>;
  backup(argument: _twopc_participant_BackupRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_twopc_participant_BackupChunk__Output>;
  
  CatchUp(argument: _twopc_participant_CatchUpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  CatchUp(argument: _twopc_participant_CatchUpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  CatchUp(argument: _twopc_participant_CatchUpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  CatchUp(argument: _twopc_participant_CatchUpRequest, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  catchUp(argument: _twopc_participant_CatchUpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  catchUp(argument: _twopc_participant_CatchUpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  catchUp(argument: _twopc_participant_CatchUpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  catchUp(argument: _twopc_participant_CatchUpRequest, callback: grpc.requestCallback<_twopc_participant_CatchUpResponse__Output>): grpc.ClientUnaryCall;
  
  Commit(argument: _twopc_participant_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _twopc_participant_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _twopc_participant_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _twopc_participant_CommitRequest, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _twopc_participant_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _twopc_participant_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _twopc_participant_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _twopc_participant_CommitRequest, callback: grpc.requestCallback<_twopc_participant_DecisionResponse__Output>): grpc.ClientUnaryCall;
  
  Dump(argument: _twopc_participant_DumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _twopc_participant_DumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _twopc_participant_DumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  Dump(argument: _twopc_participant_DumpRequest, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _twopc_participant_DumpRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _twopc_participant_DumpRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _twopc_participant_DumpRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  dump(argument: _twopc_participant_DumpRequest, callback: grpc.requestCallback<_twopc_participant_DumpResponse__Output>): grpc.ClientUnaryCall;
  
  Fetch(argument: _twopc_participant_FetchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  Fetch(argument: _twopc_participant_FetchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  Fetch(argument: _twopc_participant_FetchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  Fetch(argument: _twopc_participant_FetchRequest, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  fetch(argument: _twopc_participant_FetchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  fetch(argument: _twopc_participant_FetchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  fetch(argument: _twopc_participant_FetchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  fetch(argument: _twopc_participant_FetchRequest, callback: grpc.requestCallback<_twopc_participant_FetchResponse__Output>): grpc.ClientUnaryCall;
  
  Inspect(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _twopc_participant_PeerOutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  Inspect(argument: _twopc_participant_PeerOutcomeRequest, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _twopc_participant_PeerOutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  inspect(argument: _twopc_participant_PeerOutcomeRequest, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  
  PeerOutcome(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  PeerOutcome(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  PeerOutcome(argument: _twopc_participant_PeerOutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  PeerOutcome(argument: _twopc_participant_PeerOutcomeRequest, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  peerOutcome(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  peerOutcome(argument: _twopc_participant_PeerOutcomeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  peerOutcome(argument: _twopc_participant_PeerOutcomeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  peerOutcome(argument: _twopc_participant_PeerOutcomeRequest, callback: grpc.requestCallback<_twopc_participant_PeerOutcomeResponse__Output>): grpc.ClientUnaryCall;
  
  Prepare(argument: _twopc_participant_PrepareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  Prepare(argument: _twopc_participant_PrepareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  Prepare(argument: _twopc_participant_PrepareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  Prepare(argument: _twopc_participant_PrepareRequest, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  prepare(argument: _twopc_participant_PrepareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  prepare(argument: _twopc_participant_PrepareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  prepare(argument: _twopc_participant_PrepareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  prepare(argument: _twopc_participant_PrepareRequest, callback: grpc.requestCallback<_twopc_participant_PrepareResponse__Output>): grpc.ClientUnaryCall;
  
  Promise(argument: _twopc_participant_PromiseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  Promise(argument: _twopc_participant_PromiseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  Promise(argument: _twopc_participant_PromiseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  Promise(argument: _twopc_participant_PromiseRequest, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  promise(argument: _twopc_participant_PromiseRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  promise(argument: _twopc_participant_PromiseRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  promise(argument: _twopc_participant_PromiseRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  promise(argument: _twopc_participant_PromiseRequest, callback: grpc.requestCallback<_twopc_participant_PromiseResponse__Output>): grpc.ClientUnaryCall;
  
  Read(argument: _twopc_participant_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _twopc_participant_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _twopc_participant_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  Read(argument: _twopc_participant_ReadRequest, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _twopc_participant_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _twopc_participant_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _twopc_participant_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  read(argument: _twopc_participant_ReadRequest, callback: grpc.requestCallback<_twopc_participant_ReadResponse__Output>): grpc.ClientUnaryCall;
  
  ReadCopy(argument: _twopc_participant_ReadCopyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  ReadCopy(argument: _twopc_participant_ReadCopyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  ReadCopy(argument: _twopc_participant_ReadCopyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  ReadCopy(argument: _twopc_participant_ReadCopyRequest, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  readCopy(argument: _twopc_participant_ReadCopyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  readCopy(argument: _twopc_participant_ReadCopyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  readCopy(argument: _twopc_participant_ReadCopyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  readCopy(argument: _twopc_participant_ReadCopyRequest, callback: grpc.requestCallback<_twopc_participant_ReadCopyResponse__Output>): grpc.ClientUnaryCall;
  
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_participant_SessionRequest, _twopc_participant_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_participant_SessionRequest, _twopc_participant_SessionResponse__Output>;
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_participant_SessionRequest, _twopc_participant_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_twopc_participant_SessionRequest, _twopc_participant_SessionResponse__Output>;
  
  Status(argument: _twopc_participant_ParticipantStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_participant_ParticipantStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_participant_ParticipantStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _twopc_participant_ParticipantStatusRequest, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_participant_ParticipantStatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_participant_ParticipantStatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_participant_ParticipantStatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _twopc_participant_ParticipantStatusRequest, callback: grpc.requestCallback<_twopc_participant_ParticipantStatusResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ParticipantHandlers extends grpc.UntypedServiceImplementation {
  Abort: grpc.handleUnaryCall<_twopc_participant_AbortRequest__Output, _twopc_participant_DecisionResponse>;
  
  Append: grpc.handleUnaryCall<_twopc_participant_AppendRequest__Output, _twopc_participant_AppendResponse>;
  
  Backup: grpc.handleServerStreamingCall<_twopc_participant_BackupRequest__Output, _twopc_participant_BackupChunk>;
  
  CatchUp: grpc.handleUnaryCall<_twopc_participant_CatchUpRequest__Output, _twopc_participant_CatchUpResponse>;
  
  Commit: grpc.handleUnaryCall<_twopc_participant_CommitRequest__Output, _twopc_participant_DecisionResponse>;
  
  Dump: grpc.handleUnaryCall<_twopc_participant_DumpRequest__Output, _twopc_participant_DumpResponse>;
  
  Fetch: grpc.handleUnaryCall<_twopc_participant_FetchRequest__Output, _twopc_participant_FetchResponse>;
  
  Inspect: grpc.handleUnaryCall<_twopc_participant_PeerOutcomeRequest__Output, _twopc_participant_PeerOutcomeResponse>;
  
  PeerOutcome: grpc.handleUnaryCall<_twopc_participant_PeerOutcomeRequest__Output, _twopc_participant_PeerOutcomeResponse>;
  
  Prepare: grpc.handleUnaryCall<_twopc_participant_PrepareRequest__Output, _twopc_participant_PrepareResponse>;
  
  Promise: grpc.handleUnaryCall<_twopc_participant_PromiseRequest__Output, _twopc_participant_PromiseResponse>;
  
  Read: grpc.handleUnaryCall<_twopc_participant_ReadRequest__Output, _twopc_participant_ReadResponse>;
  
  ReadCopy: grpc.handleUnaryCall<_twopc_participant_ReadCopyRequest__Output, _twopc_participant_ReadCopyResponse>;
  
  Session: grpc.handleBidiStreamingCall<_twopc_participant_SessionRequest__Output, _twopc_participant_SessionResponse>;
  
  Status: grpc.handleUnaryCall<_twopc_participant_ParticipantStatusRequest__Output, _twopc_participant_ParticipantStatusResponse>;
  
}

export interface ParticipantDefinition extends grpc.ServiceDefinition {
  Abort: MethodDefinition<_twopc_participant_AbortRequest, _twopc_participant_DecisionResponse, _twopc_participant_AbortRequest__Output, _twopc_participant_DecisionResponse__Output>
  Append: MethodDefinition<_twopc_participant_AppendRequest, _twopc_participant_AppendResponse, _twopc_participant_AppendRequest__Output, _twopc_participant_AppendResponse__Output>
  Backup: MethodDefinition<_twopc_participant_BackupRequest, _twopc_participant_BackupChunk, _twopc_participant_BackupRequest__Output, _twopc_participant_BackupChunk__Output>
  CatchUp: MethodDefinition<_twopc_participant_CatchUpRequest, _twopc_participant_CatchUpResponse, _twopc_participant_CatchUpRequest__Output, _twopc_participant_CatchUpResponse__Output>
  Commit: MethodDefinition<_twopc_participant_CommitRequest, _twopc_participant_DecisionResponse, _twopc_participant_CommitRequest__Output, _twopc_participant_DecisionResponse__Output>
  Dump: MethodDefinition<_twopc_participant_DumpRequest, _twopc_participant_DumpResponse, _twopc_participant_DumpRequest__Output, _twopc_participant_DumpResponse__Output>
  Fetch: MethodDefinition<_twopc_participant_FetchRequest, _twopc_participant_FetchResponse, _twopc_participant_FetchRequest__Output, _twopc_participant_FetchResponse__Output>
  Inspect: MethodDefinition<_twopc_participant_PeerOutcomeRequest, _twopc_participant_PeerOutcomeResponse, _twopc_participant_PeerOutcomeRequest__Output, _twopc_participant_PeerOutcomeResponse__Output>
  PeerOutcome: MethodDefinition<_twopc_participant_PeerOutcomeRequest, _twopc_participant_PeerOutcomeResponse, _twopc_participant_PeerOutcomeRequest__Output, _twopc_participant_PeerOutcomeResponse__Output>
  Prepare: MethodDefinition<_twopc_participant_PrepareRequest, _twopc_participant_PrepareResponse, _twopc_participant_PrepareRequest__Output, _twopc_participant_PrepareResponse__Output>
  Promise: MethodDefinition<_twopc_participant_PromiseRequest, _twopc_participant_PromiseResponse, _twopc_participant_PromiseRequest__Output, _twopc_participant_PromiseResponse__Output>
  Read: MethodDefinition<_twopc_participant_ReadRequest, _twopc_participant_ReadResponse, _twopc_participant_ReadRequest__Output, _twopc_participant_ReadResponse__Output>
  ReadCopy: MethodDefinition<_twopc_participant_ReadCopyRequest, _twopc_participant_ReadCopyResponse, _twopc_participant_ReadCopyRequest__Output, _twopc_participant_ReadCopyResponse__Output>
  Session: MethodDefinition<_twopc_participant_SessionRequest, _twopc_participant_SessionResponse, _twopc_participant_SessionRequest__Output, _twopc_participant_SessionResponse__Output>
  Status: MethodDefinition<_twopc_participant_ParticipantStatusRequest, _twopc_participant_ParticipantStatusResponse, _twopc_participant_ParticipantStatusRequest__Output, _twopc_participant_ParticipantStatusResponse__Output>
}
