// The inside of JSON strings for text samples, as UTF-8. Every output must be valid JSON in valid UTF-8
// whatever the input: `"` and `\` are escaped, control characters get \n \r \t \b \f or \u00XX (DEL
// needs nothing), and UTF-8 is checked the way the WHATWG decoder (TextDecoder) reads it: each maximal
// invalid subsequence becomes one U+FFFD. A byte expands to at most 6 (a control byte as \u00XX);
// callers reserve that much. (Names from the settings need none of this: see fragments.ts.)

/** Writes the escape of `c`: a quote, a backslash or a control character. */
function putEscape(at: usize, c: u32): usize {
  store<u8>(at, 0x5c); // '\'
  let short: u32 = c == 0x22 || c == 0x5c ? c : 0;
  if (c == 0x08) short = 0x62;
  else if (c == 0x09) short = 0x74;
  else if (c == 0x0a) short = 0x6e;
  else if (c == 0x0c) short = 0x66;
  else if (c == 0x0d) short = 0x72;
  if (short != 0) {
    store<u8>(at, short, 1);
    return at + 2;
  }
  store<u32>(at, 0x3030755c); // \u00
  const low = c & 15;
  store<u8>(at, <u8>(0x30 + (c >> 4)), 4);
  store<u8>(at, <u8>(low < 10 ? 0x30 + low : 0x57 + low), 5);
  return at + 6;
}

/** Writes an ASCII character (< 0x80), escaped where JSON requires it. */
@inline export function putAscii(at: usize, c: u32): usize {
  if (c >= 0x20 && c != 0x22 && c != 0x5c) {
    store<u8>(at, <u8>c);
    return at + 1;
  }
  return putEscape(at, c);
}

/** Writes `len` bytes of UTF-8 text from `src`; invalid sequences become U+FFFD. Reserve 6 per byte. */
export function putText(at: usize, src: usize, len: usize): usize {
  const end = src + len;
  while (src < end) {
    const lead = src;
    const b = <u32>load<u8>(src++);
    if (b < 0x80) {
      at = putAscii(at, b);
      continue;
    } else {
      // Continuation bytes needed, and the range the first must fall in: this rules out overlong
      // forms, surrogates and code points above U+10FFFF, as the WHATWG decoder does.
      let need = 0;
      let low: u32 = 0x80;
      let high: u32 = 0xbf;
      if (b - 0xc2 < 30) need = 1;
      else if (b - 0xe0 < 16) {
        need = 2;
        if (b == 0xe0) low = 0xa0;
        if (b == 0xed) high = 0x9f;
      } else if (b - 0xf0 < 5) {
        need = 3;
        if (b == 0xf0) low = 0x90;
        if (b == 0xf4) high = 0x8f;
      }
      for (; need > 0 && src < end; need--) {
        const c = <u32>load<u8>(src);
        if (c < low || c > high) break;
        low = 0x80;
        high = 0xbf;
        src++;
      }
      if (need > 0 || src - lead == 1) {
        store<u16>(at, 0xbfef); // U+FFFD for the maximal invalid subsequence: EF BF BD
        store<u8>(at, 0xbd, 2);
        at += 3;
        continue;
      }
    }
    for (let p = lead; p < src; p++) store<u8>(at++, load<u8>(p));
  }
  return at;
}
