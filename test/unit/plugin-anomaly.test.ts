// anomaly: a two-sided CUSUM per point against a learnt baseline. Expected values come from hand
// arithmetic on small series, and, for the generated signal, from the CUSUM's theory (Siegmund's
// approximation of the average run length), not from the plugin's own output.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const points = [
  { id: 0, name: 'boiler.temp', unit: 'degC' },
  { id: 1, name: 'line.pressure', unit: 'bar' },
];
const compiled = compileBuiltPlugin('anomaly');
const { withDefaults } = await manifestDefaults('anomaly');
const SUSPECT = 1;
const GOOD = 0;

function anomaly(settings: Record<string, unknown> = {}) {
  const logs: string[] = [];
  const instance = new PluginInstance(compiled, { onLog: (l) => logs.push(l.message) });
  instance.configure({ abi: 1, pipeline: 't', step: 2, plugin: 'anomaly', with: withDefaults(settings), devices: [], points });
  return { instance, logs };
}

const good = (i: number, value: number, point = 0): Sample => ({ ts: i * 1000, value, point, quality: GOOD });
const qualities = (instance: PluginInstance, values: number[], point = 0) =>
  decodeSamples(instance.process(encodeSamples(values.map((v, i) => good(i, v, point))))).map((s) => s.quality);

test('a baseline of 9, 11, 9, 11 (mean 10, σ = √(4/3) ≈ 1.155): 13 is z ≈ 2.60, S⁺ ≈ 2.10 > h = 2, flagged at once', () => {
  const { instance } = anomaly({ warmup: 4, k: 0.5, h: 2 });
  assert.deepEqual(qualities(instance, [9, 11, 9, 11, 13]), [GOOD, GOOD, GOOD, GOOD, SUSPECT]);
  assert.deepEqual(instance.stats(), { detections: 1 });
});

test('a small shift adds up: 11.5 is z ≈ 1.30, S⁺ 0.80, 1.60, 2.40: the third is flagged; then the baseline is learnt again', () => {
  const { instance } = anomaly({ warmup: 4, k: 0.5, h: 2 });
  // After the detection at 11.5 the next three readings (and that one) are the new warm-up: nothing is judged.
  assert.deepEqual(qualities(instance, [9, 11, 9, 11, 11.5, 11.5, 11.5, 30, 30, 30]), [GOOD, GOOD, GOOD, GOOD, GOOD, GOOD, SUSPECT, GOOD, GOOD, GOOD]);
});

test('a downward shift is found by S⁻: 7 is z ≈ −2.60', () => {
  const { instance } = anomaly({ warmup: 4, k: 0.5, h: 2 });
  assert.deepEqual(qualities(instance, [9, 11, 9, 11, 7]), [GOOD, GOOD, GOOD, GOOD, SUSPECT]);
});

test('a flat warm-up judges nothing without min_deviation; with min_deviation 0.5 a step of 2 is z = 4', () => {
  assert.deepEqual(qualities(anomaly({ warmup: 5, h: 2 }).instance, [5, 5, 5, 5, 5, 9]), [GOOD, GOOD, GOOD, GOOD, GOOD, GOOD]);
  // z = (7 − 5) / 0.5 = 4, S⁺ = 3.5 > 2.
  assert.deepEqual(qualities(anomaly({ warmup: 5, h: 2, min_deviation: 0.5 }).instance, [5, 5, 5, 5, 5, 7]), [GOOD, GOOD, GOOD, GOOD, GOOD, SUSPECT]);
});

test('points are judged apart, with their own settings; bad, text and non-finite readings pass untouched and are not learnt', () => {
  const { instance } = anomaly({ warmup: 4, k: 0.5, h: 2, points: { 'line.pressure': { h: 100 } } });
  const series: Sample[] = [
    ...[9, 11, 9, 11].map((v, i) => good(i, v, 0)),
    ...[9, 11, 9, 11].map((v, i) => good(i, v, 1)),
    { ts: 9000, value: 500, point: 0, quality: 2 }, // bad: passed as it is, not judged
    { ts: 9000, value: Number.NaN, point: 0, quality: GOOD },
    { ts: 9000, value: 'high', point: 0, quality: GOOD },
    good(10, 13, 1), // h 100: not a detection
    good(10, 13, 0),
  ];
  const out = decodeSamples(instance.process(encodeSamples(series)));
  assert.deepEqual(out.map((s) => [s.point, s.quality]), [...series.slice(0, 12).map((s) => [s.point, s.quality]), [0, SUSPECT]]);
  assert.equal(out[10]!.value, 'high');
});

test('settings the plugin refuses are refused at configure, naming the setting', () => {
  assert.throws(() => anomaly({ warmup: 2 }), /warmup/);
  assert.throws(() => anomaly({ h: 0 }), /\bh\b/);
});

/** Seeded normal noise (mulberry32 and Box–Muller), so the run is the same every time. */
function noise(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

test('a generated signal with known change points: each 2 σ step found within a few readings, noise raises no false alarm', (t) => {
  // Level 10, σ 1; steps to 12 at 2000 and back to 10 at 4000; 6000 readings, warm-up 100.
  const changes = [2000, 4000];
  const level = (i: number) => (i >= changes[0]! && i < changes[1]! ? 12 : 10);
  const rand = noise(20261203);
  const values = Array.from({ length: 6000 }, (_, i) => level(i) + rand());
  const { instance } = anomaly({ warmup: 100 });
  const flagged = qualities(instance, values).flatMap((q, i) => (q === SUSPECT ? [i] : []));
  // Siegmund, shift δ = 2 σ, k = 0.5, h = 8: b = h + 1.166, Δ = δ − k = 1.5, ARL ≈ (e^(−2Δb) + 2Δb − 1) / (2Δ²) ≈ 5.9.
  const delays = changes.map((c) => (flagged.find((i) => i >= c) ?? Infinity) - c);
  const falseAlarms = flagged.filter((i) => !changes.some((c) => i >= c && i < c + 50)).length;
  t.diagnostic(`detection delays ${delays.join(', ')} readings (theory ≈ 6); false alarms ${falseAlarms} in ${values.length - 2 * 50} in-control readings (theory: one in about 9 500)`);
  for (const d of delays) assert.ok(d >= 0 && d <= 25, `each step is found within 25 readings (delays ${delays.join(', ')})`);
  assert.ok(falseAlarms <= 1, `at most one false alarm (${falseAlarms}: at ${flagged.join(', ')})`);
});
