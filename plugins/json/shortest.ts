// Shortest round-trip digits of a double between 2^-29 and 2^53, computed exactly with integers.
//
// x = f·2^e. With q decimal places, V = x·10^q = f·5^q·2^(q+e): f·5^q is an exact 128-bit product
// (q stays within 26, hence the 2^-29 floor: 2·5^26 < 2^63), and the power of two is a shift. q is
// chosen so V has 17 or 18 digits, more than any double needs. The integers C whose C·10^-q parse
// back to x form a range [lo, hi] (the halfway points to the neighbouring doubles, exact, with IEEE's
// round-half-even deciding the ends). The answer is the multiple of the largest power of ten inside that
// range nearest to V, a tie to the even one: the digits JavaScript's Number::toString gives.
import { pow10, pow5 } from "./digits";
import { split, significand, exponent } from "./binary64";
import { mul128, hi128, shr128 } from "./u128";

/** Decimal exponent of the last `shortestDigits` result: x = mantissa · 10^shortestExp. */
export let shortestExp: i32 = 0;

/**
 * The digits of the double with these bits (sign ignored), as an integer m with x ≈ m·10^shortestExp:
 * with `decimals` >= 0, x rounded half away from zero to that many decimals (x·10^decimals < 2^53 and
 * x no integer); otherwise the shortest that parse back to x, for x in [2^-29, 2^53) and no integer.
 */
export function shortestDigits(bits: u64, decimals: i32): u64 {
  split(bits);
  const f = significand;
  const e = exponent;
  // floor(log10(2^(e+52))): the decimal exponent of x, or one less. Either way V gets 17-18 digits.
  const k = ((e + 52) * 78913) >> 18;
  const q = decimals >= 0 ? decimals : 17 - k;
  const five = pow5(q);
  const pl = mul128(f, five);
  const ph = hi128;
  // Scaled by 2^sh, so that the halfway points are integers too: W = V·2^sh = 4·f·5^q, the upper
  // halfway point is W + 2·5^q, the lower one W - 2·5^q, or W - 5^q where x is a power of two (its
  // lower neighbour is closer). Only the fraction bits of W (F, below 2^60) meet the offsets.
  const sh = 2 - q - e; // 1..57 over the window; more for decimals of tiny numbers
  const wh = (ph << 2) | (pl >> 62);
  const wl = pl << 2;
  const halves = shr128(wh, wl, min(sh - 1, 127)); // V in halves: the last bit says "fraction >= 1/2"
  const v = halves >> 1;
  if (decimals >= 0) {
    // Adding the half bit rounds half away from zero (the sign is written apart).
    shortestExp = -decimals;
    return v + (halves & 1);
  }
  const mask: u64 = (<u64>1 << <u64>sh) - 1;
  const fraction = <i64>(wl & mask);
  const odd = <i64>(f & 1);
  const up = <i64>(five << 1);
  const above = fraction + up;
  // The halfway point itself rounds away from an odd x, so it is left out then.
  const hi = v + <u64>(above >> sh) - <u64>((above & mask) == 0 ? odd : 0);
  const below = fraction - (f == 0x10000000000000 ? up >> 1 : up);
  const lo = v + <u64>((below + <i64>mask) >> sh) + <u64>((below & mask) == 0 ? odd : 0);

  let j = 0;
  let a = hi;
  let b = lo;
  while (true) {
    const na = a / 10;
    const nb = (b + 9) / 10;
    if (na < nb) break;
    a = na;
    b = nb;
    j++;
  }
  const unit = pow10(j);
  let m = v / unit;
  const rem = v - m * unit;
  // Nearest to V, a tie to the even one (as JavaScript's Number::toString chooses).
  const twice = (rem << 1) + (halves & 1);
  if (twice > unit || (twice == unit && ((wl & (mask >> 1)) != 0 || (m & 1) != 0))) m++;
  if (m < b) m = b;
  if (m > a) m = a;
  shortestExp = j - q;
  return m;
}
