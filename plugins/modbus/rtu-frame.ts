// Modbus RTU framing (Modbus over Serial Line V1.02, 2.5.1): the device address, the PDU, then the
// CRC-16 of both, low byte first. RTU over TCP (serial device servers) frames the same way. A frame
// carries no transaction id: the host holds one transaction at a time on a line.
import { BAD_FRAME } from "../sdk/status";
import { noteMismatch } from "./response-problems";
import { Utf8, utf8 } from "../sdk/utf8";
import { crc16 } from "./crc16";

/** The address before the PDU. */
export const RTU_HEADER: i32 = 1;
/** Address and CRC around the PDU. */
const RTU_OVERHEAD: i32 = 3;

/** Frames the `pduLength`-byte PDU already written at out + RTU_HEADER for `unit`; the frame's length. */
export function rtuFrame(out: usize, unit: i32, pduLength: i32): i32 {
  store<u8>(out, <u8>unit);
  const n = RTU_HEADER + pduLength;
  store<u16>(out + <usize>n, <u16>crc16(out, n)); // little-endian store: low byte first
  return n + 2;
}

/**
 * Where an RTU response ends, from its function code (Serial Line V1.02 has no length field; every
 * answer's size follows from what it answers): 0 while unknown, else the frame length, or BAD_FRAME.
 * Reads (1-4) and read/write (23): address, function, byte count, data, CRC. An exception: 5 bytes.
 * The echo of a write (5, 6, 15, 16): 8. A mask write (22): 10.
 */
export function rtuFrameLength(p: usize, size: i32): i32 {
  if (size < 2) return 0;
  const fn = <i32>load<u8>(p, 1);
  let n = BAD_FRAME;
  if ((fn & 0x80) != 0) n = 5;
  else if (fn <= 4 && fn >= 1 || fn == 23) {
    if (size < 3) return 0;
    n = <i32>load<u8>(p, 2) + 5;
  } else if (fn == 5 || fn == 6 || fn == 15 || fn == 16) n = 8;
  else if (fn == 22) n = 10;
  return n < 0 || size >= n ? n : 0;
}

/**
 * Checks the RTU framing of the `length`-byte response at `resp` to a request for `unit`: the CRC,
 * then the address. The PDU's length (at least 2, at resp + RTU_HEADER), or -1 (noted).
 */
export function rtuResponsePdu(resp: usize, length: i32, unit: i32): i32 {
  if (length < RTU_OVERHEAD + 2) return fail(utf8("short response, length "), length, -1);
  const got = <i32>load<u16>(resp + <usize>(length - 2));
  const want = <i32>crc16(resp, length - 2);
  if (got != want) return fail(utf8("CRC "), got, want);
  const address = <i32>load<u8>(resp);
  if (address != unit) return fail(utf8("device address "), address, unit);
  return length - RTU_OVERHEAD;
}

function fail(what: Utf8, got: i32, want: i32): i32 {
  noteMismatch(what, got, want);
  return -1;
}
