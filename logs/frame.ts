// The on-disk framing of log records. Pure: bytes in, bytes out, no I/O.
//
// A log file is a 16-byte header followed by frames:
//   header: "TPCLOG01" (8 bytes) | firstLsn (u64 LE)
//   frame:  payload length (u32 LE) | CRC-32 of the payload (u32 LE) | payload
// The log sequence number (LSN) of a record is firstLsn plus its index in the file, so a log that is
// rewritten (compacted) keeps the numbers of the records it keeps.
//
// After a crash the last frames may be torn: cut short, or written in part. Replay drops a bad
// frame when nothing valid follows it (a torn tail, expected after a crash), and reports DATA_LOSS
// when a bad frame is followed by more data that is not zero fill (corruption in the middle, which
// no crash explains).
import { crc32 } from "node:zlib";
import { assert } from "../common/assert";
import { DataLoss } from "../common/errors";
import { limits } from "../common/limits";

export const fileMagic = Buffer.from("TPCLOG01", "ascii");
export const fileHeaderBytes = 16;
export const frameHeaderBytes = 8;

export function encodeFileHeader(firstLsn: number): Buffer {
  const header = Buffer.alloc(fileHeaderBytes);
  fileMagic.copy(header, 0);
  header.writeBigUInt64LE(BigInt(firstLsn), 8);
  return header;
}

export function encodeFrame(payload: Buffer): Buffer {
  assert(payload.length > 0, "a log record is never empty (zero fill must not decode as a record)");
  assert(payload.length <= limits.logRecordBytesMax, "log record over logRecordBytesMax");
  const frame = Buffer.allocUnsafe(frameHeaderBytes + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, frameHeaderBytes);
  return frame;
}

export interface DecodedLog {
  readonly firstLsn: number;
  readonly payloads: Buffer[];
  /** Bytes of the file that hold the header and whole, valid frames. */
  readonly validBytes: number;
  /** Bytes past validBytes that replay dropped as a torn tail (0 when the log ended cleanly). */
  readonly tornBytes: number;
}

/** Decodes a whole log file. Throws DataLoss on a bad header or on corruption mid-log. */
export function decodeLog(file: Buffer, name: string): DecodedLog {
  if (file.length < fileHeaderBytes) {
    // A crash while the header was being written: nothing was ever appended to this log.
    if (isZeroFillOrPrefixOfMagic(file)) return { firstLsn: 0, payloads: [], validBytes: 0, tornBytes: file.length };
    throw new DataLoss(`${name}: the log header is damaged (${file.length} bytes)`);
  }
  if (isZeroFill(file)) {
    // The file was extended but its header never reached the disk: nothing was ever appended.
    return { firstLsn: 0, payloads: [], validBytes: 0, tornBytes: file.length };
  }
  if (!file.subarray(0, fileMagic.length).equals(fileMagic)) {
    throw new DataLoss(`${name}: not a twopc-kv log (bad magic at offset 0)`);
  }
  const firstLsn = Number(file.readBigUInt64LE(8));
  const payloads: Buffer[] = [];
  let offset = fileHeaderBytes;
  while (offset < file.length) {
    const bad = frameProblem(file, offset);
    if (bad === null) {
      const length = file.readUInt32LE(offset);
      payloads.push(file.subarray(offset + frameHeaderBytes, offset + frameHeaderBytes + length));
      offset += frameHeaderBytes + length;
      continue;
    }
    if (isTornTail(file, offset)) {
      return { firstLsn, payloads, validBytes: offset, tornBytes: file.length - offset };
    }
    throw new DataLoss(
      `${name}: corrupt record at offset ${offset} (record ${firstLsn + payloads.length}: ${bad}) ` +
        `with ${file.length - offset} bytes after it; the log is damaged in the middle, refusing to start`,
    );
  }
  return { firstLsn, payloads, validBytes: offset, tornBytes: 0 };
}

/** null when a whole valid frame starts at offset; otherwise what is wrong with it. */
function frameProblem(file: Buffer, offset: number): string | null {
  if (file.length - offset < frameHeaderBytes) return "header cut short";
  const length = file.readUInt32LE(offset);
  if (length === 0) return "empty record (zero fill)";
  if (length > limits.logRecordBytesMax) return `length ${length} over logRecordBytesMax`;
  const end = offset + frameHeaderBytes + length;
  if (end > file.length) return "payload cut short";
  const expected = file.readUInt32LE(offset + 4);
  if (crc32(file.subarray(offset + frameHeaderBytes, end)) !== expected) return "checksum mismatch";
  return null;
}

/**
 * A bad frame is a torn tail when no valid frame follows it anywhere in the rest of the file: what
 * is left is a write that a crash cut short (or zero fill from a file system that extended the file
 * but never wrote the data). A valid frame after a bad one cannot come from a crash of this process,
 * whose writes reach the page cache in order, so it is reported as corruption, never dropped.
 */
function isTornTail(file: Buffer, offset: number): boolean {
  for (let candidate = offset + 1; candidate + frameHeaderBytes < file.length; candidate++) {
    const length = file.readUInt32LE(candidate);
    if (candidate + frameHeaderBytes + length > file.length) continue;
    if (frameProblem(file, candidate) === null) return false;
  }
  return true;
}

function isZeroFill(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte !== 0) return false;
  return true;
}

function isZeroFillOrPrefixOfMagic(bytes: Buffer): boolean {
  return isZeroFill(bytes) || fileMagic.subarray(0, Math.min(bytes.length, fileMagic.length)).equals(bytes.subarray(0, fileMagic.length));
}
