// resample: wall-clock-aligned buckets per point; when a bucket closes, one sample per aggregate.
// The rules (what enters a bucket, when it closes, late data, output order) are in plugin.yaml and
// bucket-table.ts; this file sorts each input sample into "aggregate" or "pass through".
import {
  input, sampleCount, sampleAt, heapAt, heapBytes, ts, value, point, quality,
  OK, BAD_SETTINGS, SUSPECT,
} from "../sdk";
import { begin, copy, finish } from "./batch-out";
import { readPlan } from "./point-plan";
import { openTable, resampled, add, tick } from "./bucket-table";
import { counters, UNAGGREGATED } from "./counters";
import { snapshotTable, restoreTable } from "./table-state";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

export function wg_configure(size: i32): i32 {
  if (!readPlan(size)) return BAD_SETTINGS;
  openTable();
  return OK;
}

export function wg_process(size: i32): i32 {
  const batch = input();
  const n = sampleCount(batch);
  begin(n);
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const p = point(rec);
    // The u16 at 21 is type (low byte) and aggregate: 0 means a raw number.
    if (load<u16>(rec, 21) == 0 && resampled(p)) {
      const t = ts(rec);
      const v = value(rec);
      const q = quality(rec);
      // x - x is 0 for finite x, NaN for NaN and ±Infinity.
      if (q <= SUSPECT && v - v == 0 && t - t == 0) {
        add(p, t, v, q);
        continue;
      }
      counters.add(UNAGGREGATED, 1);
    }
    copy(rec);
  }
  return finish(heapAt(batch), heapBytes(batch));
}

export function wg_tick(now: f64): i32 {
  begin(0);
  tick(now);
  return finish(0, 0);
}

/** ABI 1.3: the open buckets and the clock, for a new version (table-state.ts). */
export function wg_snapshot(): i32 {
  return snapshotTable();
}

export function wg_restore(size: i32): i32 {
  return restoreTable(size);
}

export function wg_stats(): i32 {
  return counters.write();
}
