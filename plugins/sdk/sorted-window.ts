// The values of a rolling window kept in sorted order, for order statistics: the median in O(1), the
// median absolute deviation in n/2 steps, updates by binary search and a shift of the cells between. An 8-byte
// header inside the caller's per-point record, over storage the caller allocated at configure time.
// NaN must never be added (it has no place in the order).
//
// Header: u32 storage address, i32 count.

export const SORTED_HEADER: usize = 8;

/** Points the header at `storage` (room for the window's capacity in f64) and empties it. */
export function sortedInit(sorted: usize, storage: usize): void {
  store<u32>(sorted, <u32>storage, 0);
  store<i32>(sorted, 0, 4);
}

@inline export function sortedCount(sorted: usize): i32 { return load<i32>(sorted, 4); }
@inline export function sortedClear(sorted: usize): void { store<i32>(sorted, 0, 4); }

@inline function cell(base: usize, i: i32): usize { return base + (<usize>i << 3); }

// Element by element rather than memory.copy: V8 runs memory.copy as an out-of-line call that costs
// more than moving the few cells a typical update shifts.

/** Moves cells from..to-1 one place up (to from+1..to). */
@inline function shiftUp(base: usize, from: i32, to: i32): void {
  for (let k = to; k > from; k--) store<f64>(cell(base, k), load<f64>(cell(base, k - 1)));
}

/** Moves cells from+1..to one place down (to from..to-1). */
@inline function shiftDown(base: usize, from: i32, to: i32): void {
  for (let k = from; k < to; k++) store<f64>(cell(base, k), load<f64>(cell(base, k + 1)));
}

/** Adds `x`; the caller keeps the count below the capacity. */
export function sortedInsert(sorted: usize, x: f64): void {
  const base = <usize>load<u32>(sorted);
  const n = load<i32>(sorted, 4);
  const j = above(base, n, x);
  shiftUp(base, j, n);
  store<f64>(cell(base, j), x);
  store<i32>(sorted, n + 1, 4);
}

/** Removes one value equal to `out` (which must be held) and adds `x`, moving only what lies between. */
export function sortedReplace(sorted: usize, out: f64, x: f64): void {
  const base = <usize>load<u32>(sorted);
  const n = load<i32>(sorted, 4);
  const i = notBelow(base, n, out);
  let j = above(base, n, x);
  if (j > i) {
    // x belongs after out's cell: close the gap downwards; x lands just before j.
    j--;
    shiftDown(base, i, j);
  } else {
    shiftUp(base, j, i);
  }
  store<f64>(cell(base, j), x);
}

/** The middle value, or the mean of the two middle values for an even count (count > 0). */
export function sortedMedian(sorted: usize): f64 {
  const base = <usize>load<u32>(sorted);
  const n = load<i32>(sorted, 4);
  const hi = load<f64>(cell(base, n >> 1));
  return n & 1 ? hi : (load<f64>(cell(base, (n >> 1) - 1)) + hi) / 2;
}

/**
 * Median of |v − median| over the window, where `median` is what sortedMedian returned (same
 * even-count rule). The deviations of the values below the middle grow going down, those above grow
 * going up: two sorted runs, so the middle rank of their union is found by binary search on how many
 * come from the lower run, in O(log n).
 */
export function sortedMad(sorted: usize, median: f64): f64 {
  const base = <usize>load<u32>(sorted);
  const n = load<i32>(sorted, 4);
  const low = (n - 1) >> 1; // lower run: cells low, low-1, ..., 0
  const high = low + 1; // upper run: cells high, high+1, ..., n-1
  const lowCount = low + 1;
  const highCount = n - high;
  // Take `need` deviations, i from the lower run and need - i from the upper one, such that every
  // deviation taken is no larger than any left.
  const need = low + 1;
  let lo = need > highCount ? need - highCount : 0;
  let hi = need < lowCount ? need : lowCount;
  while (lo < hi) {
    const i = (lo + hi) >>> 1;
    const more = median - load<f64>(cell(base, low - i)) < load<f64>(cell(base, high + need - i - 1)) - median;
    lo = select<i32>(i + 1, lo, more);
    hi = select<i32>(hi, i, more);
  }
  const j = need - lo;
  const fromLow = lo > 0 ? median - load<f64>(cell(base, low - lo + 1)) : -Infinity;
  const fromHigh = j > 0 ? load<f64>(cell(base, high + j - 1)) - median : -Infinity;
  const a = max(fromLow, fromHigh); // rank low of the union
  if (n & 1) return a;
  const nextLow = lo < lowCount ? median - load<f64>(cell(base, low - lo)) : Infinity;
  const nextHigh = j < highCount ? load<f64>(cell(base, high + j)) - median : Infinity;
  return (a + min(nextLow, nextHigh)) / 2; // with rank low + 1
}

/** First index among the `n` sorted values at `base` whose value is greater than `x`. */
function above(base: usize, n: i32, x: f64): i32 {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const up = load<f64>(cell(base, mid)) > x;
    hi = select<i32>(mid, hi, up);
    lo = select<i32>(lo, mid + 1, up);
  }
  return lo;
}

/** First index among the `n` sorted values at `base` whose value is not below `x`. */
function notBelow(base: usize, n: i32, x: f64): i32 {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const below = load<f64>(cell(base, mid)) < x;
    lo = select<i32>(mid + 1, lo, below);
    hi = select<i32>(hi, mid, below);
  }
  return lo;
}
