// Shortest round-trip digits of a double between 2^-33 and 2^53, computed exactly with 128-bit integers.
//
// x = f·2^e. With q decimal places, V = x·10^q = f·5^q·2^(q+e): f·5^q is an exact 128-bit product
// (5^27 still fits 64 bits, hence the 2^-33 floor), and the power of two is a shift. q is chosen so V
// has 17 or 18 digits, enough to hold x exactly enough. The integers C whose C·10^-q parse back to x
// form a range [lo, hi] (the halfway points to the neighbouring doubles, exact, with IEEE's
// round-half-even deciding the ends). The answer is the multiple of the largest power of ten inside that
// range, nearest to V: the same digits as the shortest-round-trip algorithms (Ryu, Grisu-exact) give.
import { pow10, pow5 } from "./digits";
import { mul128, hi128, shr128 } from "./u128";

/** Decimal exponent of the last `shortestDigits` result: x = mantissa · 10^shortestExp. */
export let shortestExp: i32 = 0;

/** `bits` is a positive, non-integer double in [2^-33, 2^53). Returns the digits as an integer. */
export function shortestDigits(bits: u64): u64 {
  const be = <i32>(bits >> 52);
  const f = (bits & 0xfffffffffffff) | 0x10000000000000;
  const e = be - 1075;
  // floor(log10(2^(be-1023))): the decimal exponent of x, or one less. Either way V gets 17-18 digits.
  const k = ((be - 1023) * 78913) >> 18;
  const q = 17 - k;
  const five = pow5(q);
  const pl = mul128(f, five);
  const ph = hi128;
  // Everything below is scaled by 2^sh so that the halfway points are integers too:
  // W = V·2^sh = 4·f·5^q, the upper halfway point is W + 2·5^q, the lower one W - 2·5^q, or W - 5^q
  // where x is a power of two (its lower neighbour is closer).
  const sh = 2 - q - e; // 1..60 over the window
  const wh = (ph << 2) | (pl >> 62);
  const wl = pl << 2;
  const up = five << 1;
  const down = f == 0x10000000000000 ? five : up;
  const odd = <i32>(f & 1);
  const mask: u64 = (<u64>1 << <u64>sh) - 1;

  const ul = wl + up;
  const uh = wh + <u64>(ul < wl);
  let hi = shr128(uh, ul, sh);
  if ((ul & mask) == 0) hi -= <u64>odd; // the halfway point itself rounds away from an odd x

  const ll = wl - down;
  const lh = wh - <u64>(wl < down);
  let lo = shr128(lh, ll, sh);
  if ((ll & mask) != 0 || odd) lo++;

  const halves = shr128(wh, wl, sh - 1); // V in halves: its last bit says "fraction >= 1/2"
  const v = halves >> 1;

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
