/**
 * The gateway's logger: pino, JSON lines in production, human-readable in the demo. Plugin log levels
 * (docs/plugin-abi.md: 10 trace … 50 error) are pino's own numbers, so they map one to one.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './config/resolved.js';

export type { Logger };

export function createLogger(level: LogLevel, format: LogFormat, base: Record<string, unknown> = {}): Logger {
  const options = { level, base: { ...base }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'pretty') {
    return pino(options, pretty({ colorize: process.stdout.isTTY, sync: true, singleLine: true, ignore: 'pid,hostname,gateway', translateTime: 'HH:MM:ss.l' }));
  }
  return pino(options);
}

const LEVEL_NAMES: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};

/** Logs at a numeric level (as plugins and the worker report them). */
export function logAt(logger: Logger, level: number, message: string, context: Record<string, unknown>): void {
  const name = LEVEL_NAMES[Math.min(60, Math.max(10, Math.floor(level / 10) * 10))]!;
  logger[name](context, message);
}
