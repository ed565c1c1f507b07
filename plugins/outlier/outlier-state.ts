// The swap state of outlier (ABI 1.3 wg_snapshot, wg_restore): each point's window of accepted
// values (and its sorted copy for hampel), its running moments and its outlier streak, so a new
// version judges the next sample against the same history instead of waiting for `min_samples` again.
//
// Payload per point: u32 method, i32 window capacity, i32 ring head, i32 ring count, i32 sorted count,
// i32 run, i32 streak, i32 padding, f64 mean, f64 m2, then the capacity's ring cells and the sorted
// count's sorted cells, f64 each. A successor takes it only when every point keeps its method and window
// length (a window of another length is another filter); thresholds are its own settings.
import { beginState, openState, stateLength, refuse } from "../sdk/state";
import { REFUSED, OK } from "../sdk";
import { RING, SORTED, RUN, STREAK, MEAN, M2, METHOD, STRIDE, METHOD_HAMPEL } from "./outlier-plan";

/** Changed whenever the payload's layout changes. */
const FORMAT: u32 = 0x4f544c01; // "OTL", 1
const POINT_HEAD: usize = 48;

@inline function ringCells(r: usize): usize {
  return <usize>load<i32>(r + RING, 4);
}

@inline function sortedCells(r: usize): usize {
  return load<u8>(r, METHOD) == METHOD_HAMPEL ? <usize>load<i32>(r + SORTED, 4) : 0;
}

export function snapshotWindows(records: usize, points: u32): i32 {
  let bytes: usize = 0;
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    bytes += POINT_HEAD + ((ringCells(r) + sortedCells(r)) << 3);
  }
  let at = beginState(FORMAT, points, <i32>bytes);
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    const ring = r + RING;
    store<u32>(at, load<u8>(r, METHOD));
    store<i32>(at, load<i32>(ring, 4), 4);
    store<i32>(at, load<i32>(ring, 8), 8);
    store<i32>(at, load<i32>(ring, 12), 12);
    store<i32>(at, <i32>sortedCells(r), 16);
    store<i32>(at, load<i32>(r, RUN), 20);
    store<i32>(at, load<i32>(r, STREAK), 24);
    store<f64>(at, load<f64>(r, MEAN), 32);
    store<f64>(at, load<f64>(r, M2), 40);
    at += POINT_HEAD;
    const cells = ringCells(r) << 3;
    if (cells > 0) memory.copy(at, <usize>load<u32>(ring), cells);
    at += cells;
    const sorted = sortedCells(r) << 3;
    if (sorted > 0) memory.copy(at, <usize>load<u32>(r + SORTED), sorted);
    at += sorted;
  }
  return stateLength(<i32>bytes);
}

export function restoreWindows(size: i32, records: usize, points: u32): i32 {
  const payload = openState(size, FORMAT, points, <i32>(<usize>points * POINT_HEAD));
  if (payload == 0) return REFUSED;
  // Check every point before changing any: a refused state leaves the windows as configured.
  let at = payload;
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    if (load<u32>(at) != <u32>load<u8>(r, METHOD) || load<i32>(at, 4) != load<i32>(r + RING, 4)) {
      refuse("windows of another method or length at point ", <i32>id);
      return REFUSED;
    }
    at += POINT_HEAD + ((<usize>load<i32>(at, 4) + <usize>load<i32>(at, 16)) << 3);
  }
  at = payload;
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    const ring = r + RING;
    store<i32>(ring, load<i32>(at, 8), 8);
    store<i32>(ring, load<i32>(at, 12), 12);
    store<i32>(r, load<i32>(at, 20), RUN);
    store<i32>(r, load<i32>(at, 24), STREAK);
    store<f64>(r, load<f64>(at, 32), MEAN);
    store<f64>(r, load<f64>(at, 40), M2);
    const cells = <usize>load<i32>(at, 4) << 3;
    const sorted = <usize>load<i32>(at, 16) << 3;
    at += POINT_HEAD;
    if (cells > 0) memory.copy(<usize>load<u32>(ring), at, cells);
    at += cells;
    if (load<u8>(r, METHOD) == METHOD_HAMPEL) {
      if (sorted > 0) memory.copy(<usize>load<u32>(r + SORTED), at, sorted);
      store<i32>(r + SORTED, <i32>(sorted >> 3), 4);
    }
    at += sorted;
  }
  return OK;
}
