// The name of every settings member this plugin reads, in one space-separated list: one
// JsonCursor.members pass over an object finds them all, each at the index its K_ constant names.
import { JsonCursor } from "../sdk/json-cursor";
export const KEYS = "with devices points max_registers max_bits max_gap \
name unit_id device function address type order bit length scale offset \
framing access write_function";
// The settings document.
export const K_WITH = 0;
export const K_DEVICES = 1;
export const K_POINTS = 2;
// Its `with:`.
export const K_MAX_REGISTERS = 3;
export const K_MAX_BITS = 4;
export const K_MAX_GAP = 5;
// A device (name, unit_id) or a point (name, device...).
export const K_NAME = 6;
export const K_UNIT_ID = 7;
export const K_DEVICE = 8;
export const K_FUNCTION = 9;
export const K_ADDRESS = 10;
export const K_TYPE = 11;
export const K_ORDER = 12;
export const K_BIT = 13;
export const K_LENGTH = 14;
export const K_SCALE = 15;
export const K_OFFSET = 16;
// ABI 1.2: a device's framing, a point's access and write function.
export const K_FRAMING = 17;
export const K_ACCESS = 18;
export const K_WRITE_FUNCTION = 19;
const KEY_COUNT = 20;

// Where the last readMembers() call found each key's value.
const found = memory.data(KEY_COUNT * 4);

/** Finds the KEYS of the object at `p`. */
export function readMembers(json: JsonCursor, p: usize): void {
  json.members(p, KEYS, found);
}

/** Position of the value of key `k` in the object last read with readMembers(); 0 when absent. */
@inline export function at(k: i32): usize {
  return <usize>load<u32>(found + <usize>k * 4);
}
