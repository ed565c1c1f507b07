// wg_write_check (ABI 1.2): whether a device's response confirms a write. Functions 5, 6 and 22 echo
// the whole request PDU; 15 and 16 answer with the function, address and quantity (Modbus
// Application Protocol Specification V1.1b3, 6.5-6.16). An exception is answered with its code.
import { ERROR } from "../sdk/log";
import { OK, OUT_OF_RANGE, BAD_INPUT, BAD_FRAME } from "../sdk/status";
import { lineStart, lineUtf8, lineBytes, lineLog } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { pointCount, pointRecords, pointNames, RECORD_SIZE, R_DEVICE } from "./point-table";
import { pduOffset, responsePdu } from "./transport";
import { responseStart, responseFaulty, noteMismatch, lineMismatch } from "./response-problems";
import { lineException } from "./exception-names";
import { FC_WRITE_COILS, FC_WRITE_REGISTERS } from "./write-pdu";

function linePoint(point: i32): void {
  const name = pointNames + <usize>point * 8;
  lineStart();
  lineUtf8(utf8("point '"));
  lineBytes(load<u32>(name), <i32>load<u32>(name, 4));
}

/**
 * Checks the response after the `requestLength`-byte request at `input` (`size` bytes in all) to a
 * write of `point`. OK; the exception code (1-255) the device answered; BAD_FRAME when the response
 * does not confirm the write. Every answer but OK is logged at error level with what it means.
 */
export function checkWrite(point: i32, input: usize, requestLength: i32, size: i32): i32 {
  if (<u32>point >= <u32>pointCount) return OUT_OF_RANGE;
  const device = <i32>load<u16>(pointRecords + <usize>point * RECORD_SIZE, R_DEVICE);
  const offset = pduOffset(device);
  // A request shorter than its framing and a 5-byte PDU is not one wg_write built.
  const requestPdu = requestLength - offset - (offset == 1 ? 2 : 0);
  if (requestPdu < 5 || requestLength > size) return BAD_INPUT;
  const resp = input + <usize>requestLength;
  responseStart();
  const seq = <i32>bswap<u16>(load<u16>(input)); // the transaction id (Modbus TCP) the request carries
  const length = responsePdu(resp, size - requestLength, device, seq);
  if (length >= 0) {
    const req = input + <usize>offset;
    const pdu = resp + <usize>offset;
    const fn = <i32>load<u8>(req);
    const got = <i32>load<u8>(pdu);
    if (got == (fn | 0x80) && load<u8>(pdu, 1) != 0) {
      const code = <i32>load<u8>(pdu, 1);
      linePoint(point);
      lineUtf8(utf8("': write answered with "));
      lineException(code);
      lineLog(ERROR);
      return code;
    }
    const echo = fn == FC_WRITE_COILS || fn == FC_WRITE_REGISTERS ? 5 : requestPdu;
    if (got != fn) noteMismatch(utf8("function code "), got, fn);
    else if (length != echo) noteMismatch(utf8("PDU length "), length, echo);
    for (let i = 1; i < echo && !responseFaulty(); i++) {
      const b = <i32>load<u8>(pdu + <usize>i);
      const want = <i32>load<u8>(req + <usize>i);
      if (b != want) noteMismatch(utf8("echo byte "), b, want);
    }
  }
  if (!responseFaulty()) return OK;
  linePoint(point);
  lineUtf8(utf8("': write not confirmed: "));
  lineMismatch();
  lineLog(ERROR);
  return BAD_FRAME;
}
