// Makes the logger of a process (the type and the levels are in common/logger.ts).
import pino from "pino";
import { logLevels, type Logger, type LogLevel } from "../common/logger";

export function createLogger(name: string, level: LogLevel = defaultLogLevel()): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

/** KV_LOG_LEVEL when it names a level, else info. */
export function defaultLogLevel(): LogLevel {
  const fromEnv = process.env.KV_LOG_LEVEL;
  return (logLevels as readonly string[]).includes(fromEnv ?? "") ? (fromEnv as LogLevel) : "info";
}
