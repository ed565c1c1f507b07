// Values to register contents: the exact inverse of value-decode.ts, for writes. A raw value (after
// scale and offset are undone) becomes the type's bits, then bytes in the point's order.
import { T_INT16, T_UINT16, T_INT32, T_UINT32, T_FLOAT32, T_INT64, T_UINT64 } from "./point-types";

@inline function lowByteFirst(order: u32): bool {
  return (order & 1) != 0;
}

@inline function lowRegisterFirst(order: u32): bool {
  return (order & 2) != 0;
}

function put16(p: usize, x: u32, order: u32): void {
  store<u16>(p, lowByteFirst(order) ? <u16>x : bswap<u16>(<u16>x));
}

// register32 swaps bytes inside the registers, then the registers: undone in the reverse order.
function put32(p: usize, x: u32, order: u32): void {
  if (!lowRegisterFirst(order)) x = rotr<u32>(x, 16);
  if (!lowByteFirst(order)) x = ((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff);
  store<u32>(p, x);
}

function put64(p: usize, x: u64, order: u32): void {
  const high = <u32>(x >>> 32);
  const low = <u32>x;
  put32(p, lowRegisterFirst(order) ? low : high, order);
  put32(p + 4, lowRegisterFirst(order) ? high : low, order);
}

/**
 * Writes `raw` as a value of `type` in `order` at `p` (the registers' bytes as the wire carries
 * them). Integers are rounded to the nearest (ties to even); false when the result is outside the
 * type's range, or a float32 overflows. `raw` is finite (the caller checks).
 */
export function encodeValue(p: usize, type: i32, order: u32, raw: f64): bool {
  if (type == T_FLOAT32) {
    const f = <f32>raw;
    if (!isFinite(f)) return false;
    put32(p, reinterpret<u32>(f), order);
    return true;
  }
  if (type > T_UINT64) {
    put64(p, reinterpret<u64>(raw), order);
    return true;
  }
  const r = nearest(raw);
  if (type == T_INT16 || type == T_UINT16) {
    const low = type == T_INT16 ? -32768.0 : 0.0;
    if (r < low || r > low + 65535) return false;
    put16(p, <u32><i32>r, order);
  } else if (type == T_INT32 || type == T_UINT32) {
    const low = type == T_INT32 ? -2147483648.0 : 0.0;
    if (r < low || r > low + 4294967295) return false;
    put32(p, type == T_INT32 ? <u32><i32>r : <u32>r, order);
  } else {
    // 2^63 and 2^64 are exact doubles; the largest integers below them are the type's top.
    const low = type == T_INT64 ? -9223372036854775808.0 : 0.0;
    if (r < low || r >= low + 18446744073709551616.0) return false;
    put64(p, type == T_INT64 ? <u64><i64>r : <u64>r, order);
  }
  return true;
}
