// The write group (ABI 1.2) for BACnet: WriteProperty (ASHRAE 135, 15.9) of a point's present-value,
// at the point's write priority when it names one, and the check of the device's answer. The value
// is encoded as the object type's present-value datatype (clause 12): REAL for analog output and
// value objects, ENUMERATED (inactive 0, active 1) for binary ones, Unsigned (a state number from 1)
// for multi-state ones. A NaN value is the Null that relinquishes the priority (19.2.1.2): the slot
// is emptied, and the object falls back to the next lower priority or its relinquish default.
// What cannot be written exactly is refused here, before the network, with the reason logged.
import { ERROR } from "../sdk/log";
import { OK, OUT_OF_RANGE, BAD_INPUT, BAD_FRAME, REFUSED } from "../sdk/status";
import { lineStart, lineLog, lineUtf8 } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";
import { pointCount, pointDevice, pointObjectType, pointInstance, pointProperty } from "./point-table";
import { putContextObjectId, putContextUnsigned, putOpening, putClosing, objectId, readTag, contentUnsigned } from "./tags";
import { putRequestHeader, apduOffset, REQUEST_HEADER, NPDU_EXPECTING_REPLY } from "./frame";
import { INVOKE_ID_OFFSET } from "./request-plan";
import {
  lineObject, lineProperty, PROP_PRESENT_VALUE, OBJ_ANALOG_OUTPUT, OBJ_ANALOG_VALUE, OBJ_BINARY_OUTPUT,
  OBJ_BINARY_VALUE, OBJ_MULTI_STATE_OUTPUT, OBJ_MULTI_STATE_VALUE,
} from "./objects";
import { lineError, lineReject, lineAbort } from "./reasons";

export const SERVICE_WRITE_PROPERTY: u8 = 15;
/** Max segments 0, max APDU accepted 1476 (5): as the reads ask (request-plan.ts). */
const MAX_APDU_ACCEPTED_1476: u8 = 0x05;
// PDU types (20.1.1) of the answers a WriteProperty gets.
const PDU_SIMPLE_ACK: i32 = 2;
const PDU_ERROR: i32 = 5;
const PDU_REJECT: i32 = 6;
const PDU_ABORT: i32 = 7;
// Application tag octets (20.2.1): Null (tag 0, length 0), REAL (tag 4, length 4), Enumerated of one
// octet (tag 9, length 1).
const TAG_NULL: u8 = 0x00;
const TAG_REAL: u8 = 0x44;
const TAG_ENUMERATED_1: u8 = 0x91;
const CONTEXT_CLASS: u8 = 0x08;

// Per point, 2 bytes: u8 1 when it may be written, u8 its priority (0: none given, the device's 16).
// Filled by point-table.ts as it reads each point's `access` and `write_priority`.
let writeTable: usize = 0;

export function allocWriteSettings(points: i32): void {
  writeTable = heap.alloc(<usize>max(points, 1) << 1);
}

export function noteWriteSettings(point: i32, writable: bool, priority: u8): void {
  store<u8>(writeTable + (<usize>point << 1), writable ? 1 : 0);
  store<u8>(writeTable + (<usize>point << 1), priority, 1);
}

/** "analog-value 2 present-value: write refused: <reason>" at error level (the host reports it); REFUSED. */
function refuse(point: i32, reason: Utf8): i32 {
  linePoint(point);
  lineUtf8(utf8(": write refused: "));
  lineUtf8(reason);
  lineLog(ERROR);
  return REFUSED;
}

function linePoint(point: i32): void {
  lineStart();
  lineObject(pointObjectType(point), pointInstance(point));
  lineUtf8(utf8(" "));
  lineProperty(pointProperty(point));
}

/**
 * Writes the WriteProperty-Request (15.9.1.1) setting `point`'s present-value to `value` (NaN: Null,
 * relinquish) at `out`, with invoke id `seq` (its low octet); its length, or a status.
 */
export function writePropertyRequest(out: usize, device: i32, point: i32, value: f64, seq: i32): i32 {
  if (<u32>point >= <u32>pointCount) return OUT_OF_RANGE;
  if (pointDevice(point) != device) return refuse(point, utf8("not that device's point"));
  if (load<u8>(writeTable + (<usize>point << 1)) == 0) return refuse(point, utf8("its access is read"));
  if (pointProperty(point) != PROP_PRESENT_VALUE) return refuse(point, utf8("only present-value is written"));
  const type = pointObjectType(point);
  const apdu = out + <usize>REQUEST_HEADER;
  let p = apdu;
  store<u8>(p++, 0x00); // BACnet-Confirmed-Request-PDU, not segmented, segmented response not accepted
  store<u8>(p++, MAX_APDU_ACCEPTED_1476);
  store<u8>(p++, <u8>seq);
  store<u8>(p++, SERVICE_WRITE_PROPERTY);
  p = putContextObjectId(p, 0, objectId(type, pointInstance(point)));
  p = putContextUnsigned(p, 1, PROP_PRESENT_VALUE);
  p = putOpening(p, 3);
  if (isNaN(value)) {
    store<u8>(p++, TAG_NULL);
  } else if (type == OBJ_ANALOG_OUTPUT || type == OBJ_ANALOG_VALUE) {
    const f = <f32>value;
    // A REAL is a float32: the nearest one is written; one that overflows is refused, never clipped.
    if (!isFinite(f)) return refuse(point, utf8("not a finite REAL (float32)"));
    store<u8>(p++, TAG_REAL);
    store<u32>(p, bswap<u32>(reinterpret<u32>(f)));
    p += 4;
  } else if (type == OBJ_BINARY_OUTPUT || type == OBJ_BINARY_VALUE) {
    if (value != 0 && value != 1) return refuse(point, utf8("a binary takes 0 (inactive) or 1 (active)"));
    store<u8>(p++, TAG_ENUMERATED_1);
    store<u8>(p++, <u8>value);
  } else if (type == OBJ_MULTI_STATE_OUTPUT || type == OBJ_MULTI_STATE_VALUE) {
    if (!(value >= 1 && value <= 4294967295 && Math.floor(value) == value)) {
      return refuse(point, utf8("a multi-state takes a state number (1, 2, ...)"));
    }
    // Application Unsigned: the octets of context tag 2 with the class bit (0x08) clear (20.2.1).
    const tag = p;
    p = putContextUnsigned(p, 2, <u32>value);
    store<u8>(tag, load<u8>(tag) & ~CONTEXT_CLASS);
  } else {
    return refuse(point, utf8("not an analog, binary or multi-state output or value"));
  }
  p = putClosing(p, 3);
  const priority = <u32>load<u8>(writeTable + (<usize>point << 1), 1);
  if (priority != 0) p = putContextUnsigned(p, 4, priority);
  const apduLength = <i32>(p - apdu);
  putRequestHeader(out, apduLength, NPDU_EXPECTING_REPLY);
  return REQUEST_HEADER + apduLength;
}

/**
 * Checks the answer after the `requestLength`-byte WriteProperty request at `input` (`size` bytes in
 * all). OK for a SimpleACK of this invoke id and service; the PDU type (5 Error, 6 Reject, 7 Abort)
 * when the device refused the write, its reason logged; BAD_FRAME when the answer does not answer it.
 */
export function checkWriteProperty(point: i32, input: usize, requestLength: i32, size: i32): i32 {
  if (<u32>point >= <u32>pointCount) return OUT_OF_RANGE;
  // The shortest request wg_write builds: headers, 4 header octets, object, property, [3] Null [3].
  if (requestLength < REQUEST_HEADER + 14 || requestLength > size) return BAD_INPUT;
  const resp = input + <usize>requestLength;
  const respLength = size - requestLength;
  const at = apduOffset(resp, respLength);
  // Every answer a WriteProperty gets has 3 octets at least: the PDU type, the invoke id, a service or reason.
  if (at < 0 || at + 3 > respLength) return unconfirmed(point);
  const apdu = resp + <usize>at;
  const type = <i32>(load<u8>(apdu) >> 4);
  const third = <u32>load<u8>(apdu, 2);
  if (load<u8>(apdu, 1) != load<u8>(input + <usize>INVOKE_ID_OFFSET)) return unconfirmed(point);
  // A Reject or an Abort names no service: the invoke id ties it to this request; its third octet is the reason.
  if (type != PDU_REJECT && type != PDU_ABORT && third != SERVICE_WRITE_PROPERTY) return unconfirmed(point);
  if (type == PDU_SIMPLE_ACK) return OK;
  if (type != PDU_REJECT && type != PDU_ABORT && type != PDU_ERROR) return unconfirmed(point);
  linePoint(point);
  lineUtf8(utf8(": the device refused the write: "));
  if (type == PDU_REJECT) {
    lineUtf8(utf8("reject "));
    lineReject(third);
  } else if (type == PDU_ABORT) {
    lineUtf8(utf8("abort "));
    lineAbort(third);
  } else {
    // Error (20.1.7): error class and error code, each application enumerated.
    const end = resp + <usize>respLength;
    const next = readTag(apdu + 3, end);
    const errorClass = next != 0 ? contentUnsigned() : 0xffff;
    const errorCode = next != 0 && readTag(next, end) != 0 ? contentUnsigned() : 0xffff;
    lineUtf8(utf8("error "));
    lineError(errorClass, errorCode);
  }
  lineLog(ERROR);
  return type;
}

/** Not a B/IP APDU, another invoke id or service, a SimpleACK with more octets, a Complex-ACK: whether it was written is unknown. */
function unconfirmed(point: i32): i32 {
  linePoint(point);
  lineUtf8(utf8(": write not confirmed: the answer is no SimpleACK, Error, Reject or Abort of it"));
  lineLog(ERROR);
  return BAD_FRAME;
}
