// The parts of a double: x = significand · 2^exponent, both integers (subnormals included).

export let significand: u64 = 0;
export let exponent: i32 = 0;

/** Splits the positive double with these bits into `significand` and `exponent`. */
export function split(bits: u64): void {
  const biased = <i32>(bits >> 52) & 0x7ff;
  significand = bits & 0xfffffffffffff;
  if (biased > 0) significand |= 0x10000000000000;
  exponent = (biased > 0 ? biased : 1) - 1075;
}
