// One point's conversion, to = from × a + b, composed at configure from two units of one quantity and
// applied per sample so that the result is the double nearest to the exact conversion of the double
// read (ties to even).
//
// With SI = (x + oU) × fU for the source and SI = (y + oV) × fV for the target (unit-table.ts),
//   a = fU/fV = nU·dV / (dU·nV),   b = oU·a − oV,
// exact rationals. Rounding a and b to doubles and computing x × a + b (as si first did) is an ulp
// off at times: 57 % gave 57 × fl(0.01) = 0.5700000000000001, not 0.57. Instead, per point:
//  - when b = 0 and 1/a is a double (%, cm, rpm, l/min → m³/s), x / (1/a) is one correctly rounded
//    division, ties included, for every x; the identity is x / 1. This is also the fastest path.
//  - otherwise a and b are kept as double-doubles (head + tail, ~106 bits) and a·x + b is evaluated
//    with error-free transformations, Dekker's product (Veltkamp splitting: WebAssembly has no fused
//    multiply-add) and Knuth's two-sum, then rounded once. Left out are a's and b's bits past the
//    tails, the rounding of x × (tail of a) and of the sums of the small terms: together less than
//    2^-101 × (|a·x| + |b|). So the result is correctly rounded unless the exact value lies within
//    2^-100 × (|a·x| + |b|) of a point halfway between two doubles: 2^-100 of the result when b = 0,
//    wider only where a·x nearly cancels b (near absolute zero) or dwarfs it. The exhaustive test
//    meets such cases only for K or degC → degF past 10^31: 9/5 × x is then often exactly halfway,
//    and the 32 °F offset is below the bound. When a is itself a double (kWh → J) and b = 0, the
//    tails are 0 and this is one correctly rounded multiplication, ties included.
// The second path is exact for |x| between about 2^-900 and 2^950 (what the tests cover). Past 2^995
// the split overflows and the result falls back to fl(x × a + b) (an infinite x gives the infinity);
// below 2^-900 a partial product can underflow, and the error is then on the order of 2^-1074.
import { factorNumOf, factorDenOf, offsetNumOf, offsetDenOf } from "./unit-table";

/** How point values convert; see the header. */
@unmanaged export class Conversion {
  /** Non-zero: y = x / divisor, exactly rounded (b = 0 and 1/a is this double). */
  divisor: f64;
  /** Head and tail of a, and of b: a = aHead + aTail, b = bHead + bTail to ~106 bits. */
  aHead: f64;
  aTail: f64;
  bHead: f64;
  bTail: f64;
}

// 2^27 + 1: Veltkamp's constant, which splits a double into two halves of 26 bits each.
const SPLIT: f64 = 134217729;

/** x·y − fl(x·y), exactly (Dekker): `product` must be fl(x·y). */
function productError(x: f64, y: f64, product: f64): f64 {
  let t = x * SPLIT;
  const xh = t - (t - x);
  const xl = x - xh;
  t = y * SPLIT;
  const yh = t - (t - y);
  const yl = y - yh;
  return xh * yh - product + xh * yl + xl * yh + xl * yl;
}

// The tail of the last quotient.
let tail: f64 = 0;

/** (nh + nl) / (dh + dl) as a double-double: returns the head and leaves the tail in `tail`. */
function quotient(nh: f64, nl: f64, dh: f64, dl: f64): f64 {
  const q = nh / dh;
  const p = q * dh;
  // nh − p is exact (p is within a factor 2 of nh), and so is the remainder nh − q·dh of a correctly
  // rounded quotient: the correction then costs only the rounding of the small terms.
  const r = (nh - p - productError(q, dh, p) + nl - q * dl) / dh;
  const head = q + r;
  tail = r - (head - q);
  return head;
}

/** Sets `c` to convert values in unit row `from` to unit row `to`. */
export function compose(c: Conversion, from: i32, to: i32): void {
  const nU = factorNumOf(from), dU = factorDenOf(from), pU = offsetNumOf(from), qU = offsetDenOf(from);
  const nV = factorNumOf(to), dV = factorDenOf(to), pV = offsetNumOf(to), qV = offsetDenOf(to);
  // nU·dV and dU·nV can pass 2^53 (psi → mmHg: 4.4e22): each is taken exactly, as head and error.
  const n = nU * dV, d = dU * nV;
  const nl = productError(nU, dV, n), dl = productError(dU, nV, d);
  c.aHead = quotient(n, nl, d, dl);
  c.aTail = tail;
  // b = (pU·qV·nU·dV − pV·qU·dU·nV) / (qU·qV·dU·nV). Only temperatures have offsets, and their
  // factors (1, 5/9) and offsets (27315/100, 45967/100) keep every product far below 2^53, so this
  // numerator and denominator are exact; elsewhere the numerator is exactly 0.
  c.bHead = quotient(pU * qV * nU * dV - pV * qU * dU * nV, 0, qU * qV * dU * nV, 0);
  c.bTail = tail;
  c.divisor = quotient(d, dl, n, nl);
  if (tail != 0 || c.bHead != 0) c.divisor = 0;
  // x × a + (−0) is −0 for x = −0, where + (+0) would give +0: an offset of 0 keeps the sign of zero.
  if (c.bHead == 0) c.bHead = -0.0;
}

/** x converted by `c`, correctly rounded (see the header for the one exception). */
@inline export function apply(c: Conversion, x: f64): f64 {
  const divisor = c.divisor;
  if (divisor != 0) return x / divisor;
  const a = c.aHead;
  const b = c.bHead;
  const p = x * a;
  const s = p + b;
  // Two-sum: p + b = s + v exactly.
  const t = s - p;
  const v = p - (s - t) + (b - t);
  const y = s + (productError(x, a, p) + v + (x * c.aTail + c.bTail));
  // 0 or NaN: an exact zero keeps the sign s carries; NaN comes from splitting an infinite or huge x.
  return Math.abs(y) > 0 ? y : s;
}
