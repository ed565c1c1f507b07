// The settings document's devices and points, checked and flattened at configure time: one fixed-size
// record per point id, so planning and decoding read memory instead of JSON.
import { ERROR } from "../sdk/log";
import { JsonCursor } from "../sdk/json-cursor";
import { lineStart, lineBytes, lineNumber, lineUtf8, lineLog } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";
import {
  K_NAME, K_UNIT_ID, K_DEVICE, K_FUNCTION, K_ADDRESS, K_TYPE, K_ORDER, K_BIT, K_LENGTH, K_SCALE, K_OFFSET,
  K_FRAMING, K_ACCESS, K_WRITE_FUNCTION, readMembers, at,
} from "./setting-names";
import { FRAMING_WORDS } from "./transport";
import { T_BOOL, T_COIL, T_STRING, TYPE_WORDS, ORDER_WORDS, ACCESS_WORDS, typeRegisters } from "./point-types";

// Point record. The plan's entries copy it, with R_POSITION then meaning where the value sits in the
// response's data: a byte offset for function 3/4, a bit index for function 1/2.
export const R_ID = 0; // u32 point id
export const R_POSITION = 4; // u16 protocol address (0-based) in a point record
export const R_SPAN = 6; // u16 registers (function 3/4) or bits (function 1/2) the point reads
export const R_FUNCTION = 8; // u8
export const R_TYPE = 9; // u8 type code; T_COIL for a bool on function 1/2
export const R_ORDER = 10; // u8 order code
export const R_BIT = 11; // u8 bit of the register, type bool on function 3/4
export const R_DEVICE = 12; // u16 device index
export const R_ACCESS = 14; // u8 access code (point-types.ts)
export const R_WRITE_FUNCTION = 15; // u8 the point's write_function, 0 when it declares none
export const R_SCALE = 16; // f64
export const R_OFFSET = 24; // f64
export const RECORD_SIZE: i32 = 32;

export let pointCount: i32 = 0;
export let pointRecords: usize = 0;
export let deviceCount: i32 = 0;
/** Unit id of each device (u8 per device index). */
export let unitIds: usize = 0;
/** Framing of each device (u8 per device index, transport.ts: FRAMING_TCP or FRAMING_RTU). */
export let framings: usize = 0;
/** Per device: u32 address and u32 length of a copy of its name (UTF-8, JSON escapes as written). */
export let deviceNames: usize = 0;
/** Per point id: the same for the point's name, for log lines about a read. */
export let pointNames: usize = 0;

// Where the value a refusal quotes is written in the document (0: the refusal quotes nothing).
let quoted: usize = 0;

/** Logs "<list>[<i>] '<name>': <reason>" as the configure error; returns false. */
function reject(json: JsonCursor, list: Utf8, i: i32, reason: Utf8): bool {
  const name = at(K_NAME);
  lineStart();
  lineUtf8(list);
  lineUtf8(utf8("["));
  lineNumber(i);
  lineUtf8(utf8("] '"));
  lineBytes(name + 1, json.textLength(name));
  lineUtf8(utf8("': "));
  lineUtf8(reason);
  if (quoted != 0) lineBytes(quoted, <i32>(json.skip(quoted) - quoted));
  lineLog(ERROR);
  return false;
}

/** A refusal of `reason` that quotes the value of member `k` as the document writes it. */
function quoting(k: i32, reason: Utf8): Utf8 {
  quoted = at(k);
  return reason;
}

/** Copies the name of the object whose members readMembers() found into `slots` entry `i`. */
function copyName(json: JsonCursor, slots: usize, i: i32): void {
  const name = at(K_NAME);
  const length = json.textLength(name);
  const copy = heap.alloc(<usize>max(length, 1));
  memory.copy(copy, name + 1, <usize>length);
  store<u32>(slots + <usize>i * 8, copy);
  store<u32>(slots + <usize>i * 8, length, 4);
}

// What whole() gives for a member that is absent or null (the gateway writes `length: null` for a
// point that is not a string, meaning "not set").
const ABSENT = -2;

/** The whole number at `p` when in 0..2^31-1; ABSENT when p is 0 or null; -1 (out of every range) otherwise. */
function whole(json: JsonCursor, p: usize): i32 {
  if (p == 0 || load<u8>(p) == 0x6e) return ABSENT; // 'n' of null
  const v = json.number(p);
  return v >= 0 && v <= i32.MAX_VALUE && Math.floor(v) == v ? <i32>v : -1;
}

export function readDevices(json: JsonCursor, devices: usize): bool {
  deviceCount = json.count(devices);
  const room = <usize>max(deviceCount, 1);
  unitIds = heap.alloc(room);
  framings = heap.alloc(room);
  deviceNames = heap.alloc(room * 8);
  let i = 0;
  for (let d = json.first(devices); d != 0; d = json.next(d)) {
    readMembers(json, d);
    quoted = 0;
    let unit = whole(json, at(K_UNIT_ID));
    if (unit == ABSENT) unit = 1; // the gateway's default unit id
    if (<u32>unit > 255) return reject(json, utf8("devices"), i, utf8("unit_id out of range"));
    store<u8>(unitIds + <usize>i, <u8>unit);
    // Absent: Modbus TCP, as before devices said their framing.
    const framing = at(K_FRAMING) == 0 ? 0 : json.oneOf(at(K_FRAMING), FRAMING_WORDS);
    if (framing < 0) {
      quoted = at(K_FRAMING);
      return reject(json, utf8("devices"), i, utf8("framing unknown: "));
    }
    store<u8>(framings + <usize>i, <u8>framing);
    copyName(json, deviceNames, i);
    i++;
  }
  return true;
}

export function readPoints(json: JsonCursor, points: usize, maxRegisters: i32): bool {
  pointCount = json.count(points);
  pointRecords = heap.alloc(<usize>(max(pointCount, 1) * RECORD_SIZE));
  pointNames = heap.alloc(<usize>max(pointCount, 1) * 8);
  let i = 0;
  for (let p = json.first(points); p != 0; p = json.next(p)) {
    readMembers(json, p);
    quoted = 0;
    const refused = readPoint(json, i, maxRegisters);
    if (refused !== null) return reject(json, utf8("points"), i, refused);
    copyName(json, pointNames, i);
    i++;
  }
  return true;
}

/** Checks point `i` (its members found by readMembers) and fills its record; null, or the refusal. */
function readPoint(json: JsonCursor, i: i32, maxRegisters: i32): Utf8 | null {
  // Unsigned comparisons: ABSENT and -1 are out of every range.
  const device = whole(json, at(K_DEVICE));
  if (<u32>device >= <u32>deviceCount) return utf8("device out of range");
  const fn = whole(json, at(K_FUNCTION));
  if (<u32>(fn - 1) > 3) return utf8("function out of range");
  const address = whole(json, at(K_ADDRESS));
  if (<u32>address > 65535) return utf8("address out of range");
  let type = json.oneOf(at(K_TYPE), TYPE_WORDS);
  if (type < 0) return quoting(K_TYPE, utf8("type unknown: "));
  const order = at(K_ORDER) == 0 ? 0 : json.oneOf(at(K_ORDER), ORDER_WORDS); // ABCD when absent
  if (order < 0) return quoting(K_ORDER, utf8("order unknown: "));

  const access = at(K_ACCESS) == 0 ? 0 : json.oneOf(at(K_ACCESS), ACCESS_WORDS); // read when absent
  if (access < 0) return quoting(K_ACCESS, utf8("access unknown: "));
  let writeFunction = whole(json, at(K_WRITE_FUNCTION));
  if (writeFunction == ABSENT) writeFunction = 0;
  else if (writeFunction != 5 && writeFunction != 6 && writeFunction != 15 && writeFunction != 16) return utf8("write_function must be 5, 6, 15 or 16");

  const bit = whole(json, at(K_BIT));
  const hasBit = bit != ABSENT;
  let span = 1;
  if (fn <= 2) {
    if (type != T_BOOL) return utf8("type must be bool for function 1/2");
    if (hasBit) return utf8("bit not for function 1/2");
    type = T_COIL;
  } else if (type == T_BOOL) {
    if (!hasBit) return utf8("bit missing");
    if (<u32>bit > 15) return utf8("bit out of range");
  } else if (hasBit) return utf8("bit not for this type");
  if (type == T_STRING) {
    span = whole(json, at(K_LENGTH));
    if (span < 1) return span == ABSENT ? utf8("length missing") : utf8("length out of range");
  } else {
    if (whole(json, at(K_LENGTH)) != ABSENT) return utf8("length not for this type");
    if (fn > 2) span = typeRegisters(type);
  }
  if (fn > 2 && span > maxRegisters) return type == T_STRING ? utf8("length exceeds max_registers") : utf8("type exceeds max_registers");
  if (address + span > 65536) return utf8("address runs past 65535");

  // Absent scale and offset are the identity: x × 1 + (−0) is x for every x, −0 and NaN included,
  // so the hot loop applies them without a branch.
  const scale = at(K_SCALE) == 0 ? 1 : json.number(at(K_SCALE));
  const offset = at(K_OFFSET) == 0 ? -0.0 : json.number(at(K_OFFSET));
  if ((type == T_COIL || type == T_BOOL || type == T_STRING) && (scale != 1 || offset != 0)) return scale != 1 ? utf8("scale not for this type") : utf8("offset not for this type");

  const rec = pointRecords + <usize>(i * RECORD_SIZE);
  store<u32>(rec, i, R_ID);
  store<u16>(rec, <u16>address, R_POSITION);
  store<u16>(rec, <u16>span, R_SPAN);
  store<u8>(rec, <u8>fn, R_FUNCTION);
  store<u8>(rec, <u8>type, R_TYPE);
  store<u8>(rec, <u8>order, R_ORDER);
  store<u8>(rec, <u8>bit, R_BIT);
  store<u16>(rec, <u16>device, R_DEVICE);
  store<u8>(rec, <u8>access, R_ACCESS);
  store<u8>(rec, <u8>writeFunction, R_WRITE_FUNCTION);
  store<f64>(rec, scale, R_SCALE);
  store<f64>(rec, offset, R_OFFSET);
  return null;
}
