// Frames a device sent unasked (ABI 1.4, status 3): an I-Am (16.1, answering somebody's Who-Is, or
// announcing itself), and COV notifications (13.1, 13.7), whose property values become samples of
// the points that read the same device, object and property. Anything else is counted and skipped.
// A confirmed notification's values are taken like an unconfirmed one's; acknowledging it (a
// Simple-ACK the host would send) comes with SubscribeCOV.
import { DEBUG, FRAME_NO_DEVICE } from "../sdk";
import { frameDevice, frameTs, frameRequestAt, frameRequestLength, frameResponseAt, frameResponseLength } from "../sdk/frame-records";
import { lineStart, lineNumber, lineBytes, lineLog , lineUtf8 } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { apduOffset } from "./frame";
import { readTag, isContext, isOpening, isClosing, contentUnsigned, tagNumber } from "./tags";
import { decodeEnclosed, pushValue } from "./values";
import { deviceOfInstance, pointCount, pointDevice, pointObjectType, pointInstance, pointProperty } from "./point-table";
import { counters, C_I_AM, C_COV, C_UNSOLICITED_IGNORED } from "./problems";

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
  if (device < 0 && frameDevice(rec) != FRAME_NO_DEVICE) device = frameDevice(rec);
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
  const ts = frameTs(rec);
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
    for (let id = 0; id < pointCount; id++) {
      if (pointDevice(id) == device && pointObjectType(id) == type && pointInstance(id) == instance && pointProperty(id) == property) pushValue(ts, id);
    }
    p = q;
    next = readTag(p, end);
    if (next != 0 && isContext(3)) p = next; // priority
  }
}
