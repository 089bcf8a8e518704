// Transaction ids: "EPOCH.COUNTER", made by the coordinator (coordinator/core.ts). The epoch grows
// at every coordinator start and the counter within an epoch, so ids are ordered. Pure.

export interface ParsedTxnId {
  readonly epoch: number;
  readonly counter: number;
}

export function parseTxnId(txnId: string): ParsedTxnId | null {
  const match = /^(\d+)\.(\d+)$/.exec(txnId);
  if (match === null) return null;
  return { epoch: Number(match[1]), counter: Number(match[2]) };
}

export function formatTxnId(epoch: number, counter: number): string {
  return `${epoch}.${counter}`;
}

/** Negative, zero or positive as a is before, equal to or after b. */
export function compareTxnIds(a: ParsedTxnId, b: ParsedTxnId): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.counter - b.counter;
}

/** True if transaction id a was issued after b (false if either is not a transaction id). */
export function isNewerTxnId(a: string, b: string): boolean {
  const pa = parseTxnId(a);
  const pb = parseTxnId(b);
  return pa !== null && pb !== null && compareTxnIds(pa, pb) > 0;
}
