/**
 * The demo PLC's process model, driven step by step without timers. Bands come from the process
 * description in demo-register-map.ts (≈65 °C ± 5 drift, 1450 rpm, 3600 L/h, ≈2.5 bar running).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoilerProcess, type BoilerReadings } from '../../src/host/demo/boiler-process.js';

const DT = 0.1; // s, the simulator's tick

function run(seed: number, steps: number, pump: (i: number) => boolean = () => true): BoilerReadings[] {
  const process = new BoilerProcess(seed);
  return Array.from({ length: steps }, (_, i) => process.step(DT, pump(i)));
}

const num = (r: BoilerReadings, name: keyof BoilerReadings): number => r[name] as number;

test('the same seed gives the same readings; another seed does not', () => {
  assert.deepEqual(run(42, 500), run(42, 500));
  assert.notDeepEqual(run(42, 500), run(43, 500));
});

test('twenty minutes of running: drift stays in band, spikes are single samples, the counter only grows', () => {
  const readings = run(7, 12_000);
  const temps = readings.map((r) => num(r, 'boiler.temp'));
  const spikes = temps.flatMap((t, i) => (t > 80 ? [i] : []));
  assert.ok(spikes.length >= 1, 'at least one spike in twenty minutes');
  for (const i of spikes) {
    assert.ok((temps[i - 1] ?? 0) < 75 && (temps[i + 1] ?? 0) < 75, `spike at step ${i} lasts one sample`);
  }
  temps.forEach((t, i) => {
    if (!spikes.includes(i)) assert.ok(t >= 59.5 && t <= 70.5, `temperature ${t} at step ${i}`);
  });
  readings.forEach((r, i) => {
    assert.equal(r['boiler.overtemp'], num(r, 'boiler.temp') > 80);
    assert.ok(Math.abs(num(r, 'pump.speed') - 1450) <= 3);
    assert.ok(Math.abs(num(r, 'feed.flow') - 3600) <= 20);
    assert.ok(num(r, 'boiler.press') > 2.3 && num(r, 'boiler.press') < 2.7);
    if (i > 0) assert.ok(num(r, 'pump.energy') > num(readings[i - 1] as BoilerReadings, 'pump.energy'));
  });
});

test('a stop command ramps the pump down to zero flow, and the counter keeps growing', () => {
  const readings = run(1, 100, (i) => i < 10);
  const last = readings.at(-1) as BoilerReadings;
  assert.equal(last['pump.running'], false);
  assert.equal(last['pump.speed'], 0);
  assert.equal(last['feed.flow'], 0);
  assert.ok(num(last, 'boiler.press') < 1.5);
  assert.ok(num(last, 'pump.energy') > num(readings[50] as BoilerReadings, 'pump.energy'));
});
