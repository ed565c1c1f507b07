// One JSON object per sample, or per bucket of aggregates, written from the precomputed fragments plus
// the samples' own timestamp, values and quality. Callers reserve `objectBound` + 6 bytes per text byte.
import { ts, value, point, type, aggregate, textOffset, textLength, TYPE_BOOL, TYPE_TEXT, AGG_COUNT, SAMPLE_SIZE } from "../sdk";
import { putFragment, pointCount, F_VALUE, F_QUALITY, F_QUALITY_KEY, F_AGGREGATE, F_OPENING } from "./fragments";
import { putNumber, putDecimal } from "./number";
import { putIso } from "./iso-time";
import { putText } from "./escape";
import { iso, decimals, writes, KEY_TS, KEY_VALUE, KEY_QUALITY } from "./options";

/** Text heap of the batch being encoded. */
let textBase: usize = 0;

export function useTextHeap(base: usize): void {
  textBase = base;
}

@inline function comma(at: usize): usize {
  store<u8>(at, 0x2c);
  return at + 1;
}

/** A sample's value: a number (a count always in full: it is an integer), true/false, or a string. */
function putValue(at: usize, rec: usize): usize {
  const kind = type(rec);
  if (kind == TYPE_BOOL) {
    const yes = value(rec) != 0;
    store<u64>(at, yes ? 0x65757274 : 0x65736c6166); // "true" / "false"
    return at + 5 - <usize>yes;
  }
  if (kind == TYPE_TEXT) {
    store<u8>(at, 0x22);
    at = putText(at + 1, textBase + <usize>textOffset(rec), <usize>textLength(rec));
    store<u8>(at, 0x22);
    return at + 1;
  }
  return putNumber(at, value(rec), aggregate(rec) == AGG_COUNT ? -1 : decimals);
}

/**
 * The object for the samples `first` to `last` (inclusive), which are one sample or the aggregates of
 * one point at one time: the point's opening, the timestamp, each value under its aggregate's name
 * ("mean") or the value key for a raw sample, and the quality (`worst`: the highest code of them).
 */
export function putObject(at: usize, first: usize, last: usize, worst: u32): usize {
  const p = point(first);
  at = putFragment(at, F_OPENING + (p < <u32>pointCount ? <i32>p : pointCount));
  const t = ts(first);
  if (writes(KEY_TS)) at = comma(iso ? putIso(at, t) : putNumber(at, t, -1));
  for (let rec = first; rec <= last; rec += SAMPLE_SIZE) {
    const agg = <u32>aggregate(rec) - 1;
    if (agg < 7) at = putFragment(at, F_AGGREGATE + 1 + agg);
    else if (writes(KEY_VALUE)) at = putFragment(at, F_VALUE);
    else continue;
    at = comma(putValue(at, rec));
  }
  if (writes(KEY_QUALITY)) at = worst < 4 ? putFragment(at, F_QUALITY + worst) : comma(putDecimal(putFragment(at, F_QUALITY_KEY), worst, 0));
  // The last member's comma becomes the closing brace (an object with no members has none).
  if (load<u8>(at - 1) == 0x2c) at--;
  store<u8>(at, 0x7d);
  return at + 1;
}
