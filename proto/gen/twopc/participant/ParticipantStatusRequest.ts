// Original file: proto/participant.proto


export interface ParticipantStatusRequest {
}

export interface ParticipantStatusRequest__Output {
}
