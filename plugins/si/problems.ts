// The problem lines si logs at configure. Under on_unknown: reject each is an error and configure fails
// once all are logged (the host attaches the last one to its error); under pass each is a warning.
// A line is assembled in the SDK's line buffer: literal text, and names and units as written in the
// settings document (raw UTF-8, never decoded).
import { lineStart, lineText, lineBytes, lineLog } from "../sdk/log-line";
import { ERROR, WARN, BAD_SETTINGS } from "../sdk";
import { writeCanonical, writeQuantityName } from "./unit-table";

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

/** Starts a line with `text`. */
export function problemStart(text: string): void {
  lineStart();
  lineText(text);
}

/** Appends `text`. */
export function say(text: string): void {
  lineText(text);
}

/** Appends `len` bytes of UTF-8 at `ptr` (text from the settings document, as written). */
export function sayBytes(ptr: usize, len: i32): void {
  lineBytes(ptr, len);
}

/** Appends "<canonical spelling> (<quantity>)" of unit row `r`. */
export function sayUnit(r: i32): void {
  lineBytes(scratch, writeCanonical(r, scratch));
  lineText(" (");
  lineBytes(scratch, writeQuantityName(r, scratch));
  lineText(")");
}

/** Ends and logs a problem line: an error, or under on_unknown: pass a warning that says so. */
export function problemEnd(): void {
  count++;
  if (rejecting) {
    lineLog(ERROR);
  } else {
    lineText("; point left unchanged (with.on_unknown: pass)");
    lineLog(WARN);
  }
}

/** Logs the line as an error and returns BAD_SETTINGS: for settings that are wrong whatever on_unknown says. */
export function refuseLine(): i32 {
  lineLog(ERROR);
  return BAD_SETTINGS;
}
