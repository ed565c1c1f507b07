// The problem lines si logs at configure. Under on_unknown: reject each is an error and configure fails
// once all are logged (the host attaches the last one to its error); under pass each is a warning.
import { lineStart, lineBytes, lineLog } from "../sdk/log-line";
import { ERROR, WARN, BAD_SETTINGS } from "../sdk";
import { writeCanonical, writeQuantityName } from "./unit-table";

// Every piece of text, one per line: one string costs far less module size than one literal each.
const MESSAGES = `with.on_unknown: expected "reject" or "pass"
expected "si" or a unit
with.points.
: no point of that name
.to: 
with.to: 
point "
" has unit "
", which si does not know
unknown unit "
" for point "
cannot convert point "
" from 
 to 
 (
)
"
; point left unchanged (with.on_unknown: pass)`;
export const M_ON_UNKNOWN = 0;
export const M_EXPECTED_UNIT = 1;
export const M_POINTS = 2;
export const M_NO_POINT = 3;
export const M_POINT_TO_PATH = 4;
export const M_TO_PATH = 5;
export const M_POINT = 6;
export const M_HAS_UNIT = 7;
export const M_NOT_KNOWN = 8;
export const M_UNKNOWN_UNIT = 9;
export const M_FOR_POINT = 10;
export const M_CANNOT_CONVERT = 11;
export const M_FROM = 12;
export const M_TARGET = 13;
const M_OPEN = 14;
const M_CLOSE = 15;
export const M_QUOTE = 16;
const M_PASSED = 17;

// Room for a canonical spelling or a quantity name (the longest, "volumetric flow", is 15 bytes).
const scratch = memory.data(32);

let rejecting = true;
let count = 0;

/** Starts counting problems; `reject` makes them errors, else warnings. */
export function beginProblems(reject: bool): void {
  rejecting = reject;
  count = 0;
}

/** Problems logged since beginProblems. */
export function problemCount(): i32 {
  return count;
}

/** Appends message `m` (MESSAGES is ASCII: each UTF-16 unit's first byte is its UTF-8 byte). */
export function say(m: i32): void {
  const base = changetype<usize>(MESSAGES);
  const n = MESSAGES.length;
  let at = 0;
  for (let i = 0; i < m && at < n; at++) if (load<u16>(base + (<usize>at << 1)) == 0x0a) i++;
  for (; at < n && load<u16>(base + (<usize>at << 1)) != 0x0a; at++) lineBytes(base + (<usize>at << 1), 1);
}

/** Appends "<canonical spelling> (<quantity>)" of unit row `r`. */
export function sayUnit(r: i32): void {
  lineBytes(scratch, writeCanonical(r, scratch));
  say(M_OPEN);
  lineBytes(scratch, writeQuantityName(r, scratch));
  say(M_CLOSE);
}

/** Appends `len` bytes of UTF-8 at `ptr` (text from the settings document, as written). */
export function sayBytes(ptr: usize, len: i32): void {
  lineBytes(ptr, len);
}

/** Starts a problem line. */
export function problemStart(): void {
  lineStart();
}

/** Ends and logs a problem line. */
export function problemEnd(): void {
  count++;
  if (rejecting) {
    lineLog(ERROR);
  } else {
    say(M_PASSED);
    lineLog(WARN);
  }
}

/** Logs message `m` as an error and returns BAD_SETTINGS: for settings that are wrong whatever on_unknown says. */
export function refuse(m: i32): i32 {
  lineStart();
  say(m);
  return refuseLine();
}

/** Logs the line started with problemStart as an error and returns BAD_SETTINGS. */
export function refuseLine(): i32 {
  lineLog(ERROR);
  return BAD_SETTINGS;
}
