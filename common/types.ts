// Types shared by the cores, the shells and the client. No I/O here.

/** One write of a transaction: value === null deletes the key. */
export interface Write {
  readonly key: string;
  readonly value: Buffer | null;
}

/** A transaction's outcome as the protocol knows it. */
export type Outcome = "commit" | "abort";
