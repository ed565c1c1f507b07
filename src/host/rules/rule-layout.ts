/**
 * Where the compiled rule module keeps each part of its state in its linear memory. All of it lies
 * in one region from offset 0 (so that a snapshot of the state is one copy of that region), then the
 * input region the host writes batches to, then the output the module writes events to.
 *
 *   0          f64  start: the first time seen (NaN until then)
 *   8          u32  events in the output so far
 *   12         u32  offset of the output
 *   16         f64  value[p]      latest usable value of each point (NaN: none yet)
 *   ...        f64  lastGood[p]   time of its latest good sample (NaN: none yet)
 *   ...        u8   quality[p]    quality of its latest sample (255: none yet)
 *   ...        ring per rate() window, then per count(): head u32, size u32, was u32 (count: the
 *                   condition held last time), pad; ts f64[capacity]; value f64[capacity] (unused by count())
 *   ...        per rule: phase u32, pad, since f64
 *   STATE_END  the input region
 */
import type { RuleSet } from './rule-set.js';

export const START = 0;
export const EVENT_COUNT = 8;
export const OUT_AT = 12;
/** Bytes before a ring's timestamps. */
export const RING_HEADER = 16;
export const RULE_STATE_BYTES = 16;
/** One event record: ts f64, rule u32, kind u32 (1 fire, 2 clear), interlocks u32, pad. */
export const EVENT_BYTES = 24;
/** Bytes before the first event of the output: the count and a pad. */
export const EVENTS_HEADER = 8;
export const PAGE = 65536;

export interface Layout {
  readonly value: number;
  readonly lastGood: number;
  readonly quality: number;
  readonly windows: readonly number[];
  readonly counters: readonly number[];
  readonly rules: readonly number[];
  /** End of the state, start of the input region. */
  readonly stateEnd: number;
}

const align = (n: number, to: number) => Math.ceil(n / to) * to;

export function layoutOf(set: RuleSet): Layout {
  const n = set.pointCount;
  const value = 16;
  const lastGood = value + 8 * n;
  const quality = lastGood + 8 * n;
  let at = align(quality + n, 16);
  const windows = set.windows.map((w) => {
    const base = at;
    at += RING_HEADER + 16 * w.capacity;
    return base;
  });
  const counters = set.counters.map((c) => {
    const base = at;
    // A value slot per rise too, unused: one ring shape serves both.
    at += RING_HEADER + 16 * c.capacity;
    return base;
  });
  const rules = set.rules.map(() => {
    const base = at;
    at += RULE_STATE_BYTES;
    return base;
  });
  return { value, lastGood, quality, windows, counters, rules, stateEnd: align(at, 64) };
}
