// The scan codec, a tool module of the bacnet plugin (built to build/scan.wasm, beside bacnet.wasm,
// whose 16 KB it would not fit): what `wasmgate scan bacnet` sends and reads, built and decoded by
// the plugin's own BVLC, NPDU and tag code, so a scan speaks BACnet as the gateway does. It is an ABI
// module (the engine checks and guards it like any plugin) whose configure and process do nothing;
// the scan drives these exports of its own from a worker, one datagram at a time:
//   scan_who_is         a Who-Is (16.10), optionally limited to a device instance range, local or
//                       to every network (DNET 0xffff, which routers pass on)
//   scan_read           a ReadProperty (15.5) of one property, optionally one array element
//   scan_read_multiple  a ReadPropertyMultiple (15.7) of some properties of one object
//   scan_decode         one datagram in: its values as a sample batch (object-list.ts), and
//   scan_detail         what it was (an I-Am, an answer, an Error, Reject or Abort), and the source
//                       network and MAC of a device behind a router
// Requests to a device behind a router carry its network and MAC (DNET, DADR) in the NPDU.
import { setResult, input, OK, BAD_INPUT, OUT_OF_RANGE, BAD, TYPE_NUMBER, AGG_RAW } from "../../sdk";
import { apduOffset, BVLC_TYPE_BIP, BVLC_ORIGINAL_UNICAST, BVLC_ORIGINAL_BROADCAST, BVLC_FORWARDED_NPDU } from "../frame";
import { putContextUnsigned, putContextObjectId, putOpening, putClosing, objectId, readTag, isContext, isOpening, isClosing, contentUnsigned, tagNumber, tagIsContext, APP_OBJECT_ID } from "../tags";
import { scanWriter, decodeValueList } from "../object-list";
export { wasmgate_abi_v1, wg_input, wg_output } from "../../sdk";

/** Nothing to configure: every call says what it builds. */
export function wg_configure(size: i32): i32 {
  return OK;
}

/** Not a pipeline step: frame batches are the bacnet decoder's. */
export function wg_process(size: i32): i32 {
  return BAD_INPUT;
}

// What scan_decode found (the detail's first u32), with the meaning of the next five.
/** Not a BACnet/IP datagram this codec reads, or one cut short. */
const SCAN_UNREADABLE: u32 = 0;
/** I-Am (16.1): invoke 0, a device instance, b max APDU length accepted, c segmentation supported, d vendor id. */
const SCAN_I_AM: u32 = 1;
/** ReadProperty-ACK: a the object identifier, b the property, c the array index (0xffffffff: none); values in the batch. */
const SCAN_ACK: u32 = 2;
/** Error PDU: a error class, b error code. */
const SCAN_ERROR: u32 = 3;
/** Reject PDU: a reason. */
const SCAN_REJECT: u32 = 4;
/** Abort PDU: a reason (4: segmentation-not-supported, the answer did not fit one APDU). */
const SCAN_ABORT: u32 = 5;
/** A segmented Complex-ACK, which the request (SA = 0) did not accept. */
const SCAN_SEGMENTED: u32 = 6;
/** Any other APDU (another tool's Who-Is, a COV notification): not for the scan. */
const SCAN_OTHER: u32 = 7;
/**
 * ReadPropertyMultiple-ACK of one object: a the object identifier; in the batch one sample per value
 * whose point id is its property's identifier, or for a property the device refused, a sample of
 * quality bad whose value is the error class x 65536 + the error code.
 */
const SCAN_ACK_MULTIPLE: u32 = 8;

const NO_INDEX: u32 = 0xffffffff;
const MAX_INSTANCE: i32 = 4194303;
const SERVICE_READ_PROPERTY: u8 = 12;
const SERVICE_READ_PROPERTY_MULTIPLE: u8 = 14;
/** Properties one scan_read_multiple asks at most. */
const MAX_PROPERTIES: i32 = 16;

// The NPDU (6.2): version 1, the control octet, and for a message to another network its DNET, DLEN,
// DADR and hop count.
const NPDU_EXPECTING_REPLY: u8 = 0x04;
const NPDU_DNET: u8 = 0x20;
const NPDU_SNET: u8 = 0x08;
/** DNET 0xffff: every network, which routers pass on (a global broadcast). */
const GLOBAL_NETWORK: i32 = 0xffff;
const HOP_COUNT: u8 = 0xff;
/** The longest DADR taken: 6 octets are a B/IP or Ethernet MAC; MS/TP and ARCNET take 1, LonTalk up to 7. */
const MAX_MAC: i32 = 8;

// Who-Is: BVLC 4, NPDU 6 with DNET, APDU 2 and two limits of at most 5 octets each: 22. ReadProperty:
// BVLC 4, NPDU 6 + 8 octets of DADR, APDU 4, an object identifier 5, a property and an index of at most
// 5 each: 37. ReadPropertyMultiple: 4, 14, 4, 5, opening and closing 2, 16 properties of at most 5: 109.
const frameOut = memory.data(112);
// kind, invoke id, four fields by kind, the source network (0xffffffff: the sender's own) and the
// length of its MAC, then the MAC.
const detail = memory.data(32 + MAX_MAC);

/**
 * Writes BVLC `bvlcFunction` and an NPDU at `frameOut`, to `network` (-1: the local network; DADR of
 * `macLength` octets at `mac`); returns where the APDU starts.
 */
function header(bvlcFunction: u8, control: u8, network: i32, mac: usize, macLength: i32): usize {
  store<u8>(frameOut, BVLC_TYPE_BIP);
  store<u8>(frameOut, bvlcFunction, 1);
  store<u8>(frameOut, 0x01, 4);
  let p = frameOut + 6;
  if (network >= 0) {
    store<u8>(frameOut, control | NPDU_DNET, 5);
    store<u8>(p++, <u8>(network >> 8));
    store<u8>(p++, <u8>network);
    store<u8>(p++, <u8>macLength);
    memory.copy(p, mac, <usize>macLength);
    p += <usize>macLength;
    store<u8>(p++, HOP_COUNT);
  } else {
    store<u8>(frameOut, control, 5);
  }
  return p;
}

/** Writes the BVLC length of a datagram that ends at `end`, and makes it the result. */
function finish(end: usize): i32 {
  const length = <i32>(end - frameOut);
  store<u8>(frameOut, <u8>(length >> 8), 2);
  store<u8>(frameOut, <u8>length, 3);
  setResult(frameOut);
  return length;
}

/**
 * A Who-Is of devices `low` to `high` (both -1: every device). `broadcast` 1 makes it an
 * Original-Broadcast-NPDU, for a broadcast address; 0 an Original-Unicast-NPDU, for one device or
 * router. `global` 1 addresses it to every network (DNET 0xffff), so that routers pass it on to the
 * devices behind them; 0 keeps it to the IP network.
 */
export function scan_who_is(low: i32, high: i32, broadcast: i32, global: i32): i32 {
  const limited = low >= 0 || high >= 0;
  if (limited && !(low >= 0 && high >= low && high <= MAX_INSTANCE)) return OUT_OF_RANGE;
  let p = header(broadcast != 0 ? BVLC_ORIGINAL_BROADCAST : BVLC_ORIGINAL_UNICAST, 0, global != 0 ? GLOBAL_NETWORK : -1, 0, 0);
  store<u8>(p++, 0x10); // BACnet-Unconfirmed-Request-PDU
  store<u8>(p++, 0x08); // who-Is
  if (limited) {
    p = putContextUnsigned(p, 0, <u32>low);
    p = putContextUnsigned(p, 1, <u32>high);
  }
  return finish(p);
}

/**
 * A ReadProperty of `property` of object `type` `instance`, element `index` of an array property
 * (-1: the whole value), with invoke id `invokeId`. No segmented answer accepted, at most 1476 octets.
 * To a device behind a router: `network` its network number and the input's `size` octets its MAC
 * (DADR); -1 and no input for a device on the IP network.
 */
export function scan_read(size: i32, type: i32, instance: i32, property: i32, index: i32, invokeId: i32, network: i32): i32 {
  if (type < 0 || type > 1023 || instance < 0 || instance > MAX_INSTANCE || property < 0 || property > MAX_INSTANCE) return OUT_OF_RANGE;
  if (network >= GLOBAL_NETWORK || (network >= 0 && (size < 1 || size > MAX_MAC))) return OUT_OF_RANGE;
  let p = header(BVLC_ORIGINAL_UNICAST, NPDU_EXPECTING_REPLY, network, input(), size);
  store<u8>(p++, 0x00); // BACnet-Confirmed-Request-PDU, SA 0: no segmented answer
  store<u8>(p++, 0x05); // max segments unspecified, max APDU 1476
  store<u8>(p++, <u8>invokeId);
  store<u8>(p++, SERVICE_READ_PROPERTY);
  p = putContextObjectId(p, 0, objectId(<u32>type, <u32>instance));
  p = putContextUnsigned(p, 1, <u32>property);
  if (index >= 0) p = putContextUnsigned(p, 2, <u32>index);
  return finish(p);
}

/**
 * A ReadPropertyMultiple of `count` properties of object `type` `instance`, with invoke id `invokeId`:
 * the input holds the DADR (`macLength` octets, for a device behind a router on `network`; -1 and 0
 * for one on the IP network), then the properties' identifiers as u32, little-endian.
 */
export function scan_read_multiple(size: i32, macLength: i32, count: i32, type: i32, instance: i32, invokeId: i32, network: i32): i32 {
  if (type < 0 || type > 1023 || instance < 0 || instance > MAX_INSTANCE || count < 1 || count > MAX_PROPERTIES) return OUT_OF_RANGE;
  if (macLength < 0 || size != macLength + count * 4 || network >= GLOBAL_NETWORK || (network >= 0 && (macLength < 1 || macLength > MAX_MAC))) return OUT_OF_RANGE;
  const properties = input() + <usize>macLength;
  let p = header(BVLC_ORIGINAL_UNICAST, NPDU_EXPECTING_REPLY, network, input(), macLength);
  store<u8>(p++, 0x00);
  store<u8>(p++, 0x05);
  store<u8>(p++, <u8>invokeId);
  store<u8>(p++, SERVICE_READ_PROPERTY_MULTIPLE);
  p = putContextObjectId(p, 0, objectId(<u32>type, <u32>instance));
  p = putOpening(p, 1);
  for (let i = 0; i < count; i++) {
    const property = load<u32>(properties + (<usize>i << 2));
    if (property > <u32>MAX_INSTANCE) return OUT_OF_RANGE;
    p = putContextUnsigned(p, 0, property);
  }
  p = putClosing(p, 1);
  return finish(p);
}

function note(kind: u32, invokeId: u32, a: u32, b: u32, c: u32, d: u32): void {
  store<u32>(detail, kind);
  store<u32>(detail, invokeId, 4);
  store<u32>(detail, a, 8);
  store<u32>(detail, b, 12);
  store<u32>(detail, c, 16);
  store<u32>(detail, d, 20);
}

/** The detail of the datagram scan_decode read last: kind, invoke id, four fields by kind, its source network and MAC. */
export function scan_detail(): i32 {
  setResult(detail);
  return 32 + <i32>load<u32>(detail, 28);
}

/** The source network and MAC (SNET, SLEN, SADR) of a datagram a router passed on, into the detail. */
function noteSource(frame: usize, n: i32): void {
  store<u32>(detail, 0xffffffff, 24);
  store<u32>(detail, 0, 28);
  let at = load<u8>(frame, 1) == BVLC_FORWARDED_NPDU ? 10 : 4;
  if (at + 2 > n) return;
  const control = load<u8>(frame + <usize>at, 1);
  at += 2;
  if ((control & NPDU_DNET) != 0) {
    if (at + 3 > n) return;
    at += 3 + <i32>load<u8>(frame + <usize>at, 2);
  }
  if ((control & NPDU_SNET) == 0 || at + 3 > n) return;
  const length = <i32>load<u8>(frame + <usize>at, 2);
  if (length < 1 || length > MAX_MAC || at + 3 + length > n) return;
  store<u32>(detail, (<u32>load<u8>(frame + <usize>at) << 8) | <u32>load<u8>(frame + <usize>at, 1), 24);
  store<u32>(detail, <u32>length, 28);
  memory.copy(detail + 32, frame + <usize>at + 3, <usize>length);
}

/** Decodes the datagram of `size` bytes in the input; returns the length of its sample batch. */
export function scan_decode(size: i32): i32 {
  scanWriter.begin(4);
  note(SCAN_UNREADABLE, 0, 0, 0, 0, 0);
  store<u32>(detail, 0xffffffff, 24);
  store<u32>(detail, 0, 28);
  const frame = input();
  const end = frame + <usize>size;
  const at = apduOffset(frame, size);
  if (at >= 0 && at + 2 <= size) {
    noteSource(frame, size);
    readApdu(frame + <usize>at, end);
  }
  return scanWriter.finish();
}

function readApdu(apdu: usize, end: usize): void {
  const first = load<u8>(apdu);
  const type = first >> 4;
  const invokeId = <u32>load<u8>(apdu, 1);
  if (type == 1) {
    if (load<u8>(apdu, 1) == 0x00) iAm(apdu + 2, end);
    else note(SCAN_OTHER, 0, <u32>load<u8>(apdu, 1), 0, 0, 0);
    return;
  }
  if (apdu + 3 > end) return;
  if (type == 3) {
    if ((first & 0x08) != 0) return note(SCAN_SEGMENTED, invokeId, 0, 0, 0, 0);
    const service = load<u8>(apdu, 2);
    if (service == SERVICE_READ_PROPERTY) readPropertyAck(invokeId, apdu + 3, end);
    else if (service == SERVICE_READ_PROPERTY_MULTIPLE) readMultipleAck(invokeId, apdu + 3, end);
    else note(SCAN_OTHER, invokeId, 0, 0, 0, 0);
  } else if (type == 5) {
    let next = readTag(apdu + 3, end);
    const errorClass = next != 0 ? contentUnsigned() : 0xffff;
    next = next != 0 ? readTag(next, end) : 0;
    note(SCAN_ERROR, invokeId, errorClass, next != 0 ? contentUnsigned() : 0xffff, 0, 0);
  } else if (type == 6) {
    note(SCAN_REJECT, invokeId, <u32>load<u8>(apdu, 2), 0, 0, 0);
  } else if (type == 7) {
    note(SCAN_ABORT, invokeId, <u32>load<u8>(apdu, 2), 0, 0, 0);
  } else {
    note(SCAN_OTHER, invokeId, 0, 0, 0, 0);
  }
}

/** I-Am-Request: application-tagged device identifier, max APDU length accepted, segmentation, vendor id. */
function iAm(p: usize, end: usize): void {
  p = readTag(p, end);
  if (p == 0 || tagIsContext || tagNumber != APP_OBJECT_ID) return;
  const device = contentUnsigned() & 0x3fffff;
  p = readTag(p, end);
  if (p == 0) return;
  const maxApdu = contentUnsigned();
  p = readTag(p, end);
  if (p == 0) return;
  const segmentation = contentUnsigned();
  p = readTag(p, end);
  if (p == 0) return;
  note(SCAN_I_AM, 0, device, maxApdu, segmentation, contentUnsigned());
}

/** ReadProperty-ACK (15.5.1.3): [0] object, [1] property, [2] array index, [3] the value(s). */
function readPropertyAck(invokeId: u32, p: usize, end: usize): void {
  p = readTag(p, end);
  if (p == 0 || !isContext(0)) return;
  const object = contentUnsigned();
  p = readTag(p, end);
  if (p == 0 || !isContext(1)) return;
  const property = contentUnsigned();
  let index = NO_INDEX;
  let next = readTag(p, end);
  if (next != 0 && isContext(2)) {
    index = contentUnsigned();
    next = readTag(next, end);
  }
  if (next == 0 || !isOpening(3)) return;
  if (decodeValueList(next, end, object >> 22, property, 3, -1) == 0) {
    scanWriter.truncate(0);
    return;
  }
  note(SCAN_ACK, invokeId, object, property, index, 0);
}

/**
 * ReadPropertyMultiple-ACK (15.7.1.3), of the one object asked: [0] its identifier, [1] its results,
 * each [2] property, [3] array index, then [4] the value(s) or [5] the device's error class and code.
 */
function readMultipleAck(invokeId: u32, p: usize, end: usize): void {
  p = readTag(p, end);
  if (p == 0 || !isContext(0)) return;
  const object = contentUnsigned();
  p = readTag(p, end);
  if (p == 0 || !isOpening(1)) return;
  for (;;) {
    let next = readTag(p, end);
    if (next == 0) return malformed();
    if (isClosing(1)) break;
    if (!isContext(2)) return malformed();
    const property = contentUnsigned();
    p = next;
    next = readTag(p, end);
    if (next != 0 && isContext(3)) {
      p = next;
      next = readTag(p, end);
    }
    if (next == 0) return malformed();
    if (isOpening(4)) {
      p = decodeValueList(next, end, object >> 22, property, 4, <i32>property);
    } else if (isOpening(5)) {
      p = propertyError(next, end, property);
    } else {
      return malformed();
    }
    if (p == 0) return malformed();
  }
  note(SCAN_ACK_MULTIPLE, invokeId, object, 0, 0, 0);
}

function malformed(): void {
  scanWriter.truncate(0);
}

/** [5]: the error class and code (application enumerated) and its closing tag, as a bad sample of `property`. */
function propertyError(p: usize, end: usize, property: u32): usize {
  p = readTag(p, end);
  if (p == 0) return 0;
  const errorClass = contentUnsigned();
  p = readTag(p, end);
  if (p == 0) return 0;
  const errorCode = contentUnsigned();
  p = readTag(p, end);
  if (p == 0 || !isClosing(5)) return 0;
  scanWriter.push(0, <f64>(errorClass * 65536 + errorCode), property, BAD, TYPE_NUMBER, AGG_RAW);
  return p;
}
