// deadband: report by exception. Per point, a sample is emitted only when it differs enough from the
// last one emitted: numbers by more than `absolute` or `percent` of the last emitted value (either
// band), bools and text on any change, any sample whose quality or type changed, and the first one.
// A `heartbeat` re-emits a point that has been silent that long: its next sample passes even inside
// the band, and wg_tick re-emits the latest value of a point whose samples have stopped coming.
// Heartbeats are timed on the wall clock, so a step of it (clock-step.ts) would stop them for as long
// as a step back, or fire them all at once after a step forward: at a step every point's times move
// with the clock, and silence goes on being measured from where it was.
import {
  input, setResult, reserveOutput, sampleCount, heapBytes, heapAt, sampleAt, ts, value, point, quality,
  type, aggregate, textOffset, textLength, OK, BAD_SETTINGS, BAD_INPUT, UNCHANGED, TYPE_NUMBER, TYPE_BOOL,
  TYPE_TEXT, AGG_RAW, BATCH_HEADER, SAMPLE_SIZE, putSample,
} from "../sdk";
import { moveSample } from "../sdk/sample-move";
import { Counters } from "../sdk/counters";
import { CLOCK_STEP, tickStep, shiftLastTick, reportStep } from "../resample/clock-step";
import {
  readPlan, EMITTED, LATEST, EMITTED_AT, ABSOLUTE, FRACTION, HEARTBEAT, EMITTED_LENGTH, QUALITY, TYPE, SEEN,
  RECEIVED_AT, STRIDE,
} from "./deadband-plan";
import { snapshotPoints, restorePoints } from "./deadband-state";
export { wasmgate_abi_v1, wg_input, wg_output } from "../sdk";

const counters = new Counters("suppressed heartbeats clock_steps");
const SUPPRESSED = 0;
const HEARTBEATS = 1;
const CLOCK_STEPS = 2;

let records: usize = 0;
let points: u32 = 0;

export function wg_configure(size: i32): i32 {
  const plan = readPlan(size);
  if (plan === null) return BAD_SETTINGS;
  records = plan.records;
  points = <u32>plan.count;
  // A tick emits at most one sample per point: take that room now, not in a data call.
  reserveOutput(BATCH_HEADER + plan.count * SAMPLE_SIZE, 0);
  return OK;
}

/** ABI 1.3: every point's reference, for a new version (deadband-state.ts). */
export function wg_snapshot(): i32 {
  return snapshotPoints(records, points);
}

export function wg_restore(size: i32): i32 {
  return restorePoints(size, records, points);
}

export function wg_stats(): i32 {
  return counters.write();
}

export function wg_process(size: i32): i32 {
  const batch = input();
  const n = sampleCount(batch);
  const heap = heapBytes(batch);
  if (<i64>BATCH_HEADER + <i64>n * SAMPLE_SIZE + <i64>heap > <i64>size) return BAD_INPUT;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    if (!report(batch, rec, heap)) continue;
    if (kept != i) moveSample(sampleAt(batch, kept), rec);
    kept++;
  }
  if (kept == n) return UNCHANGED;
  // Close the gap the suppressed samples left; text offsets are relative to the heap, so they still hold.
  memory.copy(sampleAt(batch, kept), sampleAt(batch, n), <usize>heap);
  store<u32>(batch, <u32>kept);
  setResult(batch);
  return BATCH_HEADER + kept * SAMPLE_SIZE + heap;
}

/** Whether the sample at `rec` is emitted; updates its point's state. */
function report(batch: usize, rec: usize, heap: i32): bool {
  const id = point(rec);
  const kind = type(rec);
  const t = ts(rec);
  // Samples this step does not understand pass untouched and leave no trace in the state; so does a
  // sample stamped NaN or ±Infinity (t - t is NaN), whose time would stop the heartbeat's clock.
  if (id >= points || aggregate(rec) != AGG_RAW || kind > TYPE_TEXT || t - t != 0) return true;
  const r = records + <usize>id * STRIDE;
  const q = quality(rec);
  let x = value(rec);
  let length: u32 = 0;
  if (kind == TYPE_TEXT) {
    length = textLength(rec);
    const offset = textOffset(rec);
    // A text outside the heap cannot be compared: pass it and keep no state from it.
    if (<u64>offset + <u64>length > <u64>heap) return true;
    x = reinterpret<f64>(fnv1a(heapAt(batch) + <usize>offset, length));
  }
  const seen = load<u8>(r, SEEN) != 0;
  const step = t - load<f64>(r, RECEIVED_AT);
  if (seen && step < -CLOCK_STEP) {
    shiftLastTick(step);
    clockStepped(step);
  }
  let emit = true;
  if (seen && load<u8>(r, QUALITY) == q && load<u8>(r, TYPE) == kind) {
    const last = load<f64>(r, EMITTED);
    if (kind == TYPE_NUMBER) emit = moved(x, last, load<f64>(r, ABSOLUTE), load<f64>(r, FRACTION));
    else if (kind == TYPE_BOOL) emit = !(x == last || (x != x && last != last));
    else emit = reinterpret<u64>(x) != reinterpret<u64>(last) || length != load<u32>(r, EMITTED_LENGTH);
    if (!emit) {
      const heartbeat = load<f64>(r, HEARTBEAT);
      emit = heartbeat > 0 && t - load<f64>(r, EMITTED_AT) >= heartbeat;
      if (emit) counters.add(HEARTBEATS, 1);
    }
  }
  store<f64>(r, x, LATEST);
  if (!seen || !(t <= load<f64>(r, RECEIVED_AT))) store<f64>(r, t, RECEIVED_AT);
  store<u8>(r, q, QUALITY);
  store<u8>(r, kind, TYPE);
  store<u8>(r, 1, SEEN);
  if (!emit) {
    counters.add(SUPPRESSED, 1);
    return false;
  }
  store<f64>(r, x, EMITTED);
  store<u32>(r, length, EMITTED_LENGTH);
  store<f64>(r, t, EMITTED_AT);
  return true;
}

/** After a step of the clock by `step` ms: every point's times move with it. */
function clockStepped(step: f64): void {
  counters.add(CLOCK_STEPS, 1);
  reportStep(step, "heartbeats now timed on the new clock");
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    store<f64>(r, load<f64>(r, EMITTED_AT) + step, EMITTED_AT);
    store<f64>(r, load<f64>(r, RECEIVED_AT) + step, RECEIVED_AT);
  }
}

/**
 * Whether number `x` is outside the band around `last`: |x − last| > absolute, or > fraction ×
 * |last|; a band of 0 is off, and with both off any change counts. NaN equals only NaN.
 */
@inline function moved(x: f64, last: f64, absolute: f64, fraction: f64): bool {
  if (x == last) return false;
  const xNaN = x != x;
  const lastNaN = last != last;
  if (xNaN || lastNaN) return !(xNaN && lastNaN);
  const d = Math.abs(x - last);
  if (d == Infinity || (absolute == 0 && fraction == 0)) return true;
  return (absolute > 0 && d > absolute) || (fraction > 0 && d > fraction * Math.abs(last));
}

/** 64-bit FNV-1a of `length` bytes at `p`: text points keep this and the length, not the bytes. */
function fnv1a(p: usize, length: u32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let end = p + <usize>length; p < end; p++) h = (h ^ <u64>load<u8>(p)) * 0x100000001b3;
  return h;
}

/**
 * Heartbeats for points that have been silent for their heartbeat: each re-emits the latest value
 * received, with its quality and type, stamped `now`. Text points are not re-emitted here (their
 * bytes are not kept); their next sample is. At shutdown (now = +Infinity) nothing is held back, so
 * nothing is emitted. Returns 0 (no batch) when there is nothing to emit.
 */
export function wg_tick(now: f64): i32 {
  if (!(now < Infinity)) return 0;
  const step = tickStep(now);
  if (step != 0) clockStepped(step);
  const out = reserveOutput(BATCH_HEADER + <i32>points * SAMPLE_SIZE, 0);
  let count = 0;
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    const heartbeat = load<f64>(r, HEARTBEAT);
    const kind = load<u8>(r, TYPE);
    if (heartbeat == 0 || load<u8>(r, SEEN) == 0 || kind == TYPE_TEXT) continue;
    if (!(now - load<f64>(r, EMITTED_AT) >= heartbeat)) continue;
    const x = load<f64>(r, LATEST);
    putSample(sampleAt(out, count++), now, x, id, load<u8>(r, QUALITY), kind, AGG_RAW);
    store<f64>(r, x, EMITTED);
    store<f64>(r, now, EMITTED_AT);
  }
  // Nothing to say is 0 bytes, not an empty batch: the host then skips the rest of the chain.
  if (count == 0) return 0;
  counters.add(HEARTBEATS, <u64>count);
  store<u32>(out, <u32>count);
  store<u32>(out, 0, 4);
  setResult(out);
  return BATCH_HEADER + count * SAMPLE_SIZE;
}
