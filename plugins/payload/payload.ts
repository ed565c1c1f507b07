// payload: decoder of bodies that devices push (ABI 1.5 pushed frames: a CoAP request's payload, an
// MQTT message) into samples. The host has already mapped the resource (a CoAP path, an MQTT topic)
// to the device and, when the resource stands for one point, that point; the request part of each
// record says who sent it, to which resource, with which media type. JSON (json-body.ts) and CBOR
// (cbor-body.ts) bodies; a body that cannot be read is skipped and counted, never an error of the
// batch, and logged (at most once a batch) with its sender and resource.
import { input, OK, BAD_SETTINGS, WARN, ERROR, FrameReader, Counters, FRAME_PUSHED, FRAME_NO_POINT } from "../sdk";
import { JsonCursor } from "../sdk/json-cursor";
import { lineStart, lineUtf8, lineBytes, lineWord, lineLog } from "../sdk/log-line";
import { utf8, Utf8 } from "../sdk/utf8";
import { readPoints, pointCount, pointDevice } from "./point-names";
import { out, startBody, dropBody, bodySamples, unusable, unknown, WHY_NONE, WHY_WORDS } from "./readings";
import { readJson } from "./json-body";
import { readCbor } from "./cbor-body";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

const counters = new Counters("pushed samples malformed unknown_points unusable_values unsupported_media unmapped not_pushed");
const C_PUSHED = 0;
const C_SAMPLES = 1;
const C_MALFORMED = 2;
const C_UNKNOWN_POINTS = 3;
const C_UNUSABLE = 4;
const C_UNSUPPORTED = 5;
const C_UNMAPPED = 6;
const C_NOT_PUSHED = 7;

const FORMAT_AUTO = 0;
const FORMAT_JSON = 1;
const FORMAT_CBOR = 2;
let format = FORMAT_AUTO;

const frames = new FrameReader();
const found = memory.data(3 * 4);

export function wg_configure(size: i32): i32 {
  const json = new JsonCursor(input(), input() + <usize>size);
  json.members(json.root, "with points", found);
  const points = <usize>load<u32>(found, 4);
  json.members(<usize>load<u32>(found), "format", found);
  format = json.oneOf(<usize>load<u32>(found), "auto json cbor");
  if (format < 0) {
    lineStart();
    lineUtf8(utf8("with.format must be auto, json or cbor"));
    lineLog(ERROR);
    return BAD_SETTINGS;
  }
  if (!readPoints(json, points)) {
    lineStart();
    lineUtf8(utf8("points: each needs a name and a device index"));
    lineLog(ERROR);
    return BAD_SETTINGS;
  }
  return OK;
}

// The request part of a pushed frame: sender LF resource LF media type (docs/plugin-abi.md, "Pushed frames").
let senderLength = 0;
let resourceAt: usize = 0;
let resourceLength = 0;
let mediaAt: usize = 0;
let mediaLength = 0;

function splitRequest(p: usize, n: i32): void {
  const end = p + <usize>n;
  let q = p;
  while (q < end && load<u8>(q) != 0x0a) q++;
  senderLength = <i32>(q - p);
  resourceAt = q < end ? q + 1 : end;
  q = resourceAt;
  while (q < end && load<u8>(q) != 0x0a) q++;
  resourceLength = <i32>(q - resourceAt);
  mediaAt = q < end ? q + 1 : end;
  mediaLength = <i32>(end - mediaAt);
}

function mediaIs(word: string): bool {
  // A media type may carry parameters (`application/json; charset=utf-8`): compare up to them.
  let n = 0;
  while (n < mediaLength && load<u8>(mediaAt + <usize>n) != 0x3b && load<u8>(mediaAt + <usize>n) != 0x20) n++;
  if (n != word.length) return false;
  for (let i = 0; i < n; i++) if ((<i32>load<u8>(mediaAt + <usize>i) | 0x20) != word.charCodeAt(i)) return false;
  return true;
}

function mediaEndsWith(suffix: string): bool {
  let n = 0;
  while (n < mediaLength && load<u8>(mediaAt + <usize>n) != 0x3b && load<u8>(mediaAt + <usize>n) != 0x20) n++;
  const k = suffix.length;
  if (n < k) return false;
  for (let i = 0; i < k; i++) if ((<i32>load<u8>(mediaAt + <usize>(n - k + i)) | 0x20) != suffix.charCodeAt(i)) return false;
  return true;
}

/** The format of the body at `body` (`n` bytes): the setting, else its media type, else JSON when it reads as JSON. -1: a media type neither format has. */
function formatOf(): i32 {
  if (format != FORMAT_AUTO) return format;
  if (mediaLength == 0) return FORMAT_AUTO;
  if (mediaIs("application/json") || mediaIs("text/plain") || mediaEndsWith("+json")) return FORMAT_JSON;
  if (mediaIs("application/cbor") || mediaEndsWith("+cbor")) return FORMAT_CBOR;
  return -1;
}

let loggedThisBatch = false;

function refused(what: Utf8, why: i32): void {
  if (loggedThisBatch) return;
  loggedThisBatch = true;
  lineStart();
  lineUtf8(what);
  if (why >= 0) {
    lineUtf8(utf8(" ("));
    lineWord(WHY_WORDS, why);
    lineUtf8(utf8(")"));
  }
  lineUtf8(utf8(" from "));
  lineBytes(frames.requestPtr, senderLength);
  lineUtf8(utf8(" to "));
  lineBytes(resourceAt, resourceLength);
  lineUtf8(utf8(", skipped"));
  lineLog(WARN);
}

export function wg_process(size: i32): i32 {
  out.begin(16);
  loggedThisBatch = false;
  frames.reset(input(), size);
  while (frames.next()) {
    if (frames.status != FRAME_PUSHED) {
      counters.add(C_NOT_PUSHED, 1);
      continue;
    }
    splitRequest(frames.requestPtr, frames.requestLength);
    const device = frames.device;
    const mapped = frames.point;
    const point = mapped == FRAME_NO_POINT ? -1 : <i32>mapped;
    if (point >= pointCount || (point >= 0 && pointDevice(point) != device)) {
      counters.add(C_UNMAPPED, 1);
      continue;
    }
    const kind = formatOf();
    if (kind < 0) {
      counters.add(C_UNSUPPORTED, 1);
      refused(utf8("body of a media type neither JSON nor CBOR"), -1);
      continue;
    }
    startBody(device, point, frames.ts);
    const body = frames.responsePtr;
    const n = frames.responseLength;
    let why: i32;
    if (kind == FORMAT_CBOR) why = readCbor(body, n);
    else if (kind == FORMAT_JSON) why = readJson(body, n);
    else {
      // No media type: JSON when the body reads as JSON, else CBOR.
      why = readJson(body, n);
      if (why != WHY_NONE) {
        dropBody();
        startBody(device, point, frames.ts);
        why = readCbor(body, n);
      }
    }
    if (why != WHY_NONE) {
      dropBody();
      counters.add(C_MALFORMED, 1);
      refused(kind == FORMAT_CBOR ? utf8("malformed CBOR body") : kind == FORMAT_JSON ? utf8("malformed JSON body") : utf8("body neither JSON nor CBOR"), why);
      continue;
    }
    counters.add(C_PUSHED, 1);
    counters.add(C_SAMPLES, <u64>bodySamples());
    counters.add(C_UNKNOWN_POINTS, <u64>unknown);
    counters.add(C_UNUSABLE, <u64>unusable);
  }
  return out.finish();
}

export function wg_stats(): i32 {
  return counters.write();
}
