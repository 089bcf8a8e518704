// One logger for every process: pino, one JSON object per line on stdout. Each process logs one
// line per start, stop and recovery outcome at info; protocol steps at debug (KV_LOG_LEVEL=debug).
import pino from "pino";

export type Logger = pino.Logger;

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export function createLogger(name: string, level: LogLevel = defaultLogLevel()): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

export function defaultLogLevel(): LogLevel {
  const fromEnv = process.env.KV_LOG_LEVEL;
  return (logLevels as readonly string[]).includes(fromEnv ?? "") ? (fromEnv as LogLevel) : "info";
}
