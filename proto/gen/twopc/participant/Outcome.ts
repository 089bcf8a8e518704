// Original file: proto/participant.proto

export const Outcome = {
  OUTCOME_UNSPECIFIED: 'OUTCOME_UNSPECIFIED',
  OUTCOME_COMMIT: 'OUTCOME_COMMIT',
  OUTCOME_ABORT: 'OUTCOME_ABORT',
} as const;

export type Outcome =
  | 'OUTCOME_UNSPECIFIED'
  | 0
  | 'OUTCOME_COMMIT'
  | 1
  | 'OUTCOME_ABORT'
  | 2

export type Outcome__Output = typeof Outcome[keyof typeof Outcome]
