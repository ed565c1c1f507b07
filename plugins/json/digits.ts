// Decimal digits of unsigned integers, written straight into the output: the building block of numbers
// and timestamps. The power tables are static memory filled once at module start (no array headers, no
// bounds checks: indexes are in range where they are used).

const P10 = memory.data(20 * 8); // 10^0..10^19 (u64)
const P5 = memory.data(28 * 8); // 5^0..5^27 (u64; 5^27 < 2^63)

{
  let p10: u64 = 1;
  let p5: u64 = 1;
  for (let i: usize = 0; i < 28 * 8; i += 8) {
    if (i < 20 * 8) store<u64>(P10 + i, p10);
    store<u64>(P5 + i, p5);
    p10 *= 10;
    p5 *= 5;
  }
}

@inline export function pow10(i: i32): u64 {
  return load<u64>(P10 + (<usize>i << 3));
}

@inline export function pow5(i: i32): u64 {
  return load<u64>(P5 + (<usize>i << 3));
}

/** Number of decimal digits of `v` (1 for 0). */
export function digitCount(v: u64): i32 {
  let n = 1;
  while (n < 20 && v >= pow10(n)) n++;
  return n;
}

/** Writes the low `n` decimal digits of `v`, zero-padded, at `at`; returns the address after them. */
export function putDigits(at: usize, v: u64, n: i32): usize {
  const end = at + <usize>n;
  for (let q = end; q > at; v /= 10) store<u8>(--q, <u8>(48 + v % 10));
  return end;
}

/** Writes `v` with as many digits as it has. */
export function putInt(at: usize, v: u64): usize {
  return putDigits(at, v, digitCount(v));
}
