// Operation histories, as `kv bench --history FILE` records them and `kv check FILE` reads them:
// JSON lines in the Jepsen convention. Pure: no I/O.
//
// Each operation is an `invoke` line when a client sends it, then one completion line:
//   ok    it took effect (a get's value is the value read; null for a missing key)
//   fail  it certainly did not take effect (ABORTED, INVALID_ARGUMENT, FAILED_PRECONDITION, ...)
//   info  unknown: a write that timed out or got UNAVAILABLE may or may not have taken effect
// Fields: index (line number, from 0), type, process (client number; a client whose last operation
// ended in `info` is retired and replaced by a new process number, as Jepsen does), f (get, put,
// del), key, value (the value written, or read; null for absent), time (nanoseconds since the start).
//
//   {"index":0,"type":"invoke","process":0,"f":"put","key":"k1","value":"v1","time":1200}
//   {"index":1,"type":"ok","process":0,"f":"put","key":"k1","value":"v1","time":8800}

export const historyFunctions = ["get", "put", "del"] as const;
export type HistoryFunction = (typeof historyFunctions)[number];
export const historyTypes = ["invoke", "ok", "fail", "info"] as const;
export type HistoryType = (typeof historyTypes)[number];

export interface HistoryEvent {
  readonly index: number;
  readonly type: HistoryType;
  readonly process: number;
  readonly f: HistoryFunction;
  readonly key: string;
  readonly value: string | null;
  /** Nanoseconds since the start of the run. */
  readonly time: number;
}

export function formatEvent(event: HistoryEvent): string {
  return JSON.stringify({
    index: event.index,
    type: event.type,
    process: event.process,
    f: event.f,
    key: event.key,
    value: event.value,
    time: event.time,
  });
}

export class HistoryFormatError extends Error {
  override readonly name = "HistoryFormatError";
}

/** Parses one line; throws HistoryFormatError naming the line and the field. */
export function parseEvent(line: string, lineNumber: number): HistoryEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new HistoryFormatError(`line ${lineNumber}: not JSON`);
  }
  if (typeof value !== "object" || value === null) throw new HistoryFormatError(`line ${lineNumber}: not an object`);
  const o = value as Record<string, unknown>;
  const bad = (field: string): never => {
    throw new HistoryFormatError(`line ${lineNumber}: field ${field} is missing or has the wrong type`);
  };
  if (typeof o.index !== "number") bad("index");
  if (!(historyTypes as readonly unknown[]).includes(o.type)) bad("type");
  if (typeof o.process !== "number") bad("process");
  if (!(historyFunctions as readonly unknown[]).includes(o.f)) bad("f");
  if (typeof o.key !== "string") bad("key");
  if (o.value !== null && typeof o.value !== "string") bad("value");
  if (typeof o.time !== "number") bad("time");
  return {
    index: o.index as number,
    type: o.type as HistoryType,
    process: o.process as number,
    f: o.f as HistoryFunction,
    key: o.key as string,
    value: o.value as string | null,
    time: o.time as number,
  };
}

/** Parses a whole history file's text (blank lines are skipped). */
export function parseHistory(text: string): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length > 0) events.push(parseEvent(line, i + 1));
  }
  return events;
}
