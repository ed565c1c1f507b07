// modbus: decoder of Modbus reads, encoder of writes, over Modbus TCP or RTU per device. At configure
// it plans the requests (request-plan.ts); it builds their frames and finds frame boundaries
// (transport.ts); it checks each response against its request and decodes every point's value
// (frame-batch.ts); it encodes a write (write-request.ts) and checks the device's answer (write-check.ts).
import { input, setResult, OK, BAD_SETTINGS, OUT_OF_RANGE, ERROR } from "../sdk";
import { lineStart, lineUtf8, lineWord, lineLog } from "../sdk/log-line";
import { utf8 } from "../sdk/utf8";
import { JsonCursor } from "../sdk/json-cursor";
import { K_WITH, K_DEVICES, K_POINTS, K_MAX_REGISTERS, K_MAX_BITS, K_MAX_GAP, KEYS, readMembers, at } from "./setting-names";
import { readDevices, readPoints } from "./point-table";
import { planRequests, requestCount, requestDevices } from "./request-plan";
import { requestFrame, frameLength, MAX_REQUEST_FRAME } from "./transport";
import { decodeFrames } from "./frame-batch";
import { counters, problemsConfigure } from "./response-problems";
import { writeRequest } from "./write-request";
import { checkWrite } from "./write-check";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

// The frame of the last wg_request.
const requestOut = memory.data(MAX_REQUEST_FRAME);
// A frame record's request index is 16 bits.
const MAX_REQUESTS: i32 = 65535;

/**
 * `with:` setting `k` (named by its word in KEYS), a whole number; -1 (after logging) when it is absent. Its default and range
 * live in the manifest only: the host checks `with:` against it and fills in the defaults before
 * this call (docs/plugin-abi.md, wg_configure), so an absent setting means the document did not
 * come from a gateway.
 */
function setting(json: JsonCursor, k: i32): i32 {
  if (at(k) != 0) return <i32>json.number(at(k));
  lineStart();
  lineUtf8(utf8("with."));
  lineWord(KEYS, k);
  lineUtf8(utf8(" missing: the gateway fills in the manifest's default"));
  lineLog(ERROR);
  return -1;
}

export function wg_configure(size: i32): i32 {
  const json = new JsonCursor(input(), input() + <usize>size);
  readMembers(json, json.root);
  const devices = at(K_DEVICES);
  const points = at(K_POINTS);
  readMembers(json, at(K_WITH));
  const maxRegisters = setting(json, K_MAX_REGISTERS);
  const maxBits = setting(json, K_MAX_BITS);
  const maxGap = setting(json, K_MAX_GAP);
  if (maxRegisters < 0 || maxBits < 0 || maxGap < 0) return BAD_SETTINGS;
  if (!readDevices(json, devices) || !readPoints(json, points, maxRegisters)) return BAD_SETTINGS;
  planRequests(maxRegisters, maxBits, maxGap);
  if (requestCount > MAX_REQUESTS) {
    lineStart();
    lineUtf8(utf8("more than 65535 requests: a frame record's request index is 16 bits"));
    lineLog(ERROR);
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

// ABI 1.1: how frames carry the sequence number and end, per framing, so the host's pollers build and
// delimit them without calling this plugin per exchange. Modbus TCP: the transaction id (MBAP bytes
// 0-1) carries seq; a response is its MBAP length (bytes 4-5: unit id + PDU, 1 to 254) plus the 6 bytes
// before it. RTU carries no seq, and a response's length follows from its function code (byte 1), as
// rtu-frame.ts says: exception 5; reads byte count + 5; write echoes 8; mask write 10; at most 256.
// Everything else about a response (ids, CRC, function) is checked in wg_process.
const FRAMING = utf8('{"by_framing":{\
"tcp":{"seq":{"offset":0,"bytes":2,"order":"big"},"length":{"offset":4,"bytes":2,"order":"big","add":6},"min":7,"max":260},\
"rtu":{"seq":null,"length":{"at":1,"cases":[{"mask":128,"equals":128,"length":5},\
{"equals":[1,2,3,4,23],"length":{"offset":2,"bytes":1,"add":5}},{"equals":[5,6,15,16],"length":8},{"equals":22,"length":10}]},\
"min":5,"max":256}}}');

export function wg_framing(): i32 {
  setResult(FRAMING.bytes);
  return FRAMING.length;
}

export function wg_frame_length(size: i32): i32 {
  return frameLength(input(), size);
}

export function wg_process(size: i32): i32 {
  return decodeFrames(input(), size);
}

// ABI 1.2, the write group. The frame of the last wg_write.
const writeOut = memory.data(MAX_REQUEST_FRAME);

export function wg_write(device: i32, point: i32, value: f64, seq: i32): i32 {
  setResult(writeOut);
  return writeRequest(writeOut, device, point, value, seq);
}

export function wg_write_check(point: i32, requestLength: i32, size: i32): i32 {
  return checkWrite(point, input(), requestLength, size);
}
