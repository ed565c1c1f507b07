// anomaly: per point, a two-sided CUSUM against a baseline learnt from the first `warmup` good
// readings; a reading where the sums cross h is marked suspect (for a local rule to act on), and the
// baseline is learnt again from there, so a step in the process is flagged once (plugin.yaml).
import {
  input, setResult, sampleCount, heapBytes, sampleAt, value, point, quality, type, aggregate, setQuality,
  OK, BAD_SETTINGS, BAD_INPUT, UNCHANGED, GOOD, SUSPECT, TYPE_NUMBER, AGG_RAW, BATCH_HEADER, SAMPLE_SIZE,
} from "../sdk";
import { Counters } from "../sdk/counters";
import { readPlan, COUNT, WARMUP, MEAN, M2, SIGMA, S_UP, S_DOWN, K, H, ALPHA, MIN_DEVIATION, STRIDE } from "./anomaly-plan";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

const counters = new Counters("detections");
const DETECTIONS = 0;

let records: usize = 0;
let points: u32 = 0;

export function wg_configure(size: i32): i32 {
  const plan = readPlan(size);
  if (plan === null) return BAD_SETTINGS;
  records = plan.records;
  points = <u32>plan.count;
  return OK;
}

export function wg_stats(): i32 {
  return counters.write();
}

export function wg_process(size: i32): i32 {
  const batch = input();
  const n = sampleCount(batch);
  if (<i64>BATCH_HEADER + <i64>n * SAMPLE_SIZE + <i64>heapBytes(batch) > <i64>size) return BAD_INPUT;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    if (judge(rec)) {
      setQuality(rec, SUSPECT);
      changed = true;
    }
  }
  if (!changed) return UNCHANGED;
  setResult(batch);
  return size;
}

/** True when the reading is where the point's level shifted. */
@inline function judge(rec: usize): bool {
  const id = point(rec);
  if (id >= points || type(rec) != TYPE_NUMBER || quality(rec) != GOOD || aggregate(rec) != AGG_RAW) return false;
  const x = value(rec);
  if (!isFinite(x)) return false;
  const r = records + <usize>id * STRIDE;
  const count = load<i32>(r, COUNT);
  if (count < load<i32>(r, WARMUP)) {
    learn(r, x, count);
    return false;
  }
  let sigma = load<f64>(r, SIGMA);
  const floor = load<f64>(r, MIN_DEVIATION);
  if (sigma < floor) sigma = floor;
  // A flat warm-up and no floor: no noise to measure a shift against (plugin.yaml).
  if (sigma == 0) return false;
  const mean = load<f64>(r, MEAN);
  const z = (x - mean) / sigma;
  const k = load<f64>(r, K);
  const up = Math.max(0, load<f64>(r, S_UP) + z - k);
  const down = Math.max(0, load<f64>(r, S_DOWN) - z - k);
  const h = load<f64>(r, H);
  if (up > h || down > h) {
    counters.add(DETECTIONS, 1);
    // The new level is learnt from this reading on.
    store<f64>(r, 0, S_UP);
    store<f64>(r, 0, S_DOWN);
    store<f64>(r, 0, MEAN);
    store<f64>(r, 0, M2);
    learn(r, x, 0);
    return true;
  }
  store<f64>(r, up, S_UP);
  store<f64>(r, down, S_DOWN);
  const alpha = load<f64>(r, ALPHA);
  if (alpha > 0) store<f64>(r, mean + alpha * (x - mean), MEAN);
  return false;
}

/** Welford's update of the baseline being learnt; the last reading of the warm-up fixes σ (n − 1). */
function learn(r: usize, x: f64, count: i32): void {
  const n = count + 1;
  const before = load<f64>(r, MEAN);
  const d = x - before;
  const after = before + d / <f64>n;
  const m2 = load<f64>(r, M2) + d * (x - after);
  store<f64>(r, after, MEAN);
  store<f64>(r, m2, M2);
  store<i32>(r, n, COUNT);
  if (n == load<i32>(r, WARMUP)) store<f64>(r, Math.sqrt(m2 / <f64>(n - 1)), SIGMA);
}
