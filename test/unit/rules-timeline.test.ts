/**
 * Regression (hostile tester, issue 10): `for:` timers ran on differences of the samples' wall-clock
 * times, so a wall-clock step (NTP at boot on a Pi without an RTC, an operator setting the clock)
 * fired a pending `for: 10s` at once after a step forward, and froze it for the length of the step
 * after a step back. The rules now run on a monotonic timeline (rule-timeline.ts). Run on
 * WorkerRules as the worker runs it, with the compiled module; the clocks are the one thing handed
 * in (a clock we set: no real peer can step the machine's clock in a test).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleSet } from '../../src/host/rules/compiled-rules.js';
import { WorkerRules } from '../../src/host/rules/worker-rules.js';
import { RuleTimeline, anchorTimeline, type TimelineClock } from '../../src/host/rules/rule-timeline.js';
import { RepeatLog } from '../../src/host/pipeline/repeat-log.js';
import { encodeSamples } from '../../src/host/engine/sample-batch.js';
import { POINTS, ruleSet } from './rules-fixture.js';

const HOUR = 3_600_000;

class SetClock implements TimelineClock {
  wall = Date.UTC(2026, 11, 4, 1, 0, 0);
  mono = 5_000;
  wallMs(): number { return this.wall; }
  monotonicMs(): number { return this.mono; }
  /** Real time passes: both clocks move. */
  pass(ms: number): void { this.wall += ms; this.mono += ms; }
}

async function hotFor10s(clock: SetClock): Promise<WorkerRules> {
  const set = await ruleSet(['  - { name: hot, when: "plc1:boiler.temp > 95", for: 10s }']);
  return new WorkerRules(compileRuleSet(set, 'p1'), 'p1', new RepeatLog(() => {}), { anchor: anchorTimeline(clock), clock });
}

const hot = (clock: SetClock) => encodeSamples([{ ts: clock.wall, value: 99, point: POINTS.temp, quality: 0 }]);

test('a wall-clock step forward fires no pending for: early', async () => {
  const clock = new SetClock();
  const rules = await hotFor10s(clock);
  rules.samples(hot(clock));
  clock.pass(1000);
  clock.wall += HOUR;
  rules.tick(clock.wall);
  rules.samples(hot(clock));
  assert.deepEqual(rules.take(), [], 'held 1 s of real time, not an hour');
  clock.pass(8000);
  rules.tick(clock.wall);
  assert.deepEqual(rules.take(), [], 'held 9 s');
  clock.pass(1000);
  rules.tick(clock.wall);
  const events = rules.take();
  assert.deepEqual(events.map((e) => e.kind), ['fire'], 'held 10 s');
  // Stamped on the wall clock as it reads now (after the step), as an alarm must be.
  assert.equal(events[0]!.ts, clock.wall);
});

test('a wall-clock step back does not freeze a pending for:', async () => {
  const clock = new SetClock();
  const rules = await hotFor10s(clock);
  rules.samples(hot(clock));
  clock.pass(1000);
  clock.wall -= HOUR;
  rules.samples(hot(clock));
  clock.pass(8500);
  rules.samples(hot(clock));
  assert.deepEqual(rules.take(), []);
  clock.pass(500);
  rules.tick(clock.wall);
  const events = rules.take();
  assert.deepEqual(events.map((e) => e.kind), ['fire'], 'fires after 10 s of real time, not 1 h 10 s');
  assert.equal(events[0]!.ts, clock.wall);
});

test('a sample taken before a step and seen after it lands within the timeline, never before the step was noticed nor after now', () => {
  const clock = new SetClock();
  const timeline = new RuleTimeline(anchorTimeline(clock), clock);
  const start = timeline.advance();
  const takenBefore = clock.wall + 500;
  clock.pass(1000);
  clock.wall += HOUR;
  timeline.advance();
  assert.equal(timeline.steps, 1);
  // Its wall time plus the new offset would be an hour back: held at the last time before the step.
  assert.equal(timeline.fromWall(takenBefore), start);
  clock.wall -= 2 * HOUR;
  clock.pass(1000);
  const now = timeline.advance();
  assert.equal(timeline.steps, 2);
  // Now it would be an hour ahead: held at now.
  assert.equal(timeline.fromWall(takenBefore + HOUR), now);
});

test('a restart resumes the timeline where the saved state left it, the downtime counted by the wall clock and never backwards', () => {
  const clock = new SetClock();
  assert.deepEqual(anchorTimeline(clock, { t: clock.wall - HOUR, wallMs: clock.wall - 60_000 }), { t: clock.wall - HOUR + 60_000, monotonicMs: clock.mono });
  // The wall clock reads earlier than at the save (stepped back while down): no time passed.
  assert.deepEqual(anchorTimeline(clock, { t: clock.wall + HOUR, wallMs: clock.wall + 2 * HOUR }), { t: clock.wall + HOUR, monotonicMs: clock.mono });
});

test('between steps the offset holds still: samples lie on the timeline as far apart as their wall times, whatever the jitter of reading two clocks', () => {
  const clock = new SetClock();
  const timeline = new RuleTimeline(anchorTimeline(clock), clock);
  const first = clock.wall;
  timeline.advance();
  const a = timeline.fromWall(first);
  // The wall clock reads up to 0.9 ms off the monotonic one at each advance (Date.now() is whole ms).
  clock.pass(1000);
  clock.mono += 0.9;
  timeline.advance();
  assert.equal(timeline.fromWall(first + 1000) - a, 1000);
  assert.equal(timeline.steps, 0);
  // A thread held 50 ms between reading the two clocks is no step either.
  let reads = 0;
  const held: TimelineClock = { wallMs: () => clock.wall, monotonicMs: () => clock.mono + (reads++ % 2 === 1 ? 50 : 0) };
  const other = new RuleTimeline(anchorTimeline(clock), held);
  reads = 0;
  other.advance();
  assert.equal(other.steps, 0);
});
