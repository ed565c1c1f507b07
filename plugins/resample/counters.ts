// resample's own counters, reported by wg_stats as {"late":n,"early":n,"unaggregated":n}.
// Written here rather than with the SDK's Counters: a fixed JSON template is the smallest form, and
// resample is the plugin with the least room in its 8 KB budget.
import { reserveOutput, setResult } from "../sdk";

/** Samples dropped because their bucket had already closed. */
export const LATE: usize = 0;
/** Buckets closed before their grace ran out because the point had no free slot. */
export const EARLY: usize = 8;
/** Numeric samples of resampled points passed through because of their quality or a non-finite value. */
export const UNAGGREGATED: usize = 16;

const values = memory.data(24);
// The wg_stats output, a # where each counter goes, in the order of the offsets above.
const TEMPLATE = "{\"late\":#,\"early\":#,\"unaggregated\":#}";

@inline export function count(counter: usize): void {
  store<u64>(values + counter, load<u64>(values + counter) + 1);
}

/** Writes the counters as JSON into the output region; returns the length. */
export function writeCounters(): i32 {
  const out = reserveOutput(TEMPLATE.length + 3 * 20, 0);
  let p = out;
  let at = values;
  for (let i = 0; i < TEMPLATE.length; i++) {
    const c = TEMPLATE.charCodeAt(i);
    if (c != 0x23) {
      store<u8>(p++, <u8>c);
      continue;
    }
    let digits: usize = 1;
    const v = load<u64>(at);
    for (let rest = v; rest >= 10; rest /= 10) digits++;
    p += digits;
    for (let rest = v, q = p; q > p - digits; rest /= 10) store<u8>(--q, <u8>(0x30 + <u32>(rest % 10)));
    at += 8;
  }
  setResult(out);
  return <i32>(p - out);
}
