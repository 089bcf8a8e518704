// `kv get` and `kv txn` print a value's bytes as stored (issue 14): a value written by another
// program as bytes that are not UTF-8 (00 FF 62 69 6E) used to come out of `kv get` as
// 00 EF BF BD 62 69 6E, the bytes decoded as UTF-8 and the invalid one replaced. This proves it
// against a real cluster and the real `kv` process: the value is written with the client library,
// read with `kv get` (plain, --show-version, --hex, --json) and `kv txn` (a get, in text and with
// --json-output), and stdout is compared byte for byte.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KvClient } from "../../client/client";
import { killAllStarted, kvScript, TestCluster } from "./harness";

/** Runs `kv` and keeps its stdout as bytes (the harness's runKv decodes it as UTF-8, which is what is under test here). */
function runKvBytes(args: readonly string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [kvScript, ...args]);
    const stdout: Buffer[] = [];
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
  });
}

const raw = Buffer.from([0x00, 0xff, 0x62, 0x69, 0x6e]);

afterAll(async () => {
  await killAllStarted();
});

describe("kv prints values as bytes", () => {
  let cluster: TestCluster;
  let kv: KvClient;
  let version = 0;
  const kvArgs = (...args: string[]): string[] => [...args, "--coordinator", cluster.coordinatorAddress];
  beforeAll(async () => {
    cluster = await TestCluster.start();
    kv = cluster.client(10_000, 15_000);
    version = (await kv.put("bytes/raw", raw)).version;
    await kv.put("bytes/text", "héllo wörld");
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it("kv get writes the stored bytes and one newline; --show-version adds a tab and the version", async () => {
    const plain = await runKvBytes(kvArgs("get", "bytes/raw"));
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout.toString("hex")).toBe(Buffer.concat([raw, Buffer.from("\n")]).toString("hex"));

    const withVersion = await runKvBytes(kvArgs("get", "bytes/raw", "--show-version"));
    expect(withVersion.code, withVersion.stderr).toBe(0);
    expect(withVersion.stdout.toString("hex")).toBe(Buffer.concat([raw, Buffer.from(`\t(version ${version})\n`)]).toString("hex"));

    // UTF-8 text comes out as it went in, too.
    const text = await runKvBytes(kvArgs("get", "bytes/text"));
    expect(text.stdout.toString("hex")).toBe(Buffer.from("héllo wörld\n", "utf8").toString("hex"));
  });

  it("kv get --hex prints the bytes in hexadecimal, --json in base64; the two flags conflict (exit 2)", async () => {
    const hex = await runKvBytes(kvArgs("get", "bytes/raw", "--hex"));
    expect(hex.code, hex.stderr).toBe(0);
    expect(hex.stdout.toString("latin1")).toBe("00ff62696e\n");
    expect((await runKvBytes(kvArgs("get", "bytes/raw", "--hex", "--show-version"))).stdout.toString("latin1")).toBe(`00ff62696e\t(version ${version})\n`);

    const json = await runKvBytes(kvArgs("get", "bytes/raw", "--json"));
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout.toString("utf8")) as { key: string; found: boolean; value: string; version: number };
    expect(parsed).toEqual({ key: "bytes/raw", found: true, value: raw.toString("base64"), version });
    expect(Buffer.from(parsed.value, "base64").equals(raw)).toBe(true);

    expect((await runKvBytes(kvArgs("get", "bytes/raw", "--hex", "--json"))).code).toBe(2);
  });

  it("kv txn shows a get's value as 0x-hex when it is not UTF-8 (quoted text when it is), and in base64 with --json-output", async () => {
    const spec = JSON.stringify({ then: [{ type: "get", key: "bytes/raw" }, { type: "get", key: "bytes/text" }] });
    const text = await runKvBytes(kvArgs("txn", spec));
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.toString("utf8").split("\n");
    expect(lines).toContain(`  get "bytes/raw" = 0x00ff62696e (version ${version})`);
    expect(lines.some((line) => line.startsWith('  get "bytes/text" = "héllo wörld" (version '))).toBe(true);

    const json = await runKvBytes(kvArgs("txn", spec, "--json-output"));
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout.toString("utf8")) as { results: { key: string; value: string | null }[] };
    expect(parsed.results.map((result) => Buffer.from(result.value ?? "", "base64"))).toEqual([raw, Buffer.from("héllo wörld", "utf8")]);
  });
});
