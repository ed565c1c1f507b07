// CRC-16/MODBUS (Modbus over Serial Line V1.02, 6.2.2): polynomial 0xA001 (0x8005 reflected), initial
// value 0xFFFF, no final xor. Computed bit by bit: a 512-byte table would cost more than the frames of
// a whole poll cycle take to check.

export function crc16(p: usize, length: i32): u32 {
  let crc: u32 = 0xffff;
  for (let i = 0; i < length; i++) {
    crc ^= <u32>load<u8>(p + <usize>i);
    for (let b = 0; b < 8; b++) crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}
