// One JSON object per sample, or per bucket of aggregates, written from the precomputed fragments plus
// the sample's own timestamp, value and quality. Callers reserve `objectBound` + 6 bytes per text byte.
import { ts, value, point, quality, type, aggregate, textOffset, textLength, TYPE_BOOL, TYPE_TEXT, AGG_COUNT, SAMPLE_SIZE } from "../sdk";
import { putFragment, F_VALUE, F_QUALITY, F_QUALITY_KEY, F_AGGREGATE_AS_KEY, F_OPENING } from "./fragments";
import { putNumber } from "./number";
import { putIso } from "./iso-time";
import { putText } from "./escape";
import { putInt } from "./digits";
import { iso, decimals, includes, hasKey, KEY_TS, KEY_VALUE } from "./options";

/** Text heap of the batch being encoded. */
let textBase: usize = 0;

export function useTextHeap(base: usize): void {
  textBase = base;
}

@inline function comma(at: usize): usize {
  store<u8>(at, 0x2c);
  return at + 1;
}

/** Opening, static members and the timestamp. */
function open(at: usize, index: i32, t: f64): usize {
  at = putFragment(at, F_OPENING + index);
  if (!hasKey(KEY_TS)) return at;
  return comma(iso ? putIso(at, t) : putNumber(at, t, -1));
}

function putQuality(at: usize, q: u32): usize {
  if (!includes(1)) return at;
  if (q < 4) return putFragment(at, F_QUALITY + q);
  return comma(putInt(putFragment(at, F_QUALITY_KEY), q));
}

/** Turns the trailing comma into the closing brace (or closes an object with no members). */
function close(at: usize): usize {
  if (load<u8>(at - 1) == 0x2c) at--;
  store<u8>(at, 0x7d);
  return at + 1;
}

/** The sample's value: a number (count always in full, it is an integer), true/false, or a string. */
export function putValue(at: usize, rec: usize): usize {
  const kind = type(rec);
  if (kind == TYPE_BOOL) {
    if (value(rec) != 0) {
      store<u32>(at, 0x65757274); // true
      return at + 4;
    }
    store<u32>(at, 0x736c6166); // fals
    store<u8>(at, 0x65, 4);
    return at + 5;
  }
  if (kind == TYPE_TEXT) {
    store<u8>(at, 0x22);
    at = putText(at + 1, textBase + <usize>textOffset(rec), <usize>textLength(rec));
    store<u8>(at, 0x22);
    return at + 1;
  }
  return putNumber(at, value(rec), aggregate(rec) == AGG_COUNT ? -1 : decimals);
}

/** A sample as {point…, ts, value (or mean, min…), quality}. */
export function putSample(at: usize, rec: usize, index: i32): usize {
  at = open(at, index, ts(rec));
  // An aggregate sample names its aggregate as the key ("mean": 1.5), as in the bucket shape.
  const agg = <u32>aggregate(rec) - 1;
  if (agg < 7) at = comma(putValue(putFragment(at, F_AGGREGATE_AS_KEY + 1 + agg), rec));
  else if (hasKey(KEY_VALUE)) at = comma(putValue(putFragment(at, F_VALUE), rec));
  return close(putQuality(at, <u32>quality(rec)));
}

/**
 * A bucket: the samples from `first` to `last` (inclusive) are aggregates of one point at one time;
 * each gives its aggregate as a key. Quality is the worst (highest code) of them, passed in.
 */
export function putBucket(at: usize, first: usize, last: usize, worst: u32): usize {
  at = open(at, <i32>point(first), ts(first));
  for (let rec = first; rec <= last; rec += SAMPLE_SIZE) {
    at = comma(putValue(putFragment(at, F_AGGREGATE_AS_KEY + aggregate(rec)), rec));
  }
  return close(putQuality(at, worst));
}
