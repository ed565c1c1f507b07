// Sample batch in, messages out, in the configured shape: a message per sample (sample), per bucket of
// a point's aggregates (bucket), or one array of everything (batch).
//
// A bucket is a run of consecutive aggregate samples (mean, min, max, first, last, count, sum) of one
// known point with one timestamp, each aggregate once: the way resample emits a closing bucket. Raw
// samples, and samples of points the settings do not know, stand alone as in the sample shape.
import { MessageWriter, NO_POINT, point, aggregate, quality, type, textOffset, textLength, TYPE_TEXT, SAMPLE_SIZE } from "../sdk";
import { pointCount, objectBound } from "./fragments";
import { putObject } from "./objects";
import { shape, SHAPE_BUCKET, SHAPE_BATCH } from "./options";

const writer = new MessageWriter();

/** Whether `rec` can be in a bucket: an aggregate (1..7) of a known point. */
@inline function bucketed(rec: usize): bool {
  return <u32>aggregate(rec) - 1 < 7 && point(rec) < <u32>pointCount;
}

/** Encodes the `n` samples from `first`, text heap `heapBytes` long; false when a text overruns it. */
export function encodeBatch(first: usize, n: i32, heapBytes: u32): bool {
  const end = first + <usize>n * SAMPLE_SIZE;
  const array = shape == SHAPE_BATCH;
  const buckets = shape == SHAPE_BUCKET;
  writer.begin(0); // the writer grows as needed
  for (let rec = first; rec < end; ) {
    // The run this object covers, the room it needs, and its worst quality.
    const p = point(rec);
    let last = rec;
    let need = objectBound + 2; // a separator before, a closing bracket after
    let worst = <u32>quality(rec);
    let seen: u32 = 1 << aggregate(rec);
    const joinable = buckets && bucketed(rec);
    for (;;) {
      if (type(last) == TYPE_TEXT) {
        const len = textLength(last);
        if (<u64>textOffset(last) + <u64>len > <u64>heapBytes) return false;
        need += 6 * <i32>len;
      }
      const next = last + SAMPLE_SIZE;
      // Same point, same time, an aggregate not seen yet.
      if (!joinable || next >= end || !bucketed(next) || point(next) != p || load<u64>(next) != load<u64>(rec)) break;
      const bit: u32 = 1 << aggregate(next);
      if (seen & bit) break;
      seen |= bit;
      if (<u32>quality(next) > worst) worst = <u32>quality(next);
      last = next;
    }
    if (!array || rec == first) writer.open(array || p >= <u32>pointCount ? NO_POINT : p);
    let at = writer.ensure(need);
    const start = at;
    if (array) store<u8>(at++, rec == first ? 0x5b : 0x2c); // [ or ,
    at = putObject(at, rec, last, worst);
    rec = last + SAMPLE_SIZE;
    if (array && rec >= end) store<u8>(at++, 0x5d); // ]
    writer.advance(<i32>(at - start));
    if (!array || rec >= end) writer.close();
  }
  return true;
}

/** Where the output is and how long: the data call's result. */
export function finish(): i32 {
  return writer.finish();
}
