// Change of value (ASHRAE 135, 13.1 and 13.14): the subscription group of ABI 1.6. A device whose
// settings carry `cov_lifetime_s` gets one SubscribeCOV per object its points read; the host sends
// each at start and again before the lifetime ends, and a cancellation when it stops, and hands back
// the device's answer for wg_subscribe_check to read. The notifications the device then sends are
// unsolicited frames (unsolicited.ts); a confirmed one wants a Simple-ACK, which wg_reply builds.
// Every byte of these frames is built here: the host only schedules, sends and receives.
import { setResult, input, OUT_OF_RANGE, BAD_FRAME, ERROR } from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { lineStart, lineUtf8, lineNumber, lineLog, lineAt, lineLength } from "../sdk/log-line";
import { utf8, Utf8 } from "../sdk/utf8";
import {
  readMembers, at, deviceCount, pointCount, pointDevice, pointObjectType, pointInstance,
  K_COV_LIFETIME, K_COV_CONFIRMED, K_COV_PROCESS_ID,
} from "./point-table";
import { putContextUnsigned, putContextObjectId, objectId, readTag, contentUnsigned } from "./tags";
import { putRequestHeader, apduOffset, REQUEST_HEADER, NPDU_EXPECTING_REPLY, BVLC_TYPE_BIP, BVLC_ORIGINAL_UNICAST } from "./frame";
import { lineError, lineReject, lineAbort } from "./reasons";
import { lineObject } from "./objects";
import { counters, C_COV_ACK, C_COV_REFUSED } from "./problems";

const SERVICE_SUBSCRIBE_COV: u8 = 5;
const SERVICE_CONFIRMED_COV_NOTIFICATION: u8 = 1;
// PDU types (20.1.1), the high nibble of an APDU's first octet.
const PDU_CONFIRMED_REQUEST: u8 = 0;
const PDU_SIMPLE_ACK: u8 = 2;
const PDU_ERROR: u8 = 5;
const PDU_REJECT: u8 = 6;
const PDU_ABORT: u8 = 7;
/** Where a request frame this plugin builds carries its invoke id (BVLC 4, NPDU 2, PDU type, max APDU). */
const REQUEST_INVOKE_ID = REQUEST_HEADER + 2;
/** Where a datagram without NPDU addresses has its APDU: after BVLC 4 and NPDU 2. */
const PLAIN_APDU = 6;

// Per device, 16 bytes: u32 1 when it is subscribed to, u32 lifetime in seconds (0: indefinite, 13.14.1.1.4),
// u32 1 for confirmed notifications, u32 the subscriber process identifier.
let covDevices: usize = 0;
export let subscriptionCount = 0;
/** Per subscription: the device index (u32, what wg_subscriptions returns). */
export let subscriptionDevices: usize = 0;
/** Per subscription: the monitored object's identifier (u32). */
let subscriptionObjects: usize = 0;
/** A SubscribeCOV is at most 6 + 4 + 5 + 5 + 2 + 5 octets; a Simple-ACK 9. */
const frameOut = memory.data(32);

@inline function covDevice(d: i32): usize { return covDevices + (<usize>d << 4); }

function refuse(i: i32, reason: Utf8): bool {
  lineStart();
  lineUtf8(utf8("devices["));
  lineNumber(i);
  lineUtf8(utf8("]: "));
  lineUtf8(reason);
  lineLog(ERROR);
  return false;
}

/** A whole number from 0 to 2^32 - 1 (Unsigned32, as lifetime and process identifier are), or -1. */
function unsigned32(v: f64): f64 {
  return v >= 0 && v <= 4294967295 && Math.floor(v) == v ? v : -1;
}

/** Each device's COV settings: `cov_lifetime_s` (absent: polled only), `cov_confirmed`, `cov_process_id` (default 1). */
export function readCov(json: JsonCursor, list: usize): bool {
  covDevices = heap.alloc(<usize>max(deviceCount, 1) << 4);
  memory.fill(covDevices, 0, <usize>max(deviceCount, 1) << 4);
  let i = 0;
  for (let d = json.first(list); d != 0 && i < deviceCount; d = json.next(d)) {
    readMembers(json, d);
    if (at(K_COV_LIFETIME) != 0) {
      const lifetime = unsigned32(json.number(at(K_COV_LIFETIME)));
      if (lifetime < 0) return refuse(i, utf8("cov_lifetime_s must be a whole number of seconds, 0 to 4294967295"));
      const process = at(K_COV_PROCESS_ID) == 0 ? 1 : unsigned32(json.number(at(K_COV_PROCESS_ID)));
      if (process < 0) return refuse(i, utf8("cov_process_id must be a whole number, 0 to 4294967295"));
      const rec = covDevice(i);
      store<u32>(rec, 1);
      store<u32>(rec, <u32>lifetime, 4);
      store<u32>(rec, at(K_COV_CONFIRMED) != 0 && load<u8>(at(K_COV_CONFIRMED)) == 0x74 ? 1 : 0, 8); // 't' of true
      store<u32>(rec, <u32>process, 12);
    }
    i++;
  }
  return true;
}

/** One subscription per object (device, type, instance) that a point of a subscribed device reads. */
export function planSubscriptions(): void {
  let count = 0;
  for (let id = 0; id < pointCount; id++) if (firstOfObject(id)) count++;
  subscriptionCount = count;
  subscriptionDevices = heap.alloc(<usize>max(count, 1) << 2);
  subscriptionObjects = heap.alloc(<usize>max(count, 1) << 2);
  let s = 0;
  for (let id = 0; id < pointCount; id++) {
    if (!firstOfObject(id)) continue;
    store<u32>(subscriptionDevices + (<usize>s << 2), <u32>pointDevice(id));
    store<u32>(subscriptionObjects + (<usize>s << 2), objectId(pointObjectType(id), pointInstance(id)));
    s++;
  }
}

/** Whether point `id` is of a subscribed device and the first point reading its object. */
function firstOfObject(id: i32): bool {
  const d = pointDevice(id);
  if (load<u32>(covDevice(d)) == 0) return false;
  for (let j = 0; j < id; j++) {
    if (pointDevice(j) == d && pointObjectType(j) == pointObjectType(id) && pointInstance(j) == pointInstance(id)) return false;
  }
  return true;
}

/** ABI 1.6: the subscription plan, one device index per subscription. */
export function wg_subscriptions(): i32 {
  setResult(subscriptionDevices);
  return subscriptionCount;
}

/**
 * ABI 1.6: SubscribeCOV-Request (13.14.1) for subscription `index` with invoke id `seq` (its low octet):
 * [0] subscriber process identifier, [1] monitored object, [2] issue confirmed notifications,
 * [3] lifetime; a cancellation (`cancel` 1) carries only [0] and [1] (13.14.1.1.4).
 */
export function wg_subscribe(index: i32, seq: i32, cancel: i32): i32 {
  if (index < 0 || index >= subscriptionCount) return OUT_OF_RANGE;
  const rec = covDevice(<i32>load<u32>(subscriptionDevices + (<usize>index << 2)));
  const frame = frameOut;
  const apdu = frame + <usize>REQUEST_HEADER;
  let p = apdu;
  store<u8>(p++, 0x00); // BACnet-Confirmed-Request-PDU, not segmented, no segmented answer accepted
  store<u8>(p++, 0x05); // max segments unspecified, max APDU 1476 octets (as every request here)
  store<u8>(p++, <u8>seq);
  store<u8>(p++, SERVICE_SUBSCRIBE_COV);
  p = putContextUnsigned(p, 0, load<u32>(rec, 12));
  p = putContextObjectId(p, 1, load<u32>(subscriptionObjects + (<usize>index << 2)));
  if (cancel == 0) {
    store<u8>(p++, 0x29); // context tag 2, Boolean, length 1 (a context Boolean has one content octet, 20.2.3)
    store<u8>(p++, <u8>load<u32>(rec, 8));
    p = putContextUnsigned(p, 3, load<u32>(rec, 4));
  }
  putRequestHeader(frame, <i32>(p - apdu), NPDU_EXPECTING_REPLY);
  setResult(frame);
  return <i32>(p - frame);
}

/**
 * ABI 1.6: whether the answer confirms subscription `index`'s request (both written at the input:
 * the request's `requestLength` bytes, then the answer). 0: a Simple-ACK of SubscribeCOV with the
 * request's invoke id. A positive n: the device refused (an Error, a Reject, an Abort), and the
 * output holds n bytes of UTF-8 saying so ("analog-input 1: error object optional-functionality-not-supported").
 * BAD_FRAME: the bytes answer no such request.
 */
export function wg_subscribe_check(index: i32, requestLength: i32, size: i32): i32 {
  if (index < 0 || index >= subscriptionCount) return OUT_OF_RANGE;
  if (requestLength <= REQUEST_INVOKE_ID || requestLength >= size) return BAD_FRAME;
  const request = input();
  const response = request + <usize>requestLength;
  const n = size - requestLength;
  const where = apduOffset(response, n);
  if (where < 0 || where + 3 > n) return BAD_FRAME;
  const apdu = response + <usize>where;
  const end = response + <usize>n;
  if (load<u8>(apdu, 1) != load<u8>(request + <usize>REQUEST_INVOKE_ID)) return BAD_FRAME;
  const type = load<u8>(apdu) >> 4;
  if (type == PDU_SIMPLE_ACK) return load<u8>(apdu, 2) == SERVICE_SUBSCRIBE_COV ? 0 : BAD_FRAME;
  const object = load<u32>(subscriptionObjects + (<usize>index << 2));
  lineStart();
  lineObject(object >> 22, object & 0x3fffff);
  if (type == PDU_ERROR) {
    if (load<u8>(apdu, 2) != SERVICE_SUBSCRIBE_COV) return BAD_FRAME;
    let next = readTag(apdu + 3, end);
    const errorClass = next != 0 ? contentUnsigned() : 0xffff;
    next = next != 0 ? readTag(next, end) : 0;
    const errorCode = next != 0 ? contentUnsigned() : 0xffff;
    lineUtf8(utf8(": error "));
    lineError(errorClass, errorCode);
  } else if (type == PDU_REJECT) {
    lineUtf8(utf8(": rejected: "));
    lineReject(<u32>load<u8>(apdu, 2));
  } else if (type == PDU_ABORT) {
    lineUtf8(utf8(": aborted: "));
    lineAbort(<u32>load<u8>(apdu, 2));
  } else {
    return BAD_FRAME;
  }
  counters.add(C_COV_REFUSED, 1);
  setResult(lineAt());
  return lineLength();
}

/**
 * ABI 1.6: the frame to send back for the unsolicited frame at the input, or 0 for none. A
 * ConfirmedCOVNotification-Request (13.6) is acknowledged by a BACnet-SimpleACK-PDU with its invoke id
 * and service choice 1 (20.1.4). One that crossed a router (NPDU source address) or a BBMD would need
 * the reply addressed back through them, which this decoder does not do: it gets none, and the device
 * retries it, then gives up (its values are taken all the same).
 */
export function wg_reply(size: i32): i32 {
  const p = input();
  const where = apduOffset(p, size);
  if (where != PLAIN_APDU || where + 4 > size) return 0;
  const apdu = p + <usize>where;
  const first = load<u8>(apdu);
  // A segmented request (SEG bit) is not one this decoder reads at all.
  if (first >> 4 != PDU_CONFIRMED_REQUEST || (first & 0x08) != 0 || load<u8>(apdu, 3) != SERVICE_CONFIRMED_COV_NOTIFICATION) return 0;
  const out = frameOut;
  store<u8>(out, BVLC_TYPE_BIP);
  store<u8>(out, BVLC_ORIGINAL_UNICAST, 1);
  store<u8>(out, 0, 2);
  store<u8>(out, 9, 3); // BVLC 4 + NPDU 2 + APDU 3
  store<u8>(out, 0x01, 4); // NPDU version 1
  store<u8>(out, 0x00, 5); // no addresses, no reply expected, normal priority
  store<u8>(out, PDU_SIMPLE_ACK << 4, 6);
  store<u8>(out, load<u8>(apdu, 2), 7); // the notification's invoke id
  store<u8>(out, SERVICE_CONFIRMED_COV_NOTIFICATION, 8);
  counters.add(C_COV_ACK, 1);
  setResult(out);
  return 9;
}
