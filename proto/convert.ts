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

export function decodePeerState(txn: PeerTxn__Output): PeerState[] {
  switch (txn.state) {
    case "PEER_COMMITTED":
      return [{ txnId: txn.txnId, state: "committed", commitSeq: txn.commitSeq }];
    case "PEER_ABORTED":
      return [{ txnId: txn.txnId, state: "aborted" }];
    case "PEER_PREPARED":
      return [{ txnId: txn.txnId, state: "prepared" }];
    case "PEER_UNKNOWN":
      return [{ txnId: txn.txnId, state: "unknown" }];
    case "PEER_TXN_STATE_UNSPECIFIED":
      return [];
    default:
      return assertNever(txn.state);
  }
}

