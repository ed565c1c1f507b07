/**
 * A timeout of any length, measured on the monotonic clock. Node's setTimeout fires after 1 ms (with
 * a TimeoutOverflowWarning) when asked for more than 2^31-1 ms, about 24.8 days, so a monthly meter
 * read (`interval: 720h`) would poll every millisecond. Here a long wait is a chain of timers no
 * longer than that, and each link re-reads the monotonic clock, so the wait ends when the clock says
 * so, whatever the event loop did in between.
 */
import type { Clock } from './clock.js';

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface MonotonicTimeout {
  /** Stops the wait; the callback will not run. Idempotent. */
  cancel(): void;
}

/**
 * Calls `fire` once `ms` milliseconds have passed on `clock.monotonicMs()`. `maxStepMs` is the longest
 * single timer of the chain (tests shorten it to see the chain without waiting weeks).
 */
export function monotonicTimeout(clock: Clock, ms: number, fire: () => void, maxStepMs = MAX_TIMER_MS): MonotonicTimeout {
  const due = clock.monotonicMs() + Math.max(0, ms);
  let timer: NodeJS.Timeout | undefined;
  // setTimeout may fire a fraction of a millisecond early by the monotonic clock: round up.
  const schedule = (): void => {
    timer = setTimeout(tick, Math.min(Math.max(0, Math.ceil(due - clock.monotonicMs())), maxStepMs));
  };
  const tick = (): void => {
    if (due - clock.monotonicMs() > 0) return schedule();
    timer = undefined;
    fire();
  };
  schedule();
  return {
    cancel() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
