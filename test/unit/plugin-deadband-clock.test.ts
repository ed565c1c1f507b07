// Regression: deadband's heartbeat is timed on the wall clock, and after the clock stepped back it
// stopped: "silent for 60 s" measured from an emission stamped an hour in the future stayed negative
// for an hour (a day after −24 h), by tick and by sample alike. After a step forward every point fired
// a heartbeat at once though nothing had been silent. The hostile fixture is the clock: ticks and
// sample timestamps that jump −1 h, −24 h and +1 h, through the plugin author's harness. Expected
// values are worked out by hand below.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadPlugin, encodeSamples, decodeSamples, type Sample, type LoadedPlugin } from '../../src/host/engine/harness.js';
import { builtPluginPath } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const { withDefaults } = await manifestDefaults('deadband');
const HOUR = 3600000;
const DAY = 24 * HOUR;
const WARN = 40;

/** A band of 1 and a heartbeat of 60 s, on one numeric point. */
function deadband(): LoadedPlugin {
  return loadPlugin(builtPluginPath('deadband'), { with: withDefaults({ absolute: 1, heartbeat: 60000 }), points: [{ name: 'tank.level' }] });
}

/** Epoch ms of a time on 2024-01-15, UTC. */
const at = (h: number, m: number, s: number): number => Date.UTC(2024, 0, 15, h, m, s);
const num = (ts: number, value: number): Sample => ({ ts, value, point: 0, quality: 0 });
/** [ts, value] of each sample out of a batch (a tick with nothing to say returns no batch at all). */
const rows = (batch: Uint8Array) => (batch.byteLength === 0 ? [] : decodeSamples(batch).map((s) => [s.ts, s.value]));
const process = (step: LoadedPlugin, samples: Sample[]) => rows(step.instance.process(encodeSamples(samples)));
const tick = (step: LoadedPlugin, now: number) => rows(step.instance.tick(now));
const warnings = (step: LoadedPlugin) => step.logs.filter((l) => l.level === WARN).map((l) => l.message);

test('deadband heartbeat after a −1 h clock step seen in the ticks: re-timed, said once, fires on the new clock', () => {
  const step = deadband();
  assert.deepEqual(process(step, [num(at(10, 0, 0), 5)]), [[at(10, 0, 0), 5]]);
  assert.deepEqual(tick(step, at(10, 0, 30)), []);
  // 09:00:31 is 3599 s before the last tick: the emission at 10:00:00 moves to 09:00:01.
  assert.deepEqual(tick(step, at(9, 0, 31)), []);
  assert.deepEqual(warnings(step), ['clock stepped back by 3599.000 s: heartbeats now timed on the new clock']);
  assert.deepEqual(tick(step, at(9, 1, 0)), [], '59 s of silence');
  assert.deepEqual(tick(step, at(9, 1, 1)), [[at(9, 1, 1), 5]], '60 s of silence: the heartbeat');
  assert.equal(warnings(step).length, 1);
  assert.deepEqual(step.instance.stats(), { suppressed: 0, heartbeats: 1, clock_steps: 1 });
});

test('deadband heartbeat after a −24 h clock step seen only in the samples passes the next sample on time', () => {
  const step = deadband();
  assert.deepEqual(process(step, [num(at(10, 0, 0), 5), num(at(10, 0, 30), 5.1)]), [[at(10, 0, 0), 5]]);
  // 10:00:40 yesterday is 86390 s before the newest sample: the emission at 10:00:00 moves to 10:00:10
  // yesterday, so this sample, inside the band, has been silent 30 s and is suppressed; the one at
  // 10:01:10 yesterday has been silent 60 s and passes as a heartbeat.
  const yesterday = (h: number, m: number, s: number) => at(h, m, s) - DAY;
  assert.deepEqual(process(step, [num(yesterday(10, 0, 40), 5.2), num(yesterday(10, 1, 10), 5.3)]), [[yesterday(10, 1, 10), 5.3]]);
  assert.deepEqual(warnings(step), ['clock stepped back by 86390.000 s: heartbeats now timed on the new clock']);
  assert.deepEqual(step.instance.stats(), { suppressed: 2, heartbeats: 1, clock_steps: 1 });
});

test('deadband after a +1 h clock step emits no heartbeat for the hour skipped over', () => {
  const step = deadband();
  assert.deepEqual(process(step, [num(at(10, 0, 0), 5)]), [[at(10, 0, 0), 5]]);
  assert.deepEqual(tick(step, at(10, 0, 30)), []);
  // 11:00:31 is 3601 s after the last tick: the emission moves to 11:00:01, 30 s of silence.
  assert.deepEqual(tick(step, at(11, 0, 31)), []);
  assert.deepEqual(warnings(step), ['clock stepped forward by 3601.000 s: heartbeats now timed on the new clock']);
  assert.deepEqual(tick(step, at(11, 1, 1)), [[at(11, 1, 1), 5]]);
  assert.deepEqual(step.instance.stats(), { suppressed: 0, heartbeats: 1, clock_steps: 1 });
});

test('deadband: a sample stamped NaN or ±Infinity passes and leaves no state, so it cannot stop the heartbeat', () => {
  // Before, the first sample stamped NaN became the reference with an emission time of NaN: "silent
  // for 60 s" (now − NaN ≥ 60 s) was never true, so no heartbeat fired and every later sample inside
  // the band was suppressed until the value left it. +Infinity did the same.
  for (const stamp of [NaN, Infinity, -Infinity]) {
    const step = deadband();
    assert.deepEqual(process(step, [num(stamp, 5)]), [[stamp, 5]], `stamped ${stamp}: passed`);
    assert.deepEqual(process(step, [num(at(10, 0, 0), 5)]), [[at(10, 0, 0), 5]], `after ${stamp}: the first sample`);
    assert.deepEqual(process(step, [num(at(10, 0, 30), 5.5)]), [], 'inside the band');
    assert.deepEqual(tick(step, at(10, 1, 0)), [[at(10, 1, 0), 5.5]], `after ${stamp}: the heartbeat 60 s on`);
  }
});
