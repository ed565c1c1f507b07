/**
 * The `live_first` replay's bookkeeping for one uplink's sender (uplink-sender.ts): the first seq made
 * after the connection came up, the read positions of the live part and of the backlog, and the token
 * bucket the backlog is paced by.
 */
import { TokenBucket } from './token-bucket.js';

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, 24.8 days); a longer one fires after 1 ms. A rate
 * of a message a month waits longer than that for a token: the wake then finds none and sleeps again.
 */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Where a `live_first` sender stands: the seq where live begins, its two read positions, its bucket. */
export class LiveFirst {
  readonly bucket: TokenBucket;
  /** The first seq made after the connection came up. Before the first connection, all is backlog. */
  liveFrom = Number.MAX_SAFE_INTEGER;
  /** The last live seq read. */
  liveAfter = Number.MAX_SAFE_INTEGER;
  /** The last backlog seq read. */
  backlogAfter = 0;
  backlogDone = false;
  #refill?: NodeJS.Timeout;

  constructor(ratePerS: number, window: number) {
    // A tenth of a second's worth at most in one burst (at least one message), and never more than the window.
    this.bucket = new TokenBucket(ratePerS, Math.max(1, Math.min(window, Math.ceil(ratePerS / 10))));
  }

  connected(lastSeq: number): void {
    this.liveFrom = lastSeq + 1;
    this.liveAfter = lastSeq;
    this.rewind();
  }

  /** Read both parts again from their starts (after a failure: the failed ones come round again). */
  rewind(): void {
    this.backlogAfter = 0;
    this.backlogDone = false;
    if (this.liveFrom !== Number.MAX_SAFE_INTEGER) this.liveAfter = this.liveFrom - 1;
  }

  armRefill(wake: () => void): void {
    if (this.#refill) return;
    this.#refill = setTimeout(() => {
      this.#refill = undefined;
      wake();
    }, Math.min(LONGEST_TIMER_MS, Math.max(1, Math.ceil(this.bucket.msUntilToken()))));
  }

  disarm(): void {
    clearTimeout(this.#refill);
    this.#refill = undefined;
  }
}
