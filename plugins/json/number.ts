// JSON numbers from doubles, written straight into the output.
//
// Full precision (decimals < 0): the shortest digits that parse back to the identical double (-0 is
// "-0"), and the same text as JavaScript's String(x) where it can be exact cheaply: integers below 2^64
// print as they are (JavaScript rounds those above 2^53 to 17 digits; both parse back exactly),
// anything else in [2^-29, 2^53) goes through `shortest` (exact 128-bit integers), and the extremes
// through `bigDigits` (exact, 17 digits, so the few numbers there whose shortest form is shorter print
// longer than they must, but still parse back exactly).
//
// Fixed decimals (0..15): x·10^n is rounded half away from zero on x's exact binary value, like
// Number.prototype.toFixed: 2.675 is stored as 2.67499999999999982... and gives 2.67 with 2 decimals,
// 2.345 is stored as 2.34500000000000019... and gives 2.35; exact halves (2.5, 0.125) go away from zero.
// Where 10^-n is finer than x's own spacing, rounding changes nothing and x prints in full. -0 and
// results that round to zero print as 0.
//
// NaN and ±Infinity have no JSON form: they print as null.
import { pow10, digitCount, putDigits, putInt } from "./digits";
import { shortestDigits, shortestExp } from "./shortest";
import { bigDigits, bigExp } from "./big-digits";

const TWO53: f64 = 9007199254740992;
const TWO64: f64 = 18446744073709551616.0;

@inline function putNull(at: usize): usize {
  store<u32>(at, 0x6c6c756e); // "null"
  return at + 4;
}

/** Writes x as a JSON number (or null); `decimals` < 0 means full precision. */
export function putNumber(at: usize, x: f64, decimals: i32): usize {
  if (x - x != 0) return putNull(at); // NaN or ±Infinity
  const bits = reinterpret<u64>(x);
  const pos = bits & 0x7fffffffffffffff;
  const a = abs(x);
  const whole = a == Math.floor(a);
  let m: u64;
  let exp = 0;
  if (decimals >= 0 && !whole && a * <f64>pow10(decimals) < TWO53) {
    // x·10^n < 2^53 and x no integer: the rounded result has fewer than 16 digits.
    m = shortestDigits(pos, decimals);
    exp = shortestExp;
  } else if (whole && a < TWO64) {
    m = <u64>a;
  } else if (pos >= 0x3e20000000000000 && a < TWO53) {
    m = shortestDigits(pos, -1); // from 2^-29
    exp = shortestExp;
  } else {
    m = bigDigits(pos);
    exp = bigExp;
  }
  // With fixed decimals, -0 and what rounds to zero print as 0.
  if (<i64>bits < 0 && (decimals < 0 || m != 0)) store<u8>(at++, 0x2d);
  return putDecimal(at, m, exp);
}

const scratch = memory.data(24);

/**
 * Writes m·10^exp the way JavaScript prints numbers: plain from 1e-6 up to 1e21, else with an exponent
 * ("1.5e-7", "2e+21").
 */
export function putDecimal(at: usize, m: u64, exp: i32): usize {
  if (m == 0) exp = 0;
  while (m != 0 && m % 10 == 0) {
    m /= 10;
    exp++;
  }
  const n = digitCount(m);
  putDigits(scratch, m, n);
  let point = n + exp; // digits before the decimal point: the value is 0.DIGITS × 10^point
  const e = point - 1;
  const scientific = point > 21 || point < -5;
  if (scientific) point = 1;
  // Digit i counts from the first significant one; positions outside the digits print 0.
  const stop = point > n ? point : n;
  for (let i = point > 0 ? 0 : point - 1; i < stop; i++) {
    if (i == point) store<u8>(at++, 0x2e);
    store<u8>(at++, <u32>i < <u32>n ? load<u8>(scratch + <usize>i) : 0x30);
  }
  if (!scientific) return at;
  store<u16>(at, e < 0 ? 0x2d65 : 0x2b65); // "e-" / "e+"
  return putInt(at + 2, <u64>(e < 0 ? -e : e));
}
