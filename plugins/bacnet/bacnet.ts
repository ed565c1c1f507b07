// bacnet: decoder of BACnet/IP reads (ASHRAE 135). At configure it plans the requests
// (request-plan.ts: ReadPropertyMultiple per device, or ReadProperty per point) and builds their
// frames; the host sends each with its invoke id written in by the framing rule below, and hands
// back the answers, which answers.ts checks and decodes, and the frames devices send unasked (I-Am,
// COV notifications, unsolicited.ts).
import { setResult, input, OK, BAD_SETTINGS, OUT_OF_RANGE, BAD_FRAME, ERROR } from "../sdk";
import { lineStart, lineLog , lineUtf8 } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { JsonCursor } from "../sdk/json-cursor";
import { readMembers, at, readDevices, readPoints, K_WITH, K_DEVICES, K_POINTS, K_MAX_PROPERTIES } from "./point-table";
import { planRequests, requestCount, requestDevices, requestFrame } from "./request-plan";
import { MAX_DATAGRAM, BVLC_TYPE_BIP } from "./frame";
import { decodeFrames } from "./answers";
import { counters, problemsConfigure } from "./problems";
import { readCov, planSubscriptions } from "./cov";
import { writePropertyRequest, checkWriteProperty } from "./write-property";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";
export { wg_subscriptions, wg_subscribe, wg_subscribe_check, wg_reply } from "./cov";

const requestOut = memory.data(MAX_DATAGRAM);

export function wg_configure(size: i32): i32 {
  const json = new JsonCursor(input(), input() + <usize>size);
  readMembers(json, json.root);
  const devices = at(K_DEVICES);
  const points = at(K_POINTS);
  readMembers(json, at(K_WITH));
  const maxProperties = json.whole(at(K_MAX_PROPERTIES));
  if (!(maxProperties >= 1 && maxProperties <= 64)) {
    lineStart();
    lineUtf8(utf8("with.max_properties missing: the gateway fills in the manifest's default"));
    lineLog(ERROR);
    return BAD_SETTINGS;
  }
  if (!readDevices(json, devices) || !readPoints(json, points) || !readCov(json, devices)) return BAD_SETTINGS;
  planRequests(<i32>maxProperties);
  planSubscriptions();
  if (requestCount > 65535) {
    lineStart();
    lineUtf8(utf8("more than 65535 requests: a frame record's request index is 16 bits"));
    lineLog(ERROR);
    return BAD_SETTINGS;
  }
  problemsConfigure();
  return OK;
}

export function wg_requests(): i32 {
  setResult(requestDevices);
  return requestCount;
}

export function wg_request(index: i32, seq: i32): i32 {
  if (index < 0 || index >= requestCount) return OUT_OF_RANGE;
  setResult(requestOut);
  return requestFrame(requestOut, index, seq);
}

// ABI 1.1: the invoke id (one octet after BVLC 4, NPDU 2, PDU type and max-APDU octets) carries the
// host's seq; an answer carries it after its PDU type (ABI 1.4 response_seq: octet 7 when the NPDU has
// no source address; a routed answer's sits further on, and the host takes it for no request's, so
// routed devices need the decoder's own matching, not done yet). A datagram is as long as its BVLC
// length field says (Annex J.2), at least a BVLC, NPDU and the shortest APDU (an Abort or a Reject:
// 3 octets), at most MAX_DATAGRAM. wg_process checks the invoke id again, with everything else.
// ABI 1.6 `answers`: only an APDU of a Simple-ACK, Complex-ACK, Error, Reject or Abort (types 2, 3, 5,
// 6, 7: octet 6 of a datagram without NPDU addresses) answers a request; a COV notification's octet 7
// is its service choice or its max-APDU octet, and must never be taken for an invoke id. `replies`:
// only a confirmed request (type 0: a ConfirmedCOVNotification) wants one (wg_reply, cov.ts).
const FRAMING = utf8('{"seq":{"offset":8,"bytes":1},"response_seq":{"offset":7,"bytes":1},"answers":{"at":6,"mask":240,"equals":[32,48,80,96,112]},"replies":{"at":6,"mask":240,"equals":[0]},"length":{"offset":2,"bytes":2,"order":"big","add":0},"min":9,"max":1507}');

export function wg_framing(): i32 {
  setResult(FRAMING.bytes);
  return FRAMING.length;
}

/** A whole datagram is one frame; its BVLC says how long it is, and a wrong one is not BACnet/IP. */
export function wg_frame_length(size: i32): i32 {
  if (size < 4) return 0;
  const p = input();
  const length = (<i32>load<u8>(p, 2) << 8) | <i32>load<u8>(p, 3);
  if (load<u8>(p) != BVLC_TYPE_BIP || length < 9 || length > MAX_DATAGRAM) return BAD_FRAME;
  return size >= length ? length : 0;
}

export function wg_process(size: i32): i32 {
  return decodeFrames(input(), size);
}

export function wg_stats(): i32 {
  return counters.write();
}

// ABI 1.2, the write group: WriteProperty of a point's present-value (write-property.ts). Its frame
// goes where a request's does: the host copies each call's output before the next call.
export function wg_write(device: i32, point: i32, value: f64, seq: i32): i32 {
  setResult(requestOut);
  return writePropertyRequest(requestOut, device, point, value, seq);
}

export function wg_write_check(point: i32, requestLength: i32, size: i32): i32 {
  return checkWriteProperty(point, input(), requestLength, size);
}
