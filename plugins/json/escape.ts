// The inside of JSON strings for text samples, as UTF-8. Every output must be valid JSON in valid UTF-8
// whatever the input: `"` and `\` are escaped, control characters get \n \r \t \b \f or \u00XX (DEL
// needs nothing), and UTF-8 is checked the way the WHATWG decoder (TextDecoder) reads it: each maximal
// invalid subsequence becomes one U+FFFD. A byte expands to at most 6 (a control byte as \u00XX);
// callers reserve that much. (Names from the settings need none of this: see fragments.ts.)

// The short escapes of \b \t \n (vertical tab has none) \f \r, from 0x08.
const SHORT = memory.data<u8>([0x62, 0x74, 0x6e, 0, 0x66, 0x72]);

/** Writes an ASCII character (< 0x80), escaped where JSON requires it. */
@inline function putAscii(at: usize, c: u32): usize {
  if (c >= 0x20 && c != 0x22 && c != 0x5c) {
    store<u8>(at, <u8>c);
    return at + 1;
  }
  // \" \\ and the short escapes, else \u00XX.
  const short = c >= 0x20 ? c : c - 8 < 6 ? <u32>load<u8>(SHORT + c - 8) : 0;
  if (short != 0) {
    store<u16>(at, <u16>(0x5c | (short << 8)));
    return at + 2;
  }
  store<u32>(at, 0x3030755c); // \u00
  const low = c & 15;
  store<u16>(at, <u16>(0x30 + (c >> 4) | (low < 10 ? 0x30 + low : 0x57 + low) << 8), 4);
  return at + 6;
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
    }
    // Continuation bytes needed (none for a byte that cannot lead), and the range the first must fall
    // in: this rules out overlong forms, surrogates and code points above U+10FFFF, as the WHATWG
    // decoder does.
    let need = b - 0xc2 < 0x33 ? 1 + <u32>(b >= 0xe0) + <u32>(b >= 0xf0) : 0;
    let low: u32 = b == 0xe0 ? 0xa0 : b == 0xf0 ? 0x90 : 0x80;
    let high: u32 = b == 0xed ? 0x9f : b == 0xf4 ? 0x8f : 0xbf;
    for (; need > 0 && src < end; need--) {
      if (<u32>load<u8>(src) - low > high - low) break;
      low = 0x80;
      high = 0xbf;
      src++;
    }
    if (need > 0 || src - lead == 1) {
      store<u32>(at, 0xbdbfef); // one U+FFFD (EF BF BD) for the maximal invalid subsequence
      at += 3;
      continue;
    }
    memory.copy(at, lead, src - lead);
    at += src - lead;
  }
  return at;
}
