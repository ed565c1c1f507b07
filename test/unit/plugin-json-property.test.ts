// json encoder against random input: whatever the point names, units, texts, values and timestamps,
// every message is valid UTF-8 (the harness decodes fatally) and valid JSON (JSON.parse), and what went
// in comes back: names and texts exactly (invalid UTF-8 aside), numbers as the identical double,
// ISO timestamps as Date.prototype.toISOString of the floored millisecond.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { decodeMessages, jsonEncoder, type PointDecl } from './plugin-json-harness.js';

/** Any UTF-16 string, lone surrogates included (JSON.stringify escapes them in the settings). */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((codes) => String.fromCharCode(...codes)),
  fc.constantFrom('"', '\\', '\n', '\u0000', '\u007f', '\ud83c', '\udf21', '🌡️', '\u2028'),
);

/** Any double: random bit patterns (subnormals, huge, NaN payloads), -0, infinities. */
const anyDouble = fc.oneof(
  fc.double(),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((b) => new Float64Array(new BigUint64Array([b]).buffer)[0]!),
  fc.constantFrom(-0, 0, 5e-324, -5e-324, 1.7976931348623157e308, 2 ** 53, 2 ** -1022),
);

const timestamp = fc.oneof(fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }), fc.integer({ min: -1e13, max: 1e13 }));

const lenient = new TextDecoder('utf-8');

interface Case {
  points: PointDecl[];
  samples: Sample[];
}

const cases: fc.Arbitrary<Case> = fc
  .array(fc.record({ name: anyText, unit: anyText, device: fc.integer({ min: 0, max: 1 }) }), { minLength: 1, maxLength: 5 })
  .chain((points) => fc.record({
    points: fc.constant(points),
    samples: fc.array(fc.record({
      ts: timestamp,
      point: fc.integer({ min: 0, max: points.length }), // the last id is unknown to the settings
      quality: fc.integer({ min: 0, max: 5 }),
      aggregate: fc.integer({ min: 0, max: 8 }),
      value: fc.oneof(anyDouble, anyText, fc.constantFrom(0, 1)),
      type: fc.integer({ min: 0, max: 1 }),
    }).map((s): Sample => (typeof s.value === 'string' ? { ...s, type: 2 } : s)), { maxLength: 30 }),
  }));

function valueOf(object: Record<string, unknown>): unknown {
  for (const key of ['value', 'mean', 'min', 'max', 'first', 'last', 'count', 'sum']) if (key in object) return object[key];
  return undefined;
}

function expectedValue(s: Sample): unknown {
  if (s.type === 2) return lenient.decode(new TextEncoder().encode(s.value as string));
  if (s.type === 1) return s.value !== 0;
  return Number.isFinite(s.value) ? s.value : null;
}

test('property: sample shape round-trips names, texts, numbers and quality for any input', () => {
  fc.assert(fc.property(cases, ({ points, samples }) => {
    const instance = jsonEncoder({ points, devices: ['d0', 'd1'], with: { include: { device: true } } });
    const out = decodeMessages(instance.process(encodeSamples(samples)));
    assert.equal(out.length, samples.length);
    samples.forEach((s, i) => {
      const known = s.point < points.length;
      const o = out[i]!.json as Record<string, unknown>;
      assert.equal(out[i]!.point, known ? s.point : undefined);
      assert.equal(o.point, known ? points[s.point]!.name : null);
      assert.equal(o.unit, known ? points[s.point]!.unit : null);
      assert.equal(o.device, known ? `d${points[s.point]!.device}` : null);
      assert.ok(Object.is(o.ts, Number.isFinite(s.ts) ? s.ts : null), `ts ${s.ts}`);
      assert.ok(Object.is(valueOf(o), expectedValue(s)), `value ${String(s.value)} gave ${out[i]!.text}`);
      assert.equal(o.quality, ['good', 'suspect', 'bad', 'no-comm'][s.quality] ?? s.quality);
    });
  }), { numRuns: 200 });
});

test('property: bucket and batch shapes give valid JSON holding every sample\'s value', () => {
  fc.assert(fc.property(cases, fc.constantFrom('bucket', 'batch'), ({ points, samples }, shape) => {
    const instance = jsonEncoder({ points, with: { shape } });
    const out = decodeMessages(instance.process(encodeSamples(samples)));
    const objects = shape === 'batch'
      ? out.flatMap((m) => m.json as Record<string, unknown>[])
      : out.map((m) => m.json as Record<string, unknown>);
    assert.equal(out.length === 0, samples.length === 0);
    const written = objects.flatMap((o) => ['value', 'mean', 'min', 'max', 'first', 'last', 'count', 'sum'].filter((k) => k in o).map((k) => o[k]));
    assert.equal(written.length, samples.length, 'one value per sample');
    const expected = samples.map(expectedValue);
    assert.ok(written.every((v, i) => Object.is(v, expected[i])), 'values in order');
  }), { numRuns: 200 });
});

test('property: ISO timestamps equal toISOString of the floored millisecond (null beyond years 0000-9999)', () => {
  const instance = jsonEncoder({ with: { timestamp: 'iso', shape: 'batch' } });
  fc.assert(fc.property(fc.array(timestamp, { minLength: 1, maxLength: 40 }), (stamps) => {
    const [m] = decodeMessages(instance.process(encodeSamples(stamps.map((ts) => ({ ts, value: 0, point: 0, quality: 0 })))));
    const got = (m!.json as { ts: string }[]).map((o) => o.ts);
    assert.deepEqual(got, stamps.map((ms) => (ms >= -62167219200000 && ms < 253402300800000 ? new Date(Math.floor(ms)).toISOString() : null)));
  }), { numRuns: 300 });
});
