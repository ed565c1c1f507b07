// The little 128-bit integer arithmetic exact number formatting needs: a 64 x 64 -> 128 product and a
// right shift. WebAssembly has no wide multiply, so the product is built from 32-bit halves.

/** High half of the last `mul128` result. */
export let hi128: u64 = 0;

/** Returns the low 64 bits of a × b; the high 64 bits are left in `hi128`. */
export function mul128(a: u64, b: u64): u64 {
  const a1 = a >> 32;
  const b1 = b >> 32;
  const a0 = a & 0xffffffff;
  const b0 = b & 0xffffffff;
  const low = a0 * b0;
  const cross1 = a0 * b1;
  const cross2 = a1 * b0;
  const mid = (low >> 32) + (cross1 & 0xffffffff) + (cross2 & 0xffffffff);
  hi128 = a1 * b1 + (cross1 >> 32) + (cross2 >> 32) + (mid >> 32);
  return (mid << 32) | (low & 0xffffffff);
}

/** (hi:lo) >> s, truncated to 64 bits, for 0 <= s <= 127 (hi must be 0 when s is 0). */
export function shr128(hi: u64, lo: u64, s: i32): u64 {
  return s >= 64 ? hi >> <u64>(s - 64) : (lo >> <u64>s) | (hi << <u64>(64 - s));
}
