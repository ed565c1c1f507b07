// The request plan: per device, its points read by ReadPropertyMultiple (ASHRAE 135, 15.7) in
// requests of at most `max_properties` properties, the properties of one object together in one read
// access specification; or by one ReadProperty (15.5) per point for a device that does not take
// ReadPropertyMultiple. Every request's frame is built here, once, with invoke id 0: the host writes
// each exchange's invoke id where the framing rule says (bacnet.ts) and nothing else changes.
import {
  deviceCount, readsMultiple, pointCount, pointDevice, pointObjectType, pointInstance, pointProperty,
} from "./point-table";
import { putContextObjectId, putContextUnsigned, putOpening, putClosing, objectId } from "./tags";
import { putRequestHeader, REQUEST_HEADER, NPDU_EXPECTING_REPLY } from "./frame";

export const SERVICE_READ_PROPERTY: u8 = 12;
export const SERVICE_READ_PROPERTY_MULTIPLE: u8 = 14;
/** Where a request frame's invoke id sits: after the headers, the PDU type and the max-segments/max-APDU octet. */
export const INVOKE_ID_OFFSET: i32 = REQUEST_HEADER + 2;
/**
 * The confirmed request's second octet: max segments accepted 0 (unspecified; we accept none, as the
 * first octet's SA bit 0 says) and max APDU accepted 5 (1476 octets, the most a B/IP datagram carries).
 */
const MAX_APDU_ACCEPTED_1476: u8 = 0x05;

export let requestCount = 0;
/** Per request: the device index (u32, what wg_requests returns). */
export let requestDevices: usize = 0;
// Request record: u32 service, u32 first entry, u32 points, u32 frame address, u32 frame length.
let requests: usize = 0;
/** Point ids (u32), request after request, each request's in the order its frame asks for them. */
let entryTable: usize = 0;

@inline export function requestService(r: i32): u8 { return <u8>load<u32>(requests + <usize>r * 20); }
/** Where request `r`'s points start among the entries, and how many it reads. */
@inline export function requestFirst(r: i32): i32 { return <i32>load<u32>(requests + <usize>r * 20, 4); }
@inline export function requestSize(r: i32): i32 { return <i32>load<u32>(requests + <usize>r * 20, 8); }
@inline export function frameOf(r: i32): usize { return <usize>load<u32>(requests + <usize>r * 20, 12); }
@inline export function frameLength(r: i32): i32 { return <i32>load<u32>(requests + <usize>r * 20, 16); }
@inline export function entry(i: i32): i32 { return <i32>load<u32>(entryTable + (<usize>i << 2)); }
@inline function setEntry(i: i32, id: i32): void { store<u32>(entryTable + (<usize>i << 2), <u32>id); }

// An upper bound of one property reference's bytes: context tag + up to 4 octets, for RP the object too.
const BYTES_PER_PROPERTY = 12;

export function planRequests(maxProperties: i32): void {
  // Count first, so every table is allocated once.
  let count = 0;
  for (let d = 0; d < deviceCount; d++) {
    const n = pointsOf(d);
    count += readsMultiple(d) ? (n + maxProperties - 1) / maxProperties : n;
  }
  requestCount = count;
  requestDevices = heap.alloc(<usize>max(count, 1) * 4);
  requests = heap.alloc(<usize>max(count, 1) * 20);
  entryTable = heap.alloc(<usize>max(pointCount, 1) << 2);

  let r = 0;
  let e = 0;
  for (let d = 0; d < deviceCount; d++) {
    const perRequest = readsMultiple(d) ? maxProperties : 1;
    let inRequest = 0;
    for (let id = 0; id < pointCount; id++) {
      if (pointDevice(id) != d) continue;
      if (inRequest == 0) {
        store<u32>(requestDevices + <usize>r * 4, <u32>d);
        store<u32>(requests + <usize>r * 20, readsMultiple(d) ? SERVICE_READ_PROPERTY_MULTIPLE : SERVICE_READ_PROPERTY);
        store<u32>(requests + <usize>r * 20, e, 4);
      }
      setEntry(e++, id);
      inRequest++;
      if (inRequest == perRequest) {
        finishRequest(r++, inRequest);
        inRequest = 0;
      }
    }
    if (inRequest > 0) finishRequest(r++, inRequest);
  }
}

function pointsOf(d: i32): i32 {
  let n = 0;
  for (let id = 0; id < pointCount; id++) if (pointDevice(id) == d) n++;
  return n;
}

/** Orders request `r`'s points so an object's properties are adjacent, and builds its frame. */
function finishRequest(r: i32, size: i32): void {
  store<u32>(requests + <usize>r * 20, size, 8);
  const first = requestFirst(r);
  // Stable grouping by object: each point, then the later points of the same object.
  for (let i = first; i < first + size; i++) {
    const id = entry(i);
    for (let j = i + 1; j < first + size; j++) {
      const other = entry(j);
      if (sameObject(id, other) && !sameObject(id, entry(i + 1))) {
        // Move `other` to i + 1, shifting the ones between up by one.
        for (let k = j; k > i + 1; k--) setEntry(k, entry(k - 1));
        setEntry(i + 1, other);
        break;
      }
    }
  }
  const frame = heap.alloc(<usize>(REQUEST_HEADER + 4 + size * BYTES_PER_PROPERTY + 8));
  const apdu = frame + <usize>REQUEST_HEADER;
  let p = apdu;
  store<u8>(p++, 0x00); // BACnet-Confirmed-Request-PDU, not segmented, segmented response not accepted
  store<u8>(p++, MAX_APDU_ACCEPTED_1476);
  store<u8>(p++, 0); // invoke id: the host writes each exchange's
  store<u8>(p++, requestService(r));
  if (requestService(r) == SERVICE_READ_PROPERTY) {
    const id = entry(first);
    p = putContextObjectId(p, 0, objectId(pointObjectType(id), pointInstance(id)));
    p = putContextUnsigned(p, 1, pointProperty(id));
  } else {
    for (let i = first; i < first + size; i++) {
      const id = entry(i);
      if (i == first || !sameObject(id, entry(i - 1))) {
        if (i != first) p = putClosing(p, 1);
        p = putContextObjectId(p, 0, objectId(pointObjectType(id), pointInstance(id)));
        p = putOpening(p, 1);
      }
      p = putContextUnsigned(p, 0, pointProperty(id));
    }
    p = putClosing(p, 1);
  }
  const apduLength = <i32>(p - apdu);
  putRequestHeader(frame, apduLength, NPDU_EXPECTING_REPLY);
  store<u32>(requests + <usize>r * 20, <u32>frame, 12);
  store<u32>(requests + <usize>r * 20, REQUEST_HEADER + apduLength, 16);
}

@inline function sameObject(a: i32, b: i32): bool {
  return pointObjectType(a) == pointObjectType(b) && pointInstance(a) == pointInstance(b) && pointDevice(a) == pointDevice(b);
}

/** Copies request `r`'s frame to `out` with invoke id `seq` (its low 8 bits); returns its length. */
export function requestFrame(out: usize, r: i32, seq: i32): i32 {
  const n = frameLength(r);
  memory.copy(out, frameOf(r), <usize>n);
  store<u8>(out + <usize>INVOKE_ID_OFFSET, <u8>seq);
  return n;
}
