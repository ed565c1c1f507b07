// outlier: drops (or marks suspect) a sample that lies too far from its point's recent history, judged
// per point by the rolling mean and standard deviation ("sigma") or the rolling median and MAD
// ("hampel") of the last `window` accepted samples. Outliers never enter the window, so a burst of
// spikes cannot widen the band that judges it; `reset_after` consecutive outliers are taken as the
// process having really moved, and the window starts again from there.
import {
  input, setResult, sampleCount, heapBytes, sampleAt, value, point, quality, type, aggregate, setQuality,
  OK, BAD_SETTINGS, BAD_INPUT, UNCHANGED, GOOD, SUSPECT, TYPE_NUMBER, AGG_RAW, BATCH_HEADER, SAMPLE_SIZE,
} from "../sdk";
import { moveSample } from "../sdk/sample-move";
import { Counters } from "../sdk/counters";
import { ringCount, ringCapacity, ringOldest, ringNewest, ringPush, ringCell, ringClear } from "../sdk/ring-window";
import { sortedInsert, sortedReplace, sortedMedian, sortedMad, sortedClear } from "../sdk/sorted-window";
import {
  readPlan, RING, SORTED, RUN, STREAK, MIN_SAMPLES, RESET_AFTER, THRESHOLD, MIN_DEVIATION, MEAN, M2,
  METHOD, ACTION, STRIDE, METHOD_SIGMA, METHOD_HAMPEL, METHOD_NONE, ACTION_SUSPECT,
} from "./outlier-plan";
import { snapshotWindows, restoreWindows } from "./outlier-state";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

/** MAD × 1.4826 estimates σ for normally distributed noise (1 / Φ⁻¹(3/4)). */
const MAD_TO_SIGMA: f64 = 1.4826;

const counters = new Counters("rejected suspect resets");
const REJECTED = 0;
const SUSPECTED = 1;
const RESETS = 2;

let records: usize = 0;
let points: u32 = 0;

export function wg_configure(size: i32): i32 {
  const plan = readPlan(size);
  if (plan === null) return BAD_SETTINGS;
  records = plan.records;
  points = <u32>plan.count;
  return OK;
}

/** ABI 1.3: every point's window, for a new version (outlier-state.ts). */
export function wg_snapshot(): i32 {
  return snapshotWindows(records, points);
}

export function wg_restore(size: i32): i32 {
  return restoreWindows(size, records, points);
}

export function wg_stats(): i32 {
  return counters.write();
}

// What happens to one sample.
const KEEP = 0;
const DROP = 1;
const MARK = 2;

export function wg_process(size: i32): i32 {
  const batch = input();
  const n = sampleCount(batch);
  const heap = heapBytes(batch);
  if (<i64>BATCH_HEADER + <i64>n * SAMPLE_SIZE + <i64>heap > <i64>size) return BAD_INPUT;
  let kept = 0;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const verdict = judge(rec);
    if (verdict == DROP) {
      changed = true;
      continue;
    }
    if (verdict == MARK) {
      setQuality(rec, SUSPECT);
      changed = true;
    }
    if (kept != i) moveSample(sampleAt(batch, kept), rec);
    kept++;
  }
  if (!changed) return UNCHANGED;
  setResult(batch);
  if (kept == n) return size;
  // Close the gap the dropped samples left; text offsets are relative to the heap, so they still hold.
  memory.copy(sampleAt(batch, kept), sampleAt(batch, n), <usize>heap);
  store<u32>(batch, <u32>kept);
  return BATCH_HEADER + kept * SAMPLE_SIZE + heap;
}

@inline function judge(rec: usize): i32 {
  const id = point(rec);
  // Only good raw numbers are judged; everything else passes untouched and stays out of the windows.
  if (id >= points || type(rec) != TYPE_NUMBER || quality(rec) != GOOD || aggregate(rec) != AGG_RAW) return KEEP;
  const r = records + <usize>id * STRIDE;
  const method = load<u8>(r, METHOD);
  const x = value(rec);
  if (method == METHOD_NONE || !isFinite(x)) return KEEP;
  const held = ringCount(r + RING);
  if (held >= load<i32>(r, MIN_SAMPLES)) {
    let center: f64;
    let scale: f64;
    if (method == METHOD_SIGMA) {
      const flat = load<i32>(r, RUN) >= held;
      center = flat ? ringNewest(r + RING) : load<f64>(r, MEAN);
      scale = flat ? 0 : Math.sqrt(load<f64>(r, M2) / <f64>(held - 1));
    } else {
      center = sortedMedian(r + SORTED);
      scale = MAD_TO_SIGMA * sortedMad(r + SORTED, center);
    }
    let limit = load<f64>(r, THRESHOLD) * scale;
    const floor = load<f64>(r, MIN_DEVIATION);
    if (limit < floor) limit = floor;
    // limit 0: a flat window and no floor say nothing about how far this signal may move.
    if (limit > 0 && Math.abs(x - center) > limit) {
      const streak = load<i32>(r, STREAK) + 1;
      const resetAfter = load<i32>(r, RESET_AFTER);
      if (resetAfter == 0 || streak < resetAfter) {
        store<i32>(r, streak, STREAK);
        if (load<u8>(r, ACTION) == ACTION_SUSPECT) {
          counters.add(SUSPECTED, 1);
          return MARK;
        }
        counters.add(REJECTED, 1);
        return DROP;
      }
      restart(r);
      counters.add(RESETS, 1);
    }
  }
  store<i32>(r, 0, STREAK);
  if (method == METHOD_HAMPEL) acceptSorted(r, x); else acceptMoments(r, x);
  return KEEP;
}

/** hampel: adds an accepted value to the point's window and its sorted copy. */
function acceptSorted(r: usize, x: f64): void {
  const ring = r + RING;
  if (ringCount(ring) == ringCapacity(ring)) sortedReplace(r + SORTED, ringOldest(ring), x);
  else sortedInsert(r + SORTED, x);
  ringPush(ring, x);
}

/** sigma: adds an accepted value to the point's window, its running mean and m2 (Welford's update). */
function acceptMoments(r: usize, x: f64): void {
  const ring = r + RING;
  const held = ringCount(ring);
  const full = held == ringCapacity(ring);
  const run = load<i32>(r, RUN);
  store<i32>(r, held > 0 && x == ringNewest(ring) ? (run < ringCapacity(ring) ? run + 1 : run) : 1, RUN);
  const before = load<f64>(r, MEAN);
  if (full) {
    // The evicted value y leaves as x enters; the count stays.
    const y = ringOldest(ring);
    const after = before + (x - y) / <f64>held;
    const m2 = load<f64>(r, M2) + (x - y) * (x - after + y - before);
    store<f64>(r, after, MEAN);
    store<f64>(r, m2 > 0 ? m2 : 0, M2);
  } else {
    const d = x - before;
    const after = before + d / <f64>(held + 1);
    store<f64>(r, after, MEAN);
    store<f64>(r, load<f64>(r, M2) + d * (x - after), M2);
  }
  if (ringPush(ring, x)) refresh(r);
}

/** Recomputes mean and m2 from the (full) window once per turn of the ring, so rounding cannot accumulate. */
function refresh(r: usize): void {
  const ring = r + RING;
  const n = ringCount(ring);
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) sum += ringCell(ring, i);
  const mean = sum / <f64>n;
  let squares: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = ringCell(ring, i) - mean;
    squares += d * d;
  }
  store<f64>(r, mean, MEAN);
  store<f64>(r, squares, M2);
}

/** Empties the point's window: it starts again from the sample that caused the restart. */
function restart(r: usize): void {
  ringClear(r + RING);
  sortedClear(r + SORTED);
  store<f64>(r, 0, MEAN);
  store<f64>(r, 0, M2);
  store<i32>(r, 0, RUN);
}
