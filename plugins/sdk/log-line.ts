// A log line assembled in a static buffer, for data calls: with the stub runtime every string
// concatenation is memory never given back, so a plugin that reports a problem per batch builds the
// line here instead. Text past the buffer's end is cut off, never a trap.
import { host_log } from "./env";
import { Utf8 } from "./utf8";

const CAP: i32 = 512;
const buffer = memory.data(CAP);
let length: i32 = 0;

/** Starts a new line, dropping whatever the last one held. */
export function lineStart(): void {
  length = 0;
}

/** Appends `n` UTF-16 units at `ptr` as UTF-8. */
function appendUtf16(ptr: usize, n: i32): void {
  // A UTF-16 unit takes at most 3 UTF-8 bytes; cut the text to what surely fits.
  const room = (CAP - length) / 3;
  if (n > room) n = room;
  length += <i32>String.UTF8.encodeUnsafe(ptr, n, buffer + <usize>length);
}

/** Appends `s` as UTF-8. */
export function lineText(s: string): void {
  appendUtf16(changetype<usize>(s), s.length);
}

/** Appends a static text (`lineUtf8(utf8("..."))`, sdk/utf8.ts): half the bytes of a lineText literal. */
export function lineUtf8(text: Utf8): void {
  // lineBytes(text.bytes, text.length), written out: a body this small would be inlined at every
  // call site, and each of those calls would then cost twice what a call of this one does.
  const n = min(text.length, CAP - length);
  memory.copy(buffer + <usize>length, text.bytes, <usize>n);
  length += n;
}

/** Appends `n` bytes of UTF-8 at `ptr`. */
export function lineBytes(ptr: usize, n: i32): void {
  if (n > CAP - length) n = CAP - length;
  memory.copy(buffer + <usize>length, ptr, <usize>n);
  length += n;
}

/** Appends part `index` (from 0) of `table`, whose parts are separated by the char `separator`. */
function appendPart(table: string, index: i32, separator: u16): void {
  // The UTF-16 units are read in place: no bounds checks, no copies.
  let at = changetype<usize>(table);
  const end = at + (<usize>table.length << 1);
  for (; index > 0 && at < end; at += 2) if (load<u16>(at) == separator) index--;
  let stop = at;
  while (stop < end && load<u16>(stop) != separator) stop += 2;
  appendUtf16(at, <i32>(stop - at) >> 1);
}

/**
 * Appends line `index` (from 0) of `table`, a string of lines separated by "\n". Kept for plugins
 * built against it; new code writes each message as a string literal where it is logged (lineText),
 * which reads far better and, under the 16 KB budget, costs little.
 */
export function lineEntry(table: string, index: i32): void {
  appendPart(table, index, 0x0a);
}

/** Appends word `index` (from 0) of the space-separated `words` (a key of a PointSettings or Counters list). */
export function lineWord(words: string, index: i32): void {
  appendPart(words, index, 0x20);
}

/** Appends `n` in decimal. */
export function lineNumber(n: i32): void {
  if (n < 0) lineByte(0x2d);
  appendDigits(<u32>(n < 0 ? -n : n)); // as u32, -i32.MIN_VALUE is right too
}

function appendDigits(m: u32): void {
  if (m >= 10) appendDigits(m / 10);
  lineByte(<u8>(0x30 + m % 10));
}

function lineByte(b: u8): void {
  if (length < CAP) {
    store<u8>(buffer + <usize>length, b);
    length++;
  }
}

/** Writes the line to the gateway log at `level` (see log.ts for the levels). */
export function lineLog(level: i32): void {
  host_log(level, buffer, length);
}

/** Where the line assembled so far starts, for a plugin that hands it out as output instead of logging it. */
export function lineAt(): usize {
  return buffer;
}

/** How many bytes the line assembled so far holds. */
export function lineLength(): i32 {
  return length;
}
