// Original file: proto/participant.proto

export const Vote = {
  VOTE_UNSPECIFIED: 'VOTE_UNSPECIFIED',
  VOTE_YES: 'VOTE_YES',
  VOTE_NO: 'VOTE_NO',
} as const;

export type Vote =
  | 'VOTE_UNSPECIFIED'
  | 0
  | 'VOTE_YES'
  | 1
  | 'VOTE_NO'
  | 2

export type Vote__Output = typeof Vote[keyof typeof Vote]
