// scale: value × factor + offset per point, in place. The host fills in each entry's factor, offset and
// unit from plugin.yaml's defaults; a point without an entry keeps its values and unit (× 1 + 0).
import {
  input, sampleCount, sampleAt, value, setValue, point, type, setResult, reserveOutput, OK, BAD_SETTINGS, UNCHANGED, TYPE_NUMBER,
} from "../sdk";
import { PointSettings } from "../sdk/point-settings";
import { jsonTextUtf8 } from "../sdk/json-text";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// Read in place (PointSettings), not into a JSON tree: the stub runtime never frees, and a tree of a
// 500-point document kept about 4 MiB of linear memory for ever. Configure allocates 16 bytes a point
// and wg_units' answer.
const KEYS = "factor offset unit";
const K_FACTOR = 0;
const K_OFFSET = 1;
const K_UNIT = 2;

let pointCount = 0;
let factors: usize = 0; // f64 per point
let offsets: usize = 0; // f64 per point
// wg_units' output, made at configure: per point a u16 length and the unit's UTF-8.
let units: usize = 0;
let unitBytes = 0;
let anyScaled = false;

export function wg_configure(size: i32): i32 {
  const own = new PointSettings(size, KEYS);
  if (!own.read()) return BAD_SETTINGS;
  const json = own.cursor;
  const n = own.count;
  pointCount = n;
  factors = heap.alloc(<usize>n << 3);
  offsets = heap.alloc(<usize>n << 3);
  // A unit's UTF-8 is never longer than its JSON text (jsonTextUtf8).
  let room = n * 2;
  for (let p = 0; p < n; p++) {
    own.select(p);
    store<f64>(factors + (<usize>p << 3), 1);
    store<f64>(offsets + (<usize>p << 3), 0);
    if (!own.overridden) continue;
    const factor = json.number(own.at(K_FACTOR));
    const offset = json.number(own.at(K_OFFSET));
    const unit = own.at(K_UNIT);
    if (isNaN(factor)) return setting(own, K_FACTOR, ": missing (the host fills in plugin.yaml's default) or not a number");
    if (isNaN(offset)) return setting(own, K_OFFSET, ": missing (the host fills in plugin.yaml's default) or not a number");
    if (unit == 0 || load<u8>(unit) != 0x22) return setting(own, K_UNIT, ": missing (the host fills in plugin.yaml's default) or not a string");
    store<f64>(factors + (<usize>p << 3), factor);
    store<f64>(offsets + (<usize>p << 3), offset);
    room += json.textLength(unit);
    anyScaled = true;
  }
  units = heap.alloc(<usize>room);
  let at = units;
  for (let p = 0; p < n; p++) {
    own.select(p);
    const length = own.overridden ? jsonTextUtf8(json, own.at(K_UNIT), at + 2) : 0;
    store<u16>(at, <u16>length);
    at += 2 + <usize>length;
  }
  unitBytes = <i32>(at - units);
  return OK;
}

/** Logs "with.points.<name>.<key><what>"; returns BAD_SETTINGS. */
function setting(own: PointSettings, k: i32, what: string): i32 {
  own.refuseOwn(k, what);
  return BAD_SETTINGS;
}

export function wg_units(): i32 {
  const out = reserveOutput(unitBytes, 0);
  memory.copy(out, units, <usize>unitBytes);
  setResult(out);
  return unitBytes;
}

export function wg_process(size: i32): i32 {
  if (!anyScaled) return UNCHANGED;
  const batch = input();
  const n = sampleCount(batch);
  const limit = <u32>pointCount;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const p = point(rec);
    if (type(rec) != TYPE_NUMBER || p >= limit) continue;
    setValue(rec, value(rec) * load<f64>(factors + (<usize>p << 3)) + load<f64>(offsets + (<usize>p << 3)));
  }
  setResult(batch);
  return size;
}
