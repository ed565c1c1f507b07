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

// Keys of an object, in the order of WORDS (which doubles as their default names). The first four are
// the static members of a point; "pipeline" is not renameable (the manifest has no fields.pipeline).
export const KEY_POINT = 0;
export const KEY_UNIT = 1;
export const KEY_DEVICE = 2;
export const KEY_PIPELINE = 3;
export const KEY_VALUE = 4;
export const KEY_QUALITY = 5;
export const KEY_TS = 6;

/**
 * Every word the plugin reads or writes: the keys above first, then the other members looked up, the
 * values of shape and timestamp, and the quality and aggregate names written. JsonCursor.members fills
 * one slot per word; one list (one string literal) for everything keeps the module small.
 */
export const WORDS = "point unit device pipeline value quality ts with points devices shape timestamp fields include decimals name sample bucket batch epoch_ms iso good suspect bad no-comm mean min max first last count sum";
export const W_WITH = 7;
export const W_POINTS = 8;
export const W_DEVICES = 9;
const W_SHAPE = 10; // then timestamp, fields, include, decimals
export const W_NAME = 15;
const W_SAMPLE = 16; // then bucket, batch
const W_EPOCH_MS = 19; // then iso
/** Quality names by code, then aggregate names by code from 1 (so "mean" is W_GOOD + 4). */
export const W_GOOD = 21;
/** Bytes for one slot per word. */
export const SLOTS = 32 * 4;

export let shape = 0; // SHAPE_SAMPLE
export let iso = false;
/** -1 for full precision, else 0..15. */
export let decimals = -1;
/** Bit k set: key k is written (include.<key> is on, and its name is not ""). */
let written = 0;

/** Per key, the position of its name (a string literal) in the settings document, or 0: the default. */
const names = memory.data(SLOTS);
const slots = memory.data(SLOTS);
const line = memory.data(64);

/** Where key `k`'s name is in the settings document (valid during wg_configure), 0 for its default. */
@inline export function nameOf(k: i32): usize {
  return <usize>load<u32>(names + (<usize>k << 2));
}

/** Whether key `k` is written. */
@inline export function writes(k: i32): bool {
  return ((written >> k) & 1) != 0;
}

@inline function at(i: i32): usize {
  return <usize>load<u32>(slots + (<usize>i << 2));
}

/** Logs "with.<setting> is not valid" and refuses. */
function refuse(setting: i32): bool {
  // The fixed text as little-endian words rather than string literals (which cost twice the bytes).
  store<u64>(line, 0x2e68746977); // "with."
  const end = putWord(line + 5, WORDS, setting);
  store<u64>(end, 0x20746f6e20736920); // " is not "
  store<u64>(end, 0x64696c617620746f, 5); // "ot valid", overlapping
  host_log(ERROR, line, <i32>(end + 13 - line));
  return false;
}

/** A whole number at `p` (no fraction, no exponent, 8 digits at most): `fallback` when absent, -999 when not one. */
export function wholeNumber(p: usize, fallback: i32): i32 {
  if (p == 0) return fallback;
  const sign = <usize>(load<u8>(p) == 0x2d);
  let q = p + sign;
  let n = 0;
  for (let d = <u32>load<u8>(q) - 0x30; d < 10; d = <u32>load<u8>(++q) - 0x30) n = n * 10 + d;
  const next = load<u8>(q) | 0x20;
  return q == p + sign || q > p + 8 || next == 0x2e || next == 0x65 ? -999 : sign ? -n : n; // '.', 'e'
}

/** Reads the `with:` object at `step`; false (logged) when a setting is unusable. */
export function readOptions(c: JsonCursor, step: usize): bool {
  c.members(step, WORDS, slots);
  shape = at(W_SHAPE) == 0 ? SHAPE_SAMPLE : c.oneOf(at(W_SHAPE), WORDS) - W_SAMPLE;
  if (<u32>shape > 2) return refuse(W_SHAPE);
  const ts = at(W_SHAPE + 1) == 0 ? 0 : c.oneOf(at(W_SHAPE + 1), WORDS) - W_EPOCH_MS;
  if (<u32>ts > 1) return refuse(W_SHAPE + 1);
  iso = ts == 1;
  decimals = wholeNumber(at(W_SHAPE + 4), -1);
  if (<u32>(decimals + 1) > 16) return refuse(W_SHAPE + 4);
  const fields = at(W_SHAPE + 2);
  c.members(at(W_SHAPE + 3), WORDS, slots); // include
  c.members(fields, WORDS, names);
  written = 0b1110011; // all but device and pipeline
  for (let k = 0; k < 7; k++) {
    const name = nameOf(k);
    const flag = at(k);
    if (name != 0 && load<u8>(name) != 0x22) return refuse(W_SHAPE + 2);
    if (flag != 0) {
      const t = load<u8>(flag);
      if (t != 0x74 && t != 0x66) return refuse(W_SHAPE + 3); // t(rue), f(alse)
      if (t == 0x74) written |= 1 << k;
      else written &= ~(1 << k);
    }
    if (name != 0 && load<u8>(name, 1) == 0x22) written &= ~(1 << k); // named "": left out
  }
  return true;
}
