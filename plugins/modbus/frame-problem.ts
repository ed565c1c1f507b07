// What was wrong with the frames of one batch. Each problem is counted and the first is written out
// in detail; the batch ends with one warn-level line, so logging stays off the per-sample path and a
// device answering garbage at 10 Hz cannot flood the log. A device is named by its name (unique in a
// pipeline).
import { WARN } from "../sdk/log";
import { lineStart, lineBytes, lineNumber, lineEntry, lineLog } from "../sdk/log-line";
import { deviceNames, deviceCount } from "./point-table";
import { MESSAGES, M_DEVICE, M_REQUEST, M_COLON, M_EXPECTED, M_MORE } from "./messages";

let count = 0;
let device = 0;
let request = 0;

export function problemsReset(): void {
  count = 0;
}

/** Names the frame that the next notes are about. */
export function problemFrame(d: i32, r: i32): void {
  device = d;
  request = r;
}

/**
 * Notes a problem: `what` its message (M_NOT_IN_PLAN...), `got` what the frame says, `want` what was
 * expected (-1: nothing to compare). The first of a batch is written out at once into the log line,
 * which problemsLog completes; the others are only counted.
 */
export function note(what: i32, got: i32, want: i32): void {
  if (count++ > 0) return;
  lineStart();
  lineEntry(MESSAGES, M_DEVICE);
  if (device < deviceCount) {
    const name = deviceNames + <usize>device * 8;
    lineBytes(load<u32>(name), <i32>load<u32>(name, 4));
  }
  lineEntry(MESSAGES, M_REQUEST);
  lineNumber(request);
  lineEntry(MESSAGES, M_COLON);
  lineEntry(MESSAGES, what);
  lineNumber(got);
  if (want >= 0) {
    lineEntry(MESSAGES, M_EXPECTED);
    lineNumber(want);
  }
}

/** Logs the batch's problems, if any, as one line: the first in detail, then how many there were. */
export function problemsLog(): void {
  if (count == 0) return;
  if (count > 1) {
    lineEntry(MESSAGES, M_MORE);
    lineNumber(count);
  }
  lineLog(WARN);
}
