// The bucket shape: one message per point and timestamp, gathering that point's aggregate samples
// (mean, min, max, first, last, count, sum) into one object with the aggregates as keys. A bucket is a
// run of consecutive aggregate samples of one point with one timestamp, each aggregate once: the way
// resample emits a closing bucket. Raw samples, and samples of points the settings do not know, are
// written alone, as in the sample shape.
import { sampleAt, point, aggregate, quality, ts, type, textLength, TYPE_TEXT, SAMPLE_SIZE } from "../sdk";
import { pointCount, objectBound } from "./fragments";
import { putBucket } from "./objects";
import { writer, reserve, emitSample } from "./emit";

/** Whether `rec` carries a known point's aggregate (mean..sum), so it can join a bucket. */
@inline function bucketed(rec: usize): bool {
  return <u32>aggregate(rec) - 1 < 7 && point(rec) < <u32>pointCount;
}

export function encodeBuckets(batch: usize, n: i32): void {
  const end = sampleAt(batch, n);
  for (let rec = sampleAt(batch, 0); rec < end; ) {
    if (!bucketed(rec)) {
      emitSample(rec);
      rec += SAMPLE_SIZE;
      continue;
    }
    // Extend the run while point and timestamp stay and each aggregate is new.
    let last = rec;
    let seen: u32 = 1 << aggregate(rec);
    let worst = quality(rec);
    let need = objectBound;
    for (;;) {
      if (type(last) == TYPE_TEXT) need += 6 * <i32>textLength(last);
      const next = last + SAMPLE_SIZE;
      if (next >= end || !bucketed(next) || point(next) != point(rec) || load<u64>(next) != load<u64>(rec)) break;
      const bit: u32 = 1 << aggregate(next);
      if (seen & bit) break;
      seen |= bit;
      if (quality(next) > worst) worst = quality(next);
      last = next;
    }
    writer.open(point(rec));
    const start = reserve(need);
    writer.advance(<i32>(putBucket(start, rec, last, worst) - start));
    writer.close();
    rec = last + SAMPLE_SIZE;
  }
}
