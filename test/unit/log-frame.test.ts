// What this proves: the pure log framing of logs/frame.ts.
//   - encodeFileHeader + encodeFrame followed by decodeLog gives back exactly the payloads written
//     (small, binary, one of 1 MiB), in order, with the header's firstLsn and validBytes = file size.
//   - After a crash the tail may be torn. Each torn shape a crash can leave (cut inside a frame header,
//     cut inside a payload, last frame's checksum wrong, zero fill after the last frame) is dropped:
//     the frames before it come back, validBytes ends at the last whole frame and tornBytes counts
//     exactly the bytes dropped.
//   - Damage that a crash cannot explain (a bad frame followed by a valid one, a bad magic) throws
//     DataLoss (gRPC code 15) naming the offset, never a silent drop of acknowledged records.
//   - An empty file and a header cut short decode as an empty log.
// How: logs are built in memory from the encoder, then cut, flipped or extended byte by byte; every
// expectation is computed from the frame layout (16-byte header, 8-byte frame header + payload).
import { describe, expect, it } from "vitest";
import { DataLoss } from "../../common/errors";
import {
  decodeLog,
  encodeFileHeader,
  encodeFrame,
  fileHeaderBytes,
  fileMagic,
  frameHeaderBytes,
} from "../../logs/frame";

const name = "test.log";

function buildLog(firstLsn: number, payloads: readonly Buffer[]): Buffer {
  return Buffer.concat([encodeFileHeader(firstLsn), ...payloads.map((payload) => encodeFrame(payload))]);
}

/** Offset of frame i in a log built by buildLog. */
function frameOffset(payloads: readonly Buffer[], i: number): number {
  let offset = fileHeaderBytes;
  for (let j = 0; j < i; j++) offset += frameHeaderBytes + payloads[j]!.length;
  return offset;
}

/** A deterministic byte pattern that covers all 256 byte values (no randomness: a failure reproduces). */
function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectDataLoss(fn: () => unknown, ...messageParts: string[]): void {
  const error = catchError(fn);
  expect(error).toBeInstanceOf(DataLoss);
  const dataLoss = error as DataLoss;
  expect(dataLoss.code).toBe(15);
  expect(dataLoss.name).toBe("DataLoss");
  for (const part of messageParts) expect(dataLoss.message).toContain(part);
}

const mib = 1024 * 1024;
const bigPayload = pattern(mib, 7);
const payloads: Buffer[] = [
  Buffer.from("first record", "utf8"),
  Buffer.from([0x00]), // a single zero byte: a record, not zero fill
  Buffer.from([0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00]),
  Buffer.concat([fileMagic, encodeFileHeader(99)]), // looks like a log header
  encodeFrame(Buffer.from("a frame inside a record")), // looks like a frame
  pattern(4099, 3), // binary, not page aligned
  bigPayload,
  Buffer.from("last record", "utf8"),
];

describe("decodeLog round trip", () => {
  it("gives back every payload, in order, byte for byte, with firstLsn from the header", () => {
    const file = buildLog(1234, payloads);
    const decoded = decodeLog(file, name);
    expect(decoded.firstLsn).toBe(1234);
    expect(decoded.payloads.length).toBe(payloads.length);
    for (let i = 0; i < payloads.length; i++) {
      expect(Buffer.compare(decoded.payloads[i]!, payloads[i]!), `payload ${i}`).toBe(0);
    }
    expect(decoded.payloads[6]!.length).toBe(mib);
    expect(decoded.validBytes).toBe(file.length);
    expect(decoded.tornBytes).toBe(0);
  });

  it("keeps a large firstLsn (a compacted log) and decodes a header-only log as empty", () => {
    const lsn = 2 ** 40 + 17;
    const decoded = decodeLog(encodeFileHeader(lsn), name);
    expect(decoded).toEqual({ firstLsn: lsn, payloads: [], validBytes: fileHeaderBytes, tornBytes: 0 });
  });

  it("lays frames out as length | crc | payload after a 16-byte header", () => {
    const file = buildLog(5, [Buffer.from("abc")]);
    expect(file.length).toBe(16 + 8 + 3);
    expect(file.subarray(0, 8).toString("ascii")).toBe("TPCLOG01");
    expect(file.readBigUInt64LE(8)).toBe(5n);
    expect(file.readUInt32LE(16)).toBe(3);
    expect(file.subarray(24).toString()).toBe("abc");
  });

  it("refuses to encode an empty record (it would be indistinguishable from zero fill)", () => {
    expect(() => encodeFrame(Buffer.alloc(0))).toThrow(/never empty/);
  });
});

describe("decodeLog drops a torn tail", () => {
  const three = [Buffer.from("one"), pattern(3000, 11), Buffer.from("three")];
  const whole = buildLog(42, three);
  const endOfSecond = frameOffset(three, 2);

  function expectTorn(file: Buffer, kept: number, validBytes: number): void {
    const decoded = decodeLog(file, name);
    expect(decoded.firstLsn).toBe(42);
    expect(decoded.payloads.map((p) => p.toString("hex"))).toEqual(three.slice(0, kept).map((p) => p.toString("hex")));
    expect(decoded.validBytes).toBe(validBytes);
    expect(decoded.tornBytes).toBe(file.length - validBytes);
    expect(decoded.tornBytes).toBeGreaterThan(0);
  }

  it("file cut inside a frame header", () => {
    for (const cut of [1, 4, 7]) expectTorn(whole.subarray(0, endOfSecond + cut), 2, endOfSecond);
  });

  it("file cut inside a payload", () => {
    const start = frameOffset(three, 1);
    for (const cut of [frameHeaderBytes, frameHeaderBytes + 1, frameHeaderBytes + 1500, frameHeaderBytes + 2999]) {
      expectTorn(whole.subarray(0, start + cut), 1, start);
    }
  });

  it("file cut inside a 1 MiB payload", () => {
    const big = [Buffer.from("before"), bigPayload];
    const file = buildLog(42, big);
    const start = frameOffset(big, 1);
    const decoded = decodeLog(file.subarray(0, start + frameHeaderBytes + mib / 2), name);
    expect(decoded.payloads.map((p) => p.toString())).toEqual(["before"]);
    expect(decoded.validBytes).toBe(start);
    expect(decoded.tornBytes).toBe(frameHeaderBytes + mib / 2);
  });

  it("last frame's checksum wrong (bytes flipped in the last payload)", () => {
    const file = Buffer.from(whole);
    const lastPayload = endOfSecond + frameHeaderBytes;
    file[lastPayload] ^= 0xff;
    file[lastPayload + 4] ^= 0x01;
    expectTorn(file, 2, endOfSecond);
  });

  it("zero fill appended after valid frames", () => {
    for (const zeros of [1, 7, 8, 9, 4096]) {
      expectTorn(Buffer.concat([whole, Buffer.alloc(zeros)]), 3, whole.length);
    }
  });

  it("a partial frame followed by zero fill", () => {
    const partial = encodeFrame(Buffer.from("never finished")).subarray(0, 10);
    expectTorn(Buffer.concat([whole, partial, Buffer.alloc(100)]), 3, whole.length);
  });
});

describe("decodeLog reports corruption in the middle as DataLoss", () => {
  const three = [Buffer.from("alpha"), Buffer.from("beta-beta"), Buffer.from("gamma")];
  const whole = buildLog(0, three);

  it("a flipped byte in the payload of the first of three frames", () => {
    const file = Buffer.from(whole);
    file[frameOffset(three, 0) + frameHeaderBytes + 2] ^= 0x20;
    expectDataLoss(() => decodeLog(file, name), name, `offset ${frameOffset(three, 0)}`, "checksum mismatch");
  });

  it("a flipped byte in the checksum field of the first frame", () => {
    const file = Buffer.from(whole);
    file[frameOffset(three, 0) + 4] ^= 0x01;
    expectDataLoss(() => decodeLog(file, name), `offset ${frameOffset(three, 0)}`);
  });

  it.each([
    ["over logRecordBytesMax", 0x7fff_ffff],
    ["past the end of the file", 1000],
    ["one byte short", three[1]!.length - 1],
    ["one byte long", three[1]!.length + 1],
    ["zero", 0],
  ])("a corrupt length field (%s) in the middle frame", (_what, length) => {
    const file = Buffer.from(whole);
    const middle = frameOffset(three, 1);
    file.writeUInt32LE(length, middle);
    expectDataLoss(() => decodeLog(file, name), `offset ${middle}`, "record 1");
  });

  it("a zeroed middle frame followed by a valid one", () => {
    const file = Buffer.from(whole);
    const middle = frameOffset(three, 1);
    file.fill(0, middle, frameOffset(three, 2));
    expectDataLoss(() => decodeLog(file, name), `offset ${middle}`);
  });

  it("a bad magic", () => {
    const file = Buffer.from(whole);
    file[3] ^= 0x01;
    expectDataLoss(() => decodeLog(file, name), name, "bad magic", "offset 0");
    expectDataLoss(() => decodeLog(Buffer.concat([Buffer.from("NOTALOG!"), Buffer.alloc(8)]), name), "bad magic");
  });

  it("a short header that is neither zero fill nor a prefix of the magic", () => {
    expectDataLoss(() => decodeLog(Buffer.from("TPCXYZ"), name), "header is damaged");
  });
});

describe("decodeLog of a log with no header", () => {
  it("an empty buffer is an empty log", () => {
    expect(decodeLog(Buffer.alloc(0), name)).toEqual({ firstLsn: 0, payloads: [], validBytes: 0, tornBytes: 0 });
  });

  it("a header cut short is an empty log, all of it torn", () => {
    const header = encodeFileHeader(77);
    for (const cut of [1, 5, 8, 9, 15]) {
      const decoded = decodeLog(header.subarray(0, cut), name);
      expect(decoded).toEqual({ firstLsn: 0, payloads: [], validBytes: 0, tornBytes: cut });
    }
    expect(decodeLog(Buffer.alloc(10), name)).toEqual({ firstLsn: 0, payloads: [], validBytes: 0, tornBytes: 10 });
  });

  it("a file of zero fill only, header included, is an empty log (the header never reached the disk)", () => {
    for (const size of [16, 17, 4096]) {
      expect(decodeLog(Buffer.alloc(size), name)).toEqual({ firstLsn: 0, payloads: [], validBytes: 0, tornBytes: size });
    }
  });
});
