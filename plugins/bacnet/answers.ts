// wg_process: a frame batch in, a sample batch out. Each answered record gives exactly one sample per
// point of its request: the value (good), or NaN marked bad (the device answered with an Error,
// Reject or Abort, refused a property, or sent what does not answer this request) or no-comm (no
// answer within the APDU timeout and its retries, or the link is down). Unsolicited records (ABI 1.4)
// go to unsolicited.ts.
import { AGG_RAW, GOOD, BAD, NO_COMM, TYPE_NUMBER, FRAME_OK, FRAME_UNSOLICITED } from "../sdk";
import {
  frameAt, frameAfter, frameRequest, frameStatus, frameSeq, frameTs, frameRequestLength, frameResponseLength,
  frameRequestAt, frameResponseAt, frameLengthField, FRAME_HEADER,
} from "../sdk/frame-records";
import { pointObjectType, pointInstance, pointProperty } from "./point-table";
import {
  requestCount, requestService, requestFirst, requestSize, entry, frameOf, frameLength, INVOKE_ID_OFFSET,
  SERVICE_READ_PROPERTY,
} from "./request-plan";
import { apduOffset } from "./frame";
import {
  readTag, isContext, isOpening, isClosing, contentUnsigned, objectId,
} from "./tags";
import { decodeEnclosed, pushValue } from "./values";
import { handleUnsolicited } from "./unsolicited";
import { writer } from "./sample-out";
import {
  counters, C_UNPLANNED, settle, problem, P_ERROR, P_REJECT, P_ABORT, P_SEGMENTED, P_MISMATCH, P_PROPERTY,
} from "./problems";

// PDU types (20.1.1), the high nibble of an APDU's first octet.
const PDU_COMPLEX_ACK: u8 = 3;
const PDU_ERROR: u8 = 5;
const PDU_REJECT: u8 = 6;
const PDU_ABORT: u8 = 7;
// A Complex-ACK's SEG bit: the answer comes in segments.
const SEGMENTED: u8 = 0x08;


/** Samples of the request's points, each `quality` and NaN. */
function failAll(ts: f64, r: i32, quality: u8): void {
  const first = requestFirst(r);
  for (let i = first; i < first + requestSize(r); i++) writer.push(ts, NaN, <u32>entry(i), quality, TYPE_NUMBER, AGG_RAW);
}

export function decodeFrames(batch: usize, size: i32): i32 {
  const end = batch + <usize>size;
  writer.begin(16);
  for (let rec = frameAt(batch, end); rec != 0; rec = frameAt(frameAfter(rec), end)) {
    const status = frameStatus(rec);
    if (status == FRAME_UNSOLICITED) {
      handleUnsolicited(rec);
      continue;
    }
    const r = frameRequest(rec);
    if (r < 0 || r >= requestCount) {
      counters.add(C_UNPLANNED, 1);
      continue;
    }
    const ts = frameTs(rec);
    if (status != FRAME_OK) {
      failAll(ts, r, NO_COMM);
      continue;
    }
    answer(rec, r, ts);
  }
  return writer.finish();
}

/** A response to request `r`: checked against the request, then decoded or turned into bad samples. */
function answer(rec: usize, r: i32, ts: f64): void {
  const reqLen = frameRequestLength(rec);
  const respLen = frameResponseLength(rec);
  // The record's request must be the frame this plan builds for `r`: else the answer belongs to
  // another plan (a plugin swapped on one side only) and decoding it would mislabel values as good.
  let same = reqLen == frameLength(r) && FRAME_HEADER - 4 + reqLen + respLen <= frameLengthField(rec);
  const req = frameRequestAt(rec);
  const planned = frameOf(r);
  for (let i = 0; same && i < reqLen; i++) same = i == INVOKE_ID_OFFSET || load<u8>(req + <usize>i) == load<u8>(planned + <usize>i);
  if (!same || <i32>load<u8>(req + <usize>INVOKE_ID_OFFSET) != (frameSeq(rec) & 0xff)) {
    problem(r, P_MISMATCH, 1, 0);
    failAll(ts, r, BAD);
    return;
  }
  const resp = frameResponseAt(rec);
  const at = apduOffset(resp, respLen);
  if (at < 0 || at + 3 > respLen) {
    problem(r, P_MISMATCH, 2, 0);
    failAll(ts, r, BAD);
    return;
  }
  const apdu = resp + <usize>at;
  const end = resp + <usize>respLen;
  const type = load<u8>(apdu) >> 4;
  const invokeId = load<u8>(apdu, 1);
  if (invokeId != load<u8>(req + <usize>INVOKE_ID_OFFSET)) {
    problem(r, P_MISMATCH, 3, 0);
    failAll(ts, r, BAD);
    return;
  }
  const service = requestService(r);
  if (type == PDU_COMPLEX_ACK) {
    if ((load<u8>(apdu) & SEGMENTED) != 0) {
      // We asked with SA = 0 (no segmented answer accepted); a device that segments anyway is refused.
      problem(r, P_SEGMENTED, 0, 0);
      failAll(ts, r, BAD);
      return;
    }
    if (load<u8>(apdu, 2) != service) {
      problem(r, P_MISMATCH, 4, 0);
      failAll(ts, r, BAD);
      return;
    }
    const ok = service == SERVICE_READ_PROPERTY ? readPropertyAck(apdu + 3, end, r, ts) : readMultipleAck(apdu + 3, end, r, ts);
    if (!ok) {
      writer.truncate(mark);
      problem(r, P_MISMATCH, 5, 0);
      failAll(ts, r, BAD);
      return;
    }
    if (propertyErrors == 0) settle(r);
    return;
  }
  if (type == PDU_ERROR) {
    // Error class and code, application enumerated; a ReadPropertyMultiple error wraps them in [0].
    let p = apdu + 3;
    let next = readTag(p, end);
    if (next != 0 && isOpening(0)) {
      p = next;
      next = readTag(p, end);
    }
    const errorClass = next != 0 ? contentUnsigned() : 0xffff;
    next = next != 0 ? readTag(next, end) : 0;
    const errorCode = next != 0 ? contentUnsigned() : 0xffff;
    problem(r, P_ERROR, errorClass, errorCode);
  } else if (type == PDU_REJECT) {
    problem(r, P_REJECT, <u32>load<u8>(apdu, 2), 0);
  } else if (type == PDU_ABORT) {
    problem(r, P_ABORT, <u32>load<u8>(apdu, 2), 0);
  } else {
    problem(r, P_MISMATCH, 6, <u32>type);
  }
  failAll(ts, r, BAD);
}

// Where this request's samples started, to take them back when its answer turns out malformed.
let mark = 0;
// Properties of the current answer the device refused one by one (ReadPropertyMultiple's [5]).
let propertyErrors = 0;

/** ReadProperty-ACK (15.5.1.3): [0] object, [1] property, [2] index, [3] the value. */
function readPropertyAck(p: usize, end: usize, r: i32, ts: f64): bool {
  mark = writer.length;
  propertyErrors = 0;
  const id = entry(requestFirst(r));
  p = readTag(p, end);
  if (p == 0 || !isContext(0) || contentUnsigned() != objectId(pointObjectType(id), pointInstance(id))) return false;
  p = readTag(p, end);
  if (p == 0 || !isContext(1) || contentUnsigned() != pointProperty(id)) return false;
  let next = readTag(p, end);
  if (next != 0 && isContext(2)) {
    p = next;
    next = readTag(p, end);
  }
  if (next == 0 || !isOpening(3)) return false;
  return value(next, end, id, ts, 3) != 0;
}

/**
 * ReadPropertyMultiple-ACK (15.7.1.3): for each object, [0] its identifier and [1] a list of results:
 * [2] property, [3] index, then [4] the value or [5] the device's error for that property. The
 * results come in the order the request asked (15.7.2); each must be the property asked there.
 */
function readMultipleAck(p: usize, end: usize, r: i32, ts: f64): bool {
  mark = writer.length;
  propertyErrors = 0;
  let i = requestFirst(r);
  const last = i + requestSize(r);
  while (i < last) {
    p = readTag(p, end);
    if (p == 0 || !isContext(0)) return false;
    const object = contentUnsigned();
    p = readTag(p, end);
    if (p == 0 || !isOpening(1)) return false;
    for (;;) {
      let next = readTag(p, end);
      if (next == 0) return false;
      if (isClosing(1)) {
        p = next;
        break;
      }
      if (!isContext(2) || i >= last) return false;
      const id = entry(i);
      if (object != objectId(pointObjectType(id), pointInstance(id)) || contentUnsigned() != pointProperty(id)) return false;
      p = next;
      next = readTag(p, end);
      if (next != 0 && isContext(3)) {
        p = next;
        next = readTag(p, end);
      }
      if (next == 0) return false;
      if (isOpening(4)) {
        p = value(next, end, id, ts, 4);
      } else if (isOpening(5)) {
        p = propertyError(next, end, r, id, ts);
      } else {
        return false;
      }
      if (p == 0) return false;
      i++;
    }
  }
  return p == end;
}

/** The value inside the opening tag `tag` whose content starts at `p`, as a sample of point `id`; the position after its closing tag. */
function value(p: usize, end: usize, id: i32, ts: f64, tag: u32): usize {
  const q = decodeEnclosed(p, end, pointObjectType(id), pointProperty(id), tag);
  if (q != 0) pushValue(ts, id);
  return q;
}

/** [5] error class and code for one property: that point bad, the reason noted once. */
function propertyError(p: usize, end: usize, r: i32, id: i32, ts: f64): usize {
  let next = readTag(p, end);
  if (next == 0) return 0;
  const errorClass = contentUnsigned();
  next = readTag(next, end);
  if (next == 0) return 0;
  const errorCode = contentUnsigned();
  next = readTag(next, end);
  if (next == 0 || !isClosing(5)) return 0;
  if (propertyErrors++ == 0) problem(r, P_PROPERTY, errorClass, errorCode, id);
  writer.push(ts, NaN, <u32>id, BAD, TYPE_NUMBER, AGG_RAW);
  return next;
}

