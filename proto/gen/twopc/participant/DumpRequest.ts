// Original file: proto/participant.proto


export interface DumpRequest {
}

export interface DumpRequest__Output {
}
