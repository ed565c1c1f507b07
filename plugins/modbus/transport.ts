// The transport seam: how a PDU is framed for the wire, where a frame ends in a byte stream, and how
// a response's framing is checked before its PDU is read. Each device has its framing (the settings
// document's `framing`, from the kind of its source): Modbus TCP (tcp-frame.ts) or RTU (rtu-frame.ts,
// on a serial line or through a serial device server).
import { requests, Q_START, Q_QUANTITY, Q_FUNCTION, Q_DEVICE, REQUEST_SIZE } from "./request-plan";
import { framings, unitIds, deviceCount } from "./point-table";
import { tcpFrame, tcpFrameLength, tcpResponsePdu, MBAP_SIZE } from "./tcp-frame";
import { rtuFrame, rtuFrameLength, rtuResponsePdu, RTU_HEADER } from "./rtu-frame";
import { writeReadRequest, READ_REQUEST_SIZE } from "./pdu";

// Framing codes, in the order of FRAMING_WORDS.
export const FRAMING_TCP: u8 = 0;
export const FRAMING_RTU: u8 = 1;
export const FRAMING_WORDS = "tcp rtu";

/** Largest request frame of any transport: a write of four registers over TCP (7 + 6 + 8). */
export const MAX_REQUEST_FRAME: i32 = 24;

@inline function rtu(device: i32): bool {
  return load<u8>(framings + <usize>device) == FRAMING_RTU;
}

/** Offset of the PDU in a frame to or from `device`. */
export function pduOffset(device: i32): i32 {
  return rtu(device) ? RTU_HEADER : MBAP_SIZE;
}

/** Frames the `pduLength`-byte PDU written at out + pduOffset(device) for `device`; the frame's length. */
export function frameAround(out: usize, device: i32, seq: i32, pduLength: i32): i32 {
  const unit = <i32>load<u8>(unitIds + <usize>device);
  return rtu(device) ? rtuFrame(out, unit, pduLength) : tcpFrame(out, seq & 0xffff, unit, pduLength);
}

/** Writes the frame of planned request `r` with sequence number `seq` at `out`; returns its length. */
export function requestFrame(out: usize, r: i32, seq: i32): i32 {
  const q = requests + <usize>(r * REQUEST_SIZE);
  const device = <i32>load<u16>(q, Q_DEVICE);
  writeReadRequest(out + <usize>pduOffset(device), <i32>load<u8>(q, Q_FUNCTION), <i32>load<u16>(q, Q_START), <i32>load<u16>(q, Q_QUANTITY));
  return frameAround(out, device, seq, READ_REQUEST_SIZE);
}

/**
 * wg_frame_length, which is not told the device: frames by RTU when every device is RTU, else by
 * Modbus TCP. The host frames by the rule of each device's framing (wg_framing) instead whenever that
 * rule holds, which it does for this plugin's frames.
 */
export function frameLength(ptr: usize, size: i32): i32 {
  let allRtu = deviceCount > 0;
  for (let d = 0; d < deviceCount; d++) allRtu = allRtu && rtu(d);
  return allRtu ? rtuFrameLength(ptr, size) : tcpFrameLength(ptr, size);
}

/**
 * Checks the framing of a response from `device` to a frame sent with `seq`: the PDU's length
 * (the PDU at pduOffset(device)), or -1 (noted).
 */
export function responsePdu(resp: usize, length: i32, device: i32, seq: i32): i32 {
  const unit = <i32>load<u8>(unitIds + <usize>device);
  return rtu(device) ? rtuResponsePdu(resp, length, unit) : tcpResponsePdu(resp, length, seq, unit);
}
