// What resample does for each point, read once from the settings document in wg_configure: bucket
// length, grace, and the aggregates to emit.
import { Settings, Json, fail, J_NUMBER, J_STRING, J_ARRAY, AGG_MEAN, AGG_MIN, AGG_MAX, AGG_FIRST, AGG_LAST, AGG_COUNT, AGG_SUM } from "../sdk";
import { createTable, plan } from "./bucket-table";

/**
 * Creates the bucket table and plans every point from `with:`. The host has checked `with:` against
 * plugin.yaml and filled in its defaults before this runs (ranges, whole milliseconds, aggregate names,
 * no repeats), so only what a schema cannot say is checked here: that each name under `points` is a
 * point, and that the step's settings are all there (a document the host did not make may lack them).
 * Logs the problem and returns false.
 */
export function readPlan(settings: Settings): bool {
  const step = settings.step;
  if (!given(step, "bucket", J_NUMBER) || !given(step, "grace", J_NUMBER) || !given(step, "aggregates", J_ARRAY) || !given(step, "timestamp", J_STRING)) return false;
  const n = settings.pointCount;
  createTable(n, step.string("timestamp", "") == "end");
  for (let p = 0; p < n; p++) planPoint(p, step, step);
  const points = step.child("points");
  for (let i = 0; i < points.length; i++) {
    const name = points.key(i);
    const id = settings.pointId(name);
    if (id < 0) {
      fail("with.points." + name + ": no point of that name");
      return false;
    }
    planPoint(id, points.at(i), step);
  }
  return true;
}

/** Whether `with.<key>` is there as a `kind`; logs the problem when not. */
function given(step: Json, key: string, kind: u8): bool {
  const v = step.get(key);
  if (v !== null && v.kind == kind) return true;
  fail("with." + key + ": missing (the host fills in plugin.yaml's default)");
  return false;
}

/** Plans point `p` from its own settings `own`, where it has them, else from the step's. */
function planPoint(p: i32, own: Json, step: Json): void {
  plan(
    p,
    own.number("bucket", step.number("bucket", 0)),
    own.number("grace", step.number("grace", 0)),
    aggregateCodes(own.has("aggregates") ? own.child("aggregates") : step.child("aggregates")),
  );
}

/** The aggregate codes of `list` packed four bits each, the first to emit in the low bits. */
function aggregateCodes(list: Json): u32 {
  let packed: u32 = 0;
  for (let i = list.length - 1; i >= 0; i--) packed = (packed << 4) | aggregateCode(list.at(i).str);
  return packed;
}

/** ABI aggregate code (docs/plugin-abi.md, sample `aggregate` byte) of a name the schema let through. */
function aggregateCode(name: string): u32 {
  if (name == "mean") return AGG_MEAN;
  if (name == "min") return AGG_MIN;
  if (name == "max") return AGG_MAX;
  if (name == "first") return AGG_FIRST;
  if (name == "last") return AGG_LAST;
  if (name == "count") return AGG_COUNT;
  return AGG_SUM;
}
