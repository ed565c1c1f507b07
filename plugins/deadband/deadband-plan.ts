// What deadband does for each point, read once from the settings document in wg_configure, into one
// record per point that also holds what the point last received and last emitted.
import { PointSettings } from "../sdk/point-settings";

// Per-point record: offsets of its fields.
export const EMITTED: usize = 0; // f64: value last emitted (text: u64 hash of its bytes)
export const LATEST: usize = 8; // f64: value last received (what a heartbeat re-emits)
export const EMITTED_AT: usize = 16; // f64: when the point last emitted, ms since the epoch
export const ABSOLUTE: usize = 24; // f64: absolute band, in the point's unit; 0: off
export const FRACTION: usize = 32; // f64: relative band, percent / 100; 0: off
export const HEARTBEAT: usize = 40; // f64: ms; 0: off
export const EMITTED_LENGTH: usize = 48; // u32: byte length of the text last emitted
export const QUALITY: usize = 52; // u8: quality last received (and emitted: a change always emits)
export const TYPE: usize = 53; // u8: type last received
export const SEEN: usize = 54; // u8: 1 once the point has had a sample
export const RECEIVED_AT: usize = 56; // f64: newest timestamp the point received, ms since the epoch
export const STRIDE: usize = 64;

// The step's keys, in the order of the K_ indexes.
const KEYS = "absolute percent heartbeat";
const K_ABSOLUTE = 0;
const K_PERCENT = 1;
const K_HEARTBEAT = 2;

const MAX_HEARTBEAT: i32 = 2147483647; // ms, 24.8 days
// What a reader returns for a key that is absent: no valid value is negative. plugin.yaml holds the
// defaults and the host fills them in, so only a document made without the host lacks a key.
const ABSENT = -2;

/** The per-point records, STRIDE bytes each, in point id order. */
export class Plan {
  constructor(public records: usize, public count: i32) {}
}

/**
 * Reads the settings document (`size` bytes of input) into per-point records; null after logging the
 * first problem, naming the setting.
 */
export function readPlan(size: i32): Plan | null {
  const own = new PointSettings(size, KEYS);
  if (!own.read()) return null;
  const n = own.count;
  const records = heap.alloc(<usize>n * STRIDE + 8);
  memory.fill(records, 0, <usize>n * STRIDE);
  for (let p = 0; p < n; p++) {
    const r = records + <usize>p * STRIDE;
    own.select(p);
    const absolute = own.number(K_ABSOLUTE, ABSENT, false, ": must be 0 or more");
    const percent = own.number(K_PERCENT, ABSENT, false, ": must be 0 or more");
    const heartbeat = own.whole(K_HEARTBEAT, ABSENT, 0, MAX_HEARTBEAT, ": must be a whole number of ms, 0 to 2147483647");
    if (isNaN(absolute + percent) || heartbeat == -1) return null; // the reader logged why
    if (absolute == ABSENT) return missing(own, K_ABSOLUTE);
    if (percent == ABSENT) return missing(own, K_PERCENT);
    if (heartbeat == ABSENT) return missing(own, K_HEARTBEAT);
    store<f64>(r, absolute, ABSOLUTE);
    store<f64>(r, percent / 100, FRACTION);
    store<f64>(r, <f64>heartbeat, HEARTBEAT);
  }
  return new Plan(records, n);
}

function missing(own: PointSettings, k: i32): Plan | null {
  own.refuse(k, ": missing (the host fills in plugin.yaml's default)", -1);
  return null;
}
