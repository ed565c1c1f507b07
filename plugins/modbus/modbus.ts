// modbus: decoder of Modbus reads. At configure it plans the requests (request-plan.ts); on the I/O
// thread it builds their frames and finds frame boundaries (transport.ts); in the pipeline worker it
// checks each response against its request and decodes every point's value (frame-batch.ts).
import { input, setResult, fail, OK, BAD_SETTINGS, OUT_OF_RANGE, ERROR } from "../sdk";
import { lineStart, lineText, lineLog } from "../sdk/log-line";
import { JsonCursor } from "../sdk/json-cursor";
import { K_WITH, K_DEVICES, K_POINTS, K_MAX_REGISTERS, K_MAX_BITS, K_MAX_GAP, readMembers, at } from "./setting-names";
import { readDevices, readPoints } from "./point-table";
import { planRequests, requestCount, requestDevices } from "./request-plan";
import { requestFrame, frameLength, MAX_REQUEST_FRAME } from "./transport";
import { decodeFrames } from "./frame-batch";
import { counters, problemsConfigure } from "./response-problems";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// The frame of the last wg_request.
const requestOut = memory.data(MAX_REQUEST_FRAME);
// A frame record's request index is 16 bits.
const MAX_REQUESTS: i32 = 65535;

/**
 * `with:` setting `k`, a whole number; -1 (after logging) when it is absent. Its default and range
 * live in the manifest only: the host checks `with:` against it and fills in the defaults before
 * this call (docs/plugin-abi.md, wg_configure), so an absent setting means the document did not
 * come from a gateway.
 */
function setting(json: JsonCursor, k: i32, name: string): i32 {
  if (at(k) != 0) return <i32>json.number(at(k));
  lineStart();
  lineText("with.");
  lineText(name);
  lineText(" missing: the gateway fills in the manifest's default");
  lineLog(ERROR);
  return -1;
}

export function wg_configure(size: i32): i32 {
  const json = new JsonCursor(input(), input() + <usize>size);
  readMembers(json, json.root);
  const devices = at(K_DEVICES);
  const points = at(K_POINTS);
  readMembers(json, at(K_WITH));
  const maxRegisters = setting(json, K_MAX_REGISTERS, "max_registers");
  const maxBits = setting(json, K_MAX_BITS, "max_bits");
  const maxGap = setting(json, K_MAX_GAP, "max_gap");
  if (maxRegisters < 0 || maxBits < 0 || maxGap < 0) return BAD_SETTINGS;
  if (!readDevices(json, devices) || !readPoints(json, points, maxRegisters)) return BAD_SETTINGS;
  planRequests(maxRegisters, maxBits, maxGap);
  if (requestCount > MAX_REQUESTS) {
    fail("more than 65535 requests: a frame record's request index is 16 bits");
    return BAD_SETTINGS;
  }
  problemsConfigure();
  return OK;
}

export function wg_stats(): i32 {
  return counters.write();
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

// ABI 1.1: how Modbus TCP frames carry the sequence number and end, so the host's pollers build and
// delimit them without calling this plugin per exchange. The transaction id (MBAP bytes 0-1) carries
// seq; a response is its MBAP length (bytes 4-5: unit id + PDU, 1 to 254) plus the 6 bytes before it.
// Everything else about a response (protocol id, unit id, function) is checked in wg_process.
const FRAMING = '{"seq":{"offset":0,"bytes":2,"order":"big"},"length":{"offset":4,"bytes":2,"order":"big","add":6},"min":7,"max":260}';

export function wg_framing(): i32 {
  const text = String.UTF8.encode(FRAMING);
  setResult(changetype<usize>(text));
  return text.byteLength;
}

export function wg_frame_length(size: i32): i32 {
  return frameLength(input(), size);
}

export function wg_process(size: i32): i32 {
  return decodeFrames(input(), size);
}
