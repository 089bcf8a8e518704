// What this proves: logs/file-log.ts FileLog on a real file system.
//   - open creates a missing log; append hands out consecutive LSNs; records survive close + reopen
//     in order with their LSNs, and appends after a reopen continue the sequence.
//   - A torn tail (garbage or a partial frame appended to the file, as a crash leaves it) is dropped
//     on open and cut off the file, so later appends land right after the last whole record and
//     replay cleanly; corruption in the middle makes open reject with DataLoss and leaves the file
//     untouched.
//   - Group commit: 200 records appended in one turn are made durable by one fdatasync, whatever
//     number of force() calls follow, and every one of them is forced exactly once.
//   - force() with nothing pending resolves at once, without a flush; force() resolves only after
//     the bytes are in the file and only after fdatasync has returned (the test looks, from inside
//     fdatasync, at the file and at force()'s promise).
// How: each test gets a fresh directory from fs.mkdtempSync under os.tmpdir(), removed afterwards;
// the file is inspected with fs.readFileSync + decodeLog from logs/frame.ts, and damaged with
// fs.appendFileSync / byte writes. fdatasync is observed by wrapping fs.fdatasyncSync.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DataLoss } from "../../common/errors";
import { FileLog } from "../../logs/file-log";
import { decodeLog, encodeFileHeader, encodeFrame, fileHeaderBytes, frameHeaderBytes } from "../../logs/frame";

let dir: string;
let logPath: string;
const openLogs: FileLog[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "twopc-kv-file-log-"));
  logPath = path.join(dir, "test.log");
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const log of openLogs.splice(0)) await log.close().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function open(file = logPath) {
  const opened = await FileLog.open(file);
  openLogs.push(opened.log);
  return opened;
}

function record(i: number): Buffer {
  return Buffer.from(`record-${i}-${"x".repeat(i % 17)}`);
}

function onDisk(file = logPath) {
  return decodeLog(fs.readFileSync(file), file);
}

function texts(buffers: readonly Buffer[]): string[] {
  return buffers.map((b) => b.toString());
}

describe("FileLog open, append, reopen", () => {
  it("open on a missing file creates an empty log with a durable header", async () => {
    expect(fs.existsSync(logPath)).toBe(false);
    const { log, replayed } = await open();
    expect(replayed).toEqual({ records: [], firstLsn: 0, tornBytes: 0 });
    expect(fs.existsSync(logPath)).toBe(true);
    expect(fs.readFileSync(logPath)).toEqual(encodeFileHeader(0));
    expect(log.endLsn).toBe(0);
    expect(log.bytes).toBe(fileHeaderBytes);
  });

  it("append returns consecutive LSNs", async () => {
    const { log } = await open();
    const lsns = [0, 1, 2, 3, 4].map((i) => log.append(record(i)));
    expect(lsns).toEqual([0, 1, 2, 3, 4]);
    expect(log.endLsn).toBe(5);
  });

  it("records survive close and reopen, in order, with their LSNs; appends continue the sequence", async () => {
    const first = await open();
    for (let i = 0; i < 10; i++) expect(first.log.append(record(i))).toBe(i);
    await first.log.close();

    const second = await open();
    expect(second.replayed.firstLsn).toBe(0);
    expect(second.replayed.tornBytes).toBe(0);
    expect(texts(second.replayed.records)).toEqual(texts([...Array(10).keys()].map(record)));
    expect(second.log.endLsn).toBe(10);
    expect(second.log.append(record(10))).toBe(10);
    expect(second.log.append(record(11))).toBe(11);
    await second.log.close();

    const third = await open();
    expect(texts(third.replayed.records)).toEqual(texts([...Array(12).keys()].map(record)));
    // records[i] has LSN firstLsn + i: record(11) carries its own LSN in its text.
    expect(third.replayed.records[11]!.toString()).toBe(record(11).toString());
    expect(third.log.append(record(12))).toBe(12);
  });

  it("a log whose header starts at a later LSN (a compacted log) numbers from there", async () => {
    fs.writeFileSync(logPath, Buffer.concat([encodeFileHeader(1000), encodeFrame(record(0)), encodeFrame(record(1))]));
    const { log, replayed } = await open();
    expect(replayed.firstLsn).toBe(1000);
    expect(texts(replayed.records)).toEqual(texts([record(0), record(1)]));
    expect(log.append(record(2))).toBe(1002);
    await log.close();
    expect(onDisk().firstLsn).toBe(1000);
    expect(texts(onDisk().payloads)).toEqual(texts([record(0), record(1), record(2)]));
  });
});

describe("FileLog replay after a crash", () => {
  async function writeRecords(count: number): Promise<number> {
    const { log } = await open();
    for (let i = 0; i < count; i++) log.append(record(i));
    await log.close();
    return fs.statSync(logPath).size;
  }

  it.each([
    ["raw garbage", Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])],
    ["a partial frame header", encodeFrame(Buffer.from("torn record")).subarray(0, 5)],
    ["a partial frame payload", encodeFrame(Buffer.from("torn record")).subarray(0, frameHeaderBytes + 4)],
    ["a whole frame with a bad checksum", (() => {
      const frame = encodeFrame(Buffer.from("torn record"));
      frame[frameHeaderBytes] ^= 0xff;
      return frame;
    })()],
    ["zero fill", Buffer.alloc(4096)],
  ])("a torn tail (%s) is dropped on open and cut off the file", async (_what, tail) => {
    const cleanSize = await writeRecords(3);
    fs.appendFileSync(logPath, tail);
    expect(fs.statSync(logPath).size).toBe(cleanSize + tail.length);

    const reopened = await open();
    expect(reopened.replayed.tornBytes).toBe(tail.length);
    expect(texts(reopened.replayed.records)).toEqual(texts([record(0), record(1), record(2)]));
    expect(fs.statSync(logPath).size).toBe(cleanSize);

    // Later appends go right after the last whole record and replay fine.
    expect(reopened.log.append(record(3))).toBe(3);
    expect(reopened.log.append(record(4))).toBe(4);
    await reopened.log.close();
    const decoded = onDisk();
    expect(decoded.tornBytes).toBe(0);
    expect(texts(decoded.payloads)).toEqual(texts([0, 1, 2, 3, 4].map(record)));

    const again = await open();
    expect(again.replayed.tornBytes).toBe(0);
    expect(texts(again.replayed.records)).toEqual(texts([0, 1, 2, 3, 4].map(record)));
  });

  it("a header cut short by a crash is started afresh", async () => {
    fs.writeFileSync(logPath, encodeFileHeader(0).subarray(0, 6));
    const { log, replayed } = await open();
    expect(replayed.records).toEqual([]);
    expect(replayed.tornBytes).toBe(6);
    expect(log.append(record(0))).toBe(0);
    await log.close();
    expect(texts(onDisk().payloads)).toEqual([record(0).toString()]);
  });

  it("corruption in the middle makes open reject with DataLoss and leaves the file as it was", async () => {
    await writeRecords(3);
    const bytes = fs.readFileSync(logPath);
    const firstPayload = fileHeaderBytes + frameHeaderBytes;
    bytes[firstPayload + 1] ^= 0x40;
    fs.writeFileSync(logPath, bytes);

    const error = await FileLog.open(logPath).then(
      (opened) => {
        openLogs.push(opened.log);
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DataLoss);
    expect((error as DataLoss).code).toBe(15);
    expect((error as DataLoss).message).toContain(`offset ${fileHeaderBytes}`);
    expect((error as DataLoss).message).toContain(logPath);
    expect(fs.readFileSync(logPath)).toEqual(bytes);
  });
});

describe("FileLog force and group commit", () => {
  it("200 records of one turn take one fdatasync, however many forces follow, and every record is forced once", async () => {
    const { log } = await open();
    const lsns: number[] = [];
    for (let i = 0; i < 200; i++) lsns.push(log.append(record(i)));
    expect(lsns).toEqual([...Array(200).keys()]);
    const forces: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) forces.push(log.force());
    await Promise.all(forces);
    expect(log.recordsForced).toBe(200);
    expect(log.forces).toBe(1);
    expect(texts(onDisk().payloads)).toEqual(texts([...Array(200).keys()].map(record)));
  });

  it("force() with nothing pending resolves at once, without a flush", async () => {
    const { log } = await open();
    let resolved = false;
    void log.force().then(() => (resolved = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toBe(true);
    expect(log.forces).toBe(0);

    log.append(record(0));
    await log.force();
    expect(log.forces).toBe(1);
    // Everything appended is durable again: the next force needs no flush.
    resolved = false;
    void log.force().then(() => (resolved = true));
    await Promise.resolve();
    await Promise.resolve();
    expect(resolved).toBe(true);
    expect(log.forces).toBe(1);
  });

  it("force() resolves only after the data is written and fdatasync has returned", async () => {
    const { log } = await open();
    // Look from inside every fdatasync of this process: the bytes must be in the file already, and
    // the force must not have resolved yet.
    // fs as CommonJS sees it: the ES module namespace is read-only, but syncBuiltinESMExports
    // carries a change of the CommonJS object over to it.
    const cjsFs = createRequire(path.resolve("package.json"))("node:fs") as typeof fs;
    const realFdatasync = cjsFs.fdatasyncSync;
    let resolved = false;
    const seen: { payloads: string[]; resolved: boolean }[] = [];
    cjsFs.fdatasyncSync = (fd: number) => {
      seen.push({ payloads: texts(onDisk().payloads), resolved });
      realFdatasync(fd);
    };
    syncBuiltinESMExports();
    try {
      log.append(record(0));
      log.append(record(1));
      await log.force().then(() => (resolved = true));
    } finally {
      cjsFs.fdatasyncSync = realFdatasync;
      syncBuiltinESMExports();
    }
    expect(seen).toEqual([{ payloads: texts([record(0), record(1)]), resolved: false }]);
    expect(resolved).toBe(true);
    expect(log.forces).toBe(1);
    expect(log.recordsForced).toBe(2);
    const decoded = onDisk();
    expect(texts(decoded.payloads)).toEqual(texts([record(0), record(1)]));
    expect(decoded.tornBytes).toBe(0);
  });

  it("after force() resolves, the file holds every record appended before the call", async () => {
    const { log } = await open();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 10; i++) log.append(record(round * 10 + i));
      await log.force();
      const decoded = onDisk();
      expect(decoded.payloads.length).toBe((round + 1) * 10);
      expect(decoded.payloads[decoded.payloads.length - 1]!.toString()).toBe(record(round * 10 + 9).toString());
      expect(log.bytes).toBe(decoded.validBytes);
    }
  });
});
