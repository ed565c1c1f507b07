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
import { nameOf, writes, wholeNumber, WORDS, W_NAME, W_GOOD, SLOTS, KEY_PIPELINE, KEY_VALUE, KEY_QUALITY, KEY_TS, KEY_POINT, KEY_DEVICE } from "./options";

// Fragment ids. Per-point openings follow the fixed ones; the one after the last point is for samples
// whose point id the settings do not know (their names print as null).
export const F_VALUE = 0; // "value":
export const F_QUALITY_KEY = 1; // "quality":
export const F_QUALITY = 2; // + code 0..3: "quality":"good",
export const F_AGGREGATE = 5; // + code 1..7 (so from 6): "mean":
export const F_OPENING = 13; // + point index

/** All fragments, back to back. */
let arena: usize = 0;
let capacity = 0;
let used = 0;
/** Per fragment id: u32 offset in the arena, u32 length. */
let table: usize = 0;
let doc = changetype<JsonCursor>(0); // the settings document, during buildFragments
/** Points known from the settings; index `pointCount` stands for unknown points. */
export let pointCount = 0;
/** Upper bound of one object's bytes, text values aside (6 bytes per text byte come on top). */
export let objectBound = 0;

/**
 * Per point, the positions of its members in the document; then slots 0..3 (KEY_POINT..KEY_PIPELINE)
 * are set to the values of its static keys: its name, unit, device name and the pipeline name.
 */
const values = memory.data(SLOTS);
const deviceValues = memory.data(SLOTS);

/** Makes room for `n` more bytes (configure time: the arena may move, fragments are kept as offsets). */
function room(n: i32): void {
  if (used + n <= capacity) return;
  capacity = (used + n) * 2;
  const fresh = heap.alloc(<usize>capacity);
  memory.copy(fresh, arena, <usize>used);
  arena = fresh;
}

function raw(b: u8): void {
  room(1);
  store<u8>(arena + <usize>used, b);
  used++;
}

const NULL = memory.data<u8>([0x6e, 0x75, 0x6c, 0x6c]);

/** The string literal at `p` in the document as written, or null when there is none. */
function stringOrNull(p: usize): void {
  let n = 4;
  let src = NULL;
  if (p != 0 && load<u8>(p) == 0x22) {
    n = doc.textLength(p) + 2;
    src = p;
  }
  room(n);
  memory.copy(arena + <usize>used, src, <usize>n);
  used += n;
}

/** Word `index` of WORDS, quoted. */
function word(index: i32): void {
  room(32);
  store<u8>(arena + <usize>used, 0x22);
  const end = putWord(arena + <usize>used + 1, WORDS, index);
  store<u8>(end, 0x22);
  used = <i32>(end + 1 - arena);
}

/** `"name":` of key k, renamed or not. */
function key(k: i32): void {
  if (nameOf(k) == 0) word(k);
  else stringOrNull(nameOf(k));
  raw(0x3a);
}

function mark(id: i32, from: i32): void {
  store<u32>(table + (<usize>id << 3), <u32>from);
  store<u32>(table + (<usize>id << 3), <u32>(used - from), 4);
}

/** Builds every fragment, given the positions of `pipeline`, `points` and `devices` in the document. */
export function buildFragments(c: JsonCursor, pipeline: usize, points: usize, devices: usize): void {
  doc = c;
  used = 0;
  pointCount = c.count(points);
  table = heap.alloc(<usize>(F_OPENING + pointCount + 1) << 3);

  let from = 0;
  for (let i = -2; i < 11; i++) {
    from = used;
    if (i >= 4) {
      word(W_GOOD + i);
      raw(0x3a);
    } else if (i == -2) {
      if (writes(KEY_VALUE)) key(KEY_VALUE);
    } else if (writes(KEY_QUALITY)) {
      key(KEY_QUALITY);
      if (i >= 0) {
        word(W_GOOD + i);
        raw(0x2c);
      }
    }
    mark(F_QUALITY + i, from);
  }
  const fixed = used;

  let longest = 0;
  let p = c.first(points);
  for (let i = 0; i <= pointCount; i++) {
    from = used;
    raw(0x7b); // {
    c.members(p, WORDS, values);
    store<u32>(values + (KEY_POINT << 2), load<u32>(values + (W_NAME << 2)));
    // The device by its place in `devices` (looked up only when its name is written).
    let device = writes(KEY_DEVICE) ? c.first(devices) : 0;
    for (let d = wholeNumber(<usize>load<u32>(values + (KEY_DEVICE << 2)), -1); d != 0 && device != 0; d--) device = d < 0 ? 0 : c.next(device);
    c.members(device, WORDS, deviceValues);
    store<u32>(values + (KEY_DEVICE << 2), load<u32>(deviceValues + (W_NAME << 2)));
    store<u32>(values + (KEY_PIPELINE << 2), <u32>pipeline);
    for (let k = 0; k <= KEY_PIPELINE; k++) {
      if (!writes(k)) continue;
      key(k);
      stringOrNull(<usize>load<u32>(values + (<usize>k << 2)));
      raw(0x2c);
    }
    if (writes(KEY_TS)) key(KEY_TS);
    mark(F_OPENING + i, from);
    longest = max(longest, used - from);
    if (p != 0) p = c.next(p);
  }
  // An opening, every fixed fragment once, eight values of at most 32 bytes, and slack.
  objectBound = longest + fixed + 8 * 32 + 32;
}

/** Copies fragment `id` to `at`; returns the address after it. */
export function putFragment(at: usize, id: i32): usize {
  const entry = table + (<usize>id << 3);
  const n = <usize>load<u32>(entry, 4);
  const src = arena + <usize>load<u32>(entry);
  memory.copy(at, src, n);
  return at + n;
}
