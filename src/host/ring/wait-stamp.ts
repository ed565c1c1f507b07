/**
 * How long a record waited in a ring, from its commit to its reading: the stage figures of the
 * pipeline (docs/metrics.md, wasmgate_pipeline_stage_seconds). The writer and the reader are on
 * different threads, so the clock is absolute (`performance.timeOrigin + performance.now()`, which
 * Node derives from one monotonic source for every thread of a process) and kept in microseconds
 * as a wrapping u32 so that it fits one atomic Int32 slot of the header.
 */

/** Now, in microseconds, wrapped to 32 bits (an int32 bit pattern). */
export function stampNow(): number {
  // ToInt32 of a number above 2^32 takes it modulo 2^32: the wrap is exact.
  return Math.round((performance.timeOrigin + performance.now()) * 1000) | 0;
}

/** Milliseconds from `stamp` to now; right while the gap is under 2^31 µs (35 minutes). */
export function msSince(stamp: number): number {
  return ((stampNow() - stamp) >>> 0) / 1000;
}
