// Telling a step of the wall clock (an NTP sync on a device without a real-time clock, an operator
// setting the time) from time passing. The plugin sees time only through wg_tick's `now` and the
// samples' timestamps, both wall time. Ticks come about once a second, so two ticks further apart than
// CLOCK_STEP, either way, show a step; so does a point's sample that is older than the point's newest
// by more than CLOCK_STEP (a point's samples arrive in the order they were taken, give or take the
// step's grace). A forward jump between samples is not a step: a point may be polled once a month.
//
// Used by resample and deadband. It belongs in the SDK (plugins/sdk), which was not open for changes
// when this was written; deadband imports it from here until it moves.
import { WARN } from "../sdk";
import { lineStart, lineText, lineNumber, lineLog } from "../sdk/log-line";

/** Smallest jump, in ms, taken as a step of the clock: 10 minutes. */
export const CLOCK_STEP: f64 = 600000;

/** `now` of the last finite tick; NaN before the first. */
let lastTick: f64 = NaN;

/**
 * Remembers the tick at `now` and returns the step it shows since the previous tick (negative: back),
 * or 0 when the clock only ran. The shutdown tick (+Infinity) shows none and is not remembered.
 */
export function tickStep(now: f64): f64 {
  if (!(now < Infinity)) return 0;
  const step = now - lastTick; // NaN on the first tick, which shows nothing
  lastTick = now;
  return abs(step) > CLOCK_STEP ? step : 0;
}

/** `now` of the last finite tick (NaN before the first): part of a swap's state. */
export function lastTickAt(): f64 {
  return lastTick;
}

/** Takes the last tick a predecessor saw (a swap's state), so the first tick after it shows no step. */
export function setLastTick(at: f64): void {
  lastTick = at;
}

/** Moves the last tick by `step`, a step seen in the samples, so the next tick does not show it again. */
export function shiftLastTick(step: f64): void {
  lastTick += step;
}

/** Logs the step at warn level: "clock stepped back by 3600.000 s: <consequence>". */
export function reportStep(step: f64, consequence: string): void {
  const ms = min(abs(step), 2147483647000); // whole seconds fit an i32
  const seconds = <i32>Math.floor(ms / 1000);
  const thousandths = <i32>(ms - <f64>seconds * 1000);
  lineStart();
  lineText(step < 0 ? "clock stepped back by " : "clock stepped forward by ");
  lineNumber(seconds);
  lineText(thousandths < 100 ? (thousandths < 10 ? ".00" : ".0") : ".");
  lineNumber(thousandths);
  lineText(" s: ");
  lineText(consequence);
  lineLog(WARN);
}
