// What anomaly does for each point, read once from the settings document in wg_configure into one
// record per point that also holds the point's running state (the baseline being learnt or judged
// against, and the two sums).
import { PointSettings } from "../sdk/point-settings";

// Per-point record: offsets of its fields.
export const COUNT: usize = 0; // i32: readings learnt since the baseline started again
export const WARMUP: usize = 4; // i32
export const MEAN: usize = 8; // f64: running mean (Welford) while learning, the baseline after
export const M2: usize = 16; // f64: running sum of squared deviations while learning
export const SIGMA: usize = 24; // f64: the baseline's σ, set when learning ends
export const S_UP: usize = 32; // f64: S⁺
export const S_DOWN: usize = 40; // f64: S⁻
export const K: usize = 48; // f64
export const H: usize = 56; // f64
export const ALPHA: usize = 64; // f64
export const MIN_DEVIATION: usize = 72; // f64
export const STRIDE: usize = 80;

// The step's keys, in the order of the K_ indexes.
const KEYS = "warmup k h alpha min_deviation";
const K_WARMUP = 0;
const K_K = 1;
const K_H = 2;
const K_ALPHA = 3;
const K_MIN_DEVIATION = 4;

// What a reader returns for a key that is absent: no valid value is negative. plugin.yaml holds the
// defaults and the host fills them in, so only a document made without the host lacks a key.
const ABSENT = -2;

export class Plan {
  constructor(public records: usize, public count: i32) {}
}

/** Reads the settings into per-point records; null after logging the first problem, naming the setting. */
export function readPlan(size: i32): Plan | null {
  const own = new PointSettings(size, KEYS);
  if (!own.read()) return null;
  const n = own.count;
  const records = heap.alloc(<usize>n * STRIDE + 8);
  memory.fill(records, 0, <usize>n * STRIDE);
  for (let p = 0; p < n; p++) {
    const r = records + <usize>p * STRIDE;
    own.select(p);
    const warmup = own.whole(K_WARMUP, ABSENT, 3, 100000, ": must be a whole number 3..100000");
    const k = own.number(K_K, ABSENT, false, ": must be 0 or more");
    const h = own.number(K_H, ABSENT, true, ": must be above 0");
    const alpha = own.number(K_ALPHA, ABSENT, false, ": must be 0..1");
    const minDeviation = own.number(K_MIN_DEVIATION, ABSENT, false, ": must be 0 or more");
    // -1 and NaN: the reader logged why.
    if (warmup == -1 || isNaN(k + h + alpha + minDeviation)) return null;
    if (warmup == ABSENT) return missing(own, K_WARMUP);
    if (k == ABSENT) return missing(own, K_K);
    if (h == ABSENT) return missing(own, K_H);
    if (alpha == ABSENT) return missing(own, K_ALPHA);
    if (minDeviation == ABSENT) return missing(own, K_MIN_DEVIATION);
    if (alpha > 1) {
      own.refuse(K_ALPHA, ": must be 0..1", -1);
      return null;
    }
    store<i32>(r, warmup, WARMUP);
    store<f64>(r, k, K);
    store<f64>(r, h, H);
    store<f64>(r, alpha, ALPHA);
    store<f64>(r, minDeviation, MIN_DEVIATION);
  }
  return new Plan(records, n);
}

function missing(own: PointSettings, k: i32): Plan | null {
  own.refuse(k, ": missing (the host fills in plugin.yaml's default)", -1);
  return null;
}
