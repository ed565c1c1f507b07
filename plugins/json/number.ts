// JSON numbers from doubles, written straight into the output.
//
// Full precision (decimals < 0): the shortest digits that parse back to the identical double (-0 is
// "-0"), found by the cheapest exact method that applies: integers below 2^64 print as they are; a
// value with at most 6 decimals is found by checking m / 10^d == x in doubles, which is exact because m
// and 10^d are exact doubles and IEEE division rounds correctly (the same test a parser's fast path
// relies on); anything else in [2^-33, 2^53) goes through `shortest` (exact 128-bit integers); the
// extremes through `bigDigits` (exact, 17 digits, so the few numbers there whose shortest form is
// shorter print longer than they must, but still parse back exactly).
//
// Fixed decimals (0..15): x·10^n is rounded half away from zero on x's exact binary value, like
// Number.prototype.toFixed: 2.675 is stored as 2.67499999999999982... and gives 2.67 with 2 decimals,
// 2.345 is stored as 2.34500000000000019... and gives 2.35; exact halves (2.5, 0.125) go away from zero.
// Where 10^-n is finer than x's own spacing, rounding changes nothing and x prints in full. -0 and
// results that round to zero print as 0.
//
// NaN and ±Infinity have no JSON form: they print as null.
import { pow10f, pow5, digitCount, putDigits, putInt } from "./digits";
import { shortestDigits, shortestExp } from "./shortest";
import { bigDigits, bigExp } from "./big-digits";
import { mul128, hi128, shr128 } from "./u128";

const TWO50: f64 = 1125899906842624;
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
  const a = abs(x);
  if (decimals >= 0 && a < TWO53 && a != Math.floor(a)) {
    if (a * pow10f(decimals) < TWO53) return putRounded(at, bits, decimals, x < 0);
  }
  if (<i64>bits < 0 && (decimals < 0 || a != 0)) store<u8>(at++, 0x2d); // '-'
  if (a < TWO64 && a == Math.floor(a)) return putDecimal(at, <u64>a, 0);
  const pos = bits & 0x7fffffffffffffff;
  if (a < TWO53) {
    for (let d = 1; d <= 6; d++) {
      const p = pow10f(d);
      const y = a * p;
      // Below 2^50, x's rounding interval is narrower than 1/4 at this scale: m is the one candidate.
      if (y >= TWO50) break;
      const m = Math.round(y);
      if (m / p == a) return putDecimal(at, <u64>m, -d);
    }
    if (pos >= 0x3de0000000000000) return putDecimal(at, shortestDigits(pos), shortestExp); // 2^-33
  }
  return putDecimal(at, bigDigits(pos), bigExp);
}

/** n-decimal rounding where the result has fewer than 16 digits; see the header. */
function putRounded(at: usize, bits: u64, n: i32, negative: bool): usize {
  const be = <i32>((bits >> 52) & 0x7ff);
  const e = (be > 0 ? be : 1) - 1075;
  const f = be > 0 ? (bits & 0xfffffffffffff) | 0x10000000000000 : bits & 0xfffffffffffff;
  // x·10^n = f·5^n·2^(n+e), and n+e < 0 because x is no integer and x·10^n < 2^53. Shifting one bit
  // less leaves the half in the last bit: adding it rounds half away from zero (we work on |x|).
  const lo = mul128(f, pow5(n));
  const s = -(n + e) - 1;
  const halves = shr128(hi128, lo, s < 100 ? s : 100);
  const m = (halves >> 1) + (halves & 1);
  if (m == 0) return putDecimal(at, 0, 0);
  if (negative) store<u8>(at++, 0x2d);
  return putDecimal(at, m, -n);
}

/**
 * Writes m·10^exp the way JavaScript prints numbers: plain from 1e-6 up to 1e21, else with an exponent
 * ("1.5e-7", "2e+21").
 */
export function putDecimal(at: usize, m: u64, exp: i32): usize {
  if (m == 0) {
    store<u8>(at, 0x30);
    return at + 1;
  }
  while (m % 10 == 0) {
    m /= 10;
    exp++;
  }
  const n = digitCount(m);
  let point = n + exp; // digits before the decimal point
  const e = point - 1;
  const scientific = point > 21 || point < -5;
  if (scientific) point = 1;
  if (point <= 0) {
    store<u16>(at, 0x2e30); // "0."
    at += 2;
    for (; point < 0; point++) store<u8>(at++, 0x30);
    return putDigits(at, m, n);
  }
  at = putDigits(at, m, n);
  if (point >= n) {
    for (; point > n; point--) store<u8>(at++, 0x30);
  } else {
    // Open a gap for the decimal point.
    const split = at - <usize>(n - point);
    memory.copy(split + 1, split, <usize>(n - point));
    store<u8>(split, 0x2e);
    at++;
  }
  if (!scientific) return at;
  store<u16>(at, e < 0 ? 0x2d65 : 0x2b65); // "e-" / "e+"
  return putInt(at + 2, <u64>(e < 0 ? -e : e));
}
