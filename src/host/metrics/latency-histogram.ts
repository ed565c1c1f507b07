/**
 * A cumulative histogram of durations with fixed bounds, cheap enough to keep on every device and
 * every uplink (one array increment per observation, no allocation), and shaped as Prometheus wants
 * a histogram: counts of observations at or below each bound, their sum and their count. The metrics
 * endpoint (gateway-metrics.ts) reads it from the status; nothing is computed at scrape time but the
 * copy.
 */

/** Bounds in milliseconds, from a fast TCP answer to a slow RS-485 bus or a replayed backlog. */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 60_000] as const;

/**
 * Bounds for the stages inside the gateway (a ring wait, a chain call): tens of microseconds when all
 * is well, milliseconds when a thread is late to wake or busy.
 */
export const STAGE_BOUNDS_MS = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 1_000] as const;

export interface LatencySnapshot {
  /** The bounds, ms; the last bucket (+Inf) is `count`. */
  readonly boundsMs: readonly number[];
  /** Observations at or below each bound, cumulative. */
  readonly counts: readonly number[];
  readonly sumMs: number;
  readonly count: number;
}

export class LatencyHistogram {
  readonly #boundsMs: readonly number[];
  /** Per bucket (not cumulative): made cumulative by `snapshot`. */
  readonly #buckets: number[];
  #sumMs = 0;
  #count = 0;

  constructor(boundsMs: readonly number[] = LATENCY_BOUNDS_MS) {
    this.#boundsMs = boundsMs;
    this.#buckets = boundsMs.map(() => 0);
  }

  observe(ms: number): void {
    if (!(ms >= 0)) return; // a clock that went back, or NaN: not a duration
    this.#sumMs += ms;
    this.#count++;
    const i = this.#boundsMs.findIndex((bound) => ms <= bound);
    if (i >= 0) this.#buckets[i]!++;
  }

  snapshot(): LatencySnapshot {
    let running = 0;
    const counts = this.#buckets.map((n) => (running += n));
    return { boundsMs: this.#boundsMs, counts, sumMs: this.#sumMs, count: this.#count };
  }
}
