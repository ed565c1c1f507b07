// Reading JSON in place, without building a tree or allocating, where json.ts would build a tree
// (about 2.7 KB of module with the string decoding it needs) to read a few settings once. A value is addressed by the position
// of its first byte in the text; position 0 means "absent". Malformed text yields absent values, never
// a trap or an endless loop. Strings are compared and handed out as the raw UTF-8 between the quotes
// (escapes are not decoded), which suits keys, enumerated words, and names for log lines.
import { readDecimal, decimalEnd } from "./decimal";

export class JsonCursor {
  constructor(public start: usize, public end: usize) {}

  /** The document's top-level value. */
  get root(): usize {
    return this.blank(this.start);
  }

  /** The first position at or after `p` that is not white space. */
  blank(p: usize): usize {
    while (p < this.end) {
      const c = load<u8>(p);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return p;
      p++;
    }
    return this.end;
  }

  /** Position just after the string whose opening quote is at `p`. */
  private stringEnd(p: usize): usize {
    p++;
    while (p < this.end) {
      const c = load<u8>(p++);
      if (c == 0x5c) p++;
      else if (c == 0x22) return p;
    }
    return this.end;
  }

  /** Position just after the value at `p`. */
  skip(p: usize): usize {
    p = this.blank(p);
    let depth = 0;
    while (p < this.end) {
      const c = load<u8>(p);
      if (c == 0x22) {
        p = this.stringEnd(p);
      } else {
        // At depth 0 a number or literal ends at a delimiter.
        if (depth == 0 && (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x3a || c <= 0x20)) return p;
        p++;
        if (c == 0x7b || c == 0x5b) depth++;
        else if (c == 0x7d || c == 0x5d) depth--;
        else continue;
      }
      if (depth <= 0) return p;
    }
    return this.end;
  }

  /** The first element of the array, or the first key of the object, at `p`; 0 when empty or neither. */
  first(p: usize): usize {
    if (p == 0 || p >= this.end) return 0;
    const c = load<u8>(p);
    if (c != 0x7b && c != 0x5b) return 0;
    p = this.blank(p + 1);
    return p < this.end && load<u8>(p) != 0x7d && load<u8>(p) != 0x5d ? p : 0;
  }

  /** The element (or key) after the element (or key) at `p`; 0 after the last. */
  next(p: usize): usize {
    p = this.blank(this.skip(p));
    if (p < this.end && load<u8>(p) == 0x3a) p = this.blank(this.skip(p + 1)); // p was a key
    return p < this.end && load<u8>(p) == 0x2c ? this.blank(p + 1) : 0;
  }

  /** Elements of the array (or members of the object) at `p`. */
  count(p: usize): i32 {
    let n = 0;
    for (let e = this.first(p); e != 0; e = this.next(e)) n++;
    return n;
  }

  /**
   * One pass over the object at `p`: for each of the space-separated ASCII `keys`, the position of
   * its value is stored as a u32 at `out + 4 * index` (0 when the member is absent). One string of
   * keys, rather than a literal per key, keeps the module small.
   */
  members(p: usize, keys: string, out: usize): void {
    let n = 1;
    for (let i = 0; i < keys.length; i++) if (load<u16>(changetype<usize>(keys) + (<usize>i << 1)) == 0x20) n++;
    memory.fill(out, 0, <usize>n * 4);
    if (p == 0 || load<u8>(p) != 0x7b) return;
    for (let k = this.first(p); k != 0; k = this.next(k)) {
      const index = this.oneOf(k, keys);
      const colon = this.blank(this.skip(k));
      if (index >= 0 && colon < this.end && load<u8>(colon) == 0x3a) store<u32>(out + <usize>index * 4, this.blank(colon + 1));
    }
  }

  /** Index of the string at `p` among the space-separated ASCII `words`; -1 when absent or not listed. */
  oneOf(p: usize, words: string): i32 {
    const string = p != 0 && load<u8>(p) == 0x22;
    let index = 0;
    let q = p + 1;
    let same = true;
    const n = words.length;
    for (let i = 0; i <= n; i++) {
      const w = i < n ? <i32>load<u16>(changetype<usize>(words) + (<usize>i << 1)) : 0x20;
      if (w == 0x20) {
        if (string && same && q < this.end && load<u8>(q) == 0x22) return index;
        index++;
        same = true;
        q = p + 1;
      } else {
        if (!(q < this.end && <i32>load<u8>(q) == w)) same = false;
        q++;
      }
    }
    return -1;
  }

  /** Bytes between the quotes of the string at `p` (escapes as written); 0 when not a string. */
  textLength(p: usize): i32 {
    if (p == 0 || load<u8>(p) != 0x22) return 0;
    return <i32>(this.stringEnd(p) - p) - 2;
  }

  /**
   * The number at `p`, exactly the double JavaScript's Number() reads (decimal.ts); NaN when absent
   * or not a JSON number ("0x10", "1.5.5": the value must end where the number does).
   */
  number(p: usize): f64 {
    if (p == 0) return NaN;
    const x = readDecimal(p, this.end);
    return decimalEnd == this.skip(p) ? x : NaN;
  }

  /**
   * The whole number at `p` written in decimal digits only, as JSON.stringify writes every integer
   * below 10^21 (so the value Number() reads); NaN for anything else (a sign, a fraction, an
   * exponent, absent) or more than 15 digits. For settings that are whole numbers, it spares a
   * plugin number()'s exact decimal reader (about 1.4 KB of module).
   */
  whole(p: usize): f64 {
    if (p == 0) return NaN;
    let v: f64 = 0;
    let q = p;
    for (; q < this.end; q++) {
      const digit = <u32>load<u8>(q) - 0x30;
      if (digit > 9) break;
      v = v * 10 + <f64>digit;
    }
    return q > p && q - p <= 15 && q == this.skip(p) ? v : NaN;
  }
}
