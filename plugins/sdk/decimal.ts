// Decimal text to the nearest double, exactly as JavaScript's Number() reads it (round half to even,
// subnormals, overflow to ±Infinity, underflow to ±0), for the settings readers (json.ts and
// json-cursor.ts). Settings are read once per instance, so this favours size and plain code over
// speed: a quick estimate from the first 19 digits and exact powers of ten, then Clinger's check
// (AlgorithmR, "How to read floating point numbers accurately", 1990): the exact decimal value is
// compared, in big integers, with the halfway points next to the estimate, and the estimate moves by
// one ulp until it is the nearest double. No table of powers, no strtod (which costs kilobytes).
//
// Digits past the 800th significant one are kept only as "some were not zero": a halfway point
// between two doubles has at most 767 significant digits, so 800 digits and a sticky one decide every
// comparison the way all the digits would.
//
// Why not have the host hand numbers over as binary doubles: this reader costs about 1.1 KB of each
// module (no reader at all would save about 1.5 KB), every plugin stays within its budget with it, and
// it keeps the settings document plain JSON for every plugin, in any language, without an ABI change.
// About 0.5 µs a 17-digit number.

const MAX_DIGITS = 800;
// A big integer: a u32 length (in limbs), then that many u32 limbs, least significant first. The
// largest operand is about 3,800 bits (800 digits times 2^1076, or a halfway point times 10^1125).
const LIMBS = 128;
const BIG_BYTES = (LIMBS + 1) * 4;
const digitsBig = memory.data(BIG_BYTES); // D, the significant digits as an integer
const left = memory.data(BIG_BYTES);
const right = memory.data(BIG_BYTES);

/** Position just after the number that `readDecimal` read last. */
export let decimalEnd: usize = 0;

@inline function limbs(a: usize): u32 { return load<u32>(a); }

function setSmall(a: usize, x: u64): void {
  store<u32>(a, <u32>x, 4);
  store<u32>(a, <u32>(x >> 32), 8);
  store<u32>(a, x == 0 ? 0 : x >> 32 == 0 ? 1 : 2);
}

/** a = a * m + add. */
function mulAdd(a: usize, m: u32, add: u32): void {
  let carry = <u64>add;
  const n = limbs(a);
  for (let i: u32 = 0; i < n; i++) {
    const at = a + 4 + (<usize>i << 2);
    const t = <u64>load<u32>(at) * <u64>m + carry;
    store<u32>(at, <u32>t);
    carry = t >> 32;
  }
  if (carry != 0) {
    store<u32>(a + 4 + (<usize>n << 2), <u32>carry);
    store<u32>(a, n + 1);
  }
}

function mulPow10(a: usize, n: i32): void {
  for (; n >= 9; n -= 9) mulAdd(a, 1000000000, 0);
  let m: u32 = 1;
  for (; n > 0; n--) m *= 10;
  mulAdd(a, m, 0);
}

function mulPow2(a: usize, n: i32): void {
  for (; n >= 31; n -= 31) mulAdd(a, 1 << 31, 0);
  mulAdd(a, <u32>1 << <u32>n, 0);
}

function compareBig(a: usize, b: usize): i32 {
  const n = limbs(a);
  if (n != limbs(b)) return n > limbs(b) ? 1 : -1;
  for (let i = <i32>n - 1; i >= 0; i--) {
    const x = load<u32>(a + 4 + (<usize>i << 2));
    const y = load<u32>(b + 4 + (<usize>i << 2));
    if (x != y) return x > y ? 1 : -1;
  }
  return 0;
}

/** Sign of D·10^e10 − h·2^k, exactly. */
function compareHalfway(e10: i32, h: u64, k: i32): i32 {
  memory.copy(left, digitsBig, (<usize>limbs(digitsBig) + 1) << 2);
  setSmall(right, h);
  if (e10 >= 0) mulPow10(left, e10);
  else mulPow10(right, -e10);
  if (k >= 0) mulPow2(right, k);
  else mulPow2(left, -k);
  return compareBig(left, right);
}

/** 10^n for 0 <= n <= 22, exact. */
function exactPow10(n: i32): f64 {
  let r: f64 = 1;
  for (; n > 0; n--) r *= 10;
  return r;
}

/**
 * The number whose text starts at `p` (JSON's form: optional minus, digits with an optional point,
 * an optional exponent), correctly rounded; NaN when there is no number at `p`. `decimalEnd` is then
 * the position just after it.
 */
export function readDecimal(p: usize, end: usize): f64 {
  const negative = p < end && load<u8>(p) == 0x2d;
  if (negative) p++;
  const first = p;
  let point = p;
  setSmall(digitsBig, 0);
  let head: u64 = 0; // the first 19 significant digits
  let headDigits = 0;
  let kept = 0; // significant digits in D
  let e10: i64 = 0; // the value is D·10^e10 (i64: a 4 GiB memory holds more digits than an i32 counts)
  let sticky = false; // a digit past the kept ones was not zero
  let seen = 0; // digits of any kind
  let fraction = false;
  for (; p < end; p++) {
    const c = load<u8>(p);
    if (c == 0x2e && !fraction) {
      fraction = true;
      point = p;
      continue;
    }
    const d = <u32>c - 0x30;
    if (d > 9) break;
    seen++;
    if (kept == 0 && d == 0) {
      if (fraction) e10--; // a leading zero after the point
    } else if (kept < MAX_DIGITS) {
      mulAdd(digitsBig, 10, d);
      if (headDigits < 19) {
        head = head * 10 + <u64>d;
        headDigits++;
      }
      kept++;
      if (fraction) e10--;
    } else {
      if (d != 0) sticky = true;
      if (!fraction) e10++;
    }
  }
  if (seen == 0) return NaN;
  // JSON's grammar, as JSON.parse holds it: a digit first, no leading zero, a digit after the point
  // ("01", ".5", "1." and "1.e5" are not numbers).
  const lead = load<u8>(first);
  if (lead == 0x2e || (lead == 0x30 && first + 1 < p && load<u8>(first + 1) != 0x2e) || (fraction && point + 1 == p)) return NaN;
  if (p < end && (load<u8>(p) | 0x20) == 0x65) {
    p++;
    const minus = p < end && load<u8>(p) == 0x2d;
    if (p < end && (minus || load<u8>(p) == 0x2b)) p++;
    let e: i64 = 0;
    let expDigits = 0;
    for (; p < end; p++) {
      const d = <i32>load<u8>(p) - 0x30;
      if (<u32>d > 9) break;
      // Saturates at 10^15, beyond any digit count a module's memory holds, so e10 below stays
      // exact (a million leading zeros and "e1000005" is 1e5).
      if (e < 100000000000000) e = e * 10 + <i64>d;
      expDigits++;
    }
    if (expDigits == 0) return NaN;
    e10 += minus ? -e : e;
  }
  decimalEnd = p;
  if (sticky) {
    mulAdd(digitsBig, 10, 1);
    kept++;
    e10--;
  }
  let x: f64 = 0;
  // D·10^e10 lies in [10^(kept-1+e10), 10^(kept+e10)).
  if (kept == 0 || <i64>kept + e10 < -324) x = 0; // below 10^-324, under half the least subnormal
  else if (<i64>kept + e10 > 310) x = Infinity;
  else x = nearest(head, kept - headDigits + <i32>e10, <i32>e10); // e10 in [-1125, 310] here
  return negative ? -x : x;
}

/** The double nearest D·10^e10, starting from the estimate head·10^scale. */
function nearest(head: u64, scale: i32, e10: i32): f64 {
  let x = <f64>head;
  // Every digit in head, head below 2^53 and 10^|scale| exact: one rounding, so x is the answer.
  const exact = scale == e10 && head <= <u64>1 << 53 && scale >= -22 && scale <= 22;
  for (; scale > 22; scale -= 22) x *= 1e22;
  for (; scale < -22; scale += 22) x /= 1e22;
  x = scale >= 0 ? x * exactPow10(scale) : x / exactPow10(-scale);
  if (exact) return x;
  const MASK: u64 = 0x000fffffffffffff;
  let bits = x < Infinity ? reinterpret<u64>(x) : 0x7fefffffffffffff; // Infinity: start at the largest double
  while (true) {
    const biased = <i32>(bits >> 52);
    const m = biased == 0 ? bits : (bits & MASK) | 0x0010000000000000;
    const k = (biased == 0 ? 1 : biased) - 1075; // the double is m·2^k
    // Up: past the halfway point to the next double, or on it with m odd (ties to even).
    let c = compareHalfway(e10, 2 * m + 1, k - 1);
    if (c > 0 || (c == 0 && (m & 1) != 0)) {
      if (++bits == 0x7ff0000000000000) return Infinity;
      continue;
    }
    if (m != 0) {
      // Down; at a power of two (not the least normal) the double below is half as far.
      c = biased > 1 && (bits & MASK) == 0 ? compareHalfway(e10, 4 * m - 1, k - 2) : compareHalfway(e10, 2 * m - 1, k - 1);
      if (c < 0 || (c == 0 && (m & 1) != 0)) {
        bits--;
        continue;
      }
    }
    return reinterpret<f64>(bits);
  }
}
