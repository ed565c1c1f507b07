// wg_write (ABI 1.2): the request frame that writes one value to one point, encoded from the point's
// declared type, order, scale and offset as the exact inverse of its read. What cannot be written
// exactly is refused with the reason, never rounded into another value or clipped.
import { ERROR } from "../sdk/log";
import { OUT_OF_RANGE, REFUSED } from "../sdk/status";
import { lineStart, lineUtf8, lineBytes, lineLog } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";
import {
  pointCount, pointRecords, pointNames, RECORD_SIZE, R_DEVICE, R_FUNCTION, R_ACCESS, R_TYPE, R_WRITE_FUNCTION,
  R_POSITION, R_BIT, R_ORDER, R_SCALE, R_OFFSET,
} from "./point-table";
import { T_BOOL, T_COIL, T_STRING, A_READ, typeRegisters } from "./point-types";
import { pduOffset, frameAround } from "./transport";
import { encodeValue } from "./value-encode";
import {
  writeCoil, writeCoils, writeRegisters, registerData, maskWrite, FC_WRITE_COIL, FC_WRITE_COILS, FC_WRITE_REGISTER, FC_WRITE_REGISTERS,
} from "./write-pdu";

/** Logs "point '<name>': write refused: <reason>" at error level (the host reports it); REFUSED. */
function refuse(point: i32, reason: Utf8): i32 {
  const name = pointNames + <usize>point * 8;
  lineStart();
  lineUtf8(utf8("point '"));
  lineBytes(load<u32>(name), <i32>load<u32>(name, 4));
  lineUtf8(utf8("': write refused: "));
  lineUtf8(reason);
  lineLog(ERROR);
  return REFUSED;
}

/** Writes the frame writing `value` to `point` of `device`, sent with `seq`, at `out`; its length or a status. */
export function writeRequest(out: usize, device: i32, point: i32, value: f64, seq: i32): i32 {
  if (<u32>point >= <u32>pointCount) return OUT_OF_RANGE;
  const rec = pointRecords + <usize>point * RECORD_SIZE;
  if (<i32>load<u16>(rec, R_DEVICE) != device) return refuse(point, utf8("not a point of that device"));
  const fn = <i32>load<u8>(rec, R_FUNCTION);
  if (fn == 2 || fn == 4) return refuse(point, utf8("discrete inputs (2) and input registers (4) are read-only"));
  if (<i32>load<u8>(rec, R_ACCESS) == A_READ) return refuse(point, utf8("its access is read"));
  const type = <i32>load<u8>(rec, R_TYPE);
  const wf = <i32>load<u8>(rec, R_WRITE_FUNCTION);
  const address = <i32>load<u16>(rec, R_POSITION);
  const pdu = out + <usize>pduOffset(device);
  let length: i32;
  if (type == T_COIL || type == T_BOOL) {
    if (value != 0 && value != 1) return refuse(point, utf8("a bool takes 0 or 1"));
    if (type == T_BOOL) {
      if (wf != 0) return refuse(point, utf8("a bit of a register is written by function 22, not write_function"));
      length = maskWrite(pdu, address, <i32>load<u8>(rec, R_BIT), value == 1);
    } else if (wf == FC_WRITE_COILS) {
      length = writeCoils(pdu, address, value == 1);
    } else if (wf == 0 || wf == FC_WRITE_COIL) {
      length = writeCoil(pdu, address, value == 1);
    } else return refuse(point, utf8("a coil is written by function 5 or 15"));
  } else if (type == T_STRING) {
    return refuse(point, utf8("string points are not written"));
  } else {
    if (wf == FC_WRITE_COIL || wf == FC_WRITE_COILS) return refuse(point, utf8("registers are written by function 6 or 16"));
    const registers = typeRegisters(type);
    if (wf == FC_WRITE_REGISTER && registers > 1) return refuse(point, utf8("function 6 writes one register, the type takes more"));
    const raw = (value - load<f64>(rec, R_OFFSET)) / load<f64>(rec, R_SCALE);
    if (!isFinite(raw)) return refuse(point, utf8("not a finite value after scale and offset"));
    const code = registers == 1 && wf != FC_WRITE_REGISTERS ? FC_WRITE_REGISTER : FC_WRITE_REGISTERS;
    if (!encodeValue(pdu + <usize>registerData(code), type, <u32>load<u8>(rec, R_ORDER), raw)) {
      return refuse(point, utf8("out of the type's range after scale and offset"));
    }
    length = writeRegisters(pdu, code, address, registers);
  }
  return frameAround(out, device, seq, length);
}
