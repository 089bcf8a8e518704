import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AbortRequest as _twopc_participant_AbortRequest, AbortRequest__Output as _twopc_participant_AbortRequest__Output } from './twopc/participant/AbortRequest';
import type { AppendRequest as _twopc_participant_AppendRequest, AppendRequest__Output as _twopc_participant_AppendRequest__Output } from './twopc/participant/AppendRequest';
import type { AppendResponse as _twopc_participant_AppendResponse, AppendResponse__Output as _twopc_participant_AppendResponse__Output } from './twopc/participant/AppendResponse';
import type { BackupChunk as _twopc_participant_BackupChunk, BackupChunk__Output as _twopc_participant_BackupChunk__Output } from './twopc/participant/BackupChunk';
import type { BackupHeader as _twopc_participant_BackupHeader, BackupHeader__Output as _twopc_participant_BackupHeader__Output } from './twopc/participant/BackupHeader';
import type { BackupRequest as _twopc_participant_BackupRequest, BackupRequest__Output as _twopc_participant_BackupRequest__Output } from './twopc/participant/BackupRequest';
import type { BackupTrailer as _twopc_participant_BackupTrailer, BackupTrailer__Output as _twopc_participant_BackupTrailer__Output } from './twopc/participant/BackupTrailer';
import type { CatchUpRequest as _twopc_participant_CatchUpRequest, CatchUpRequest__Output as _twopc_participant_CatchUpRequest__Output } from './twopc/participant/CatchUpRequest';
import type { CatchUpResponse as _twopc_participant_CatchUpResponse, CatchUpResponse__Output as _twopc_participant_CatchUpResponse__Output } from './twopc/participant/CatchUpResponse';
import type { CommitRequest as _twopc_participant_CommitRequest, CommitRequest__Output as _twopc_participant_CommitRequest__Output } from './twopc/participant/CommitRequest';
import type { CommitTxn as _twopc_participant_CommitTxn, CommitTxn__Output as _twopc_participant_CommitTxn__Output } from './twopc/participant/CommitTxn';
import type { CoordinationClient as _twopc_participant_CoordinationClient, CoordinationDefinition as _twopc_participant_CoordinationDefinition } from './twopc/participant/Coordination';
import type { DecisionResponse as _twopc_participant_DecisionResponse, DecisionResponse__Output as _twopc_participant_DecisionResponse__Output } from './twopc/participant/DecisionResponse';
import type { DumpEntry as _twopc_participant_DumpEntry, DumpEntry__Output as _twopc_participant_DumpEntry__Output } from './twopc/participant/DumpEntry';
import type { DumpRequest as _twopc_participant_DumpRequest, DumpRequest__Output as _twopc_participant_DumpRequest__Output } from './twopc/participant/DumpRequest';
import type { DumpResponse as _twopc_participant_DumpResponse, DumpResponse__Output as _twopc_participant_DumpResponse__Output } from './twopc/participant/DumpResponse';
import type { FetchRequest as _twopc_participant_FetchRequest, FetchRequest__Output as _twopc_participant_FetchRequest__Output } from './twopc/participant/FetchRequest';
import type { FetchResponse as _twopc_participant_FetchResponse, FetchResponse__Output as _twopc_participant_FetchResponse__Output } from './twopc/participant/FetchResponse';
import type { FetchedRow as _twopc_participant_FetchedRow, FetchedRow__Output as _twopc_participant_FetchedRow__Output } from './twopc/participant/FetchedRow';
import type { OutcomeRequest as _twopc_participant_OutcomeRequest, OutcomeRequest__Output as _twopc_participant_OutcomeRequest__Output } from './twopc/participant/OutcomeRequest';
import type { OutcomeResponse as _twopc_participant_OutcomeResponse, OutcomeResponse__Output as _twopc_participant_OutcomeResponse__Output } from './twopc/participant/OutcomeResponse';
import type { ParticipantClient as _twopc_participant_ParticipantClient, ParticipantDefinition as _twopc_participant_ParticipantDefinition } from './twopc/participant/Participant';
import type { ParticipantStatusRequest as _twopc_participant_ParticipantStatusRequest, ParticipantStatusRequest__Output as _twopc_participant_ParticipantStatusRequest__Output } from './twopc/participant/ParticipantStatusRequest';
import type { ParticipantStatusResponse as _twopc_participant_ParticipantStatusResponse, ParticipantStatusResponse__Output as _twopc_participant_ParticipantStatusResponse__Output } from './twopc/participant/ParticipantStatusResponse';
import type { PeerOutcomeRequest as _twopc_participant_PeerOutcomeRequest, PeerOutcomeRequest__Output as _twopc_participant_PeerOutcomeRequest__Output } from './twopc/participant/PeerOutcomeRequest';
import type { PeerOutcomeResponse as _twopc_participant_PeerOutcomeResponse, PeerOutcomeResponse__Output as _twopc_participant_PeerOutcomeResponse__Output } from './twopc/participant/PeerOutcomeResponse';
import type { PeerTxn as _twopc_participant_PeerTxn, PeerTxn__Output as _twopc_participant_PeerTxn__Output } from './twopc/participant/PeerTxn';
import type { PrepareRequest as _twopc_participant_PrepareRequest, PrepareRequest__Output as _twopc_participant_PrepareRequest__Output } from './twopc/participant/PrepareRequest';
import type { PrepareResponse as _twopc_participant_PrepareResponse, PrepareResponse__Output as _twopc_participant_PrepareResponse__Output } from './twopc/participant/PrepareResponse';
import type { PrepareTxn as _twopc_participant_PrepareTxn, PrepareTxn__Output as _twopc_participant_PrepareTxn__Output } from './twopc/participant/PrepareTxn';
import type { PreparedTxn as _twopc_participant_PreparedTxn, PreparedTxn__Output as _twopc_participant_PreparedTxn__Output } from './twopc/participant/PreparedTxn';
import type { PromiseRequest as _twopc_participant_PromiseRequest, PromiseRequest__Output as _twopc_participant_PromiseRequest__Output } from './twopc/participant/PromiseRequest';
import type { PromiseResponse as _twopc_participant_PromiseResponse, PromiseResponse__Output as _twopc_participant_PromiseResponse__Output } from './twopc/participant/PromiseResponse';
import type { ReadCopyRequest as _twopc_participant_ReadCopyRequest, ReadCopyRequest__Output as _twopc_participant_ReadCopyRequest__Output } from './twopc/participant/ReadCopyRequest';
import type { ReadCopyResponse as _twopc_participant_ReadCopyResponse, ReadCopyResponse__Output as _twopc_participant_ReadCopyResponse__Output } from './twopc/participant/ReadCopyResponse';
import type { ReadRequest as _twopc_participant_ReadRequest, ReadRequest__Output as _twopc_participant_ReadRequest__Output } from './twopc/participant/ReadRequest';
import type { ReadResponse as _twopc_participant_ReadResponse, ReadResponse__Output as _twopc_participant_ReadResponse__Output } from './twopc/participant/ReadResponse';
import type { ReadResult as _twopc_participant_ReadResult, ReadResult__Output as _twopc_participant_ReadResult__Output } from './twopc/participant/ReadResult';
import type { SessionRequest as _twopc_participant_SessionRequest, SessionRequest__Output as _twopc_participant_SessionRequest__Output } from './twopc/participant/SessionRequest';
import type { SessionResponse as _twopc_participant_SessionResponse, SessionResponse__Output as _twopc_participant_SessionResponse__Output } from './twopc/participant/SessionResponse';
import type { TxnOutcome as _twopc_participant_TxnOutcome, TxnOutcome__Output as _twopc_participant_TxnOutcome__Output } from './twopc/participant/TxnOutcome';
import type { TxnWrite as _twopc_participant_TxnWrite, TxnWrite__Output as _twopc_participant_TxnWrite__Output } from './twopc/participant/TxnWrite';
import type { VoteResult as _twopc_participant_VoteResult, VoteResult__Output as _twopc_participant_VoteResult__Output } from './twopc/participant/VoteResult';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  twopc: {
    participant: {
      AbortRequest: MessageTypeDefinition<_twopc_participant_AbortRequest, _twopc_participant_AbortRequest__Output>
      AppendRequest: MessageTypeDefinition<_twopc_participant_AppendRequest, _twopc_participant_AppendRequest__Output>
      AppendResponse: MessageTypeDefinition<_twopc_participant_AppendResponse, _twopc_participant_AppendResponse__Output>
      BackupChunk: MessageTypeDefinition<_twopc_participant_BackupChunk, _twopc_participant_BackupChunk__Output>
      BackupHeader: MessageTypeDefinition<_twopc_participant_BackupHeader, _twopc_participant_BackupHeader__Output>
      BackupRequest: MessageTypeDefinition<_twopc_participant_BackupRequest, _twopc_participant_BackupRequest__Output>
      BackupTrailer: MessageTypeDefinition<_twopc_participant_BackupTrailer, _twopc_participant_BackupTrailer__Output>
      CatchUpRequest: MessageTypeDefinition<_twopc_participant_CatchUpRequest, _twopc_participant_CatchUpRequest__Output>
      CatchUpResponse: MessageTypeDefinition<_twopc_participant_CatchUpResponse, _twopc_participant_CatchUpResponse__Output>
      CommitRequest: MessageTypeDefinition<_twopc_participant_CommitRequest, _twopc_participant_CommitRequest__Output>
      CommitTxn: MessageTypeDefinition<_twopc_participant_CommitTxn, _twopc_participant_CommitTxn__Output>
      Coordination: SubtypeConstructor<typeof grpc.Client, _twopc_participant_CoordinationClient> & { service: _twopc_participant_CoordinationDefinition }
      DecisionResponse: MessageTypeDefinition<_twopc_participant_DecisionResponse, _twopc_participant_DecisionResponse__Output>
      DumpEntry: MessageTypeDefinition<_twopc_participant_DumpEntry, _twopc_participant_DumpEntry__Output>
      DumpRequest: MessageTypeDefinition<_twopc_participant_DumpRequest, _twopc_participant_DumpRequest__Output>
      DumpResponse: MessageTypeDefinition<_twopc_participant_DumpResponse, _twopc_participant_DumpResponse__Output>
      FetchRequest: MessageTypeDefinition<_twopc_participant_FetchRequest, _twopc_participant_FetchRequest__Output>
      FetchResponse: MessageTypeDefinition<_twopc_participant_FetchResponse, _twopc_participant_FetchResponse__Output>
      FetchedRow: MessageTypeDefinition<_twopc_participant_FetchedRow, _twopc_participant_FetchedRow__Output>
      Outcome: EnumTypeDefinition
      OutcomeRequest: MessageTypeDefinition<_twopc_participant_OutcomeRequest, _twopc_participant_OutcomeRequest__Output>
      OutcomeResponse: MessageTypeDefinition<_twopc_participant_OutcomeResponse, _twopc_participant_OutcomeResponse__Output>
      Participant: SubtypeConstructor<typeof grpc.Client, _twopc_participant_ParticipantClient> & { service: _twopc_participant_ParticipantDefinition }
      ParticipantStatusRequest: MessageTypeDefinition<_twopc_participant_ParticipantStatusRequest, _twopc_participant_ParticipantStatusRequest__Output>
      ParticipantStatusResponse: MessageTypeDefinition<_twopc_participant_ParticipantStatusResponse, _twopc_participant_ParticipantStatusResponse__Output>
      PeerOutcomeRequest: MessageTypeDefinition<_twopc_participant_PeerOutcomeRequest, _twopc_participant_PeerOutcomeRequest__Output>
      PeerOutcomeResponse: MessageTypeDefinition<_twopc_participant_PeerOutcomeResponse, _twopc_participant_PeerOutcomeResponse__Output>
      PeerTxn: MessageTypeDefinition<_twopc_participant_PeerTxn, _twopc_participant_PeerTxn__Output>
      PeerTxnState: EnumTypeDefinition
      PrepareRequest: MessageTypeDefinition<_twopc_participant_PrepareRequest, _twopc_participant_PrepareRequest__Output>
      PrepareResponse: MessageTypeDefinition<_twopc_participant_PrepareResponse, _twopc_participant_PrepareResponse__Output>
      PrepareTxn: MessageTypeDefinition<_twopc_participant_PrepareTxn, _twopc_participant_PrepareTxn__Output>
      PreparedTxn: MessageTypeDefinition<_twopc_participant_PreparedTxn, _twopc_participant_PreparedTxn__Output>
      PromiseRequest: MessageTypeDefinition<_twopc_participant_PromiseRequest, _twopc_participant_PromiseRequest__Output>
      PromiseResponse: MessageTypeDefinition<_twopc_participant_PromiseResponse, _twopc_participant_PromiseResponse__Output>
      ReadCopyRequest: MessageTypeDefinition<_twopc_participant_ReadCopyRequest, _twopc_participant_ReadCopyRequest__Output>
      ReadCopyResponse: MessageTypeDefinition<_twopc_participant_ReadCopyResponse, _twopc_participant_ReadCopyResponse__Output>
      ReadRequest: MessageTypeDefinition<_twopc_participant_ReadRequest, _twopc_participant_ReadRequest__Output>
      ReadResponse: MessageTypeDefinition<_twopc_participant_ReadResponse, _twopc_participant_ReadResponse__Output>
      ReadResult: MessageTypeDefinition<_twopc_participant_ReadResult, _twopc_participant_ReadResult__Output>
      SessionRequest: MessageTypeDefinition<_twopc_participant_SessionRequest, _twopc_participant_SessionRequest__Output>
      SessionResponse: MessageTypeDefinition<_twopc_participant_SessionResponse, _twopc_participant_SessionResponse__Output>
      TxnOutcome: MessageTypeDefinition<_twopc_participant_TxnOutcome, _twopc_participant_TxnOutcome__Output>
      TxnWrite: MessageTypeDefinition<_twopc_participant_TxnWrite, _twopc_participant_TxnWrite__Output>
      Vote: EnumTypeDefinition
      VoteResult: MessageTypeDefinition<_twopc_participant_VoteResult, _twopc_participant_VoteResult__Output>
    }
  }
}

