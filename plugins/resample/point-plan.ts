// What resample does for each point, read once from the settings document in wg_configure: bucket
// length, grace, and the aggregates to emit. Read in place (PointSettings), not into a JSON tree: the
// stub runtime never frees, and a tree of a 500-point document kept about 4 MiB of linear memory for
// ever; in place, configure allocates only the table (bucket-table.ts) and 8 bytes a point.
import { PointSettings } from "../sdk/point-settings";
import { createTable, plan } from "./bucket-table";

// The step's keys, in the order of the K_ indexes.
const KEYS = "bucket grace aggregates timestamp";
const K_BUCKET = 0;
const K_GRACE = 1;
const K_AGGREGATES = 2;
const K_TIMESTAMP = 3;
/** In the order of the ABI aggregate codes (docs/plugin-abi.md, sample `aggregate` byte): index + 1 is the code. */
const AGGREGATES = "mean min max first last count sum";
// What a reader returns for a key that is absent: no valid value is negative.
const ABSENT = -2;

/**
 * Creates the bucket table and plans every point from `with:`. The host has checked `with:` against
 * plugin.yaml and filled in its defaults before this runs (ranges, whole milliseconds, aggregate names,
 * no repeats); the readers check the values again, and that each name under `points` is a point, and
 * that the step's settings are all there (a document the host did not make may lack them).
 * Logs the problem and returns false.
 */
export function readPlan(size: i32): bool {
  const own = new PointSettings(size, KEYS);
  if (!own.read()) return false;
  // Before any point is selected the readers answer for `with:` itself.
  const stamp = own.choice(K_TIMESTAMP, "start end", ABSENT);
  const bucket = own.number(K_BUCKET, ABSENT, true, ": must be above 0");
  const grace = own.number(K_GRACE, ABSENT, false, ": must be 0 or more");
  const aggregates = own.choices(K_AGGREGATES, AGGREGATES, ABSENT);
  if (stamp == -1 || aggregates == -1 || isNaN(bucket + grace)) return false;
  if (bucket == ABSENT) return missing(own, K_BUCKET);
  if (grace == ABSENT) return missing(own, K_GRACE);
  if (aggregates == ABSENT) return missing(own, K_AGGREGATES);
  if (stamp == ABSENT) return missing(own, K_TIMESTAMP);
  const n = own.count;
  createTable(n, stamp == 1);
  for (let p = 0; p < n; p++) {
    own.select(p);
    const bucket = own.number(K_BUCKET, ABSENT, true, ": must be above 0");
    const grace = own.number(K_GRACE, ABSENT, false, ": must be 0 or more");
    const aggregates = own.choices(K_AGGREGATES, AGGREGATES, ABSENT);
    // NaN and -1: the reader logged why.
    if (isNaN(bucket + grace) || aggregates == -1) return false;
    plan(p, bucket, grace, <u32>aggregates);
  }
  return true;
}

function missing(own: PointSettings, k: i32): bool {
  own.refuse(k, ": missing (the host fills in plugin.yaml's default)", -1);
  return false;
}
