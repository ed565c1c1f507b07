// The open buckets of every point and the rule that closes them.
//
// A bucket of point p is [k·bucket, (k+1)·bucket) in epoch ms. Each point has a clock, its horizon:
// the newest of the timestamps of its samples and the `now` of the last wg_tick. A bucket closes (its
// aggregates are emitted and it is forgotten) as soon as the horizon reaches its end + grace, so late
// data is accepted for `grace` ms in data time as well as in wall time; with grace 0 a bucket closes
// at the first sample of a later bucket. Closed buckets form a prefix of the point's buckets, so a
// sample whose bucket end + grace is not past the horizon has an open (or fresh) bucket, and any other
// sample is late: dropped and counted.
//
// Buckets that can be open at once lie in ((h - grace)/bucket - 1, h/bucket], so a point gets
// 1 + ceil(grace / bucket) slots, at most MAX_OPEN. Only when that cap bites does a bucket close
// early (the oldest, counted as `early`), or does a sample older than every open bucket count as late.
//
// A step of the wall clock (clock-step.ts) would otherwise stall a point: after a step back every
// sample is late until the clock is back where it was, for as long as the step. So at a step every
// open bucket of every point is flushed as at shutdown, and the table starts again as at configure:
// the next samples open buckets of the new time.
import { GOOD, SUSPECT } from "../sdk";
import { push } from "./batch-out";
import { counters, LATE, EARLY, CLOCK_STEPS } from "./counters";
import { CLOCK_STEP, tickStep, shiftLastTick, reportStep } from "./clock-step";

const MAX_OPEN: f64 = 8;

// A point's record: 64 bytes at these offsets, one block for all points.
export const SIZE: usize = 0; // f64 bucket length, ms
export const GRACE: usize = 8; // f64 ms
export const HORIZON: usize = 16; // f64
export const CLOSE_AT: usize = 24; // f64 smallest end + grace of the open buckets: the horizon that closes one; +Inf if none
const HOT_START: usize = 32; // f64 [HOT_START, HOT_END): bucket of the last sample, so in-order samples skip the search
const HOT_END: usize = 40; // f64
const HOT_SLOT: usize = 48; // u32 address of that bucket's slot
export const SLOTS: usize = 52; // u32 address of the point's first slot
export const SLOTS_END: usize = 56; // u32 address past its last slot
export const AGGREGATES: usize = 60; // u32 codes to emit, four bits each, first in the low bits; 0: not resampled
export const NEWEST: usize = 64; // f64 newest timestamp among the point's samples (the horizon without ticks)
const POINT_BYTES: usize = 72;

// A slot: twelve f64. COUNT 0 means the slot is free.
const K: usize = 0; // bucket index
export const COUNT: usize = 8;
const SUM: usize = 16; // Neumaier: SUM / SCALE + COMP is the sum, COMP holds (unscaled) what rounding took from SUM;
const COMP: usize = 24; // when the bucket closes, SUM becomes the sum and COMP the mean
const MIN: usize = 32;
const MAX: usize = 40;
const FIRST: usize = 48;
const FIRST_TS: usize = 56;
const LAST: usize = 64;
const LAST_TS: usize = 72;
const SUSPECTS: usize = 80; // 1 once a suspect sample entered
// 1, or 2^-64 once the running sum has overflowed: values are then added scaled, so the sum stays
// finite and its compensation never meets Infinity - Infinity (which is NaN). COMP stays unscaled:
// a value below 2^-1010 that scaling would round away (all of 1e-305, most bits of 1e-300) goes
// there whole, so [MAX, MAX, -MAX, -MAX, 1e-305] sums to 1e-305, not 0.
const SCALE: usize = 88;
export const SLOT_BYTES: usize = 96;
const DOWN: f64 = 5.421010862427522e-20; // 2^-64: a bucket would need 2^64 samples to overflow again

// Where each aggregate (by ABI code: -, mean, min, max, first, last, count, sum) is in a closed slot.
const AGGREGATE_FIELD = memory.data<u8>([0, <u8>COMP, <u8>MIN, <u8>MAX, <u8>FIRST, <u8>LAST, <u8>COUNT, <u8>SUM]);

let points: usize = 0;
let pointCount: u32 = 0;
/** Emitted samples carry the bucket's end instead of its start. */
let stampEnd = false;

function zeroed(bytes: usize): usize {
  const at = heap.alloc(bytes);
  memory.fill(at, 0, bytes);
  return at;
}

@inline function recordOf(p: u32): usize {
  return points + <usize>p * POINT_BYTES;
}

/** How many points the table has (a swap's state covers them all). */
export function pointCountOf(): u32 {
  return pointCount;
}

/** The record of point `p` (table-state.ts reads and writes its fields). */
export function recordAt(p: u32): usize {
  return recordOf(p);
}

/** Makes room for `n` points, none resampled yet; then `plan` each and `open`. */
export function createTable(n: i32, endStamps: bool): void {
  pointCount = <u32>n;
  points = zeroed(<usize>n * POINT_BYTES);
  stampEnd = endStamps;
}

/** Sets what point `p` does. */
export function plan(p: i32, bucket: f64, grace: f64, aggregates: u32): void {
  const r = recordOf(p);
  store<f64>(r, bucket, SIZE);
  store<f64>(r, grace, GRACE);
  store<u32>(r, aggregates, AGGREGATES);
}

/** Point `p` is resampled (else its samples pass through). */
@inline export function resampled(p: u32): bool {
  return p < pointCount && load<u32>(recordOf(p), AGGREGATES) != 0;
}

/** Allocates the slots the plans need and starts every point with nothing seen. */
export function openTable(): void {
  for (let p: u32 = 0; p < pointCount; p++) {
    const r = recordOf(p);
    const bytes = <usize>slotsOf(r) * SLOT_BYTES;
    const s = zeroed(bytes);
    store<u32>(r, s, SLOTS);
    store<u32>(r, s + bytes, SLOTS_END);
    restartPoint(r);
  }
}

/** The point at `r` as at configure: nothing seen, nothing open. */
function restartPoint(r: usize): void {
  store<f64>(r, -Infinity, HORIZON);
  store<f64>(r, -Infinity, NEWEST);
  store<f64>(r, Infinity, CLOSE_AT);
  forgetHot(r);
}

function slotsOf(r: usize): f64 {
  return load<u32>(r, AGGREGATES) == 0 ? 0 : min(1 + Math.ceil(load<f64>(r, GRACE) / load<f64>(r, SIZE)), MAX_OPEN);
}

/** Takes a good or suspect sample with finite `t` and `v` of a resampled point. */
@inline export function add(p: u32, t: f64, v: f64, q: u8): void {
  const r = recordOf(p);
  const newest = load<f64>(r, NEWEST);
  if (t < newest - load<f64>(r, GRACE) - CLOCK_STEP) {
    const step = t - newest;
    shiftLastTick(step);
    clockStepped(step);
  }
  if (t > load<f64>(r, NEWEST)) store<f64>(r, t, NEWEST);
  if (t > load<f64>(r, HORIZON)) {
    store<f64>(r, t, HORIZON);
    if (t >= load<f64>(r, CLOSE_AT)) closeDue(p, r);
  }
  if (t >= load<f64>(r, HOT_START) && t < load<f64>(r, HOT_END)) accumulate(load<u32>(r, HOT_SLOT), t, v, q);
  else place(p, r, t, v, q);
}

/** Moves every point's horizon to `now`, closing what that makes due; +Infinity closes everything. */
export function tick(now: f64): void {
  const step = tickStep(now);
  if (step != 0) clockStepped(step);
  for (let p: u32 = 0; p < pointCount; p++) {
    const r = recordOf(p);
    if (now > load<f64>(r, HORIZON)) {
      store<f64>(r, now, HORIZON);
      if (now >= load<f64>(r, CLOSE_AT)) closeDue(p, r);
    }
  }
}

/** After a step of the clock: flushes every open bucket as at shutdown, then restarts every point. */
function clockStepped(step: f64): void {
  counters.add(CLOCK_STEPS, 1);
  reportStep(step, "open buckets flushed as at shutdown; buckets start again from the new time");
  for (let p: u32 = 0; p < pointCount; p++) {
    const r = recordOf(p);
    store<f64>(r, Infinity, HORIZON);
    closeDue(p, r);
    restartPoint(r);
  }
}

function place(p: u32, r: usize, t: f64, v: f64, q: u8): void {
  const size = load<f64>(r, SIZE);
  const grace = load<f64>(r, GRACE);
  // Exact for whole-ms sizes and |t| < 2^53: a double t below a boundary k·size is at least ulp(t)
  // below it, which keeps t / size more than half an ulp(k) below k, so the quotient never rounds
  // up to k; and k·size is exact.
  const k = Math.floor(t / size);
  const start = k * size;
  const end = start + size;
  if (end + grace <= load<f64>(r, HORIZON)) return counters.add(LATE, 1);
  let slot: usize = 0;
  let free: usize = 0;
  for (let s = <usize>load<u32>(r, SLOTS), last = <usize>load<u32>(r, SLOTS_END); s < last; s += SLOT_BYTES) {
    if (load<f64>(s, COUNT) == 0) {
      if (free == 0) free = s;
    } else if (load<f64>(s, K) == k) {
      slot = s;
      break;
    }
  }
  if (slot == 0) {
    if (free == 0) {
      const oldest = oldestSlot(r);
      const oldestK = load<f64>(oldest, K);
      if (k < oldestK) return counters.add(LATE, 1);
      counters.add(EARLY, 1);
      store<f64>(r, oldestK * size + size + grace, HORIZON);
      closeDue(p, r);
      free = oldest;
    }
    slot = free;
    openSlot(slot, k);
    store<f64>(r, min(load<f64>(r, CLOSE_AT), end + grace), CLOSE_AT);
  }
  accumulate(slot, t, v, q);
  store<u32>(r, slot, HOT_SLOT);
  store<f64>(r, start, HOT_START);
  store<f64>(r, end, HOT_END);
}

/** Emits and frees, oldest first, every open bucket of `p` whose end + grace the horizon has reached. */
function closeDue(p: u32, r: usize): void {
  const size = load<f64>(r, SIZE);
  while (true) {
    const slot = oldestSlot(r);
    if (slot == 0) {
      store<f64>(r, Infinity, CLOSE_AT);
      return;
    }
    const start = load<f64>(slot, K) * size;
    const due = start + size + load<f64>(r, GRACE);
    if (due > load<f64>(r, HORIZON)) {
      store<f64>(r, due, CLOSE_AT);
      return;
    }
    // Scaled back after the mean's division: a sum beyond the doubles is ±Infinity (IEEE overflow),
    // the mean of finite values always lies between min and max, so it stays finite.
    // Past the doubles (SUM / scale overflows) the scaled sum, rounded once, decides, and the mean is
    // taken before scaling back. With SCALE 1 both are Neumaier's (SUM + COMP) and its mean.
    const scale = load<f64>(slot, SCALE);
    const scaled = load<f64>(slot, SUM) + load<f64>(slot, COMP) * scale;
    const count = load<f64>(slot, COUNT);
    let sum = load<f64>(slot, SUM) / scale + load<f64>(slot, COMP);
    const finite = abs(sum) < Infinity;
    if (!finite) sum = scaled / scale;
    store<f64>(slot, sum, SUM);
    store<f64>(slot, finite ? sum / count : scaled / count / scale, COMP);
    const t = stampEnd ? start + size : start;
    const q = load<f64>(slot, SUSPECTS) != 0 ? SUSPECT : GOOD;
    for (let list = load<u32>(r, AGGREGATES); list != 0; list >>= 4) {
      const code = list & 15;
      push(t, load<f64>(slot + <usize>load<u8>(AGGREGATE_FIELD + code)), p, q, <u8>code);
    }
    store<f64>(slot, 0, COUNT);
    forgetHot(r); // maybe a newer bucket: the next sample finds it again
  }
}

/** Makes [HOT_START, HOT_END) empty. */
export function forgetHot(r: usize): void {
  store<f64>(r, -Infinity, HOT_END);
}

/** The open slot of the point at `r` with the smallest bucket index, or 0. */
function oldestSlot(r: usize): usize {
  let found: usize = 0;
  let foundK = Infinity;
  for (let s = <usize>load<u32>(r, SLOTS), last = <usize>load<u32>(r, SLOTS_END); s < last; s += SLOT_BYTES) {
    if (load<f64>(s, COUNT) != 0 && load<f64>(s, K) < foundK) {
      found = s;
      foundK = load<f64>(s, K);
    }
  }
  return found;
}

/** Opens bucket `k` in a free slot: every aggregate starts at the value that the first sample replaces. */
function openSlot(slot: usize, k: f64): void {
  store<f64>(slot, k, K);
  store<f64>(slot, -0.0, SUM); // -0 + v is v for every v, -0 included
  store<f64>(slot, 0, COMP);
  store<f64>(slot, Infinity, MIN);
  store<f64>(slot, -Infinity, MAX);
  store<f64>(slot, Infinity, FIRST_TS);
  store<f64>(slot, -Infinity, LAST_TS);
  store<f64>(slot, 0, SUSPECTS);
  store<f64>(slot, 1, SCALE);
}

function accumulate(slot: usize, t: f64, v: f64, q: u8): void {
  store<f64>(slot, load<f64>(slot, COUNT) + 1, COUNT);
  // Neumaier's variant of Kahan summation: the compensation also survives an addend larger than the sum.
  let scale = load<f64>(slot, SCALE);
  let sum = load<f64>(slot, SUM);
  let x = v * scale;
  let s = sum + x;
  if (s - s != 0) {
    // Two finite addends overflowed: from now on this bucket sums scaled values (exact, by a power of 2).
    scale *= DOWN;
    store<f64>(slot, scale, SCALE);
    sum *= DOWN;
    x = v * scale;
    s = sum + x;
  }
  // What rounding took from s, and what scaling took from v (0 unless v·scale fell below the
  // subnormals), both exact and both unscaled: dividing by a power of 2 is exact here.
  const lost = v - x / scale;
  store<f64>(slot, load<f64>(slot, COMP) + ((abs(sum) >= abs(x) ? sum - s + x : x - s + sum) / scale + lost), COMP);
  store<f64>(slot, s, SUM);
  store<f64>(slot, min(load<f64>(slot, MIN), v), MIN);
  store<f64>(slot, max(load<f64>(slot, MAX), v), MAX);
  // By timestamp, not arrival; on equal timestamps first keeps the earlier arrival, last takes the later.
  if (t < load<f64>(slot, FIRST_TS)) {
    store<f64>(slot, v, FIRST);
    store<f64>(slot, t, FIRST_TS);
  }
  if (t >= load<f64>(slot, LAST_TS)) {
    store<f64>(slot, v, LAST);
    store<f64>(slot, t, LAST_TS);
  }
  if (q != GOOD) store<f64>(slot, 1, SUSPECTS);
}
