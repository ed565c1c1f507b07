// The request plan: each device's points grouped by function code, sorted by address and coalesced
// into as few reads as the limits allow. It is a pure function of the settings, because two
// instances derive it independently: one on the I/O thread builds the requests, one in the pipeline
// worker decodes the answers (docs/plugin-abi.md, "Instances").
import { RECORD_SIZE, R_POSITION, R_SPAN, R_FUNCTION, R_DEVICE, R_TYPE, pointCount, pointRecords, unitIds } from "./point-table";
import { T_STRING } from "./point-types";

// Request record.
export const Q_START = 0; // u16 first address read
export const Q_QUANTITY = 2; // u16 registers or bits read
export const Q_FUNCTION = 4; // u8
export const Q_UNIT = 5; // u8 unit id of the device
export const Q_DEVICE = 6; // u16 device index
export const Q_FIRST = 8; // u32 first entry of the request
export const Q_COUNT = 12; // u32 entries (points) the request covers
export const Q_TEXT = 16; // u32 bytes of text its string points can yield
export const REQUEST_SIZE: i32 = 20;

export let requestCount: i32 = 0;
export let requests: usize = 0;
/** One u32 device index per request: exactly what wg_requests hands the host. */
export let requestDevices: usize = 0;
/** Point records in plan order, R_POSITION rewritten to the value's place in the response data. */
export let entries: usize = 0;

// Sort key: device, function, address, then point id, so equal addresses keep the settings' order.
const ID_BITS: u64 = 28;
const GROUP_SHIFT: u64 = 44; // key >> GROUP_SHIFT = device and function

/**
 * Insertion sort: the smallest code, and linear on points listed in address order, as register maps
 * usually are; a shuffled list of a few thousand points still sorts in milliseconds, once, at configure.
 */
function sortKeys(keys: usize, n: i32): void {
  for (let i = 1; i < n; i++) {
    const key = load<u64>(keys + <usize>i * 8);
    let j = i;
    while (j > 0) {
      const before = load<u64>(keys + <usize>(j - 1) * 8);
      if (before <= key) break;
      store<u64>(keys + <usize>j * 8, before);
      j--;
    }
    store<u64>(keys + <usize>j * 8, key);
  }
}

/**
 * Builds the plan. A request grows by the next point of its group while the gap before that point is
 * at most `maxGap` and the whole read stays within `maxRegisters` (function 3/4) or `maxBits` (1/2).
 * A point is never split: configure has already refused a point larger than the limit.
 */
export function planRequests(maxRegisters: i32, maxBits: i32, maxGap: i32): void {
  const n = pointCount;
  const room = <usize>max(n, 1);
  const keys = heap.alloc(room * 8);
  for (let i = 0; i < n; i++) {
    const rec = pointRecords + <usize>(i * RECORD_SIZE);
    store<u64>(keys + <usize>i * 8,
      (<u64>load<u16>(rec, R_DEVICE) << 48) | (<u64>load<u8>(rec, R_FUNCTION) << GROUP_SHIFT) |
      (<u64>load<u16>(rec, R_POSITION) << ID_BITS) | <u64>i);
  }
  sortKeys(keys, n);
  requests = heap.alloc(room * REQUEST_SIZE);
  requestDevices = heap.alloc(room * 4);
  entries = heap.alloc(room * RECORD_SIZE);
  requestCount = 0;

  let group: u64 = u64.MAX_VALUE;
  let start = 0;
  let end = 0; // one past the last address read so far
  let q: usize = 0;
  for (let e = 0; e < n; e++) {
    const key = load<u64>(keys + <usize>e * 8);
    const rec = pointRecords + <usize>(<i32>(key & ((1 << ID_BITS) - 1)) * RECORD_SIZE);
    const address = <i32>load<u16>(rec, R_POSITION);
    const last = address + <i32>load<u16>(rec, R_SPAN);
    const fn = load<u8>(rec, R_FUNCTION);
    const reach = last > end ? last : end;
    if (key >> GROUP_SHIFT != group || address - end > maxGap || reach - start > (fn <= 2 ? maxBits : maxRegisters)) {
      group = key >> GROUP_SHIFT;
      start = address;
      end = last;
      const device = load<u16>(rec, R_DEVICE);
      q = requests + <usize>(requestCount * REQUEST_SIZE);
      store<u16>(q, <u16>start, Q_START);
      store<u8>(q, fn, Q_FUNCTION);
      store<u8>(q, load<u8>(unitIds + <usize>device), Q_UNIT);
      store<u16>(q, device, Q_DEVICE);
      store<u32>(q, e, Q_FIRST);
      store<u32>(q, 0, Q_COUNT);
      store<u32>(q, 0, Q_TEXT);
      store<u32>(requestDevices + <usize>requestCount * 4, device);
      requestCount++;
    } else {
      end = reach;
    }
    store<u16>(q, <u16>(end - start), Q_QUANTITY);
    store<u32>(q, load<u32>(q, Q_COUNT) + 1, Q_COUNT);
    if (load<u8>(rec, R_TYPE) == T_STRING) store<u32>(q, load<u32>(q, Q_TEXT) + 2 * <u32>load<u16>(rec, R_SPAN), Q_TEXT);
    const entry = entries + <usize>(e * RECORD_SIZE);
    memory.copy(entry, rec, RECORD_SIZE);
    store<u16>(entry, <u16>(fn <= 2 ? address - start : (address - start) * 2), R_POSITION);
  }
}
