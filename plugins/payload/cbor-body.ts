// CBOR bodies (RFC 8949), read in place: the same shapes as JSON bodies (json-body.ts), a map where
// JSON has an object. A value is an unsigned or negative integer (major types 0 and 1), a float of 16,
// 32 or 64 bits, false, true, null or undefined (null and undefined: NaN, quality bad), or a bignum
// (tags 2 and 3, rounded to a double as it is read, most significant byte first); another tag is read
// as the value it encloses, and a time may be tag 1 (seconds since the epoch) or a number (ms). Text
// and byte strings and arrays are not readings (counted as unusable). Map keys are matched when they
// are definite-length text strings; any other key is skipped like an unknown name. Indefinite-length
// items (RFC 8949 3.2) are taken wherever a definite one is. The whole body must be one well-formed
// item with nothing after it, nested at most MAX_DEPTH deep.
import {
  MAX_DEPTH, WHY_NONE, WHY_SYNTAX, WHY_TRAILING, WHY_TOO_DEEP, WHY_BARE_VALUE, WHY_NO_VALUE, WHY_BAD_TS, WHY_BAD_QUALITY,
  bodyDevice, bodyPoint, bodyTs, numberReading, flag, notUsable, notAPoint, qualityOfNumber, QUALITIES, WHY_SHAPE,
} from "./readings";
import { pointNamed } from "./point-names";

let pos: usize = 0;
let end: usize = 0;
let tooDeep = false;
// The item head just read (RFC 8949 3): major type, additional information, argument.
let major: u8 = 0;
let info: u8 = 0;
let arg: u64 = 0;
const INDEFINITE: u8 = 31;
const BREAK: u8 = 0xff;

/** Reads the head at `pos`; false when the bytes cannot start an item (or a break, which only ends an indefinite item). */
function head(): bool {
  if (pos >= end) return false;
  const b = load<u8>(pos++);
  major = b >> 5;
  info = b & 31;
  if (info < 24) {
    arg = info;
    return true;
  }
  if (info == INDEFINITE) return major >= 2 && major <= 5;
  if (info > 27) return false;
  const n: usize = <usize>1 << (info - 24);
  if (pos + n > end) return false;
  if (n == 1) arg = load<u8>(pos);
  else if (n == 2) arg = bswap<u16>(load<u16>(pos));
  else if (n == 4) arg = bswap<u32>(load<u32>(pos));
  else arg = bswap<u64>(load<u64>(pos));
  pos += n;
  return true;
}

@inline function atBreak(): bool {
  return pos < end && load<u8>(pos) == BREAK;
}

/** Skips the string body of a head just read (definite: `arg` bytes; indefinite: chunks of its own type until a break). */
function skipString(): bool {
  if (info != INDEFINITE) {
    if (arg > <u64>(end - pos)) return false;
    pos += <usize>arg;
    return true;
  }
  const type = major;
  while (!atBreak()) {
    if (!head() || major != type || info == INDEFINITE || arg > <u64>(end - pos)) return false;
    pos += <usize>arg;
  }
  pos++;
  return true;
}

/** Skips one item at `pos`; false when it is malformed (or nests deeper than MAX_DEPTH). */
function skip(depth: i32): bool {
  if (!head()) return false;
  if (major == 2 || major == 3) return skipString();
  if (major == 4 || major == 5) {
    if (depth >= MAX_DEPTH) {
      tooDeep = true;
      return false;
    }
    const each: i32 = major == 5 ? 2 : 1;
    if (info == INDEFINITE) {
      while (!atBreak()) for (let i = 0; i < each; i++) if (!skip(depth + 1)) return false;
      pos++;
      return true;
    }
    // Every item takes at least a byte: a count past the bytes left is malformed, whatever its size.
    if (arg > <u64>(end - pos)) return false;
    const items = arg * <u64>each; // arg is the last head's: the items below overwrite it
    for (let k: u64 = 0; k < items; k++) if (!skip(depth + 1)) return false;
    return true;
  }
  if (major == 6) {
    if (depth >= MAX_DEPTH) {
      tooDeep = true;
      return false;
    }
    return skip(depth + 1);
  }
  // Major 7: simple values and floats carry nothing after their head; a two-byte simple value below
  // 32 is not well-formed (RFC 8949 3.3).
  return major != 7 || !(info == 24 && arg < 32);
}

/** 2^k as a double, for -1074 < k < 1024 in the uses below (built from its bits, so exact). */
@inline function pow2(k: i32): f64 {
  return reinterpret<f64>(<u64>(1023 + k) << 52);
}

/** The IEEE 754 binary16 value of `half` (RFC 8949 Appendix D). */
function halfFloat(half: u32): f64 {
  const exp = (half >> 10) & 0x1f;
  const mant = half & 0x3ff;
  let v: f64;
  if (exp == 0) v = <f64>mant * pow2(-24);
  else if (exp != 31) v = <f64>(mant + 1024) * pow2(<i32>exp - 25);
  else v = mant == 0 ? Infinity : NaN;
  return half & 0x8000 ? -v : v;
}

// What readNumber found: a number (NaN for null, undefined), a bool, or something else.
const N_NUMBER = 0;
const N_BOOL = 1;
const N_OTHER = 2;
const N_MALFORMED = 3;
let numberValue: f64 = 0;

/** Reads one item as a value; N_OTHER (the item skipped) when it is not one, N_MALFORMED when it is not well-formed. */
function readNumber(depth: i32): i32 {
  const start = pos;
  if (!head()) return N_MALFORMED;
  if (major == 0) {
    numberValue = <f64>arg;
    return N_NUMBER;
  }
  if (major == 1) {
    // -1 - arg: arg + 1 can be 2^64, so add in doubles.
    numberValue = -1.0 - <f64>arg;
    return N_NUMBER;
  }
  if (major == 6) {
    if ((arg == 2 || arg == 3) && pos < end && (load<u8>(pos) >> 5) == 2) {
      const negative = arg == 3;
      if (!head() || info == INDEFINITE || arg > <u64>(end - pos)) return N_MALFORMED;
      let v: f64 = 0;
      for (let i: u64 = 0; i < arg; i++) v = v * 256 + <f64>load<u8>(pos++);
      numberValue = negative ? -1.0 - v : v;
      return N_NUMBER;
    }
    if (depth >= MAX_DEPTH) {
      tooDeep = true;
      return N_MALFORMED;
    }
    return readNumber(depth + 1);
  }
  if (major == 7) {
    if (info == 20 || info == 21) {
      numberValue = info == 21 ? 1 : 0;
      return N_BOOL;
    }
    if (info == 22 || info == 23) {
      numberValue = NaN;
      return N_NUMBER;
    }
    if (info == 25) numberValue = halfFloat(<u32>arg);
    else if (info == 26) numberValue = <f64>reinterpret<f32>(<u32>arg);
    else if (info == 27) numberValue = reinterpret<f64>(arg);
    else return info == 24 && arg < 32 ? N_MALFORMED : N_OTHER;
    return N_NUMBER;
  }
  pos = start;
  return skip(depth) ? N_OTHER : N_MALFORMED;
}

/** Whether the definite text key just read (its `arg` bytes at `pos`) is `word`. */
function keyIs(word: string): bool {
  if (major != 3 || info == INDEFINITE || arg != <u64>word.length) return false;
  for (let i = 0; i < word.length; i++) if (<i32>load<u8>(pos + <usize>i) != word.charCodeAt(i)) return false;
  return true;
}

/** Index of the definite text string just read among the quality words (readings.ts, QUALITY_WORDS), or -1. */
function qualityWord(): i32 {
  if (keyIs("good")) return 0;
  if (keyIs("suspect")) return 1;
  if (keyIs("bad")) return 2;
  return keyIs("no-comm") ? 3 : -1;
}

/** Reads a reading of point `id` at `pos`: a value, or a map {value, ts, quality}. */
function reading(id: i32, depth: i32): i32 {
  if (pos < end && (load<u8>(pos) >> 5) == 5) return readingMap(id, depth);
  const kind = readNumber(depth);
  return emit(id, kind, bodyTs, -1);
}

function emit(id: i32, kind: i32, ts: f64, quality: i32): i32 {
  if (kind == N_MALFORMED) return tooDeep ? WHY_TOO_DEEP : WHY_SYNTAX;
  if (kind == N_NUMBER) numberReading(id, numberValue, ts, quality);
  else if (kind == N_BOOL) flag(id, numberValue != 0, ts, quality);
  else notUsable();
  return WHY_NONE;
}

/** Reads the map {value, ts, quality} at `pos` as a reading of point `id`. */
function readingMap(id: i32, depth: i32): i32 {
  if (depth >= MAX_DEPTH) return WHY_TOO_DEEP;
  head();
  const indefinite = info == INDEFINITE;
  const count = arg;
  let valueAt: usize = 0;
  let tsAt: usize = 0;
  let qualityAt: usize = 0;
  for (let k: u64 = 0; indefinite ? !atBreak() : k < count; k++) {
    const keyStart = pos;
    if (!head()) return WHY_SYNTAX;
    let which = 0;
    if (keyIs("value")) which = 1;
    else if (keyIs("ts")) which = 2;
    else if (keyIs("quality")) which = 3;
    pos = keyStart;
    if (!skip(depth + 1)) return tooDeep ? WHY_TOO_DEEP : WHY_SYNTAX;
    if (which == 1) valueAt = pos;
    else if (which == 2) tsAt = pos;
    else if (which == 3) qualityAt = pos;
    if (!skip(depth + 1)) return tooDeep ? WHY_TOO_DEEP : WHY_SYNTAX;
  }
  if (indefinite) pos++;
  const after = pos;
  if (valueAt == 0) return WHY_NO_VALUE;
  let ts = bodyTs;
  if (tsAt != 0) {
    pos = tsAt;
    const epochSeconds = pos < end && load<u8>(pos) == 0xc1;
    if (epochSeconds) pos++;
    if (readNumber(depth + 1) != N_NUMBER || !isFinite(numberValue)) return WHY_BAD_TS;
    ts = epochSeconds ? numberValue * 1000 : numberValue;
  }
  let quality = -1;
  if (qualityAt != 0) {
    pos = qualityAt;
    if (pos < end && (load<u8>(pos) >> 5) == 3) {
      head();
      const word = qualityWord();
      quality = word >= 0 ? <i32>QUALITIES[word] : -2;
    } else {
      quality = readNumber(depth + 1) == N_NUMBER ? qualityOfNumber(numberValue) : -2;
    }
    if (quality == -2) return WHY_BAD_QUALITY;
  }
  pos = valueAt;
  const why = emit(id, readNumber(depth + 1), ts, quality);
  pos = after;
  return why;
}

/** Reads the CBOR body of `n` bytes at `body`; WHY_NONE when it was read (its samples written), else why not. */
export function readCbor(body: usize, n: i32): i32 {
  end = body + <usize>n;
  tooDeep = false;
  // Well-formed as a whole first, so that nothing of a body that turns out malformed is read as data.
  pos = body;
  if (!skip(0)) return tooDeep ? WHY_TOO_DEEP : WHY_SYNTAX;
  if (pos != end) return WHY_TRAILING;
  pos = body;
  const root = load<u8>(body) >> 5;
  if (root == 2 || root == 3 || root == 4) return WHY_SHAPE;
  if (bodyPoint >= 0) return reading(bodyPoint, 0);
  if (root != 5) return WHY_BARE_VALUE;
  head();
  const indefinite = info == INDEFINITE;
  const count = arg;
  for (let k: u64 = 0; indefinite ? !atBreak() : k < count; k++) {
    const keyStart = pos;
    head();
    const named = major == 3 && info != INDEFINITE;
    const id = named ? pointNamed(bodyDevice, pos, <i32>arg) : -1;
    pos = keyStart;
    skip(1);
    if (id < 0) {
      notAPoint();
      if (!skip(1)) return WHY_SYNTAX;
      continue;
    }
    const why = reading(id, 1);
    if (why != WHY_NONE) return why;
  }
  return WHY_NONE;
}
