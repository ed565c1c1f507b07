// Regression: after the wall clock stepped back, resample emitted nothing and logged nothing. Its
// clock (the newest sample time or tick) stayed where the old clock had been, so every sample was
// counted late until the clock got back there: an hour of data lost after a −1 h NTP step, a day after
// −24 h. The hostile fixture is the clock itself: ticks and sample timestamps that jump −1 h, +1 h and
// −24 h, fed through the plugin author's harness. Every expected value is worked out by hand below.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadPlugin, encodeSamples, decodeSamples, type Sample, type LoadedPlugin } from '../../src/host/engine/harness.js';
import { builtPluginPath } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const { withDefaults } = await manifestDefaults('resample');
const HOUR = 3600000;
const DAY = 24 * HOUR;
const WARN = 40;

/** 1-minute buckets, 2 s of grace, count and mean: small enough to follow by hand. */
function resample(): LoadedPlugin {
  return loadPlugin(builtPluginPath('resample'), {
    with: withDefaults({ bucket: 60000, grace: 2000, aggregates: ['count', 'mean'] }),
    points: [{ name: 'boiler.temp' }, { name: 'line.pressure' }],
  });
}

/** Epoch ms of a time on 2024-01-15, UTC. */
const at = (h: number, m: number, s: number): number => Date.UTC(2024, 0, 15, h, m, s);
const good = (ts: number, value: number, point = 0): Sample => ({ ts, value, point, quality: 0 });
/** The count and mean a closed bucket emits, stamped with the bucket's start. */
const bucket = (start: number, count: number, mean: number, point = 0): Sample[] => [
  { ts: start, value: count, point, quality: 0, type: 0, aggregate: 6 },
  { ts: start, value: mean, point, quality: 0, type: 0, aggregate: 1 },
];

const process = (step: LoadedPlugin, samples: Sample[]) => decodeSamples(step.instance.process(encodeSamples(samples)));
const tick = (step: LoadedPlugin, now: number) => decodeSamples(step.instance.tick(now));
const warnings = (step: LoadedPlugin) => step.logs.filter((l) => l.level === WARN).map((l) => l.message);

test('resample after a −1 h clock step seen in the ticks: flushes, says so once, and buckets the new time', () => {
  const step = resample();
  assert.deepEqual(process(step, [good(at(10, 0, 10), 1), good(at(10, 0, 40), 3)]), []);
  assert.deepEqual(tick(step, at(10, 0, 50)), [], 'bucket 10:00 still open');
  // The clock steps back an hour; the next tick, a second later by the new clock, is at 09:00:51:
  // 3599 s before the last one. The half-filled 10:00 bucket (1 and 3) comes out as at shutdown.
  assert.deepEqual(tick(step, at(9, 0, 51)), bucket(at(10, 0, 0), 2, 2));
  assert.deepEqual(warnings(step), ['clock stepped back by 3599.000 s: open buckets flushed as at shutdown; buckets start again from the new time']);
  // Samples of the new time are taken, not counted late: 09:01:05 is past 09:00's end + grace (09:01:02).
  assert.deepEqual(process(step, [good(at(9, 0, 55), 5), good(at(9, 1, 5), 7)]), bucket(at(9, 0, 0), 1, 5));
  assert.deepEqual(tick(step, at(9, 1, 52)), []);
  assert.deepEqual(tick(step, at(9, 2, 2)), bucket(at(9, 1, 0), 1, 7), 'within one bucket of the new time');
  assert.equal(warnings(step).length, 1, 'said once');
  assert.deepEqual(step.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 1 });
});

test('resample after a −24 h clock step seen only in the samples (no tick in between) recovers the same way', () => {
  const step = resample();
  assert.deepEqual(tick(step, at(10, 0, 5)), []);
  assert.deepEqual(process(step, [good(at(10, 0, 10), 1), good(at(10, 0, 20), 10, 1), good(at(10, 0, 40), 3)]), []);
  // boiler.temp's next sample is a day earlier, less 10 s of polling: 10:00:50 yesterday, 86390 s
  // before its newest (10:00:40). Every point's open bucket is flushed there, in point order; then
  // the new time's samples open buckets of their own, and line.pressure does not count the step again.
  const yesterday = (h: number, m: number, s: number) => at(h, m, s) - DAY;
  assert.deepEqual(process(step, [good(yesterday(10, 0, 50), 5), good(yesterday(10, 0, 55), 20, 1), good(yesterday(10, 1, 10), 7)]), [
    ...bucket(at(10, 0, 0), 2, 2, 0),
    ...bucket(at(10, 0, 0), 1, 10, 1),
    ...bucket(yesterday(10, 0, 0), 1, 5, 0), // closed by 10:01:10 yesterday, past 10:01:02
  ]);
  assert.deepEqual(warnings(step), ['clock stepped back by 86390.000 s: open buckets flushed as at shutdown; buckets start again from the new time']);
  // The last tick (10:00:05) moved with the step, to 10:00:15 yesterday: a tick at 10:01:30 yesterday
  // is 75 s later, time passing, not a second step. It closes line.pressure's 10:00 of yesterday.
  assert.deepEqual(tick(step, yesterday(10, 1, 30)), bucket(yesterday(10, 0, 0), 1, 20, 1));
  assert.deepEqual(tick(step, Infinity), bucket(yesterday(10, 1, 0), 1, 7, 0));
  assert.equal(warnings(step).length, 1, 'said once');
  assert.deepEqual(step.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 1 });
});

test('resample after a +1 h clock step: says so once and emits no empty buckets for the skipped hour', () => {
  const step = resample();
  assert.deepEqual(process(step, [good(at(10, 0, 10), 1)]), []);
  assert.deepEqual(tick(step, at(10, 0, 20)), []);
  // The next tick is an hour and a second later: 3601 s. The open 10:00 bucket comes out as it is.
  assert.deepEqual(tick(step, at(11, 0, 21)), bucket(at(10, 0, 0), 1, 1));
  assert.deepEqual(warnings(step), ['clock stepped forward by 3601.000 s: open buckets flushed as at shutdown; buckets start again from the new time']);
  // Nothing for 10:01 to 10:59; the new time's buckets come out as usual.
  assert.deepEqual(process(step, [good(at(11, 0, 30), 4), good(at(11, 1, 10), 6)]), bucket(at(11, 0, 0), 1, 4));
  assert.deepEqual(tick(step, at(11, 2, 2)), bucket(at(11, 1, 0), 1, 6));
  assert.deepEqual(step.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 1 });
});

test('a sample an hour after the one before, with no tick between, is time passing, not a step', () => {
  // A point may be polled once an hour (or once a month): a forward gap between samples proves nothing.
  const step = resample();
  assert.deepEqual(process(step, [good(at(10, 0, 10), 1), good(at(11, 0, 10), 2)]), bucket(at(10, 0, 0), 1, 1));
  assert.deepEqual(warnings(step), []);
  assert.deepEqual(step.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 0 });
});

test('a step back smaller than 10 minutes is not a clock step: the samples it repeats count as late', () => {
  const step = resample();
  assert.deepEqual(process(step, [good(at(10, 5, 10), 1), good(at(10, 15, 0), 2)]), bucket(at(10, 5, 0), 1, 1));
  // 9 min 40 s back (less than 10 min + the 2 s of grace): 10:05 was closed at 10:15:00, so this is late.
  assert.deepEqual(process(step, [good(at(10, 5, 20), 3)]), []);
  assert.deepEqual(warnings(step), []);
  assert.deepEqual(step.instance.stats(), { late: 1, early: 0, unaggregated: 0, clock_steps: 0 });
});

test('the shutdown tick after a step is no step itself', () => {
  const step = resample();
  tick(step, at(10, 0, 0));
  process(step, [good(at(10, 0, 10), 1)]);
  assert.deepEqual(tick(step, Infinity), bucket(at(10, 0, 0), 1, 1));
  assert.deepEqual(step.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 0 });
});
