// Digits of doubles outside the range `shortest` covers (below 2^-29, subnormals included, and from
// 2^64 up), exactly, with a little arbitrary-precision integer: x = f·2^e is N·10^e with N = f·5^-e
// when e < 0, or N = f·2^e. N's decimal digits come from repeated division by 10^9; its first 17,
// rounded half up on the next one, always parse back to x. Rare in field data, so this favours size
// over speed (tens of microseconds for a subnormal) and over brevity (17 digits, not the shortest).
import { pow5, pow10, digitCount } from "./digits";
import { split, significand, exponent } from "./binary64";

// f·5^1074 (the smallest subnormal's scale) has 2,547 bits: 80 limbs of 32 bits.
const limbs = memory.data(84 * 4);

/** Decimal exponent of the last `bigDigits` result: x = mantissa · 10^bigExp. */
export let bigExp: i32 = 0;

/** `bits`: a positive finite double. Returns its first 17 significant digits, correctly rounded. */
export function bigDigits(bits: u64): u64 {
  split(bits);
  const e = exponent;
  store<u64>(limbs, significand);
  let top = limbs + 8; // end of the used limbs
  // Scale 13 powers at a time: 5^13 and 2^13 fit 32 bits.
  for (let k = e < 0 ? -e : e; k > 0; k -= 13) {
    const m = e < 0 ? pow5(k < 13 ? k : 13) : <u64>1 << <u64>(k < 13 ? k : 13);
    let carry: u64 = 0;
    for (let at = limbs; at < top; at += 4) {
      carry += <u64>load<u32>(at) * m;
      store<u32>(at, <u32>carry);
      carry >>= 32;
    }
    if (carry != 0) {
      store<u32>(top, <u32>carry);
      top += 4;
    }
  }
  // Base-10^9 digits from the bottom; the last three are the top ones (N >= 2^64, so there are three).
  let chunks = 0;
  let c0: u64 = 0;
  let c1: u64 = 0;
  let c2: u64 = 0;
  while (top > limbs) {
    let rem: u64 = 0;
    for (let at = top; at > limbs; ) {
      at -= 4;
      rem = (rem << 32) | <u64>load<u32>(at);
      store<u32>(at, <u32>(rem / 1000000000));
      rem %= 1000000000;
    }
    if (load<u32>(top - 4) == 0) top -= 4;
    c2 = c1;
    c1 = c0;
    c0 = rem;
    chunks++;
  }
  // c0 has d digits (1..9); its digits then c1's nine and c2's nine are N's first d + 18: the first 18
  // of them, as one integer, are c0·10^(18-d) + (c1·10^9 + c2) / 10^d.
  const d = digitCount(c0);
  const first18 = c0 * pow10(18 - d) + (c1 * 1000000000 + c2) / pow10(d);
  bigExp = d + 9 * chunks - 26 + (e < 0 ? e : 0);
  return first18 / 10 + <u64>(first18 % 10 >= 5);
}
