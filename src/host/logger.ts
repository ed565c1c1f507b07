/**
 * The gateway's logger: pino, JSON lines in production, human-readable in the demo. Plugin log levels
 * (docs/plugin-abi.md: 10 trace … 50 error) are pino's own numbers, so they map one to one.
 *
 * Each context key appears once per line. pino writes a child's bindings and the call's object side
 * by side, so `child({ pipeline })` followed by `log({ pipeline }, …)` printed `"pipeline"` twice, which
 * strict JSON parsers (and log shippers built on them) reject. Contexts are assembled in many places
 * (worker messages, plugin lines, the runner), so the rule is kept here, once, for every line:
 * a key the logger already binds is left out of the call's object, and `withBindings` adds to a child
 * only keys it does not bind yet. Should the two disagree, the call's value is kept under `shadowed`.
 */
import { createRequire } from 'node:module';
import { pino, type Logger as PinoLogger } from 'pino';
import type { PrettyStream } from 'pino-pretty';
import type { LogFormat, LogLevel } from './config/resolved.js';
import type { LogContext } from './log-events.js';

export type { LogContext, LogEvent, LevelLog } from './log-events.js';

/** One log call: its event and context first, then the message for a person. */
type LogCall = (context: LogContext, message: string) => void;

/**
 * The logger the gateway writes through: pino's, narrowed so that every call names its event
 * (log-events.ts); a line without one does not compile. A pino instance is one (tests pass their own).
 */
export interface Logger {
  trace: LogCall;
  debug: LogCall;
  info: LogCall;
  warn: LogCall;
  error: LogCall;
  fatal: LogCall;
  level: string;
  child(bindings: Record<string, unknown>): Logger;
  bindings(): Record<string, unknown>;
}

/** `toStderr`: for commands whose standard output is their result (`probe --json`). */
export function createLogger(level: LogLevel, format: LogFormat, base: Record<string, unknown> = {}, toStderr = false): Logger {
  const options = {
    level,
    base: { ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: { logMethod: dropBoundKeys },
  };
  if (format === 'pretty') {
    // Loaded only for this format (the demo, a terminal): a daemon writing JSON never needs its ~30 modules.
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: Record<string, unknown>) => PrettyStream;
    const stream = toStderr ? process.stderr : process.stdout;
    return pino(options, pretty({ destination: stream, colorize: stream.isTTY, sync: true, singleLine: true, ignore: 'pid,hostname,gateway', translateTime: 'HH:MM:ss.l' }));
  }
  return toStderr ? pino(options, pino.destination(2)) : pino(options);
}

/** A child of `logger` that binds `bindings`, minus what `logger` binds already (see the header). */
export function withBindings(logger: Logger, bindings: Record<string, unknown>): Logger {
  const fresh = unbound(logger.bindings(), bindings);
  return fresh === bindings || Object.keys(fresh).length > 0 ? logger.child(fresh) : logger;
}

/** pino's logMethod hook: `this` is the logger the call was made on, children included. */
function dropBoundKeys(this: PinoLogger, args: Parameters<PinoLogger['info']>, method: (...a: unknown[]) => void): void {
  const [first, ...rest] = args as unknown[];
  if (first === null || typeof first !== 'object' || first instanceof Error) return method.apply(this, args as unknown[]);
  method.apply(this, [unbound(this.bindings(), first as Record<string, unknown>), ...rest]);
}

/** `object` without the keys `bound` has; a key bound to a different value moves under `shadowed`. */
function unbound(bound: Record<string, unknown>, object: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    if (!Object.hasOwn(bound, key)) continue;
    out ??= { ...object };
    if (!sameValue(bound[key], object[key])) out.shadowed = { ...(out.shadowed as object | undefined), [key]: object[key] };
    delete out[key];
  }
  return out ?? object;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

const LEVEL_NAMES: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
};

/** Logs at a numeric level (as plugins and the worker report them). */
export function logAt(logger: Logger, level: number, message: string, context: LogContext): void {
  const name = LEVEL_NAMES[Math.min(60, Math.max(10, Math.floor(level / 10) * 10))]!;
  logger[name](context, message);
}
