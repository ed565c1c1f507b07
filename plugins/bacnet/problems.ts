// What went wrong with a request's answers, counted each time (wg_stats) and said in the log only
// when it changes: one warning when a request goes from good answers to a problem, or from one
// problem to another, naming the device, the request and the device's reason; one info line when it
// answers well again, with how many answers failed in between.
import { Counters, WARN, INFO } from "../sdk";
import { lineStart, lineNumber, lineLog, lineUtf8, lineBytes } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { deviceNameAt, deviceNameLength, deviceInstance, pointObjectType, pointInstance, pointProperty } from "./point-table";
import { requestCount, requestService, requestSize, requestFirst, entry, requestDevices, SERVICE_READ_PROPERTY } from "./request-plan";
import { lineError, lineReject, lineAbort, ABORT_SEGMENTATION_NOT_SUPPORTED } from "./reasons";
import { lineObject, lineProperty } from "./objects";
import { lineListed } from "./words";

export const counters = new Counters(
  "error_responses reject_responses abort_responses segmented_refused property_errors mismatched_responses \
unplanned_records i_am_received cov_notifications unsolicited_ignored cov_unknown_objects cov_acks cov_refused",
);
export const C_ERROR = 0;
export const C_REJECT = 1;
export const C_ABORT = 2;
export const C_SEGMENTED = 3;
export const C_PROPERTY = 4;
export const C_MISMATCH = 5;
export const C_UNPLANNED = 6;
export const C_I_AM = 7;
export const C_COV = 8;
export const C_UNSOLICITED_IGNORED = 9;
/** COV notifications about an object no point reads (a subscription of another client's, or a stale one). */
export const C_COV_UNKNOWN_OBJECT = 10;
/** Simple-ACKs built for confirmed COV notifications (wg_reply). */
export const C_COV_ACK = 11;
/** SubscribeCOV requests a device refused (Error, Reject, Abort). */
export const C_COV_REFUSED = 12;

export const P_NONE: u32 = 0;
/** An Error PDU: every point of the request bad. `a` error class, `b` error code. */
export const P_ERROR: u32 = 1;
/** A Reject PDU; `a` the reason. */
export const P_REJECT: u32 = 2;
/** An Abort PDU; `a` the reason. */
export const P_ABORT: u32 = 3;
/** A segmented Complex-ACK, which the request did not accept. */
export const P_SEGMENTED: u32 = 4;
/** Some properties of a ReadPropertyMultiple refused one by one; `a`, `b` the first one's class and code. */
export const P_PROPERTY: u32 = 5;
/** An answer that does not answer this request; `a` says which check failed. */
export const P_MISMATCH: u32 = 6;


// Per request, 16 bytes: the last problem's kind (u32), failed answers since it was good (u32), its detail (u64).
let state: usize = 0;
@inline function kindAt(r: i32): usize { return state + (<usize>r << 4); }

// What P_MISMATCH's `a` (1 to 5) found, separated by "|".
const MISMATCHES = utf8("the request is not the one this plan builds|not a BACnet/IP APDU|its invoke id differs|its service differs|malformed, or not the properties asked");

export function problemsConfigure(): void {
  state = heap.alloc(<usize>max(requestCount, 1) << 4);
  memory.fill(state, 0, <usize>max(requestCount, 1) << 4);
}

/** Request `r` got problem `kind`; `point` is the point a property error is about. */
export function problem(r: i32, kind: u32, a: u32, b: u32, point: i32 = -1): void {
  counters.add(<i32>kind - 1, 1); // each kind's counter is the one before it in the list
  const s = kindAt(r);
  store<u32>(s, load<u32>(s, 4) + 1, 4);
  const detail = (<u64>a << 32) | <u64>b;
  if (load<u32>(s) == kind && load<u64>(s, 8) == detail) return;
  store<u32>(s, kind);
  store<u64>(s, detail, 8);
  lineRequest(r);
  lineUtf8(utf8(": "));
  if (kind == P_ERROR) {
    lineUtf8(utf8("error "));
    lineError(a, b);
  } else if (kind == P_REJECT) {
    lineUtf8(utf8("rejected: "));
    lineReject(a);
  } else if (kind == P_ABORT) {
    lineUtf8(utf8("aborted: "));
    lineAbort(a);
    if (a == ABORT_SEGMENTATION_NOT_SUPPORTED) lineUtf8(utf8("; the answer needs segmentation, which the gateway does not accept: lower max_properties"));
  } else if (kind == P_SEGMENTED) {
    lineUtf8(utf8("answered in segments, which the request did not accept; refused"));
  } else if (kind == P_PROPERTY) {
    lineObject(pointObjectType(point), pointInstance(point));
    lineUtf8(utf8(" "));
    lineProperty(pointProperty(point));
    lineUtf8(utf8(": error "));
    lineError(a, b);
  } else {
    lineUtf8(utf8("answer does not match the request: "));
    if (a >= 1 && a <= 5) lineListed(MISMATCHES, <i32>a - 1, 0x7c);
    else {
      lineUtf8(utf8("PDU type "));
      lineNumber(<i32>b);
    }
  }
  lineLog(WARN);
}

/** Request `r` was answered in full. */
export function settle(r: i32): void {
  const s = kindAt(r);
  if (load<u32>(s) == P_NONE) return;
  lineRequest(r);
  lineUtf8(utf8(": answers again after "));
  lineNumber(<i32>load<u32>(s, 4));
  lineUtf8(utf8(" failed answers"));
  lineLog(INFO);
  memory.fill(s, 0, 16);
}

/** "device ahu-3 (instance 1201), ReadPropertyMultiple of 4 properties" / "..., ReadProperty analog-input 2 present-value". */
function lineRequest(r: i32): void {
  const d = <i32>load<u32>(requestDevices + <usize>r * 4);
  lineStart();
  lineUtf8(utf8("device "));
  lineBytes(deviceNameAt(d), deviceNameLength(d));
  lineUtf8(utf8(" (instance "));
  lineNumber(<i32>deviceInstance(d));
  lineUtf8(utf8("), "));
  if (requestService(r) == SERVICE_READ_PROPERTY) {
    const id = entry(requestFirst(r));
    lineUtf8(utf8("ReadProperty "));
    lineObject(pointObjectType(id), pointInstance(id));
    lineUtf8(utf8(" "));
    lineProperty(pointProperty(id));
  } else {
    lineUtf8(utf8("ReadPropertyMultiple of "));
    lineNumber(requestSize(r));
    lineUtf8(utf8(" properties"));
  }
}
