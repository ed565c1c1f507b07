// The step's `with:` settings, read once in wg_configure from the settings document in place. The host
// has checked them against plugin.yaml and filled in defaults already; what a schema cannot guarantee (a
// document made without the host) is refused here with the setting named, never replaced by a default.
import { JsonCursor } from "../sdk/json-cursor";
import { ERROR } from "../sdk";
import { host_log } from "../sdk/env";
import { putWord } from "./words";

export const SHAPE_SAMPLE = 0;
export const SHAPE_BUCKET = 1;
export const SHAPE_BATCH = 2;

// Key indexes, in the order of FIELD_NAMES (which doubles as their default names).
export const KEY_POINT = 0;
export const KEY_VALUE = 1;
export const KEY_UNIT = 2;
export const KEY_QUALITY = 3;
export const KEY_TS = 4;
export const KEY_DEVICE = 5;
const FIELD_NAMES = "point value unit quality ts device";
const SETTINGS = "shape timestamp fields include decimals";
const PROBLEM = "with.| is not valid";

export let shape = SHAPE_SAMPLE;
export let iso = false;
/** -1 for full precision, else 0..15. */
export let decimals = -1;
/** include.unit, include.quality, include.device, include.pipeline as bits 0..3. */
export let included = 0;

/**
 * Per key, the position of its name in the settings document (a string literal) as a u32, or 0 for
 * the default name; a key named "" is left out.
 */
const keys = memory.data(6 * 4);
const slots = memory.data(6 * 4);

/** Where key `k`'s name is in the settings document (valid during wg_configure), 0 for its default. */
@inline export function keyAt(k: i32): usize {
  return <usize>load<u32>(keys + (<usize>k << 2));
}
export function hasKey(k: i32): bool {
  const at = keyAt(k);
  return at == 0 || load<u8>(at, 1) != 0x22;
}
/** The default name of key `k`: word k of FIELD_NAMES. */
export const DEFAULT_KEYS = FIELD_NAMES;
/** Whether include.<flag> is on and its key is not left out (flag: 0 unit, 1 quality, 2 device, 3 pipeline). */
@inline export function includes(flag: i32): bool {
  return ((included >> flag) & 1) != 0;
}

const line = memory.data(64);

/** Logs "with.<setting> is not valid" and refuses. */
function refuse(setting: i32): bool {
  const end = putWord(putWord(line, PROBLEM, 0, 0x7c), SETTINGS, setting);
  host_log(ERROR, line, <i32>(putWord(end, PROBLEM, 1, 0x7c) - line));
  return false;
}

@inline function slot(i: i32): usize {
  return <usize>load<u32>(slots + (<usize>i << 2));
}

/** A whole number at `p` (no fraction or exponent): `fallback` when absent, -999 when not one. */
export function wholeNumber(p: usize, fallback: i32): i32 {
  if (p == 0) return fallback;
  const negative = load<u8>(p) == 0x2d;
  if (negative) p++;
  let n = 0;
  const from = p;
  for (let d = <u32>load<u8>(p) - 0x30; d < 10 && n < 100000000; d = <u32>load<u8>(++p) - 0x30) n = n * 10 + d;
  const next = load<u8>(p) | 0x20;
  if (p == from || next == 0x2e || next == 0x65) return -999; // no digits, '.', 'e'
  return negative ? -n : n;
}

/** Reads the `with:` object at `step`; false (logged) when a setting is unusable. */
export function readOptions(c: JsonCursor, step: usize): bool {
  c.members(step, SETTINGS, slots);
  shape = slot(0) == 0 ? SHAPE_SAMPLE : c.oneOf(slot(0), "sample bucket batch");
  if (shape < 0) return refuse(0);
  const ts = slot(1) == 0 ? 0 : c.oneOf(slot(1), "epoch_ms iso");
  if (ts < 0) return refuse(1);
  iso = ts == 1;
  const d = wholeNumber(slot(4), -1);
  if (d < -1 || d > 15) return refuse(4);
  decimals = d;
  const fields = slot(2);
  const include = slot(3);

  c.members(fields, FIELD_NAMES, keys);
  for (let k = 0; k < 6; k++) {
    const at = keyAt(k);
    if (at != 0 && load<u8>(at) != 0x22) return refuse(2);
  }

  c.members(include, "unit quality device pipeline", slots);
  included = 0b0011; // unit, quality
  for (let k = 0; k < 4; k++) {
    const at = slot(k);
    if (at == 0) continue;
    const t = load<u8>(at);
    if (t != 0x74 && t != 0x66) return refuse(3); // t(rue), f(alse)
    if (t == 0x74) included |= 1 << k;
    else included &= ~(1 << k);
  }
  // A key left out (empty name) is not written whatever include says.
  if (!hasKey(KEY_UNIT)) included &= ~1;
  if (!hasKey(KEY_QUALITY)) included &= ~2;
  if (!hasKey(KEY_DEVICE)) included &= ~4;
  return true;
}
