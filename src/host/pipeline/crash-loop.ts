/**
 * The crash-loop watch after a swap: a step whose new version traps (or gets its worker killed) more
 * than `maxTraps` times within `windowMs` is rolled back to the version that ran before it. Time is
 * monotonic (control.ts, monotonicMs): a wall-clock step must neither hide a loop nor invent one.
 */
export interface CrashLoopSettings {
  /** More traps than this within the window roll back; the pipeline's `swap.rollback_traps`. */
  readonly maxTraps: number;
  /** The pipeline's `swap.rollback_window`, ms. */
  readonly windowMs: number;
}

export const DEFAULT_CRASH_LOOP: CrashLoopSettings = { maxTraps: 3, windowMs: 30_000 };

export class CrashLoopWatch {
  readonly #settings: CrashLoopSettings;
  /** By step: monotonic times of its traps still inside the window. */
  readonly #traps = new Map<number, number[]>();

  constructor(settings: CrashLoopSettings) {
    this.#settings = settings;
  }

  /** Starts (or restarts) watching step `step`, as its new version goes live. */
  watch(step: number): void {
    this.#traps.set(step, []);
  }

  forget(step: number): void {
    this.#traps.delete(step);
  }

  get steps(): number[] {
    return [...this.#traps.keys()];
  }

  watching(step: number): boolean {
    return this.#traps.has(step);
  }

  /** Counts a trap of `step` at `now`; true when that makes a crash loop. */
  trapped(step: number, now: number): boolean {
    const times = this.#traps.get(step);
    if (!times) return false;
    times.push(now);
    while (times.length > 0 && times[0]! <= now - this.#settings.windowMs) times.shift();
    return times.length > this.#settings.maxTraps;
  }
}
