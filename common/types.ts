// Types shared by the cores, the shells and the client. No I/O here.

/** One write of a transaction: value === null deletes the key. */
export interface Write {
  readonly key: string;
  readonly value: Buffer | null;
}

/** A transaction's outcome as the protocol knows it. */
export type Outcome = "commit" | "abort";

/** What a replica knows of a transaction, as it tells a peer or an operator. */
export type PeerState =
  | { readonly txnId: string; readonly state: "committed"; readonly commitSeq: number }
  | { readonly txnId: string; readonly state: "aborted" | "prepared" | "unknown" };
