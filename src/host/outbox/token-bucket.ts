/**
 * A token bucket: `ratePerS` tokens a second, at most `capacity` saved up. The sender takes one per
 * backlog message it hands over in `live_first` replay, so an outage's backlog reaches the broker (or
 * the metered link) at a steady rate instead of all at once.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  #tokens: number;
  #at: number;

  constructor(ratePerS: number, capacity: number, now = performance.now()) {
    if (!(ratePerS > 0) || !(capacity >= 1)) throw new RangeError(`token bucket needs a rate above 0 and a capacity of 1 or more (got ${ratePerS}/s, ${capacity})`);
    this.#ratePerMs = ratePerS / 1000;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  /** Takes up to `wanted` whole tokens; returns how many it took. */
  take(wanted: number, now = performance.now()): number {
    this.#refill(now);
    const taken = Math.min(wanted, Math.floor(this.#tokens));
    this.#tokens -= taken;
    return taken;
  }

  /** Milliseconds until one whole token is there (0 when one is). */
  msUntilToken(now = performance.now()): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#ratePerMs;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#at) * this.#ratePerMs);
    this.#at = now;
  }
}
