// A small JSON reader for the settings document (docs/plugin-abi.md, wg_configure). Runs once per
// instance, so it favours size over speed. Malformed input yields null, never a trap.
import { readDecimal, decimalEnd } from "./decimal";

export const J_NULL: u8 = 0;
export const J_BOOL: u8 = 1;
export const J_NUMBER: u8 = 2;
export const J_STRING: u8 = 3;
export const J_ARRAY: u8 = 4;
export const J_OBJECT: u8 = 5;

export class Json {
  kind: u8 = J_NULL;
  num: f64 = 0;
  str: string = "";
  /** Array elements, or object values (in document order). */
  items: Array<Json> = [];
  /** Object keys, parallel to `items`. */
  keys: Array<string> = [];

  get length(): i32 { return this.items.length; }
  at(i: i32): Json { return this.items[i]; }
  key(i: i32): string { return this.keys[i]; }

  get(name: string): Json | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == name) return this.items[i];
    return null;
  }
  has(name: string): bool { return this.get(name) !== null; }

  number(name: string, fallback: f64): f64 {
    const v = this.get(name);
    return v !== null && v.kind == J_NUMBER ? v.num : fallback;
  }
  string(name: string, fallback: string): string {
    const v = this.get(name);
    return v !== null && v.kind == J_STRING ? v.str : fallback;
  }
  bool(name: string, fallback: bool): bool {
    const v = this.get(name);
    return v !== null && v.kind == J_BOOL ? v.num != 0 : fallback;
  }
  /** The member `name` if it is an object or array, else an empty value of that kind. */
  child(name: string): Json {
    const v = this.get(name);
    return v !== null ? v : new Json();
  }
}

class Parser {
  pos: usize;
  constructor(public start: usize, public end: usize) { this.pos = start; }

  peek(): i32 { return this.pos < this.end ? <i32>load<u8>(this.pos) : -1; }

  skip(): void {
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return;
      this.pos++;
    }
  }

  literal(word: string): bool {
    const n = word.length;
    if (this.pos + <usize>n > this.end) return false;
    for (let i = 0; i < n; i++) if (<i32>load<u8>(this.pos + <usize>i) != word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  value(): Json | null {
    this.skip();
    const c = this.peek();
    const v = new Json();
    if (c == 0x7b) return this.object(v);
    if (c == 0x5b) return this.array(v);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      v.kind = J_STRING;
      v.str = s;
      return v;
    }
    if (c == 0x74 && this.literal("true")) { v.kind = J_BOOL; v.num = 1; return v; }
    if (c == 0x66 && this.literal("false")) { v.kind = J_BOOL; return v; }
    if (c == 0x6e && this.literal("null")) return v;
    return this.number(v);
  }

  // Numbers exactly as JavaScript's Number() reads them (decimal.ts).
  number(v: Json): Json | null {
    const x = readDecimal(this.pos, this.end);
    if (isNaN(x)) return null;
    this.pos = decimalEnd;
    v.kind = J_NUMBER;
    v.num = x;
    return v;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.end) return -1;
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.pos++);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      if (d < 0) return -1;
      code = (code << 4) | d;
    }
    return code;
  }

  string(): string | null {
    this.pos++; // opening quote
    let out = "";
    let run = this.pos;
    while (this.pos < this.end) {
      const c = load<u8>(this.pos);
      if (c == 0x22) {
        out += String.UTF8.decodeUnsafe(run, this.pos - run);
        this.pos++;
        return out;
      }
      if (c != 0x5c) { this.pos++; continue; }
      out += String.UTF8.decodeUnsafe(run, this.pos - run);
      this.pos++;
      if (this.pos >= this.end) return null;
      const e = load<u8>(this.pos++);
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) {
        const code = this.hex4();
        if (code < 0) return null;
        out += String.fromCharCode(code);
      } else out += String.fromCharCode(e); // \" \\ \/
      run = this.pos;
    }
    return null;
  }

  array(v: Json): Json | null {
    v.kind = J_ARRAY;
    this.pos++;
    this.skip();
    if (this.peek() == 0x5d) { this.pos++; return v; }
    while (true) {
      const item = this.value();
      if (item === null) return null;
      v.items.push(item);
      this.skip();
      const c = this.peek();
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) return null;
    }
  }

  object(v: Json): Json | null {
    v.kind = J_OBJECT;
    this.pos++;
    this.skip();
    if (this.peek() == 0x7d) { this.pos++; return v; }
    while (true) {
      this.skip();
      if (this.peek() != 0x22) return null;
      const k = this.string();
      if (k === null) return null;
      this.skip();
      if (this.peek() != 0x3a) return null;
      this.pos++;
      const item = this.value();
      if (item === null) return null;
      v.keys.push(k);
      v.items.push(item);
      this.skip();
      const c = this.peek();
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) return null;
    }
  }
}

/** Parses the UTF-8 JSON at `ptr`; null when it is not one well-formed value. */
export function parseJson(ptr: usize, len: i32): Json | null {
  const p = new Parser(ptr, ptr + <usize>len);
  const v = p.value();
  p.skip();
  return v !== null && p.pos == p.end ? v : null;
}
