// JSON bodies (RFC 8259): checked strictly first (JsonCursor, which then walks the body, reads
// malformed text as absent values rather than refusing it), then read as
//   21.5 | true | null                         a reading of the point the resource names
//   {"value": 21.5, "ts": 1700000000000, "quality": "good"}   the same with its time and quality
//   {"temp": 21.5, "hum": {"value": 40, "quality": "suspect"}}  readings of the device's points by name
// Numbers are read as JavaScript's Number() reads them (sdk/decimal.ts).
import { JsonCursor } from "../sdk/json-cursor";
import {
  MAX_DEPTH, WHY_NONE, WHY_SYNTAX, WHY_TRAILING, WHY_TOO_DEEP, WHY_BARE_VALUE, WHY_NO_VALUE, WHY_BAD_TS, WHY_BAD_QUALITY, WHY_SHAPE,
  bodyDevice, bodyPoint, bodyTs, numberReading, flag, notUsable, notAPoint, qualityOfNumber, QUALITY_WORDS, QUALITIES,
} from "./readings";
import { pointNamed } from "./point-names";

let end: usize = 0;
let tooDeep = false;

@inline function blank(p: usize): usize {
  while (p < end) {
    const c = load<u8>(p);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    p++;
  }
  return p;
}

@inline function digit(p: usize): bool {
  return p < end && load<u8>(p) >= 0x30 && load<u8>(p) <= 0x39;
}

function digits(p: usize): usize {
  if (!digit(p)) return 0;
  while (digit(p)) p++;
  return p;
}

function literal(p: usize, word: string): usize {
  const n = <usize>word.length;
  if (p + n > end) return 0;
  for (let i: usize = 0; i < n; i++) if (<i32>load<u8>(p + i) != word.charCodeAt(<i32>i)) return 0;
  return p + n;
}

@inline function hex(c: u8): bool {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

function stringEnd(p: usize): usize {
  p++;
  while (p < end) {
    const c = load<u8>(p++);
    if (c == 0x22) return p;
    if (c < 0x20) return 0;
    if (c != 0x5c) continue;
    if (p >= end) return 0;
    const e = load<u8>(p++);
    if (e == 0x75) {
      for (let i = 0; i < 4; i++, p++) if (p >= end || !hex(load<u8>(p))) return 0;
    } else if (e != 0x22 && e != 0x5c && e != 0x2f && e != 0x62 && e != 0x66 && e != 0x6e && e != 0x72 && e != 0x74) {
      return 0;
    }
  }
  return 0;
}

/** Position after the well-formed value at `p` (white space before it skipped); 0 when it is not one. */
function valueEnd(p: usize, depth: i32): usize {
  p = blank(p);
  if (p >= end) return 0;
  const c = load<u8>(p);
  if (c == 0x7b || c == 0x5b) {
    if (depth >= MAX_DEPTH) {
      tooDeep = true;
      return 0;
    }
    const close: u8 = c == 0x7b ? 0x7d : 0x5d;
    p = blank(p + 1);
    if (p < end && load<u8>(p) == close) return p + 1;
    while (true) {
      if (c == 0x7b) {
        if (p >= end || load<u8>(p) != 0x22) return 0;
        p = stringEnd(p);
        if (p == 0) return 0;
        p = blank(p);
        if (p >= end || load<u8>(p) != 0x3a) return 0;
        p++;
      }
      p = valueEnd(p, depth + 1);
      if (p == 0) return 0;
      p = blank(p);
      if (p >= end) return 0;
      const d = load<u8>(p++);
      if (d == close) return p;
      if (d != 0x2c) return 0;
      p = blank(p);
    }
  }
  if (c == 0x22) return stringEnd(p);
  if (c == 0x74) return literal(p, "true");
  if (c == 0x66) return literal(p, "false");
  if (c == 0x6e) return literal(p, "null");
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  if (c == 0x2d) p++;
  if (p < end && load<u8>(p) == 0x30) p++;
  else if ((p = digits(p)) == 0) return 0;
  if (p < end && load<u8>(p) == 0x2e && (p = digits(p + 1)) == 0) return 0;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    if (p < end && (load<u8>(p) == 0x2b || load<u8>(p) == 0x2d)) p++;
    if ((p = digits(p)) == 0) return 0;
  }
  return p;
}

const found = memory.data(3 * 4);

/** A value that is a reading of point `id`: a number, a bool, null, or an object {value, ts, quality}. */
function reading(json: JsonCursor, id: i32, p: usize): i32 {
  const c = load<u8>(p);
  if (c != 0x7b) return scalar(json, id, p, bodyTs, -1);
  json.members(p, "value ts quality", found);
  const value = <usize>load<u32>(found);
  const tsAt = <usize>load<u32>(found, 4);
  const qualityAt = <usize>load<u32>(found, 8);
  if (value == 0) return WHY_NO_VALUE;
  let ts = bodyTs;
  if (tsAt != 0) {
    ts = json.number(tsAt);
    if (!isFinite(ts)) return WHY_BAD_TS;
  }
  let quality = -1;
  if (qualityAt != 0) {
    const word = json.oneOf(qualityAt, QUALITY_WORDS);
    quality = word >= 0 ? <i32>QUALITIES[word] : load<u8>(qualityAt) == 0x22 ? -2 : qualityOfNumber(json.number(qualityAt));
    if (quality == -2) return WHY_BAD_QUALITY;
  }
  return scalar(json, id, value, ts, quality);
}

function scalar(json: JsonCursor, id: i32, p: usize, ts: f64, quality: i32): i32 {
  const c = load<u8>(p);
  if (c == 0x74 || c == 0x66) flag(id, c == 0x74, ts, quality);
  else if (c == 0x6e) numberReading(id, NaN, ts, quality);
  else if (c == 0x22 || c == 0x5b || c == 0x7b) notUsable();
  else numberReading(id, json.number(p), ts, quality);
  return WHY_NONE;
}

/** Reads the JSON body of `n` bytes at `body`; WHY_NONE when it was read (its samples written), else why not. */
export function readJson(body: usize, n: i32): i32 {
  end = body + <usize>n;
  tooDeep = false;
  const last = valueEnd(body, 0);
  if (last == 0) return tooDeep ? WHY_TOO_DEEP : WHY_SYNTAX;
  if (blank(last) != end) return WHY_TRAILING;
  const json = new JsonCursor(body, end);
  const root = json.root;
  if (load<u8>(root) == 0x5b || load<u8>(root) == 0x22) return WHY_SHAPE;
  if (bodyPoint >= 0) return reading(json, bodyPoint, root);
  if (load<u8>(root) != 0x7b) return WHY_BARE_VALUE;
  for (let k = json.first(root); k != 0; k = json.next(k)) {
    const id = pointNamed(bodyDevice, k + 1, json.textLength(k));
    const v = blank(blank(json.skip(k)) + 1);
    if (id < 0) {
      notAPoint();
      continue;
    }
    const why = reading(json, id, v);
    if (why != WHY_NONE) return why;
  }
  return WHY_NONE;
}
