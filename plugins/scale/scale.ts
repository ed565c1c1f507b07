// scale: value × factor + offset per point, in place. The host fills in each entry's factor, offset and
// unit from plugin.yaml's defaults; a point without an entry keeps its values and unit (× 1 + 0).
import {
  Json, readSettings, sampleCount, sampleAt, value, setValue, point, type,
  input, setResult, reserveOutput, fail, OK, BAD_SETTINGS, UNCHANGED, TYPE_NUMBER, J_OBJECT, J_NUMBER, J_STRING,
} from "../sdk";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

let factors = new StaticArray<f64>(0);
let offsets = new StaticArray<f64>(0);
let units = new Array<string>(0);
let anyScaled = false;

export function wg_configure(size: i32): i32 {
  const settings = readSettings(size);
  if (settings === null) return BAD_SETTINGS;
  const n = settings.pointCount;
  factors = new StaticArray<f64>(n);
  offsets = new StaticArray<f64>(n);
  units = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    factors[i] = 1;
    offsets[i] = 0;
    units[i] = "";
  }
  const points = settings.step.child("points");
  for (let k = 0; k < points.length; k++) {
    const name = points.key(k);
    const id = settings.pointId(name);
    if (id < 0) {
      fail("with.points." + name + ": no point of that name in the pipeline");
      return BAD_SETTINGS;
    }
    const entry = points.at(k);
    if (entry.kind != J_OBJECT) {
      fail("with.points." + name + ": expected an object");
      return BAD_SETTINGS;
    }
    if (!given(entry, name, "factor", J_NUMBER) || !given(entry, name, "offset", J_NUMBER) || !given(entry, name, "unit", J_STRING)) return BAD_SETTINGS;
    factors[id] = entry.number("factor", NaN);
    offsets[id] = entry.number("offset", NaN);
    units[id] = entry.string("unit", "");
    anyScaled = true;
  }
  return OK;
}

/** Whether with.points.<name>.<key> is there as a `kind`; logs the problem when not. */
function given(entry: Json, name: string, key: string, kind: u8): bool {
  const v = entry.get(key);
  if (v !== null && v.kind == kind) return true;
  fail("with.points." + name + "." + key + ": missing (the host fills in plugin.yaml's default)");
  return false;
}

export function wg_units(): i32 {
  let total = 0;
  for (let i = 0; i < units.length; i++) total += 2 + String.UTF8.byteLength(units[i]);
  const out = reserveOutput(total, 0);
  let pos = out;
  for (let i = 0; i < units.length; i++) {
    const bytes = String.UTF8.encode(units[i]);
    store<u16>(pos, <u16>bytes.byteLength);
    memory.copy(pos + 2, changetype<usize>(bytes), <usize>bytes.byteLength);
    pos += 2 + <usize>bytes.byteLength;
  }
  setResult(out);
  return total;
}

export function wg_process(size: i32): i32 {
  if (!anyScaled) return UNCHANGED;
  const batch = input();
  const n = sampleCount(batch);
  const limit = <u32>factors.length;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const p = point(rec);
    if (type(rec) != TYPE_NUMBER || p >= limit) continue;
    setValue(rec, value(rec) * unchecked(factors[p]) + unchecked(offsets[p]));
  }
  setResult(batch);
  return size;
}
