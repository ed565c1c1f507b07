// A rolling window of the last `capacity` f64 values, as a 16-byte header that lives inside the
// caller's own per-point record, over storage the caller allocated at configure time (the stub runtime
// never frees, so nothing here allocates). Raw addresses keep the hot path to a few loads.
//
// Header: u32 storage address, i32 capacity, i32 head (index of the next write), i32 count.

export const RING_HEADER: usize = 16;

/** Points the header at `storage` (room for `capacity` f64) and empties it. */
export function ringInit(ring: usize, storage: usize, capacity: i32): void {
  store<u32>(ring, <u32>storage, 0);
  store<i32>(ring, capacity, 4);
  store<i32>(ring, 0, 8);
  store<i32>(ring, 0, 12);
}

@inline export function ringCapacity(ring: usize): i32 { return load<i32>(ring, 4); }
/** Values held, at most the capacity. */
@inline export function ringCount(ring: usize): i32 { return load<i32>(ring, 12); }

/** The value the next push overwrites once the ring is full (the oldest one). */
@inline export function ringOldest(ring: usize): f64 {
  return load<f64>(<usize>load<u32>(ring) + (<usize>load<i32>(ring, 8) << 3));
}

/** The value pushed last; only meaningful when the ring holds any. */
@inline export function ringNewest(ring: usize): f64 {
  const h = load<i32>(ring, 8);
  return load<f64>(<usize>load<u32>(ring) + (<usize>((h > 0 ? h : load<i32>(ring, 4)) - 1) << 3));
}

/**
 * Appends `x`, overwriting the oldest value when full. Returns true when this write took the last
 * cell, i.e. once per turn of the ring: a cheap moment for the caller to refresh running sums.
 */
@inline export function ringPush(ring: usize, x: f64): bool {
  const cap = load<i32>(ring, 4);
  const h = load<i32>(ring, 8);
  store<f64>(<usize>load<u32>(ring) + (<usize>h << 3), x);
  const n = load<i32>(ring, 12);
  if (n < cap) store<i32>(ring, n + 1, 12);
  const last = h + 1 == cap;
  store<i32>(ring, last ? 0 : h + 1, 8);
  return last;
}

/**
 * The value in cell `i`, 0 <= i < count, in storage order rather than age order: cheaper when order
 * does not matter (sums). The held values are always cells 0..count-1.
 */
@inline export function ringCell(ring: usize, i: i32): f64 {
  return load<f64>(<usize>load<u32>(ring) + (<usize>i << 3));
}

/** The `i`-th oldest value held, 0 <= i < count. */
@inline export function ringAt(ring: usize, i: i32): f64 {
  let k = load<i32>(ring, 8) - load<i32>(ring, 12) + i;
  if (k < 0) k += load<i32>(ring, 4);
  return load<f64>(<usize>load<u32>(ring) + (<usize>k << 3));
}

/** Empties the ring. */
@inline export function ringClear(ring: usize): void {
  store<i32>(ring, 0, 8);
  store<i32>(ring, 0, 12);
}
