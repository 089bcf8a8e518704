// Cooperative termination: which peer to ask about which in-doubt transactions. Pure.
//
// Each peer is asked only about the transactions it took part in: a replica that took no part in a
// transaction never saw it and can only answer "unknown". (A replica that was out of the in-sync set
// when a transaction started is not one of its participants.) When replicas still answered a
// transaction never seen with a durable refusal ("aborted"), asking the wrong peer gave a wrong
// answer: the simulator found it (test/sim, regression seed 194), where the replica asked every peer
// that took part in any of its in-doubt transactions about all of them.
import { limits } from "../common/limits";
import { mutation } from "../common/mutations";

export function peerQueries(
  selfId: string,
  inDoubt: readonly { readonly txnId: string; readonly participants: readonly string[] }[],
  txnIds: readonly string[],
): Map<string, string[]> {
  const asked = new Set(txnIds);
  const byPeer = new Map<string, string[]>();
  for (const txn of inDoubt) {
    if (!asked.has(txn.txnId)) continue;
    for (const peerId of txn.participants) {
      if (peerId === selfId) continue;
      const list = byPeer.get(peerId) ?? [];
      list.push(txn.txnId);
      byPeer.set(peerId, list);
    }
  }
  // Planted bug (test-only): every peer is asked about every transaction asked.
  if (mutation() === "peer-query-about-all") for (const peerId of byPeer.keys()) byPeer.set(peerId, [...txnIds]);
  return byPeer;
}

/**
 * Splits a list of transaction ids into the lists of several calls, each of at most
 * txnIdsPerCallMax ids: the coordinator and the peers refuse a longer one (INVALID_ARGUMENT).
 */
export function idsPerCall(txnIds: readonly string[]): string[][] {
  const calls: string[][] = [];
  for (let i = 0; i < txnIds.length; i += limits.txnIdsPerCallMax) calls.push(txnIds.slice(i, i + limits.txnIdsPerCallMax));
  return calls;
}
