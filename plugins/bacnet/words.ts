// Names looked up by number in a static UTF-8 list of space-separated words (utf8("a b c")): half
// the bytes of a string list, which AssemblyScript stores as UTF-16.
import { lineBytes } from "../sdk/log-line";
import { Utf8 } from "../sdk/utf8";

/** Appends word `index` (from 0) of `list`, whose words `separator` separates; nothing when the list is shorter. */
export function lineListed(list: Utf8, index: i32, separator: u8 = 0x20): void {
  let p = list.bytes;
  const end = p + <usize>list.length;
  for (; index > 0 && p < end; p++) if (load<u8>(p) == separator) index--;
  let stop = p;
  while (stop < end && load<u8>(stop) != separator) stop++;
  lineBytes(p, <i32>(stop - p));
}
