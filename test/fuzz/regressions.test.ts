// Crashes the fuzzer found, each as the shortest sequence that triggered it, asserting what should
// happen instead: the request is refused with a documented code, the process lives on and keeps
// serving, and nothing was written. Each test starts its own cluster (a failing one loses a process)
// and sends the requests raw, as the fuzzer did (run.ts FuzzTarget), not through the client library.
// Participant calls carry the cluster's current epoch (failover: a call without one is refused
// before it reaches the replica's core), and each refusal is checked for the field it names, so that
// none passes by being refused for another reason.
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Code, codeName } from "../../common/errors";
import type { DumpResponse__Output } from "../../proto/gen/twopc/participant/DumpResponse";
import type { GetResponse__Output } from "../../proto/gen/twopc/kv/GetResponse";
import { killAllStarted } from "../integration/harness";
import { fakePreparePoolSize, fakeTxnId } from "./model";
import { FuzzTarget, type Reply } from "./run";

afterAll(async () => {
  await killAllStarted();
});

const timeoutMs = 5_000;

function codeOf(reply: Reply): string {
  return `${codeName(reply.code)} (${reply.details})`;
}

describe("crashes found by the fuzzer", () => {
  let target: FuzzTarget;
  beforeEach(async () => {
    target = await FuzzTarget.start();
  });
  afterEach(async () => {
    await target.stop();
  });

  async function expectAllAlive(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 200)); // a crash of the last handler shows up
    for (const proc of target.processes) expect(proc.alive, `${proc.name} exited:\n${proc.output.slice(-15).join("\n")}`).toBe(true);
    const status = await target.call("Kv.Status", 0, {}, timeoutMs);
    expect(status.code, codeOf(status)).toBe(Code.OK);
  }

  it("a Put under request id R, then an Increment of another key under R: refused with INVALID_ARGUMENT, nothing written, the coordinator lives", async () => {
    const put = await target.call("Kv.Put", 0, { key: "k/0", value: Buffer.from("abc"), requestId: "same-id" }, timeoutMs);
    expect(put.code, codeOf(put)).toBe(Code.OK);
    const increment = await target.call("Kv.Increment", 0, { key: "k/1", delta: 1, requestId: "same-id" }, timeoutMs);
    expect(increment.code, codeOf(increment)).toBe(Code.INVALID_ARGUMENT);
    await expectAllAlive();
    const get = await target.call("Kv.Get", 0, { key: "k/1" }, timeoutMs);
    expect(get.code, codeOf(get)).toBe(Code.OK);
    expect((get.response as GetResponse__Output).found).toBe(false);
  });

  it('a Prepare of txn id "../../etc" on a replica, then its Commit without commit_seq: both refused with INVALID_ARGUMENT, the replica lives', async () => {
    const epoch = await target.epoch();
    const prepare = await target.call(
      "Participant.Prepare",
      0,
      { coordinatorId: "coordinator", txns: [{ txnId: "../../etc", writes: [{ key: "fuzzp/0", value: Buffer.from("a") }], participants: ["r1", "r2", "r3"] }], epoch },
      timeoutMs,
    );
    expect(prepare.code, codeOf(prepare)).toBe(Code.INVALID_ARGUMENT);
    expect(prepare.details).toContain('txns[0].txn_id "../../etc" is not a transaction id');
    const commit = await target.call("Participant.Commit", 0, { txns: [{ txnId: "../../etc" }], epoch }, timeoutMs);
    expect(commit.code, codeOf(commit)).toBe(Code.INVALID_ARGUMENT);
    expect(commit.details).toContain('txns[0].txn_id "../../etc" is not a transaction id');
    await expectAllAlive();
    const dump = await target.call("Participant.Dump", 0, {}, timeoutMs);
    expect(dump.code, codeOf(dump)).toBe(Code.OK);
    expect((dump.response as DumpResponse__Output).entries).toEqual([]);
  });

  it("an Abort of a transaction a replica never saw, then a Commit of it (commit_seq 5, or none): refused, the replica lives", async () => {
    const epoch = await target.epoch();
    // Fake ids of the call's epoch (model.ts fakeCounterBase), as the fuzzer sends them now.
    const [first, second] = [fakeTxnId(fakePreparePoolSize, epoch), fakeTxnId(fakePreparePoolSize + 1, epoch)];
    // Contradicts what the replica decided (FAILED_PRECONDITION), or lacks its commit_seq (INVALID_ARGUMENT).
    for (const [txnId, commit, code, detail] of [
      [first, { txnId: first, commitSeq: 5 }, Code.FAILED_PRECONDITION, `commit of ${first}, which this replica aborted`],
      [second, { txnId: second }, Code.INVALID_ARGUMENT, "txns[0].commit_seq is 0"],
    ] as const) {
      const abort = await target.call("Participant.Abort", 0, { txnIds: [txnId], epoch }, timeoutMs);
      expect(abort.code, codeOf(abort)).toBe(Code.OK);
      const reply = await target.call("Participant.Commit", 0, { txns: [commit], epoch }, timeoutMs);
      expect(reply.code, `${txnId}: ${codeOf(reply)}`).toBe(code);
      expect(reply.details).toContain(detail);
      await expectAllAlive();
    }
  });
});
