// The text of a JSON string (RFC 8259, section 7) as UTF-8, escapes decoded, for a plugin that hands a
// text from its settings on (a unit label) without building a string: JsonCursor gives strings as
// written, escapes and all. JSON.stringify, which writes the settings document, escapes only `"`, `\`,
// control characters and lone surrogates; everything else arrives as raw UTF-8 and is copied as is.

import { JsonCursor } from "./json-cursor";

function hex4(p: usize, end: usize): i32 {
  if (p + 4 > end) return -1;
  let code = 0;
  for (let i: usize = 0; i < 4; i++) {
    const c = <i32>load<u8>(p + i) | 0x20; // lower case; digits keep their values
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (d < 0) return -1;
    code = (code << 4) | d;
  }
  return code;
}

/** Writes code point `c` as UTF-8 at `out`; returns the bytes written. */
function putCode(out: usize, c: i32): usize {
  if (c < 0x80) {
    store<u8>(out, <u8>c);
    return 1;
  }
  if (c < 0x800) {
    store<u8>(out, <u8>(0xc0 | (c >> 6)));
    store<u8>(out, <u8>(0x80 | (c & 0x3f)), 1);
    return 2;
  }
  if (c < 0x10000) {
    store<u8>(out, <u8>(0xe0 | (c >> 12)));
    store<u8>(out, <u8>(0x80 | ((c >> 6) & 0x3f)), 1);
    store<u8>(out, <u8>(0x80 | (c & 0x3f)), 2);
    return 3;
  }
  store<u8>(out, <u8>(0xf0 | (c >> 18)));
  store<u8>(out, <u8>(0x80 | ((c >> 12) & 0x3f)), 1);
  store<u8>(out, <u8>(0x80 | ((c >> 6) & 0x3f)), 2);
  store<u8>(out, <u8>(0x80 | (c & 0x3f)), 3);
  return 4;
}

/**
 * Writes the text of the JSON string at `p` to `out` as UTF-8 and returns its length in bytes: never
 * more than `json.textLength(p)`, the bytes it is written with (an escape of n bytes stands for at
 * most n - 2 bytes of UTF-8, a surrogate pair's 12 for 4). A lone surrogate becomes U+FFFD, as
 * TextDecoder reads one; an escape that is not JSON's ends the text where it starts. 0 when `p` is
 * not a string.
 */
export function jsonTextUtf8(json: JsonCursor, p: usize, out: usize): i32 {
  const n = json.textLength(p);
  const end = p + 1 + <usize>n;
  let q = p + 1;
  let o = out;
  while (q < end) {
    const c = load<u8>(q);
    if (c != 0x5c) {
      store<u8>(o++, c);
      q++;
      continue;
    }
    if (q + 1 >= end) break;
    const e = load<u8>(q + 1);
    q += 2;
    let code: i32 = e; // \" \\ \/
    if (e == 0x62) code = 0x08;
    else if (e == 0x66) code = 0x0c;
    else if (e == 0x6e) code = 0x0a;
    else if (e == 0x72) code = 0x0d;
    else if (e == 0x74) code = 0x09;
    else if (e == 0x75) {
      code = hex4(q, end);
      if (code < 0) break;
      q += 4;
      if (code >= 0xd800 && code < 0xdc00) {
        const low = q + 1 < end && load<u8>(q) == 0x5c && load<u8>(q + 1) == 0x75 ? hex4(q + 2, end) : -1;
        if (low >= 0xdc00 && low < 0xe000) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          q += 6;
        } else code = 0xfffd;
      } else if (code >= 0xdc00 && code < 0xe000) code = 0xfffd;
    } else if (e != 0x22 && e != 0x5c && e != 0x2f) break;
    o += putCode(o, code);
  }
  return <i32>(o - out);
}
