// Frames a device sent unasked (ABI 1.4, status 3): an I-Am (16.1, answering somebody's Who-Is, or
// announcing itself), and COV notifications (13.1, 13.6, 13.7), whose property values become samples
// of the points that read the same device, object and property, stamped with the frame's arrival.
// A notification about an object no point reads is counted (cov_unknown_objects), not an error.
// When it carries Status_Flags with fault or out-of-service set, its other values are suspect: the
// device says itself that they are not the process's. Anything else is counted and skipped. A
// confirmed notification's values are taken like an unconfirmed one's; its Simple-ACK is wg_reply's
// (cov.ts), which the host sends back.
import { DEBUG, FRAME_NO_DEVICE, GOOD, SUSPECT, AGG_RAW } from "../sdk";
import { frameDevice, frameTs, frameRequestAt, frameRequestLength, frameResponseAt, frameResponseLength } from "../sdk/frame-records";
import { lineStart, lineNumber, lineBytes, lineLog , lineUtf8 } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { apduOffset } from "./frame";
import { readTag, isContext, isOpening, isClosing, contentUnsigned, tagNumber } from "./tags";
import { decodeEnclosed, pushValue, valueProblem, valueNumber, valueType, VALUE_OK } from "./values";
import { writer } from "./sample-out";
import { PROP_STATUS_FLAGS } from "./objects";
import { deviceOfInstance, pointCount, pointDevice, pointObjectType, pointInstance, pointProperty } from "./point-table";
import { counters, C_I_AM, C_COV, C_UNSOLICITED_IGNORED, C_COV_UNKNOWN_OBJECT } from "./problems";

const PDU_CONFIRMED_REQUEST: u8 = 0;
const PDU_UNCONFIRMED_REQUEST: u8 = 1;
const SERVICE_I_AM: u8 = 0;
const SERVICE_UNCONFIRMED_COV: u8 = 2;
const SERVICE_CONFIRMED_COV: u8 = 1;

export function handleUnsolicited(rec: usize): void {
  const frame = frameResponseAt(rec);
  const n = frameResponseLength(rec);
  const at = apduOffset(frame, n);
  if (at < 0 || at + 2 > n) return ignored();
  const apdu = frame + <usize>at;
  const end = frame + <usize>n;
  const type = load<u8>(apdu) >> 4;
  if (type == PDU_UNCONFIRMED_REQUEST) {
    const service = load<u8>(apdu, 1);
    if (service == SERVICE_I_AM) return iAm(rec, apdu + 2, end);
    if (service == SERVICE_UNCONFIRMED_COV) return covNotification(rec, apdu + 2, end);
  } else if (type == PDU_CONFIRMED_REQUEST && at + 4 <= n && load<u8>(apdu, 3) == SERVICE_CONFIRMED_COV && (load<u8>(apdu) & 0x08) == 0) {
    return covNotification(rec, apdu + 4, end);
  }
  ignored();
}

function ignored(): void {
  counters.add(C_UNSOLICITED_IGNORED, 1);
}

/** I-Am-Request: device identifier, max APDU length accepted, segmentation supported, vendor id. Counted and logged at debug. */
function iAm(rec: usize, p: usize, end: usize): void {
  p = readTag(p, end);
  if (p == 0 || tagNumber != 12) return ignored();
  const device = contentUnsigned() & 0x3fffff;
  p = readTag(p, end);
  if (p == 0) return ignored();
  const maxApdu = contentUnsigned();
  counters.add(C_I_AM, 1);
  lineStart();
  lineUtf8(utf8("I-Am from device instance "));
  lineNumber(<i32>device);
  lineUtf8(utf8(" at "));
  lineBytes(frameRequestAt(rec), frameRequestLength(rec));
  lineUtf8(utf8(", max APDU "));
  lineNumber(<i32>maxApdu);
  lineLog(DEBUG);
}

/**
 * COV notification: [0] subscriber process id, [1] initiating device, [2] monitored object, [3] time
 * remaining, [4] the list of values, each [0] property, [1] index, [2] value, [3] priority.
 */
function covNotification(rec: usize, p: usize, end: usize): void {
  p = readTag(p, end);
  if (p == 0 || !isContext(0)) return ignored();
  p = readTag(p, end);
  if (p == 0 || !isContext(1)) return ignored();
  let device = deviceOfInstance(contentUnsigned() & 0x3fffff);
  // The host's socket for a device is connected to its address: the frame's device is who sent it. An
  // initiator that is another configured device is a sender speaking for a device it is not.
  const from = frameDevice(rec);
  if (from != FRAME_NO_DEVICE && device >= 0 && device != <i32>from) return ignored();
  if (device < 0 && from != FRAME_NO_DEVICE) device = from;
  p = readTag(p, end);
  if (p == 0 || !isContext(2)) return ignored();
  const object = contentUnsigned();
  const type = object >> 22;
  const instance = object & 0x3fffff;
  p = readTag(p, end);
  if (p == 0 || !isContext(3)) return ignored();
  p = readTag(p, end);
  if (p == 0 || !isOpening(4)) return ignored();
  counters.add(C_COV, 1);
  let known = false;
  for (let id = 0; id < pointCount && !known; id++) known = pointDevice(id) == device && pointObjectType(id) == type && pointInstance(id) == instance;
  if (!known) {
    counters.add(C_COV_UNKNOWN_OBJECT, 1);
    return;
  }
  // Status_Flags (in-alarm 1, fault 2, overridden 4, out-of-service 8) come after the present value
  // in the list (13.1, Table 13-1a): read the list once for them, then again for the samples.
  statusFlags = -1;
  values(p, end, device, type, instance, 0, false, false);
  const suspect = statusFlags >= 0 && (<i32>statusFlags & 10) != 0;
  values(p, end, device, type, instance, frameTs(rec), suspect, true);
}

// What the first pass over a notification's values found: its Status_Flags, or -1.
let statusFlags: f64 = -1;

/**
 * The list of values after [4]: each [0] property, [1] index, [2] value, [3] priority. The first
 * pass (`emit` false) only notes Status_Flags; pass 2 writes a sample for each point reading the object and property,
 * suspect when `suspect` (but Status_Flags themselves, which are what the device says, stay good).
 */
function values(p: usize, end: usize, device: i32, type: u32, instance: u32, ts: f64, suspect: bool, emit: bool): void {
  for (;;) {
    let next = readTag(p, end);
    if (next == 0) return;
    if (isClosing(4)) return;
    if (!isContext(0)) return;
    const property = contentUnsigned();
    p = next;
    next = readTag(p, end);
    if (next != 0 && isContext(1)) {
      p = next;
      next = readTag(p, end);
    }
    if (next == 0 || !isOpening(2)) return;
    const q = decodeEnclosed(next, end, type, property, 2);
    if (q == 0) return;
    if (!emit) {
      if (property == PROP_STATUS_FLAGS && valueProblem == VALUE_OK) statusFlags = valueNumber;
    } else {
      for (let id = 0; id < pointCount; id++) {
        if (pointDevice(id) != device || pointObjectType(id) != type || pointInstance(id) != instance || pointProperty(id) != property) continue;
        if (valueProblem == VALUE_OK) writer.push(ts, valueNumber, <u32>id, suspect && property != PROP_STATUS_FLAGS ? SUSPECT : GOOD, valueType, AGG_RAW);
        else pushValue(ts, id);
      }
    }
    p = q;
    next = readTag(p, end);
    if (next != 0 && isContext(3)) p = next; // priority
  }
}
