// The logger every process uses, as a type: pino, one JSON object per line on stdout (cli/logger.ts
// makes it). Each process logs one line per start, stop and recovery outcome at info; protocol
// steps at debug (KV_LOG_LEVEL=debug). Pure: only types and the list of levels.
import type pino from "pino";

export type Logger = pino.Logger;

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];
