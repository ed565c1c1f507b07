// The swap state of deadband (ABI 1.3 wg_snapshot, wg_restore): each point's reference (what it last
// emitted, when, what it last received), so a new version goes on suppressing against the same
// references instead of emitting every point once more. The bands and heartbeats are the new
// version's own settings: a reference stays meaningful under a changed band.
//
// Payload: f64 last tick, then per point the state fields of its record (deadband-plan.ts), 48 bytes:
// f64 emitted, f64 latest, f64 emitted-at, f64 received-at, u32 emitted length, u8 quality, u8 type,
// u8 seen, one byte of padding.
import { beginState, openState, stateLength } from "../sdk/state";
import { REFUSED, OK } from "../sdk";
import { lastTickAt, setLastTick } from "../resample/clock-step";
import { EMITTED, LATEST, EMITTED_AT, RECEIVED_AT, EMITTED_LENGTH, QUALITY, TYPE, SEEN, STRIDE } from "./deadband-plan";

/** Changed whenever the payload's layout changes. */
const FORMAT: u32 = 0x44424e01; // "DBN", 1
const POINT_BYTES: usize = 40;

export function snapshotPoints(records: usize, points: u32): i32 {
  const bytes = 8 + <usize>points * POINT_BYTES;
  const at = beginState(FORMAT, points, <i32>bytes);
  store<f64>(at, lastTickAt());
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    const o = at + 8 + <usize>id * POINT_BYTES;
    store<f64>(o, load<f64>(r, EMITTED));
    store<f64>(o, load<f64>(r, LATEST), 8);
    store<f64>(o, load<f64>(r, EMITTED_AT), 16);
    store<f64>(o, load<f64>(r, RECEIVED_AT), 24);
    store<u32>(o, load<u32>(r, EMITTED_LENGTH), 32);
    store<u8>(o, load<u8>(r, QUALITY), 36);
    store<u8>(o, load<u8>(r, TYPE), 37);
    store<u8>(o, load<u8>(r, SEEN), 38);
  }
  return stateLength(<i32>bytes);
}

export function restorePoints(size: i32, records: usize, points: u32): i32 {
  const at = openState(size, FORMAT, points, 8 + <i32>(<usize>points * POINT_BYTES));
  if (at == 0) return REFUSED;
  setLastTick(load<f64>(at));
  for (let id: u32 = 0; id < points; id++) {
    const r = records + <usize>id * STRIDE;
    const o = at + 8 + <usize>id * POINT_BYTES;
    store<f64>(r, load<f64>(o), EMITTED);
    store<f64>(r, load<f64>(o, 8), LATEST);
    store<f64>(r, load<f64>(o, 16), EMITTED_AT);
    store<f64>(r, load<f64>(o, 24), RECEIVED_AT);
    store<u32>(r, load<u32>(o, 32), EMITTED_LENGTH);
    store<u8>(r, load<u8>(o, 36), QUALITY);
    store<u8>(r, load<u8>(o, 37), TYPE);
    store<u8>(r, load<u8>(o, 38), SEEN);
  }
  return OK;
}
