// The same bytes on every processor (docs/plugin-abi.md, "NaN"): every NaN a plugin writes is
// 0x7ff8000000000000, whatever the processor made of the arithmetic (x86-64 gives 0xfff8... for
// 0 × Infinity, arm64 0x7ff8...), and records passed on whole keep their bytes. resample's sum of
// huge values overflows to ±Infinity and its mean stays finite, never NaN. Expected values by hand.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';
import { AGG, at, good, startResample } from './resample-harness.js';
import { answer, modbusDecoder, registerPdu } from '../support/modbus-plugin.js';
import { encodeFrameBatch } from '../../src/host/engine/frame-record.js';

const CANONICAL = 0x7ff8000000000000n;
const NEGATIVE_QUIET = 0xfff8000000000000n;
const PAYLOAD = 0x7ff00000deadbeefn; // signalling, with a payload
const NEGATIVE_PAYLOAD = 0xfff8000000000123n;
const MAX = Number.MAX_VALUE;

/** The value bits of every sample of a batch. */
function valueBits(batch: Uint8Array): bigint[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  return Array.from({ length: view.getUint32(0, true) }, (_, i) => view.getBigUint64(8 + i * 24 + 8, true));
}

/** `samples` encoded, then sample i's value replaced by the bits `bits[i]` where given (a JS NaN may lose its payload). */
function withBits(samples: Sample[], bits: (bigint | undefined)[]): Uint8Array {
  const batch = encodeSamples(samples);
  const view = new DataView(batch.buffer);
  bits.forEach((b, i) => {
    if (b !== undefined) view.setBigUint64(8 + i * 24 + 8, b, true);
  });
  return batch;
}

const points = [{ id: 0, name: 'a', unit: '' }, { id: 1, name: 'b', unit: '' }];

async function scaleStep(entries: Record<string, { factor: number; offset: number }>): Promise<PluginInstance> {
  const { withDefaults } = await manifestDefaults('scale');
  const instance = new PluginInstance(compileBuiltPlugin('scale'));
  const withPoints = Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, { ...v, unit: '' }]));
  instance.configure({ abi: 1, pipeline: 't', step: 0, plugin: 'scale', with: withDefaults({ points: withPoints }), devices: [], points });
  return instance;
}

test('scale writes the canonical NaN for 0 × ±Infinity and for NaNs that arrive with a sign or payload', async () => {
  const instance = await scaleStep({ a: { factor: 0, offset: 0 }, b: { factor: 2, offset: 1 } });
  const input = withBits(
    [
      { ts: 1, value: Infinity, point: 0, quality: 0 }, // 0 × Inf: a fresh NaN, the processor's choice
      { ts: 1, value: -Infinity, point: 0, quality: 0 },
      { ts: 1, value: 0, point: 1, quality: 0 },
      { ts: 1, value: 0, point: 1, quality: 0 },
      { ts: 1, value: 0, point: 1, quality: 0 },
      { ts: 1, value: 3, point: 1, quality: 0 },
    ],
    [undefined, undefined, PAYLOAD, NEGATIVE_PAYLOAD, NEGATIVE_QUIET],
  );
  assert.deepEqual(valueBits(instance.process(input)), [CANONICAL, CANONICAL, CANONICAL, CANONICAL, CANONICAL, 0x401c000000000000n /* 7 */]);
});

test('modbus writes the canonical NaN for a device\'s NaNs (payload, sign, signalling) and for 0 × ±Infinity', () => {
  const { instance } = modbusDecoder({
    points: [
      { function: 3, address: 0, type: 'float64' }, // 0xfff80000deadbeef: negative, quiet, payload
      { function: 3, address: 4, type: 'float32', order: 'CDAB' }, // 0x7f800001: signalling, as CDAB words
      { function: 3, address: 6, type: 'float64', scale: 0 }, // -Infinity × 0
      { function: 3, address: 10, type: 'float32', scale: 2, offset: 1 }, // 1.5f × 2 + 1 = 4
    ],
  });
  const words = [0xfff8, 0x0000, 0xdead, 0xbeef, 0x0001, 0x7f80, 0xfff0, 0, 0, 0, 0x3fc0, 0x0000];
  const batch = instance.process(encodeFrameBatch([answer(instance, 0, registerPdu(3, words))]));
  assert.deepEqual(valueBits(batch), [CANONICAL, CANONICAL, CANONICAL, 0x4010000000000000n]);
});

test('a record passed on whole keeps its bytes: resample copies a NaN with a payload as it came', () => {
  const r = startResample({ aggregates: ['count'] });
  const input = withBits([{ ts: at(10, 0, 1), value: 0, point: 0, quality: 0 }], [NEGATIVE_PAYLOAD]);
  // A NaN is not aggregated (counted unaggregated) and is passed on as the record it was.
  assert.deepEqual(valueBits(r.instance.process(input)), [NEGATIVE_PAYLOAD]);
});

const ALL = ['mean', 'min', 'max', 'sum'];

/** One bucket of `values` at 10:00 closed at shutdown: [mean, min, max, sum]. */
function bucket(values: number[]): number[] {
  const r = startResample({ aggregates: ALL });
  r.process(values.map((v, i) => good(at(10, 0, i), v)));
  const out = r.tick(Infinity);
  assert.deepEqual(out.map((s) => s.aggregate), [AGG.mean, AGG.min, AGG.max, AGG.sum]);
  assert.deepEqual(out.map((s) => s.ts), [0, 1, 2, 3].map(() => at(10, 0, 0)));
  return out.map((s) => s.value as number);
}

test('resample: a sum beyond the largest double is +Infinity, the mean stays the finite mean', () => {
  // MAX + MAX = 2·MAX > MAX: overflow; the mean (2·MAX)/2 = MAX exactly.
  assert.deepEqual(bucket([MAX, MAX]), [MAX, MAX, MAX, Infinity]);
  // 3 × 1e308 overflows; the mean of three equal values is that value.
  assert.deepEqual(bucket([1e308, 1e308, 1e308]), [1e308, 1e308, 1e308, Infinity]);
  // -(2·MAX + 1) overflows to -Infinity; the mean -(2·MAX + 1)/3 is nearest -(2/3)·MAX, as 1/3 is far
  // below half its ulp (2^970), and (2/3)·MAX rounds to 2 × (MAX / 3): doubling is exact.
  assert.deepEqual(bucket([-MAX, -MAX, -1]), [-(MAX / 3) * 2, -MAX, -1, -Infinity]);
});

test('resample: a running sum that overflows and comes back is the exact sum (MAX + MAX − MAX − MAX + 3 = 3)', () => {
  // Exact sum 3, exact mean 3/5 = 0.6 (the double nearest). The old sum went Infinity − Infinity = NaN.
  assert.deepEqual(bucket([MAX, MAX, -MAX, -MAX, 3]), [0.6, -MAX, MAX, 3]);
  // MAX + MAX − MAX = MAX: representable, so no Infinity; mean MAX / 3 (one rounding of the exact mean).
  assert.deepEqual(bucket([MAX, MAX, -MAX]), [MAX / 3, -MAX, MAX, MAX]);
});

test('resample: values too small to survive the scaling after an overflow still count in the sum', () => {
  // The sum scaled by 2^-64 after MAX + MAX; 1e-305 × 2^-64 is below the least subnormal, so these
  // summed to 0 (and 1e-300 to 9.9997738e-301). Exact sums: the small values alone, as JS adds them;
  // the mean is that sum over the count.
  const small = 1e-305 + 3e-306;
  assert.deepEqual(bucket([MAX, MAX, -MAX, -MAX, 1e-305, 3e-306]), [small / 6, -MAX, MAX, small]);
  assert.deepEqual(bucket([1e-300, MAX, MAX, -MAX, -MAX]), [1e-300 / 5, -MAX, MAX, 1e-300]);
  // 5e-324 / 5 is a fifth of the least subnormal: 0.
  assert.deepEqual(bucket([MAX, MAX, -MAX, -MAX, 5e-324]), [0, -MAX, MAX, 5e-324]);
  // Below the halfway point past MAX (MAX + 2^969 < MAX + 2^970) the exact sum rounds to MAX.
  assert.deepEqual(bucket([MAX, MAX, -MAX, 2 ** 969]), [MAX / 4, -MAX, MAX, MAX]);
});

/** Neumaier's summation as resample did it before overflow was handled, in JS doubles: [mean, sum]. */
function neumaier(values: number[]): [number, number] {
  let sum = -0;
  let comp = 0;
  for (const x of values) {
    const s = sum + x;
    comp += Math.abs(sum) >= Math.abs(x) ? sum - s + x : x - s + sum;
    sum = s;
  }
  return [(sum + comp) / values.length, sum + comp];
}

test('resample: a sum that does not overflow is Neumaier\'s, bit for bit (2,000 fixed-seed buckets, cancellations and subnormals)', () => {
  let a = 2026;
  const u = () => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 32;
  };
  const wrong: string[] = [];
  for (let b = 0; b < 2000; b++) {
    const n = 1 + Math.floor(u() * 12);
    const exp = [-1070, -320, -20, 0, 20, 300][b % 6]!;
    const values = Array.from({ length: n }, () => (u() - 0.5) * 2 ** (exp + Math.floor(u() * 40) - 20) * (u() < 0.2 ? 1e16 : 1));
    if (b % 5 === 0) values.push(-values[0]!); // an exact cancellation
    const [mean, sum] = neumaier(values);
    const [gotMean, , , gotSum] = bucket(values);
    if (!Object.is(gotMean, mean) || !Object.is(gotSum, sum)) wrong.push(`${values.join(',')}: mean ${gotMean} sum ${gotSum}, Neumaier ${mean} ${sum}`);
  }
  assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} buckets differ`);
});

/** The timestamp bits of every sample of a batch. */
function tsBits(batch: Uint8Array): bigint[] {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  return Array.from({ length: view.getUint32(0, true) }, (_, i) => view.getBigUint64(8 + i * 24, true));
}

test('a plugin that rewrites a value in place writes only the value: the timestamp keeps its bytes (scale, si)', async () => {
  // Timestamps that are NaNs with a sign and payload (no host stamps one; an earlier plugin might).
  const stamps = [NEGATIVE_PAYLOAD, PAYLOAD, NEGATIVE_QUIET];
  const input = () => {
    const batch = encodeSamples([0, 1, 2].map((i) => ({ ts: 1, value: 10 + i, point: i % 2, quality: 0 })));
    const view = new DataView(batch.buffer);
    stamps.forEach((b, i) => view.setBigUint64(8 + i * 24, b, true));
    return batch;
  };
  const scale = await scaleStep({ a: { factor: 2, offset: 1 }, b: { factor: 0.5, offset: 0 } });
  const scaled = scale.process(input());
  assert.deepEqual(decodeSamples(scaled).map((s) => s.value), [21, 5.5, 25]);
  assert.deepEqual(tsBits(scaled), stamps);

  const { withDefaults } = await manifestDefaults('si');
  const si = new PluginInstance(compileBuiltPlugin('si'));
  si.configure({
    abi: 1, pipeline: 't', step: 0, plugin: 'si', with: withDefaults({}), devices: [],
    points: [{ id: 0, device: 0, name: 'a', unit: 'degF' }, { id: 1, device: 0, name: 'b', unit: 'kPa' }],
  });
  const converted = si.process(input());
  // (10 − 32) × 5/9 + 273.15 = 234835/900 K; 11 kPa = 11,000 Pa; (12 − 32) × 5/9 + 273.15 = 235835/900 K:
  // the doubles nearest those rationals, by Number() of 28 correct digits (far from any halfway point).
  const nearest = ['260.9277777777777777777777778', '11000', '262.0388888888888888888888889'].map(Number);
  assert.deepEqual(decodeSamples(converted).map((s) => s.value), nearest);
  assert.deepEqual(tsBits(converted), stamps);
});

test('deadband passes a NaN with a payload on whole, and its heartbeat, which writes the held value again, writes the canonical NaN', async () => {
  const { withDefaults } = await manifestDefaults('deadband');
  const deadband = new PluginInstance(compileBuiltPlugin('deadband'));
  deadband.configure({ abi: 1, pipeline: 't', step: 0, plugin: 'deadband', with: withDefaults({ absolute: 1, heartbeat: 60000 }), devices: [], points });
  const input = withBits([{ ts: 1000, value: 0, point: 0, quality: 2 }], [NEGATIVE_PAYLOAD]); // no-comm
  const passed = deadband.process(input);
  assert.deepEqual(valueBits(passed), [NEGATIVE_PAYLOAD]);
  // Another NaN (another payload) is no change: suppressed. The heartbeat writes this latest one again.
  assert.deepEqual(valueBits(deadband.process(withBits([{ ts: 2000, value: 0, point: 0, quality: 2 }], [PAYLOAD]))), []);
  const beat = deadband.tick(61000);
  assert.deepEqual(decodeSamples(beat).map((s) => [s.ts, s.quality]), [[61000, 2]]);
  assert.deepEqual(valueBits(beat), [CANONICAL]);
});
