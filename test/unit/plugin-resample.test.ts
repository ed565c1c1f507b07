// resample: clock-aligned buckets per point, closed by later samples, by ticks after the grace, and at
// shutdown. Expected values are hand arithmetic on the vectors below; the property test
// (plugin-resample-property.test.ts) checks against exact arithmetic.
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { AGG, at, good, resampleManifest, startResample } from './resample-harness.js';

/** One emitted aggregate, as the tests write their expectations. */
const agg = (ts: number, aggregate: number, value: number, point = 0, quality = 0): Sample => ({
  ts, value, point, quality, type: 0, aggregate,
});

test('hand vector: samples at 10:00:05, :20, :40 make one 1-minute bucket stamped 10:00:00', () => {
  const r = startResample({ aggregates: ['mean', 'min', 'max', 'first', 'last', 'count', 'sum'] });
  const none = r.process([good(at(10, 0, 5), 20), good(at(10, 0, 20), 23), good(at(10, 0, 40), 21.5)]);
  assert.deepEqual(none, [], 'nothing closes while the bucket is open');
  const t = at(10, 0, 0);
  // sum 20 + 23 + 21.5 = 64.5; mean 64.5 / 3 = 21.5
  assert.deepEqual(r.tick(Infinity), [
    agg(t, AGG.mean, 21.5), agg(t, AGG.min, 20), agg(t, AGG.max, 23), agg(t, AGG.first, 20),
    agg(t, AGG.last, 21.5), agg(t, AGG.count, 3), agg(t, AGG.sum, 64.5),
  ]);
});

test('timestamp: end stamps each aggregate with the first instant after its bucket', () => {
  const r = startResample({ timestamp: 'end', aggregates: ['count'] });
  r.process([good(at(10, 0, 5), 1)]);
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 1, 0), AGG.count, 1)]);
});

test('the defaults emit mean, min, max and count, in that order', () => {
  const r = startResample({});
  r.process([good(at(10, 0, 1), 4), good(at(10, 0, 2), 8)]);
  const t = at(10, 0, 0);
  assert.deepEqual(r.tick(Infinity), [agg(t, AGG.mean, 6), agg(t, AGG.min, 4), agg(t, AGG.max, 8), agg(t, AGG.count, 2)]);
});

test('15-second buckets start on :00, :15, :30, :45 and a later sample closes the one before', () => {
  const r = startResample({ bucket: 15000, grace: 0, aggregates: ['count', 'first'] });
  const out = r.process([
    good(at(10, 0, 14, 999), 1),
    good(at(10, 0, 15), 2), // closes 10:00:00
    good(at(10, 0, 29, 999), 3),
    good(at(10, 0, 44), 4), // closes 10:00:15
  ]);
  assert.deepEqual(out, [
    agg(at(10, 0, 0), AGG.count, 1), agg(at(10, 0, 0), AGG.first, 1),
    agg(at(10, 0, 15), AGG.count, 2), agg(at(10, 0, 15), AGG.first, 2),
  ]);
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 0, 30), AGG.count, 1), agg(at(10, 0, 30), AGG.first, 4)]);
});

test('5-minute buckets start on :05 and :10; one ulp before a boundary is still the earlier bucket', () => {
  const r = startResample({ bucket: 300000, grace: 0, aggregates: ['count'] });
  const boundary = at(10, 10, 0);
  const justBefore = boundary - 2 ** -12; // ulp of a 2024 timestamp in ms
  assert.ok(justBefore < boundary);
  const out = r.process([good(at(10, 7, 30), 1), good(justBefore, 2), good(boundary, 3)]);
  assert.deepEqual(out, [agg(at(10, 5, 0), AGG.count, 2)]);
  assert.deepEqual(r.tick(Infinity), [agg(boundary, AGG.count, 1)]);
});

test('with grace, a later sample closes a bucket only once it is past end + grace', () => {
  const r = startResample({ grace: 2000, aggregates: ['count'] });
  assert.deepEqual(r.process([good(at(10, 0, 10), 1), good(at(10, 1, 1, 999), 2)]), []);
  assert.deepEqual(r.process([good(at(10, 1, 2), 3)]), [agg(at(10, 0, 0), AGG.count, 1)]);
});

test('a tick closes a bucket once now reaches end + grace, and otherwise returns an empty batch', () => {
  const r = startResample({ grace: 2000, aggregates: ['count'] });
  r.process([good(at(10, 0, 10), 1)]);
  const empty = r.tickRaw(at(10, 1, 1, 999));
  assert.equal(empty.byteLength, 8, 'header only');
  assert.deepEqual(decodeSamples(empty), []);
  assert.deepEqual(r.tick(at(10, 1, 2)), [agg(at(10, 0, 0), AGG.count, 1)]);
  assert.deepEqual(r.tick(at(10, 5, 0)), [], 'closed once');
});

test('the shutdown tick flushes every open bucket: per point oldest first, points by id', () => {
  const r = startResample({ grace: 5000, aggregates: ['count'] });
  r.process([good(at(10, 0, 30), 1), good(at(10, 0, 45), 1, 1), good(at(10, 1, 1), 2)]);
  assert.deepEqual(r.tick(Infinity), [
    agg(at(10, 0, 0), AGG.count, 1), agg(at(10, 1, 0), AGG.count, 1), agg(at(10, 0, 0), AGG.count, 1, 1),
  ]);
  assert.deepEqual(r.tick(Infinity), []);
});

test('a sample for a closed bucket is dropped and counted as late', () => {
  const r = startResample({ grace: 0, aggregates: ['count'] });
  r.process([good(at(10, 0, 10), 1), good(at(10, 1, 10), 2)]); // closes 10:00
  assert.deepEqual(r.process([good(at(10, 0, 50), 3)]), []);
  assert.deepEqual(r.tick(at(10, 3, 0)), [agg(at(10, 1, 0), AGG.count, 1)]);
  // 10:01 was closed by the tick, 10:02 is past end + grace at the tick's 10:03:00: both late.
  assert.deepEqual(r.process([good(at(10, 1, 30), 4), good(at(10, 2, 59), 5)]), []);
  assert.deepEqual(r.tick(Infinity), []);
  assert.deepEqual(r.instance.stats(), { late: 3, early: 0, unaggregated: 0, clock_steps: 0 });
});

test('out of order within an open bucket: first and last follow timestamps, ties follow arrival', () => {
  const r = startResample({ aggregates: ['first', 'last', 'min', 'max', 'count'] });
  r.process([good(at(10, 0, 40), 3), good(at(10, 0, 5), 1), good(at(10, 0, 20), 2)]);
  assert.deepEqual(r.process([good(at(10, 1, 10), 7), good(at(10, 1, 10), 8)]), [
    agg(at(10, 0, 0), AGG.first, 1), agg(at(10, 0, 0), AGG.last, 3), agg(at(10, 0, 0), AGG.min, 1),
    agg(at(10, 0, 0), AGG.max, 3), agg(at(10, 0, 0), AGG.count, 3),
  ]);
  assert.deepEqual(r.tick(Infinity), [
    agg(at(10, 1, 0), AGG.first, 7), agg(at(10, 1, 0), AGG.last, 8), agg(at(10, 1, 0), AGG.min, 7),
    agg(at(10, 1, 0), AGG.max, 8), agg(at(10, 1, 0), AGG.count, 2),
  ]);
});

test('out of order across a boundary: the previous bucket still takes samples within the grace', () => {
  const r = startResample({ grace: 5000, aggregates: ['sum', 'count'] });
  const out = r.process([good(at(10, 1, 1), 10), good(at(10, 0, 59), 20), good(at(10, 1, 4), 30), good(at(10, 1, 5), 40)]);
  assert.deepEqual(out, [agg(at(10, 0, 0), AGG.sum, 20), agg(at(10, 0, 0), AGG.count, 1)], 'closed by 10:01:05 = end + grace');
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 1, 0), AGG.sum, 80), agg(at(10, 1, 0), AGG.count, 3)]);
  assert.deepEqual(r.instance.stats(), { late: 0, early: 0, unaggregated: 0, clock_steps: 0 });
});

test('a gap yields nothing: no empty buckets, no interpolation', () => {
  const r = startResample({ grace: 0, aggregates: ['count', 'mean'] });
  const out = r.process([good(at(10, 0, 10), 1), good(at(10, 3, 10), 2)]);
  assert.deepEqual(out, [agg(at(10, 0, 0), AGG.count, 1), agg(at(10, 0, 0), AGG.mean, 1)]);
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 3, 0), AGG.count, 1), agg(at(10, 3, 0), AGG.mean, 2)]);
});

test('per-point settings override the step settings; aggregates: [] passes a point through raw', () => {
  const r = startResample({
    grace: 0,
    aggregates: ['mean'],
    points: { 'boiler.temp': { bucket: 15000, aggregates: ['max'] }, serial: { aggregates: [] } },
  });
  const raw = good(at(10, 0, 30), 42, 2);
  const out = r.process([
    good(at(10, 0, 1), 5), good(at(10, 0, 1), 1, 1), good(at(10, 0, 14), 7), raw,
    good(at(10, 0, 16), 6), good(at(10, 0, 59), 3, 1),
  ]);
  assert.deepEqual(out, [{ ...raw, type: 0, aggregate: 0 }, agg(at(10, 0, 0), AGG.max, 7)]);
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 0, 15), AGG.max, 6), agg(at(10, 0, 0), AGG.mean, 2, 1)]);
});

test('non-good numbers, non-finite values, text, bools, aggregates and unknown points pass through untouched', () => {
  const r = startResample({ aggregates: ['mean', 'count'] });
  const passing: Sample[] = [
    { ts: at(10, 0, 1), value: 99, point: 0, quality: 2, type: 0, aggregate: 0 }, // bad
    { ts: at(10, 0, 2), value: NaN, point: 0, quality: 3, type: 0, aggregate: 0 }, // no-comm
    { ts: at(10, 0, 3), value: NaN, point: 0, quality: 0, type: 0, aggregate: 0 },
    { ts: at(10, 0, 4), value: Infinity, point: 0, quality: 1, type: 0, aggregate: 0 },
    { ts: NaN, value: 1, point: 0, quality: 0, type: 0, aggregate: 0 },
    { ts: at(10, 0, 5), value: 'SN-42', point: 2, quality: 0, type: 2, aggregate: 0 },
    { ts: at(10, 0, 6), value: 1, point: 1, quality: 0, type: 1, aggregate: 0 }, // bool
    { ts: at(9, 59, 0), value: 12.5, point: 0, quality: 0, type: 0, aggregate: AGG.mean },
    { ts: at(10, 0, 7), value: 3, point: 99, quality: 0, type: 0, aggregate: 0 },
  ];
  const input = [good(at(10, 0, 0), 5), ...passing.slice(0, 5), { ...good(at(10, 0, 30), 7), quality: 1 }, ...passing.slice(5)];
  assert.deepEqual(r.process(input), passing, 'in input order, unchanged');
  // Only 5 (good) and 7 (suspect) entered: mean 6, count 2, quality suspect.
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 0, 0), AGG.mean, 6, 0, 1), agg(at(10, 0, 0), AGG.count, 2, 0, 1)]);
  assert.deepEqual(r.instance.stats(), { late: 0, early: 0, unaggregated: 5, clock_steps: 0 });
});

test('process never answers "unchanged": a batch with nothing to close comes back as a copy', () => {
  const r = startResample({});
  const text = r.encode([{ ts: 1, value: 'x', point: 2, quality: 0 }]);
  const out = r.instance.process(text);
  assert.notEqual(out, text);
  assert.deepEqual(out, text);
  assert.deepEqual(decodeSamples(r.instance.process(r.encode([]))), []);
});

test('compensated summation: ten 0.1 sum to 1 and average 0.1, where plain addition drifts', () => {
  let plain = 0;
  for (let i = 0; i < 10; i++) plain += 0.1;
  assert.notEqual(plain, 1, 'the vector does catch plain addition');
  const r = startResample({ aggregates: ['sum', 'mean'] });
  r.process(Array.from({ length: 10 }, (_, i) => good(at(10, 0, i), 0.1)));
  assert.deepEqual(r.tick(Infinity), [agg(at(10, 0, 0), AGG.sum, 1), agg(at(10, 0, 0), AGG.mean, 0.1)]);
});

test('compensated summation: 1e16, a thousand ones, then -1e16 sum to exactly 1000', () => {
  const values = [1e16, ...Array<number>(1000).fill(1), -1e16];
  assert.equal(values.reduce((a, b) => a + b, 0), 0, 'plain addition loses every one');
  const r = startResample({ aggregates: ['sum', 'mean', 'count'] });
  r.process(values.map((v, i) => good(at(10, 0, 0) + i * 10, v)));
  const t = at(10, 0, 0);
  assert.deepEqual(r.tick(Infinity), [agg(t, AGG.sum, 1000), agg(t, AGG.mean, 1000 / 1002), agg(t, AGG.count, 1002)]);
});

test('with more open buckets than the cap of 8, the oldest closes early and is counted', () => {
  // 1-second buckets with a minute of grace would need 61 open buckets.
  const r = startResample({ bucket: 1000, grace: 60000, aggregates: ['count'] });
  const t0 = at(10, 0, 0);
  const out = r.process(Array.from({ length: 9 }, (_, i) => good(t0 + i * 1000 + 500, i)));
  assert.deepEqual(out, [agg(t0, AGG.count, 1)], 'the ninth bucket pushes the first out');
  assert.deepEqual(r.process([good(t0 + 100, 0)]), [], 'the early-closed bucket takes no more samples');
  assert.deepEqual(r.tick(Infinity), Array.from({ length: 8 }, (_, i) => agg(t0 + (i + 1) * 1000, AGG.count, 1)));
  assert.deepEqual(r.instance.stats(), { late: 1, early: 1, unaggregated: 0, clock_steps: 0 });
});

test('configure rejects a per-point entry for a point that does not exist, naming it', () => {
  assert.throws(() => startResample({ points: { 'boiler.tmp': { bucket: 1000 } } }), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE'));
    assert.match(err.message, /with\.points\.boiler\.tmp: no point of that name/);
    return true;
  });
});

test('the manifest refuses bad values before the plugin sees them, naming each setting', () => {
  const findings = resampleManifest.validateSettings({
    bucket: 0,
    grace: 1.5,
    aggregates: ['avg', 'mean', 'mean'],
    timestamp: 'middle',
    points: { 'boiler.temp': { bucket: -1, window: 3 } },
  });
  const paths = findings.map((f) => f.path.join('.')).sort();
  assert.deepEqual(paths, [
    'aggregates', 'aggregates.0', 'bucket', 'grace', 'points.boiler.temp.bucket', 'points.boiler.temp.window', 'timestamp',
  ]);
});

test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  const instance = new PluginInstance(compileBuiltPlugin('resample'));
  assert.throws(
    () => instance.configure({ abi: 1, pipeline: 't', step: 0, plugin: 'resample', with: { grace: 0, aggregates: ['count'], timestamp: 'start' }, devices: [], points: [] }),
    (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.bucket: missing/.test(err.message),
  );
});
