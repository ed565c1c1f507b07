// Modbus TCP framing (Modbus Messaging on TCP/IP Implementation Guide V1.0b, 3.1.3): a 7-byte MBAP
// header before the PDU: transaction id, protocol id (0 = Modbus), length of what follows (unit id +
// PDU), unit id. All big-endian.
import { BAD_FRAME } from "../sdk/status";
import { noteMismatch } from "./response-problems";
import { Utf8, utf8 } from "../sdk/utf8";

export const MBAP_SIZE: i32 = 7;
// The MBAP length counts the unit id plus a PDU of at most 253 bytes.
const MAX_MBAP_LENGTH: i32 = 254;

@inline function be16(ptr: usize, offset: usize): i32 {
  return <i32>bswap<u16>(load<u16>(ptr + offset));
}

/** Frames the `pduLength`-byte PDU already written at out + MBAP_SIZE; returns the ADU's length. */
export function tcpFrame(out: usize, seq: i32, unit: i32, pduLength: i32): i32 {
  store<u16>(out, bswap<u16>(<u16>seq), 0);
  store<u16>(out, 0, 2);
  store<u16>(out, bswap<u16>(<u16>(1 + pduLength)), 4);
  store<u8>(out, <u8>unit, 6);
  return MBAP_SIZE + pduLength;
}

/** 0: need more bytes; n: the first n bytes are a frame; BAD_FRAME: no Modbus TCP frame starts here. */
export function tcpFrameLength(ptr: usize, size: i32): i32 {
  if (size < MBAP_SIZE) return 0;
  if (be16(ptr, 2) != 0) return BAD_FRAME;
  const length = be16(ptr, 4);
  if (length == 0 || length > MAX_MBAP_LENGTH) return BAD_FRAME;
  return size >= 6 + length ? 6 + length : 0;
}

/**
 * Checks the MBAP header of the `length`-byte response at `resp` against the request sent with
 * transaction id `seq` to unit `unit`. Returns the PDU's length, at least 2 (the PDU starts at
 * resp + MBAP_SIZE), or -1 when the header is wrong (noted).
 */
export function tcpResponsePdu(resp: usize, length: i32, seq: i32, unit: i32): i32 {
  // Unit id, function code and one more byte (a byte count or an exception code) at least.
  if (length < MBAP_SIZE + 2) return fail(utf8("short response, length "), length, -1);
  // The first mismatch is reported: it is the likeliest cause of the others.
  const tid = be16(resp, 0);
  if (tid != seq) return fail(utf8("transaction id "), tid, seq);
  const protocol = be16(resp, 2);
  if (protocol != 0) return fail(utf8("protocol id "), protocol, 0);
  const mbapLength = be16(resp, 4);
  if (mbapLength != length - 6) return fail(utf8("MBAP length "), mbapLength, length - 6);
  const u = <i32>load<u8>(resp, 6);
  if (u != unit) return fail(utf8("unit id "), u, unit);
  return length - MBAP_SIZE;
}

function fail(what: Utf8, got: i32, want: i32): i32 {
  noteMismatch(what, got, want);
  return -1;
}
