// modbus: decoder of Modbus reads. At configure it plans the requests (request-plan.ts); on the I/O
// thread it builds their frames and finds frame boundaries (transport.ts); in the pipeline worker it
// checks each response against its request and decodes every point's value (frame-batch.ts).
import { input, setResult, OK, BAD_SETTINGS, OUT_OF_RANGE, ERROR } from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { lineStart, lineEntry, lineLog } from "../sdk/log-line";
import { MESSAGES, M_TOO_MANY_REQUESTS } from "./messages";
import { K_WITH, K_DEVICES, K_POINTS, K_MAX_REGISTERS, K_MAX_BITS, K_MAX_GAP, readMembers, at } from "./setting-names";
import { readDevices, readPoints } from "./point-table";
import { planRequests, requestCount, requestDevices } from "./request-plan";
import { requestFrame, frameLength, MAX_REQUEST_FRAME } from "./transport";
import { decodeFrames } from "./frame-batch";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// The frame of the last wg_request.
const requestOut = memory.data(MAX_REQUEST_FRAME);
// A frame record's request index is 16 bits.
const MAX_REQUESTS: i32 = 65535;

/** `with:` setting `k`: a whole number, `fallback` when absent. */
function setting(json: JsonCursor, k: i32, fallback: i32): i32 {
  return at(k) == 0 ? fallback : <i32>json.number(at(k));
}

export function wg_configure(size: i32): i32 {
  const json = new JsonCursor(input(), input() + <usize>size);
  readMembers(json, json.root);
  const devices = at(K_DEVICES);
  const points = at(K_POINTS);
  // The host has checked `with:` against the manifest's schema (transport, ranges) before this call
  // (docs/plugin-abi.md, wg_configure), so only defaults are applied here; they equal the manifest's,
  // the protocol's limits of 125 registers and 2000 bits per read.
  readMembers(json, at(K_WITH));
  const maxRegisters = setting(json, K_MAX_REGISTERS, 125);
  const maxBits = setting(json, K_MAX_BITS, 2000);
  const maxGap = setting(json, K_MAX_GAP, 0);
  if (!readDevices(json, devices) || !readPoints(json, points, maxRegisters)) return BAD_SETTINGS;
  planRequests(maxRegisters, maxBits, maxGap);
  if (requestCount > MAX_REQUESTS) {
    lineStart();
    lineEntry(MESSAGES, M_TOO_MANY_REQUESTS);
    lineLog(ERROR);
    return BAD_SETTINGS;
  }
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

export function wg_frame_length(size: i32): i32 {
  return frameLength(input(), size);
}

export function wg_process(size: i32): i32 {
  return decodeFrames(input(), size);
}
