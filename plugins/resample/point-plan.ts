// What resample does for each point, read once from the settings document in wg_configure: bucket
// length, grace, and the aggregates to emit.
import { Settings, Json, fail, AGG_MEAN, AGG_MIN, AGG_MAX, AGG_COUNT } from "../sdk";
import { createTable, plan } from "./bucket-table";

// Defaults; plugin.yaml declares the same values.
const DEFAULT_BUCKET: f64 = 60000; // ms
const DEFAULT_GRACE: f64 = 2000; // ms
/** Aggregate codes packed four bits each, first to emit in the low bits: mean, min, max, count. */
const DEFAULT_AGGREGATES: u32 = <u32>AGG_MEAN | (<u32>AGG_MIN << 4) | (<u32>AGG_MAX << 8) | (<u32>AGG_COUNT << 12);

/**
 * Creates the bucket table and plans every point from `with:`. The host has checked `with:` against
 * plugin.yaml before this runs (ranges, whole milliseconds, aggregate names, no repeats), so only what
 * a schema cannot say is checked here: that each name under `points` is a point. Logs the problem and
 * returns false.
 */
export function readPlan(settings: Settings): bool {
  const step = settings.step;
  const n = settings.pointCount;
  createTable(n, step.string("timestamp", "") == "end");
  for (let p = 0; p < n; p++) planPoint(p, step, step);
  const points = step.child("points");
  for (let i = 0; i < points.length; i++) {
    const name = unchecked(points.keys[i]);
    const id = settings.pointId(name);
    if (id < 0) {
      fail("with.points." + name + ": no point of that name");
      return false;
    }
    planPoint(id, unchecked(points.items[i]), step);
  }
  return true;
}

/** Plans point `p` from its own settings `own`, falling back to the step's, then to the defaults. */
function planPoint(p: i32, own: Json, step: Json): void {
  plan(
    p,
    own.number("bucket", step.number("bucket", DEFAULT_BUCKET)),
    own.number("grace", step.number("grace", DEFAULT_GRACE)),
    readAggregates(own, readAggregates(step, DEFAULT_AGGREGATES)),
  );
}

/**
 * ABI aggregate code (docs/plugin-abi.md, sample `aggregate` byte) of a name the schema let through:
 * mean, min, max, first, last, count or sum, which their first two letters tell apart.
 */
function aggregateCode(name: string): u32 {
  const letters = load<u32>(changetype<usize>(name)); // the first two UTF-16 units
  if (letters == 0x690066) return 4; // "fi"rst
  if (letters == 0x61006c) return 5; // "la"st
  if (letters == 0x6f0063) return 6; // "co"unt
  if (letters == 0x750073) return 7; // "su"m
  if (letters == 0x65006d) return 1; // "me"an
  return letters == 0x69006d ? 2 : 3; // "mi"n, "ma"x
}

function readAggregates(from: Json, fallback: u32): u32 {
  const list = from.get("aggregates");
  if (list === null) return fallback;
  let packed: u32 = 0;
  for (let i = list.length - 1; i >= 0; i--) packed = (packed << 4) | aggregateCode(unchecked(list.items[i]).str);
  return packed;
}
