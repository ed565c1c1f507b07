/**
 * Time as the HAL grants it: plugins and the scheduler read time through a `Clock` value rather than
 * calling `Date.now()` themselves, so a test can hand in a clock it controls and timestamps come
 * from one place.
 */
export interface Clock {
  /** Wall-clock time in milliseconds since the Unix epoch. May jump (NTP, manual set); use it to stamp samples. */
  wallMs(): number;
  /**
   * Milliseconds from an arbitrary origin that never goes backwards, with sub-millisecond precision.
   * Use it to measure intervals and deadlines, never to stamp samples.
   */
  monotonicMs(): number;
}

/** The operating system's clocks. */
export const systemClock: Clock = Object.freeze({
  wallMs: () => Date.now(),
  monotonicMs: () => performance.now(),
});
