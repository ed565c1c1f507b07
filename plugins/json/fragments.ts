// Every constant piece of output, made once at configure time so the hot path only copies bytes: per
// point, the object's opening with its static members ('{"point":"boiler.temp","unit":"°C",' and the
// timestamp key), and the keys and literals shared by all points. Members end in a comma; the writer
// turns the last comma into '}'.
//
// Names and units come from the settings document, which the host writes with JSON.stringify: its
// string literals are valid JSON in valid UTF-8 already (quotes and controls escaped, a lone surrogate
// as "\udc00"), so they are copied as written, and JSON.parse of the output gives back the very string
// configured.
import { JsonCursor } from "../sdk/json-cursor";
import { putWord } from "./words";
import {
  keyAt, hasKey, includes, wholeNumber, DEFAULT_KEYS,
  KEY_POINT, KEY_VALUE, KEY_UNIT, KEY_QUALITY, KEY_TS, KEY_DEVICE,
} from "./options";

// Fragment ids. Per-point openings follow the fixed ones; the one after the last point is for samples
// whose point id the settings do not know (their names print as null).
export const F_VALUE = 0; // "value":
export const F_QUALITY_KEY = 1; // "quality":
export const F_QUALITY = 2; // + code 0..3: "quality":"good",
export const F_AGGREGATE_AS_KEY = 6; // + code 1..7 (so from 7): "mean":
export const F_OPENING = 14; // + point index

const QUALITY_NAMES = "good suspect bad no-comm";
const AGGREGATE_NAMES = "raw mean min max first last count sum";

/** All fragments, back to back, with 8 bytes of slack at the end for word-wise copies. */
let arena: usize = 0;
let doc = changetype<JsonCursor>(0); // set for the duration of buildFragments
let capacity = 0;
let used = 0;
/** Per fragment id: u32 offset in the arena, u32 length. */
let table: usize = 0;
/** Points known from the settings; index `pointCount` stands for unknown points. */
export let pointCount = 0;
/** Upper bound of one object's bytes, text values aside (6 bytes per text byte come on top). */
export let objectBound = 0;

const pointSlots = memory.data(3 * 4);

function room(n: i32): void {
  if (used + n <= capacity) return;
  let next = capacity > 0 ? capacity * 2 : 1024;
  while (next < used + n) next <<= 1;
  const fresh = heap.alloc(<usize>next);
  if (used > 0) memory.copy(fresh, arena, <usize>used);
  arena = fresh;
  capacity = next;
}

function raw(b: u8): void {
  room(1);
  store<u8>(arena + <usize>used, b);
  used++;
}

/** The JSON string literal whose inside is the `len` bytes at `ptr`, copied as written. */
function literal(ptr: usize, len: i32): void {
  room(len + 2);
  store<u8>(arena + <usize>used, 0x22);
  memory.copy(arena + <usize>used + 1, ptr, <usize>len);
  used += len + 2;
  store<u8>(arena + <usize>used - 1, 0x22);
}

/** The string at `p` in the document, or null when there is none. */
function stringOrNull(p: usize): void {
  if (p != 0 && load<u8>(p) == 0x22) {
    literal(p + 1, doc.textLength(p));
  } else {
    room(4);
    store<u32>(arena + <usize>used, 0x6c6c756e); // null
    used += 4;
  }
}

/** Word `index` of the space-separated ASCII `words`, quoted. */
function word(words: string, index: i32): void {
  room(32);
  store<u8>(arena + <usize>used, 0x22);
  const end = putWord(arena + <usize>used + 1, words, index);
  store<u8>(end, 0x22);
  used = <i32>(end + 1 - arena);
}

function key(k: i32): void {
  const at = keyAt(k);
  if (at == 0) word(DEFAULT_KEYS, k);
  else stringOrNull(at);
  raw(0x3a);
}

function mark(id: i32, from: i32): void {
  store<u32>(table + (<usize>id << 3), <u32>from);
  store<u32>(table + (<usize>id << 3), <u32>(used - from), 4);
}

/** Position of the name of device `index` (its place in `devices`), or 0. */
function deviceName(c: JsonCursor, devices: usize, index: f64): usize {
  if (!(index >= 0)) return 0;
  let d = c.first(devices);
  for (let i = 0; d != 0 && <f64>i < index; i++) d = c.next(d);
  if (d == 0) return 0;
  c.members(d, "name", pointSlots);
  return <usize>load<u32>(pointSlots);
}

/** Builds every fragment, given the positions of `pipeline`, `points` and `devices` in the document. */
export function buildFragments(c: JsonCursor, pipeline: usize, points: usize, devices: usize): void {
  doc = c;
  used = 0;
  pointCount = c.count(points);
  table = heap.alloc(<usize>(F_OPENING + pointCount + 1) << 3);

  let from = used;
  if (hasKey(KEY_VALUE)) key(KEY_VALUE);
  mark(F_VALUE, from);
  from = used;
  if (includes(1)) key(KEY_QUALITY);
  mark(F_QUALITY_KEY, from);
  for (let q = 0; q < 4; q++) {
    from = used;
    if (includes(1)) {
      key(KEY_QUALITY);
      word(QUALITY_NAMES, q);
      raw(0x2c);
    }
    mark(F_QUALITY + q, from);
  }
  for (let k = 1; k < 8; k++) {
    from = used;
    word(AGGREGATE_NAMES, k);
    raw(0x3a);
    mark(F_AGGREGATE_AS_KEY + k, from);
  }
  const fixedBytes = used;

  let longest = 0;
  let p = c.first(points);
  for (let i = 0; i <= pointCount; i++) {
    from = used;
    raw(0x7b); // {
    c.members(p, "name unit device", pointSlots);
    const name = <usize>load<u32>(pointSlots);
    const unit = <usize>load<u32>(pointSlots, 4);
    const device = wholeNumber(<usize>load<u32>(pointSlots, 8), -1);
    if (hasKey(KEY_POINT)) {
      key(KEY_POINT);
      stringOrNull(name);
      raw(0x2c);
    }
    if (includes(0)) {
      key(KEY_UNIT);
      stringOrNull(unit);
      raw(0x2c);
    }
    if (includes(2)) {
      key(KEY_DEVICE);
      stringOrNull(deviceName(c, devices, device));
      raw(0x2c);
    }
    if (includes(3)) {
      word("pipeline", 0);
      raw(0x3a);
      stringOrNull(pipeline);
      raw(0x2c);
    }
    if (hasKey(KEY_TS)) key(KEY_TS);
    mark(F_OPENING + i, from);
    if (used - from > longest) longest = used - from;
    if (p != 0) p = c.next(p);
  }
  room(8);
  // An opening, every fixed fragment once, eight values of at most 32 bytes, and slack.
  objectBound = longest + fixedBytes + 8 * 32 + 32;
}

/** Copies fragment `id` to `at`; returns the address after it. */
export function putFragment(at: usize, id: i32): usize {
  const entry = table + (<usize>id << 3);
  const n = <usize>load<u32>(entry, 4);
  const src = arena + <usize>load<u32>(entry);
  // Word-wise: the overshoot (under 8 bytes) lands where the next write goes; reservations include it.
  for (let i: usize = 0; i < n; i += 8) store<u64>(at + i, load<u64>(src + i));
  return at + n;
}
