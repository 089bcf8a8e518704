// Proves that a replica in doubt asks each peer only about the transactions that peer took part in
// (replica/peer-queries.ts): a peer asked about one it never saw would refuse it and answer
// "aborted", even when it committed among its participants (simulator regression seed 194).
import { describe, expect, it } from "vitest";
import { peerQueries } from "../../replica/peer-queries";

describe("peerQueries", () => {
  it("asks a peer only about the transactions it took part in", () => {
    const inDoubt = [
      { txnId: "1.12", participants: ["r1", "r2", "r3"] },
      { txnId: "1.13", participants: ["r1", "r2"] }, // r3 was out of the in-sync set
    ];
    const queries = peerQueries("r1", inDoubt, ["1.12", "1.13"]);
    expect([...queries.entries()]).toEqual([
      ["r2", ["1.12", "1.13"]],
      ["r3", ["1.12"]],
    ]);
  });

  it("asks nothing about transactions not asked for, and never itself", () => {
    const queries = peerQueries("r2", [{ txnId: "1.1", participants: ["r1", "r2"] }, { txnId: "1.2", participants: ["r2", "r3"] }], ["1.2"]);
    expect([...queries.entries()]).toEqual([["r3", ["1.2"]]]);
  });
});
