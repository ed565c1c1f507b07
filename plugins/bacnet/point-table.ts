// The settings document's devices and points, checked once at configure and kept as fixed-size
// records in memory, so planning and decoding read memory, not JSON. The gateway has already turned
// a point's object type and property names into BACnet's numbers (docs/config.md, bacnet_ip).
import { ERROR } from "../sdk/log";
import { JsonCursor } from "../sdk/json-cursor";
import { lineStart, lineNumber, lineLog, lineUtf8 } from "../sdk/log-line";
import { Utf8, utf8 } from "../sdk/utf8";
import { allocWriteSettings, noteWriteSettings } from "./write-property";

// Every member this plugin reads, one JsonCursor.members pass per object (indexes below).
const KEYS = "with devices points max_properties name device_instance read_multiple device object_type instance property access write_priority cov_lifetime_s cov_confirmed cov_process_id";
export const K_WITH = 0;
export const K_DEVICES = 1;
export const K_POINTS = 2;
export const K_MAX_PROPERTIES = 3;
const K_NAME = 4;
const K_DEVICE_INSTANCE = 5;
const K_READ_MULTIPLE = 6;
const K_DEVICE = 7;
const K_OBJECT_TYPE = 8;
const K_INSTANCE = 9;
const K_PROPERTY = 10;
const K_ACCESS = 11;
const K_WRITE_PRIORITY = 12;
// A device's COV subscription (cov.ts).
export const K_COV_LIFETIME = 13;
export const K_COV_CONFIRMED = 14;
export const K_COV_PROCESS_ID = 15;
const found = memory.data(16 * 4);

export function readMembers(json: JsonCursor, p: usize): void {
  json.members(p, KEYS, found);
}

@inline export function at(k: i32): usize {
  return <usize>load<u32>(found + <usize>k * 4);
}

export let deviceCount = 0;
// Device record: u32 device instance, u32 1 when it takes ReadPropertyMultiple, u32 name address, u32 name length.
let devices: usize = 0;
export let pointCount = 0;
// Point record: u32 device index, u32 object type, u32 instance, u32 property identifier.
let points: usize = 0;

@inline export function deviceInstance(d: i32): u32 { return load<u32>(devices + (<usize>d << 4)); }
@inline export function readsMultiple(d: i32): bool { return load<u32>(devices + (<usize>d << 4), 4) != 0; }
@inline export function deviceNameAt(d: i32): usize { return <usize>load<u32>(devices + (<usize>d << 4), 8); }
@inline export function deviceNameLength(d: i32): i32 { return <i32>load<u32>(devices + (<usize>d << 4), 12); }
@inline export function pointDevice(id: i32): i32 { return <i32>load<u32>(points + (<usize>id << 4)); }
@inline export function pointObjectType(id: i32): u32 { return load<u32>(points + (<usize>id << 4), 4); }
@inline export function pointInstance(id: i32): u32 { return load<u32>(points + (<usize>id << 4), 8); }
@inline export function pointProperty(id: i32): u32 { return load<u32>(points + (<usize>id << 4), 12); }

/** The largest instance number an object identifier holds (22 bits; 4194303 means "none"). */
const MAX_INSTANCE: f64 = 4194302;

function refuse(list: Utf8, i: i32, reason: Utf8): bool {
  lineStart();
  lineUtf8(list);
  lineUtf8(utf8("["));
  lineNumber(i);
  lineUtf8(utf8("]: "));
  lineUtf8(reason);
  lineLog(ERROR);
  return false;
}

/** The whole number from 0 to `max` at member `k`; -1 when absent or not one. */
function whole(json: JsonCursor, k: i32, max: f64): f64 {
  const v = json.whole(at(k)); // the gateway writes these in digits: no decimal reader needed
  return v <= max ? v : -1;
}

export function readDevices(json: JsonCursor, list: usize): bool {
  deviceCount = json.count(list);
  devices = heap.alloc(<usize>max(deviceCount, 1) << 4);
  let i = 0;
  for (let d = json.first(list); d != 0; d = json.next(d)) {
    readMembers(json, d);
    const instance = whole(json, K_DEVICE_INSTANCE, MAX_INSTANCE);
    if (instance < 0) return refuse(utf8("devices"), i, utf8("device_instance must be a whole number from 0 to 4194302"));
    const rec = devices + (<usize>i << 4);
    store<u32>(rec, <u32>instance);
    // Absent: ReadPropertyMultiple, which nearly every BACnet/IP device serves (a B-ASC device may not).
    store<u32>(rec, at(K_READ_MULTIPLE) == 0 || load<u8>(at(K_READ_MULTIPLE)) != 0x66 ? 1 : 0, 4); // 'f' of false
    const name = at(K_NAME);
    const length = json.textLength(name);
    const copy = heap.alloc(<usize>max(length, 1));
    if (length > 0) memory.copy(copy, name + 1, <usize>length);
    store<u32>(rec, <u32>copy, 8);
    store<u32>(rec, <u32>length, 12);
    i++;
  }
  return true;
}

export function readPoints(json: JsonCursor, list: usize): bool {
  pointCount = json.count(list);
  points = heap.alloc(<usize>max(pointCount, 1) << 4);
  allocWriteSettings(pointCount);
  let i = 0;
  for (let p = json.first(list); p != 0; p = json.next(p)) {
    readMembers(json, p);
    const device = whole(json, K_DEVICE, <f64>(deviceCount - 1));
    if (device < 0) return refuse(utf8("points"), i, utf8("device is not the index of a device in the document"));
    const type = whole(json, K_OBJECT_TYPE, 1023);
    if (type < 0) return refuse(utf8("points"), i, utf8("object_type must be a BACnet object type number (0 to 1023)"));
    const instance = whole(json, K_INSTANCE, MAX_INSTANCE);
    if (instance < 0) return refuse(utf8("points"), i, utf8("instance must be a whole number from 0 to 4194302"));
    const property = whole(json, K_PROPERTY, 4194303);
    if (property < 0) return refuse(utf8("points"), i, utf8("property must be a BACnet property identifier number"));
    // What a write needs (write-property.ts): the gateway allows "read" (the default), "write", "read_write".
    const access = at(K_ACCESS);
    const writable = access != 0 && (load<u8>(access, 1) == 0x77 || json.textLength(access) == 10); // 'w', or read_write
    const priority = at(K_WRITE_PRIORITY) == 0 ? 0 : whole(json, K_WRITE_PRIORITY, 16);
    if (priority < 0 || (priority == 0 && at(K_WRITE_PRIORITY) != 0)) return refuse(utf8("points"), i, utf8("write_priority must be 1 to 16"));
    noteWriteSettings(i, writable, <u8>priority);
    const rec = points + (<usize>i << 4);
    store<u32>(rec, <u32>device);
    store<u32>(rec, <u32>type, 4);
    store<u32>(rec, <u32>instance, 8);
    store<u32>(rec, <u32>property, 12);
    i++;
  }
  return true;
}

/** The device index whose device instance is `instance`, or -1. */
export function deviceOfInstance(instance: u32): i32 {
  for (let i = 0; i < deviceCount; i++) if (deviceInstance(i) == instance) return i;
  return -1;
}
