// resample's own counters, reported by wg_stats as {"late":n,"early":n,"unaggregated":n,"clock_steps":n}.
import { Counters } from "../sdk";

export const counters = new Counters("late early unaggregated clock_steps");
/** Samples dropped because their bucket had already closed. */
export const LATE = 0;
/** Buckets closed before their grace ran out because the point had no free slot. */
export const EARLY = 1;
/** Numeric samples of resampled points passed through because of their quality or a non-finite value. */
export const UNAGGREGATED = 2;
/** Steps of the wall clock seen in the ticks or in the samples' timestamps (clock-step.ts). */
export const CLOCK_STEPS = 3;
