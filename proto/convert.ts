// Conversions between the wire's messages and the types the cores use. Pure.
import { assertNever } from "../common/assert";
import type { PeerState } from "../common/types";
import type { PeerTxn, PeerTxn__Output } from "./gen/twopc/participant/PeerTxn";

export function encodePeerState(state: PeerState): PeerTxn {
  switch (state.state) {
    case "committed":
      return { txnId: state.txnId, state: "PEER_COMMITTED", commitSeq: state.commitSeq };
    case "aborted":
      return { txnId: state.txnId, state: "PEER_ABORTED" };
    case "prepared":
      return { txnId: state.txnId, state: "PEER_PREPARED" };
    case "unknown":
      return { txnId: state.txnId, state: "PEER_UNKNOWN" };
    default:
      return assertNever(state);
  }
}

/**
 * One state from another process's answer, or why it cannot be used. The answer comes from the
 * network, so it is checked rather than trusted: a state this build does not know (the loader hands
 * an unknown enum value over as its number), or COMMITTED without a commit sequence number, is
 * refused here instead of reaching a core.
 */
export function decodePeerStateChecked(txn: PeerTxn__Output): { ok: true; state: PeerState } | { ok: false; reason: string } {
  // Widened on purpose: at run time the state may be a number the generated type does not list.
  const state: string | number = txn.state;
  switch (state) {
    case "PEER_COMMITTED":
      if (!Number.isSafeInteger(txn.commitSeq) || txn.commitSeq < 1) {
        return { ok: false, reason: `${txn.txnId} is COMMITTED with commit sequence number ${txn.commitSeq}, not a whole number from 1` };
      }
      return { ok: true, state: { txnId: txn.txnId, state: "committed", commitSeq: txn.commitSeq } };
    case "PEER_ABORTED":
      return { ok: true, state: { txnId: txn.txnId, state: "aborted" } };
    case "PEER_PREPARED":
      return { ok: true, state: { txnId: txn.txnId, state: "prepared" } };
    case "PEER_UNKNOWN":
      return { ok: true, state: { txnId: txn.txnId, state: "unknown" } };
    case "PEER_TXN_STATE_UNSPECIFIED":
      return { ok: false, reason: `${txn.txnId} has no state` };
    default:
      return { ok: false, reason: `${txn.txnId} has state ${JSON.stringify(state)}, which this build does not know` };
  }
}

/** The usable state of an answer, or none (see decodePeerStateChecked). */
export function decodePeerState(txn: PeerTxn__Output): PeerState[] {
  const decoded = decodePeerStateChecked(txn);
  return decoded.ok ? [decoded.state] : [];
}
