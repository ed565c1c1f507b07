/**
 * The time the rules run on (docs/rules.md, "The rules' timeline"): `for:` timers, `rate()` and
 * `count()` windows and `stale()` are measured on it, never on differences of wall-clock readings
 * alone. A Pi without a real-time clock steps its wall clock by hours at NTP sync, and an operator
 * may set it by hand: on wall time a step forward would fire every pending `for:` at once and make
 * every point stale, a step back would freeze them for as long as the step.
 *
 * The timeline is milliseconds that advance with CLOCK_MONOTONIC (which NTP slews but never steps),
 * anchored once per pipeline start at the wall clock of that moment, or where the saved state left
 * it (resumeAnchor): so it reads like wall time until the first step, and after one it goes on at
 * the pace of real seconds. A sample carries the wall time it was taken; it is put on the timeline
 * by the offset between the two clocks (as of the last step noticed), never later than the
 * timeline's now, and after a step never before the timeline's time when the step was noticed (a
 * sample taken before a step forward would otherwise look older by the step). What the rules make
 * is stamped back on the wall clock with the same offset, so alarms carry wall time.
 */
import { monotonicMs } from '../pipeline/control.js';

/** Where a pipeline's timeline starts: timeline ms `t` at CLOCK_MONOTONIC ms `monotonicMs`. */
export interface TimelineAnchor {
  readonly t: number;
  readonly monotonicMs: number;
}

export interface TimelineClock {
  wallMs(): number;
  monotonicMs(): number;
}

/**
 * The clocks the timeline is read from, the same in every thread of the process: CLOCK_MONOTONIC
 * (performance.now() has an origin per thread, and a worker's timeline must go on from the anchor
 * the main thread took) and the wall clock.
 */
export const processClock: TimelineClock = Object.freeze({ wallMs: () => Date.now(), monotonicMs });

/**
 * A change of the offset between the two clocks larger than this, between two batches or ticks, is
 * a step of the wall clock. NTP slews both clocks alike, at most 0.5 ms/s, and reading the two
 * clocks one after the other differs by microseconds: 20 ms is far above both and far below a step
 * anyone would notice.
 */
export const STEP_TOLERANCE_MS = 20;

/**
 * The anchor of a pipeline that starts now; with `resume` (the timeline and wall time of the saved
 * state), the timeline goes on from there, the time the daemon was down counted by the wall clock
 * (the only clock across a reboot), and never backwards.
 */
export function anchorTimeline(clock: TimelineClock, resume?: { t: number; wallMs: number }): TimelineAnchor {
  const wall = clock.wallMs();
  const t = resume && Number.isFinite(resume.t) && Number.isFinite(resume.wallMs) ? resume.t + Math.max(0, wall - resume.wallMs) : wall;
  return { t, monotonicMs: clock.monotonicMs() };
}

export class RuleTimeline {
  readonly #anchor: TimelineAnchor;
  readonly #clock: TimelineClock;
  /** Timeline minus wall clock at the last advance(). */
  #offset: number;
  #now: number;
  /** After a step: no sample is put before this. */
  #floor = -Infinity;
  /** Wall-clock steps noticed. */
  steps = 0;

  constructor(anchor: TimelineAnchor, clock: TimelineClock) {
    this.#anchor = anchor;
    this.#clock = clock;
    this.#now = this.#at(clock.monotonicMs());
    this.#offset = this.#now - clock.wallMs();
  }

  /**
   * Reads the clocks, once per batch or tick: the timeline's now. The offset between the two clocks
   * is kept as it is until it moves by more than STEP_TOLERANCE_MS (a step), so that between steps
   * samples lie on the timeline exactly as far apart as their wall times: NTP slews both clocks
   * alike, and re-reading the offset each time would only add the jitter of reading two clocks.
   * A reading in which the thread was held between the two clocks (the monotonic clock moved past
   * the tolerance around the wall clock's reading, on a loaded machine) says nothing of a step.
   */
  advance(): number {
    const before = this.#clock.monotonicMs();
    const wall = this.#clock.wallMs();
    const after = this.#clock.monotonicMs();
    const now = this.#at(after);
    const offset = this.#at((before + after) / 2) - wall;
    if (after - before <= STEP_TOLERANCE_MS && Math.abs(offset - this.#offset) > STEP_TOLERANCE_MS) {
      this.#floor = this.#now;
      this.#offset = offset;
      this.steps++;
    }
    this.#now = now;
    return now;
  }

  /** A sample's wall-clock time on the timeline, as of the last advance(). */
  fromWall(ts: number): number {
    return Math.min(this.#now, Math.max(this.#floor, ts + this.#offset));
  }

  /**
   * fromWall() on `count` times of `times` from index `first`, every `stride`, in place: the hot
   * path (every sample of every batch), one pass with the offset and the bounds read once.
   */
  fromWallEach(times: Float64Array, first: number, stride: number, count: number): void {
    const offset = this.#offset;
    const floor = this.#floor;
    const now = this.#now;
    for (let i = 0, at = first; i < count; i++, at += stride) {
      const t = times[at]! + offset;
      // NaN stays NaN, as with Math.min and Math.max.
      times[at] = t > now ? now : t < floor ? floor : t;
    }
  }

  /** A timeline time on the wall clock, as of the last advance(). */
  toWall(t: number): number {
    return t - this.#offset;
  }

  get now(): number {
    return this.#now;
  }

  #at(monotonicMs: number): number {
    return this.#anchor.t + (monotonicMs - this.#anchor.monotonicMs);
  }
}
