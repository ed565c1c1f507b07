// State blobs for the swap lifecycle (ABI 1.3 wg_snapshot and wg_restore): what a step holds, handed
// from the old version of a plugin to the new one. Not re-exported by the SDK's index, so a plugin that
// keeps no state links none of it; a stateful plugin imports it from "../sdk/state".
//
// A blob is a 16-byte header, then the plugin's own payload:
//   u32 "wgst" (the bytes 77 67 73 74), u32 the plugin's format (a tag it picks, changed whenever its
//   payload's layout changes), u32 the point count it was configured with, u32 payload bytes.
// A successor refuses (WG_STATUS_REFUSED, the reason logged at error level) a blob whose format or
// point count it does not share; the host then drains the old version and the new one starts fresh.
import { input, reserveOutput, setResult } from "./io";
import { lineStart, lineText, lineNumber, lineLog } from "./log-line";
import { ERROR } from "./log";

const MAGIC: u32 = 0x74736777; // "wgst", little-endian
export const STATE_HEADER: i32 = 16;

/** Reserves a blob of `payload` bytes in the output; returns where the payload starts. */
export function beginState(format: u32, points: u32, payload: i32): usize {
  const out = reserveOutput(STATE_HEADER + payload, 0);
  store<u32>(out, MAGIC);
  store<u32>(out, format, 4);
  store<u32>(out, points, 8);
  store<u32>(out, <u32>payload, 12);
  setResult(out);
  return out + <usize>STATE_HEADER;
}

/** The length wg_snapshot returns for a blob begun with `payload` bytes. */
@inline export function stateLength(payload: i32): i32 {
  return STATE_HEADER + payload;
}

/**
 * The payload of the `size`-byte blob in the input region, when it is one of `format` for `points`
 * points and holds at least `least` payload bytes; else 0, with the reason logged at error level.
 */
export function openState(size: i32, format: u32, points: u32, least: i32): usize {
  const blob = input();
  if (size < STATE_HEADER || load<u32>(blob) != MAGIC) return refuse("not a wasmgate state blob", -1);
  if (load<u32>(blob, 4) != format) return refuse("a state of another format, number ", <i32>load<u32>(blob, 4));
  if (load<u32>(blob, 8) != points) return refuse("a state of another point count: ", <i32>load<u32>(blob, 8));
  const payload = <i32>load<u32>(blob, 12);
  if (payload < least || payload > size - STATE_HEADER) return refuse("a state cut short, payload bytes: ", payload);
  return blob + <usize>STATE_HEADER;
}

/** Logs "cannot restore <why><n>" (without n when it is negative) at error level; returns 0. */
export function refuse(why: string, n: i32): usize {
  lineStart();
  lineText("cannot restore ");
  lineText(why);
  if (n >= 0) lineNumber(n);
  lineLog(ERROR);
  return 0;
}
