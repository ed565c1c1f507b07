// Register contents to values. A value's bytes are named A (most significant) to D (or H) and a
// point's `order` says how they sit on the wire: ABCD is big-endian (the Modbus default), BADC swaps
// the bytes inside each register, CDAB puts the registers least significant first, DCBA is fully
// little-endian. The order code's two flags (point-types.ts) say which of those two swaps apply.

/** Bit 0: the two bytes inside each register are least significant first (BADC, DCBA). */
@inline function lowByteFirst(order: u32): bool {
  return (order & 1) != 0;
}

/** Bit 1: the registers are least significant first (CDAB, DCBA). */
@inline function lowRegisterFirst(order: u32): bool {
  return (order & 2) != 0;
}

/** One register. Only the byte flag applies: BADC and DCBA read it least significant byte first. */
@inline export function register16(p: usize, order: u32): u32 {
  const x = <u32>load<u16>(p); // little-endian: right for a low byte first
  return lowByteFirst(order) ? x : <u32>bswap<u16>(<u16>x);
}

/** Two registers. */
export function register32(p: usize, order: u32): u32 {
  // Loaded little-endian, the bytes are DCBA; undo whichever swap the order lacks.
  let x = load<u32>(p);
  if (!lowByteFirst(order)) x = ((x & 0x00ff00ff) << 8) | ((x >>> 8) & 0x00ff00ff);
  if (!lowRegisterFirst(order)) x = rotr<u32>(x, 16);
  return x;
}

/** Four registers: two pairs, the pair holding the high half first unless registers are low first. */
export function register64(p: usize, order: u32): u64 {
  const first = <u64>register32(p, order);
  const second = <u64>register32(p + 4, order);
  return lowRegisterFirst(order) ? (second << 32) | first : (first << 32) | second;
}

/** Bit `index` of a function 1/2 response's data: 8 to a byte, the lowest address in bit 0. */
@inline export function coil(data: usize, index: u32): u32 {
  return (<u32>load<u8>(data + <usize>(index >>> 3)) >>> (index & 7)) & 1;
}

/**
 * Copies `registers` registers of text at `p` to `out` as ASCII (2 chars per register, the first in
 * the high byte unless the byte flag says otherwise), bytes >= 0x80 replaced by '?' so the text heap
 * stays UTF-8; returns the length without trailing NULs and spaces.
 */
export function text(p: usize, registers: i32, order: u32, out: usize): i32 {
  const n = registers * 2;
  const flip = <usize>(order & 1); // xor-ing the index swaps the two chars of each register
  let end = 0;
  for (let i = 0; i < n; i++) {
    let c = load<u8>(p + (<usize>i ^ flip));
    if (c >= 0x80) c = 0x3f;
    store<u8>(out + <usize>i, c);
    if (c != 0 && c != 0x20) end = i + 1;
  }
  return end;
}
