// What outlier does for each point, read once from the settings document in wg_configure (method,
// window, threshold, warm-up, action, band floor, restart rule) into one record per point that also
// holds the point's running state and the headers of its windows.
import { PointSettings } from "../sdk/point-settings";
import { RING_HEADER, ringInit } from "../sdk/ring-window";
import { sortedInit } from "../sdk/sorted-window";

// Per-point record: offsets of its fields.
export const RING: usize = 0; // ring-window header: the last `window` accepted values
export const SORTED: usize = RING + RING_HEADER; // sorted-window header (hampel only)
export const RUN: usize = 24; // i32: how many of the newest accepted values are equal (sigma)
export const STREAK: usize = 28; // i32: consecutive outliers since the last accepted value
export const MIN_SAMPLES: usize = 32; // i32
export const RESET_AFTER: usize = 36; // i32, 0: never
export const THRESHOLD: usize = 40; // f64
export const MIN_DEVIATION: usize = 48; // f64
export const MEAN: usize = 56; // f64: running mean of the window (sigma)
export const M2: usize = 64; // f64: running sum of squared deviations from the mean (sigma)
export const METHOD: usize = 72; // u8
export const ACTION: usize = 73; // u8
export const STRIDE: usize = 80;

// Positions in METHODS and ACTIONS.
export const METHOD_SIGMA: u8 = 0;
export const METHOD_HAMPEL: u8 = 1;
export const METHOD_NONE: u8 = 2;
const METHODS = "sigma hampel none";
export const ACTION_DROP: u8 = 0;
export const ACTION_SUSPECT: u8 = 1;
const ACTIONS = "drop suspect";

// The step's keys, in the order of the K_ indexes.
const KEYS = "method window threshold min_samples action min_deviation reset_after";
const K_METHOD = 0;
const K_WINDOW = 1;
const K_THRESHOLD = 2;
const K_MIN_SAMPLES = 3;
const K_ACTION = 4;
const K_MIN_DEVIATION = 5;
const K_RESET_AFTER = 6;

const MAX_WINDOW: i32 = 1024; // samples
// What a reader returns for a key that is absent: no valid value is negative. plugin.yaml holds the
// defaults and the host fills them in, so only a document made without the host lacks a key.
const ABSENT = -2;

/** The per-point records, STRIDE bytes each, in point id order. */
export class Plan {
  constructor(public records: usize, public count: i32) {}
}

/**
 * Reads the settings document (`size` bytes of input) into per-point records, windows allocated;
 * null after logging the first problem, naming the setting.
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
    const method = own.choice(K_METHOD, METHODS, ABSENT);
    const window = own.whole(K_WINDOW, ABSENT, 3, MAX_WINDOW, ": must be a whole number 3..1024");
    const threshold = own.number(K_THRESHOLD, ABSENT, true, ": must be above 0");
    const minSamples = own.whole(K_MIN_SAMPLES, ABSENT, 2, MAX_WINDOW, ": must be a whole number 2..1024");
    const action = own.choice(K_ACTION, ACTIONS, ABSENT);
    const minDeviation = own.number(K_MIN_DEVIATION, ABSENT, false, ": must be 0 or more");
    const resetAfter = own.whole(K_RESET_AFTER, ABSENT, 0, 65535, ": must be a whole number 0..65535");
    // -1 and NaN: the reader logged why.
    if (method == -1 || window == -1 || minSamples == -1 || action == -1 || resetAfter == -1 || isNaN(threshold + minDeviation)) return null;
    if (method == ABSENT) return missing(own, K_METHOD);
    if (window == ABSENT) return missing(own, K_WINDOW);
    if (threshold == ABSENT) return missing(own, K_THRESHOLD);
    if (minSamples == ABSENT) return missing(own, K_MIN_SAMPLES);
    if (action == ABSENT) return missing(own, K_ACTION);
    if (minDeviation == ABSENT) return missing(own, K_MIN_DEVIATION);
    if (resetAfter == ABSENT) return missing(own, K_RESET_AFTER);
    if (minSamples > window) {
      own.refuse(K_MIN_SAMPLES, ": must not exceed ", K_WINDOW);
      return null;
    }
    const cap = method == METHOD_NONE ? 0 : window;
    store<u8>(r, <u8>method, METHOD);
    store<u8>(r, <u8>action, ACTION);
    store<i32>(r, minSamples, MIN_SAMPLES);
    store<i32>(r, resetAfter, RESET_AFTER);
    store<f64>(r, threshold, THRESHOLD);
    store<f64>(r, minDeviation, MIN_DEVIATION);
    ringInit(r + RING, heap.alloc(<usize>cap << 3), cap);
    if (method == METHOD_HAMPEL) sortedInit(r + SORTED, heap.alloc(<usize>cap << 3));
  }
  return new Plan(records, n);
}

function missing(own: PointSettings, k: i32): Plan | null {
  own.refuse(k, ": missing (the host fills in plugin.yaml's default)", -1);
  return null;
}
