// Modbus PDUs of the four read functions (Modbus Application Protocol Specification V1.1b3, 6.1-6.4
// and 7): the request, and the check of a response against the request it answers. Every transport
// shares them; only the framing around the PDU differs.
import { utf8 } from "../sdk/utf8";
import { GOOD, BAD, NO_COMM } from "../sdk/status";
import { noteException, noteMismatch, GATEWAY_PATH_UNAVAILABLE, GATEWAY_TARGET_FAILED } from "./response-problems";

/** Function code, start address, quantity. */
export const READ_REQUEST_SIZE: i32 = 5;
/** Where a good response's data starts: after the function code and the byte count. */
export const DATA_OFFSET: i32 = 2;

const EXCEPTION_FLAG: i32 = 0x80;

export function writeReadRequest(out: usize, fn: i32, start: i32, quantity: i32): void {
  store<u8>(out, <u8>fn);
  store<u16>(out, bswap<u16>(<u16>start), 1);
  store<u16>(out, bswap<u16>(<u16>quantity), 3);
}

/** Data bytes of a good response: a bit per coil or input packed 8 to a byte, 2 bytes per register. */
@inline export function dataBytes(fn: i32, quantity: i32): i32 {
  return fn <= 2 ? (quantity + 7) >> 3 : quantity * 2;
}

/**
 * Checks the `length`-byte response PDU at `pdu` (at least 2 bytes, which the transport has checked)
 * against a read of `quantity` by function `fn`.
 * Returns GOOD (data at pdu + DATA_OFFSET), NO_COMM for a gateway's "device unreachable" exception,
 * BAD for any other exception or a malformed answer; every problem is noted.
 */
export function checkReadResponse(pdu: usize, length: i32, fn: i32, quantity: i32): u8 {
  const got = <i32>load<u8>(pdu);
  const second = <i32>load<u8>(pdu, 1);
  if (got == (fn | EXCEPTION_FLAG)) {
    noteException(second);
    // A gateway's "device unreachable": the device did not answer, so its points are no-comm.
    return second == GATEWAY_PATH_UNAVAILABLE || second == GATEWAY_TARGET_FAILED ? NO_COMM : BAD;
  }
  if (got != fn) {
    noteMismatch(utf8("function code "), got, fn);
    return BAD;
  }
  const want = dataBytes(fn, quantity);
  if (second != want) {
    noteMismatch(utf8("byte count "), second, want);
    return BAD;
  }
  if (length != DATA_OFFSET + want) {
    noteMismatch(utf8("PDU length "), length, DATA_OFFSET + want);
    return BAD;
  }
  return GOOD;
}
