import { lineLog, lineStart, lineText } from "./log-line";

export const TRACE: i32 = 10;
export const DEBUG: i32 = 20;
export const INFO: i32 = 30;
export const WARN: i32 = 40;
export const ERROR: i32 = 50;

/**
 * Writes a line to the gateway log; the host adds pipeline, step and plugin names. The text goes
 * through the static line buffer (log-line.ts): nothing is allocated, and over 512 bytes it is cut.
 */
export function log(level: i32, message: string): void {
  lineStart();
  lineText(message);
  lineLog(level);
}

/** Logs at error level: the host attaches this line to the error it reports for the next bad status. */
export function fail(message: string): void {
  log(ERROR, message);
}
