// The swap state of resample (ABI 1.3 wg_snapshot, wg_restore): every point's open buckets and clock,
// so a new version closes the buckets the old one opened with every sample they already hold.
//
// Payload: f64 last tick, then per point: f64 bucket, f64 grace, u32 aggregates, u32 open slots,
// f64 horizon, f64 newest, f64 close-at, then each open slot's SLOT_BYTES as they are (plain values,
// no addresses). A successor takes it only when every point keeps its bucket, grace and aggregates;
// else the open buckets mean something else to it, and it refuses.
import { beginState, openState, stateLength, refuse } from "../sdk/state";
import { REFUSED, OK } from "../sdk";
import { lastTickAt, setLastTick } from "./clock-step";
import {
  pointCountOf, recordAt, SIZE, GRACE, AGGREGATES, HORIZON, NEWEST, CLOSE_AT, SLOTS, SLOTS_END, COUNT, SLOT_BYTES, forgetHot,
} from "./bucket-table";

/** Changed whenever the payload's layout changes. */
const FORMAT: u32 = 0x52534d01; // "RSM", 1
const POINT_HEAD: usize = 48;

function openSlots(r: usize): u32 {
  let n: u32 = 0;
  for (let s = <usize>load<u32>(r, SLOTS), last = <usize>load<u32>(r, SLOTS_END); s < last; s += SLOT_BYTES) if (load<f64>(s, COUNT) != 0) n++;
  return n;
}

export function snapshotTable(): i32 {
  const n = pointCountOf();
  let bytes: usize = 8;
  for (let p: u32 = 0; p < n; p++) bytes += POINT_HEAD + <usize>openSlots(recordAt(p)) * SLOT_BYTES;
  let at = beginState(FORMAT, n, <i32>bytes);
  const start = at;
  store<f64>(at, lastTickAt());
  at += 8;
  for (let p: u32 = 0; p < n; p++) {
    const r = recordAt(p);
    store<f64>(at, load<f64>(r, SIZE));
    store<f64>(at, load<f64>(r, GRACE), 8);
    store<u32>(at, load<u32>(r, AGGREGATES), 16);
    store<u32>(at, openSlots(r), 20);
    store<f64>(at, load<f64>(r, HORIZON), 24);
    store<f64>(at, load<f64>(r, NEWEST), 32);
    store<f64>(at, load<f64>(r, CLOSE_AT), 40);
    at += POINT_HEAD;
    for (let s = <usize>load<u32>(r, SLOTS), last = <usize>load<u32>(r, SLOTS_END); s < last; s += SLOT_BYTES) {
      if (load<f64>(s, COUNT) == 0) continue;
      memory.copy(at, s, SLOT_BYTES);
      at += SLOT_BYTES;
    }
  }
  return stateLength(<i32>(at - start));
}

export function restoreTable(size: i32): i32 {
  const n = pointCountOf();
  const payload = openState(size, FORMAT, n, 8 + <i32>(<usize>n * POINT_HEAD));
  if (payload == 0) return REFUSED;
  // Check every point before changing any: a refused state leaves the table as configured.
  let at = payload + 8;
  for (let p: u32 = 0; p < n; p++) {
    const r = recordAt(p);
    if (load<f64>(at) != load<f64>(r, SIZE) || load<f64>(at, 8) != load<f64>(r, GRACE) || load<u32>(at, 16) != load<u32>(r, AGGREGATES)) {
      refuse("buckets of other settings (bucket, grace or aggregates) at point ", <i32>p);
      return REFUSED;
    }
    const slots = <usize>load<u32>(at, 20);
    if (slots * SLOT_BYTES > <usize>(load<u32>(r, SLOTS_END) - load<u32>(r, SLOTS))) {
      refuse("more open buckets than this version keeps at point ", <i32>p);
      return REFUSED;
    }
    at += POINT_HEAD + slots * SLOT_BYTES;
  }
  setLastTick(load<f64>(payload));
  at = payload + 8;
  for (let p: u32 = 0; p < n; p++) {
    const r = recordAt(p);
    store<f64>(r, load<f64>(at, 24), HORIZON);
    store<f64>(r, load<f64>(at, 32), NEWEST);
    store<f64>(r, load<f64>(at, 40), CLOSE_AT);
    const slots = <usize>load<u32>(at, 20);
    at += POINT_HEAD;
    const first = <usize>load<u32>(r, SLOTS);
    memory.fill(first, 0, <usize>(load<u32>(r, SLOTS_END) - load<u32>(r, SLOTS)));
    memory.copy(first, at, slots * SLOT_BYTES);
    at += slots * SLOT_BYTES;
    forgetHot(r);
  }
  return OK;
}
