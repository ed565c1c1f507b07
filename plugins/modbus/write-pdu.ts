// Modbus PDUs of the write functions (Modbus Application Protocol Specification V1.1b3, 6.5, 6.6,
// 6.11, 6.12, 6.16): 5 write single coil, 6 write single register, 15 write multiple coils,
// 16 write multiple registers, 22 mask write register. Each writes exactly one point.

export const FC_WRITE_COIL: i32 = 5;
export const FC_WRITE_REGISTER: i32 = 6;
export const FC_WRITE_COILS: i32 = 15;
export const FC_WRITE_REGISTERS: i32 = 16;
export const FC_MASK_WRITE: i32 = 22;

@inline function be16(out: usize, offset: usize, v: i32): void {
  store<u16>(out + offset, bswap<u16>(<u16>v));
}

/** Function 5: one coil, 0xFF00 for on, 0x0000 for off. The PDU's length. */
export function writeCoil(out: usize, address: i32, on: bool): i32 {
  store<u8>(out, <u8>FC_WRITE_COIL);
  be16(out, 1, address);
  be16(out, 3, on ? 0xff00 : 0);
  return 5;
}

/** Function 15 for one coil: address, quantity 1, byte count 1, the bit in bit 0. */
export function writeCoils(out: usize, address: i32, on: bool): i32 {
  store<u8>(out, <u8>FC_WRITE_COILS);
  be16(out, 1, address);
  be16(out, 3, 1);
  store<u8>(out, 1, 5);
  store<u8>(out, on ? 1 : 0, 6);
  return 7;
}

/**
 * Function 6 (one register) or 16 (`registers` registers) whose data the caller writes at
 * out + registerData(fn). The PDU's length.
 */
export function writeRegisters(out: usize, fn: i32, address: i32, registers: i32): i32 {
  store<u8>(out, <u8>fn);
  be16(out, 1, address);
  if (fn == FC_WRITE_REGISTER) return 5;
  be16(out, 3, registers);
  store<u8>(out, <u8>(registers * 2), 5);
  return 6 + registers * 2;
}

/** Where the register data goes in a PDU of function 6 or 16. */
@inline export function registerData(fn: i32): i32 {
  return fn == FC_WRITE_REGISTER ? 3 : 6;
}

/**
 * Function 22: the register becomes (current AND andMask) OR (orMask AND NOT andMask), so clearing
 * one bit in the AND mask and giving its value in the OR mask writes that bit alone.
 */
export function maskWrite(out: usize, address: i32, bit: i32, on: bool): i32 {
  store<u8>(out, <u8>FC_MASK_WRITE);
  be16(out, 1, address);
  be16(out, 3, ~(1 << bit) & 0xffff);
  be16(out, 5, on ? 1 << bit : 0);
  return 7;
}
