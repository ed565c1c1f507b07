// Every constant piece of output, made once at configure time so the hot path only copies bytes: per
// point, the object's opening with its static members ('{"point":"boiler.temp","unit":"°C",' and the
// timestamp key), and the keys and literals shared by all points. Members end in a comma; the writer
// turns the last comma into '}'.
//
// Names and units come from the settings document, which the host writes with JSON.stringify: its
// string literals are valid JSON in valid UTF-8 already (quotes and controls escaped, a lone surrogate
// as "\udc00"), so they are copied as written, and JSON.parse of the output gives back the very string
// configured. (Text samples are another matter: see escape.ts.)
import { JsonCursor } from "../sdk/json-cursor";
import { nameOf, writes, KEY_POINT, KEY_UNIT, KEY_DEVICE, KEY_PIPELINE, KEY_VALUE, KEY_QUALITY, KEY_TS } from "./options";

/** Quality names by code (docs/plugin-abi.md, sample `quality`). */
const QUALITY_NAMES = ["good", "suspect", "bad", "no-comm"];
/** Aggregate names by code from 1 (docs/plugin-abi.md, sample `aggregate`). */
const AGGREGATE_NAMES = ["", "mean", "min", "max", "first", "last", "count", "sum"];

// Fragment ids. Per-point openings follow the fixed ones; the one after the last point is for samples
// whose point id the settings do not know (their names print as null).
export const F_VALUE = 0; // "value":
export const F_QUALITY_KEY = 1; // "quality":
export const F_QUALITY = 2; // + quality code 0..3: "quality":"good",
export const F_AGGREGATE = 5; // + aggregate code 1..7 (so from 6): "mean":
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

// The members of a point and of a device that openings print, in the order of POINT_MEMBERS.
const POINT_MEMBERS = "name unit device";
const M_NAME = 0;
const M_UNIT = 1;
const M_DEVICE = 2;
const pointMembers = memory.data(3 * 4);
const deviceMembers = memory.data(3 * 4);
/** Per static key (KEY_POINT..KEY_PIPELINE), the position of the value an opening prints for it. */
const staticValues = memory.data(4 * 4);

@inline function slot(table: usize, i: i32): usize {
  return <usize>load<u32>(table + (<usize>i << 2));
}

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

/** `s` (ASCII) in quotes. */
function quoted(s: string): void {
  raw(0x22);
  for (let i = 0; i < s.length; i++) raw(<u8>s.charCodeAt(i));
  raw(0x22);
}

/** The string literal at `p` in the document as written, or null when there is none. */
function stringOrNull(p: usize): void {
  if (p == 0 || load<u8>(p) != 0x22) {
    for (let i = 0; i < 4; i++) raw(<u8>"null".charCodeAt(i));
    return;
  }
  const n = doc.textLength(p) + 2;
  room(n);
  memory.copy(arena + <usize>used, p, <usize>n);
  used += n;
}

/** `"name":` of key k: as configured in `fields`, or "pipeline", which is not renamed. */
function key(k: i32): void {
  if (k == KEY_PIPELINE) quoted("pipeline");
  else stringOrNull(nameOf(k));
  raw(0x3a);
}

/** Records that fragment `id` is what was written since `from`. */
function mark(id: i32, from: i32): void {
  store<u32>(table + (<usize>id << 3), <u32>from);
  store<u32>(table + (<usize>id << 3), <u32>(used - from), 4);
}

/** The entry of `devices` that the device index at `index` names; 0 when absent, not an index, or past the end. */
function deviceEntry(devices: usize, index: usize): usize {
  const d = doc.number(index);
  if (!(d >= 0 && d == Math.floor(d))) return 0;
  let entry = doc.first(devices);
  for (let i: f64 = 0; entry != 0 && i < d; i++) entry = doc.next(entry);
  return entry;
}

/** Builds every fragment, given the positions of `pipeline`, `points` and `devices` in the document. */
export function buildFragments(c: JsonCursor, pipeline: usize, points: usize, devices: usize): void {
  doc = c;
  used = 0;
  pointCount = c.count(points);
  table = heap.alloc(<usize>(F_OPENING + pointCount + 1) << 3);

  let from = used;
  if (writes(KEY_VALUE)) key(KEY_VALUE);
  mark(F_VALUE, from);
  from = used;
  if (writes(KEY_QUALITY)) key(KEY_QUALITY);
  mark(F_QUALITY_KEY, from);
  for (let q = 0; q < QUALITY_NAMES.length; q++) {
    from = used;
    if (writes(KEY_QUALITY)) {
      key(KEY_QUALITY);
      quoted(QUALITY_NAMES[q]);
      raw(0x2c);
    }
    mark(F_QUALITY + q, from);
  }
  for (let a = 1; a < AGGREGATE_NAMES.length; a++) {
    from = used;
    quoted(AGGREGATE_NAMES[a]);
    raw(0x3a);
    mark(F_AGGREGATE + a, from);
  }
  const fixed = used;

  let longest = 0;
  let p = c.first(points);
  for (let i = 0; i <= pointCount; i++) {
    // For the unknown point (i == pointCount) p is 0: every member is absent and prints as null.
    from = used;
    raw(0x7b); // {
    c.members(p, POINT_MEMBERS, pointMembers);
    // The device by its place in `devices` (looked up only when its name is written).
    c.members(writes(KEY_DEVICE) ? deviceEntry(devices, slot(pointMembers, M_DEVICE)) : 0, POINT_MEMBERS, deviceMembers);
    store<u32>(staticValues + (KEY_POINT << 2), <u32>slot(pointMembers, M_NAME));
    store<u32>(staticValues + (KEY_UNIT << 2), <u32>slot(pointMembers, M_UNIT));
    store<u32>(staticValues + (KEY_DEVICE << 2), <u32>slot(deviceMembers, M_NAME));
    store<u32>(staticValues + (KEY_PIPELINE << 2), <u32>pipeline);
    for (let k = KEY_POINT; k <= KEY_PIPELINE; k++) {
      if (!writes(k)) continue;
      key(k);
      stringOrNull(slot(staticValues, k));
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
