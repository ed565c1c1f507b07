// The transport seam: how a planned request is framed for the wire, where a frame ends in a byte
// stream, and how a response's framing is checked before its PDU is read. Modbus TCP is the only
// transport now (the manifest's `transport` setting allows only "tcp"); RTU (address + PDU + CRC16)
// goes in its own file behind these same functions, chosen by that setting at configure.
import { requests, Q_START, Q_QUANTITY, Q_FUNCTION, Q_UNIT, REQUEST_SIZE } from "./request-plan";
import { tcpRequest, tcpFrameLength, tcpResponsePdu, MBAP_SIZE } from "./tcp-frame";

/** Largest request frame of any transport (TCP: 12 bytes; RTU will need 8). */
export const MAX_REQUEST_FRAME: i32 = 16;

/** Writes the frame of planned request `r` with sequence number `seq` at `out`; returns its length. */
export function requestFrame(out: usize, r: i32, seq: i32): i32 {
  const q = requests + <usize>(r * REQUEST_SIZE);
  return tcpRequest(out, seq & 0xffff, <i32>load<u8>(q, Q_UNIT), <i32>load<u8>(q, Q_FUNCTION),
    <i32>load<u16>(q, Q_START), <i32>load<u16>(q, Q_QUANTITY));
}

/** 0: need more bytes; n > 0: a frame of n bytes; negative: a status for bytes that cannot frame. */
export function frameLength(ptr: usize, size: i32): i32 {
  return tcpFrameLength(ptr, size);
}

/** Offset of the PDU in a response frame. */
export function pduOffset(): i32 {
  return MBAP_SIZE;
}

/** Checks the framing of a response to request `r` sent with `seq`; the PDU's length, or -1 (noted). */
export function responsePdu(resp: usize, length: i32, r: i32, seq: i32): i32 {
  const q = requests + <usize>(r * REQUEST_SIZE);
  return tcpResponsePdu(resp, length, seq, <i32>load<u8>(q, Q_UNIT));
}
