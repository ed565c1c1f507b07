// outlier: rolling sigma and Hampel filters per point. Expected values come from hand arithmetic and
// from a plain reference implementation written here from the manifest's definitions (two-pass mean
// and standard deviation, median and MAD by sorting), not from the plugin's running sums.
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const points = [
  { id: 0, name: 'boiler.temp', unit: 'degC' },
  { id: 1, name: 'line.pressure', unit: 'bar' },
  { id: 2, name: 'valve.position', unit: '%' },
];
const compiled = compileBuiltPlugin('outlier');
/** `with` as the host hands it over: checked against the manifest, defaults filled in. */
const { manifest, withDefaults } = await manifestDefaults('outlier');

/** `raw`: the settings as given over the manifest's defaults, unchecked (a document the host did not make). */
function outlier(settings: Record<string, unknown> = {}, raw = false) {
  const logs: string[] = [];
  const instance = new PluginInstance(compiled, { onLog: (l) => logs.push(l.message) });
  instance.configure({ abi: 1, pipeline: 't', step: 2, plugin: 'outlier', with: raw ? { ...withDefaults({}), ...settings } : withDefaults(settings), devices: [], points });
  return { instance, logs };
}

const good = (ts: number, value: number, point = 0): Sample => ({ ts, value, point, quality: 0 });
const values = (batch: Uint8Array) => decodeSamples(batch).map((s) => s.value);

/** 20 ± 0.1: 20, 20.1, 19.9, 20.05, 19.95, 20, ... */
function steady(n: number, point = 0, t0 = 0): Sample[] {
  const wiggle = [0, 0.1, -0.1, 0.05, -0.05];
  return Array.from({ length: n }, (_, i) => good(t0 + i * 1000, 20 + wiggle[i % 5]!, point));
}

// ---------------------------------------------------------------- reference implementation

interface Rule {
  method: 'sigma' | 'hampel' | 'none';
  window: number;
  threshold: number;
  min_samples: number;
  action: 'drop' | 'suspect';
  min_deviation: number;
  reset_after: number;
}
const RULE_KEYS = ['method', 'window', 'threshold', 'min_samples', 'action', 'min_deviation', 'reset_after'] as const;

/** The rule each point gets: manifest defaults, then top-level settings, then the point's own entry. */
function rulesOf(settings: Record<string, unknown>): Rule[] {
  const filled = withDefaults(settings);
  const own = (filled.points ?? {}) as Record<string, Partial<Rule>>;
  return points.map((p) => {
    const rule = {} as Record<string, unknown>;
    for (const key of RULE_KEYS) rule[key] = own[p.name]?.[key] ?? filled[key];
    return rule as unknown as Rule;
  });
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 === 1 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

/** A sample within rounding of the band's edge: the plugin's running sums may decide it either way. */
class Ambiguous extends Error {}

interface Counts { rejected: number; suspect: number; resets: number }

/** Filters one point's stream the way the manifest describes; `state` carries over between batches. */
class ReferenceFilter {
  readonly windows: number[][] = points.map(() => []);
  readonly streaks: number[] = points.map(() => 0);
  readonly counts: Counts = { rejected: 0, suspect: 0, resets: 0 };
  constructor(readonly rules: Rule[]) {}

  /** The batch's output: the samples kept, in order, suspects marked. */
  run(batch: readonly Sample[]): Sample[] {
    const out: Sample[] = [];
    for (const s of batch) {
      const verdict = this.#judge(s);
      if (verdict === 'drop') continue;
      out.push(verdict === 'mark' ? { ...s, quality: 1 } : s);
    }
    return out;
  }

  #judge(s: Sample): 'keep' | 'drop' | 'mark' {
    const rule = this.rules[s.point];
    const judged = rule && rule.method !== 'none' && typeof s.value === 'number' && (s.type ?? 0) === 0 && s.quality === 0 && (s.aggregate ?? 0) === 0 && Number.isFinite(s.value);
    if (!judged) return 'keep';
    const x = s.value as number;
    const window = this.windows[s.point]!;
    if (window.length >= rule.min_samples) {
      let center: number;
      let scale: number;
      if (rule.method === 'sigma') {
        const flat = window.every((v) => v === window[0]);
        const mean = window.reduce((a, v) => a + v, 0) / window.length;
        center = flat ? window[0]! : mean;
        scale = flat ? 0 : Math.sqrt(window.reduce((a, v) => a + (v - mean) ** 2, 0) / (window.length - 1));
      } else {
        const sorted = [...window].sort((a, b) => a - b);
        center = median(sorted);
        scale = 1.4826 * median(sorted.map((v) => Math.abs(v - center)).sort((a, b) => a - b));
      }
      const limit = Math.max(rule.threshold * scale, rule.min_deviation);
      const distance = Math.abs(x - center);
      if (rule.method === 'sigma' && limit > 0 && rule.threshold * scale >= rule.min_deviation) {
        if (Math.abs(distance - limit) <= 1e-9 * (limit + Math.abs(x) + Math.abs(center))) throw new Ambiguous();
      }
      if (limit > 0 && distance > limit) {
        const streak = this.streaks[s.point]! + 1;
        if (rule.reset_after === 0 || streak < rule.reset_after) {
          this.streaks[s.point] = streak;
          if (rule.action === 'suspect') {
            this.counts.suspect++;
            return 'mark';
          }
          this.counts.rejected++;
          return 'drop';
        }
        window.length = 0;
        this.counts.resets++;
      }
    }
    this.streaks[s.point] = 0;
    window.push(x);
    if (window.length > rule.window) window.shift();
    return 'keep';
  }
}

// ---------------------------------------------------------------- known vectors

test('a 100 in a series of 20 ± 0.1 is dropped; the series passes; counters say so', () => {
  const { instance } = outlier();
  const series = steady(30);
  series.splice(25, 0, good(25500, 100));
  const out = decodeSamples(instance.process(encodeSamples(series)));
  assert.equal(out.length, 30);
  assert.ok(!out.some((s) => s.value === 100));
  assert.deepEqual(out.map((s) => s.value), steady(30).map((s) => s.value));
  assert.deepEqual(instance.stats(), { rejected: 1, suspect: 0, resets: 0 });
});

test('the spike is dropped by hampel too, and by the default settings given or checked alike', () => {
  for (const [settings, raw] of [[{ method: 'hampel' }, false], [{}, true], [{}, false]] as const) {
    const { instance } = outlier(settings, raw);
    const series = [...steady(12), good(12000, 100), ...steady(3, 0, 13000)];
    assert.deepEqual(values(instance.process(encodeSamples(series))), [...steady(12), ...steady(3)].map((s) => s.value));
  }
});

test('action suspect passes the spike with quality suspect (1), in place', () => {
  const { instance } = outlier({ action: 'suspect' });
  const series = [...steady(12), good(12000, 100), ...steady(2, 0, 13000)];
  const out = decodeSamples(instance.process(encodeSamples(series)));
  assert.deepEqual(out.map((s) => s.value), series.map((s) => s.value));
  assert.deepEqual(out.map((s) => s.quality), series.map((_, i) => (i === 12 ? 1 : 0)));
  assert.deepEqual(instance.stats(), { rejected: 0, suspect: 1, resets: 0 });
});

test('a batch with nothing to drop or mark comes back unchanged, so the host skips the copy', () => {
  const { instance } = outlier();
  const input = encodeSamples(steady(30));
  assert.equal(instance.process(input), input);
});

test('min_samples: before the window holds that many, everything passes', () => {
  // Window 20, 19.9 - 20.1 and 20: mean 20, σ = sqrt(0.02 / 3) = 0.0816, band 0.245; |100 - 20| = 80.
  const start = [good(0, 20), good(1, 20.1), good(2, 19.9), good(3, 20)];
  const warming = outlier({ min_samples: 5 }).instance;
  assert.deepEqual(values(warming.process(encodeSamples([...start, good(4, 100)]))), [20, 20.1, 19.9, 20, 100]);
  const ready = outlier({ min_samples: 4 }).instance;
  assert.deepEqual(values(ready.process(encodeSamples([...start, good(4, 100)]))), [20, 20.1, 19.9, 20]);
});

test('flat window: with min_deviation 0 a step passes (and is learnt); with a floor, bigger jumps are dropped', () => {
  const flat = Array.from({ length: 10 }, (_, i) => good(i, 20));
  // After the step the window is ten 20s and one 21: mean 221/11 = 20.0909, σ = sqrt(0.9091/10) = 0.3015,
  // band 0.9045 < |21 - 20.0909| = 0.9091, so sigma drops the second 21; hampel's MAD is still 0.
  const sigma = outlier({ method: 'sigma' }).instance;
  assert.deepEqual(values(sigma.process(encodeSamples([...flat, good(10, 21), good(11, 21)]))), [...flat.map(() => 20), 21]);
  const hampel = outlier({ method: 'hampel' }).instance;
  assert.deepEqual(values(hampel.process(encodeSamples([...flat, good(10, 21), good(11, 21)]))), [...flat.map(() => 20), 21, 21]);
  for (const method of ['sigma', 'hampel']) {
    const floored = outlier({ method, min_deviation: 0.5 }).instance;
    // |21 - 20| = 1 > 0.5 is dropped, |20.3 - 20| = 0.3 passes.
    assert.deepEqual(values(floored.process(encodeSamples([...flat, good(10, 21), good(11, 20.3)]))), [...flat.map(() => 20), 20.3]);
  }
  // Hampel: six 20s and four 20.1s leave MAD 0 (the documented blind spot): anything passes without a floor.
  const mostly = [20, 20, 20.1, 20, 20.1, 20, 20.1, 20, 20.1, 20].map((v, i) => good(i, v));
  assert.deepEqual(values(outlier({ method: 'hampel' }).instance.process(encodeSamples([...mostly, good(10, 90)]))).at(-1), 90);
});

test('reset_after: a real step change is dropped that many times less one, then the window restarts', () => {
  const step = Array.from({ length: 6 }, (_, i) => good(20000 + i, 30));
  const { instance } = outlier({ reset_after: 3 });
  const out = values(instance.process(encodeSamples([...steady(20), ...step])));
  assert.deepEqual(out, [...steady(20).map((s) => s.value), 30, 30, 30, 30]);
  assert.deepEqual(instance.stats(), { rejected: 2, suspect: 0, resets: 1 });
  const never = outlier({ reset_after: 0 }).instance;
  assert.deepEqual(values(never.process(encodeSamples([...steady(20), ...step]))), steady(20).map((s) => s.value));
  assert.deepEqual(never.stats(), { rejected: 6, suspect: 0, resets: 0 });
});

test('sigma keeps its running sums exact enough across a fall from 1e8 to 1e-3', () => {
  // ± amplitude, halved every turn of a window of 10: each new turn lies inside the band of the last one.
  const series = Array.from({ length: 370 }, (_, i) => good(i, 1e8 * 0.5 ** Math.floor(i / 10) * (i % 2 ? -1 : 1)));
  const last = Math.abs(series.at(-1)!.value as number); // 1e8 / 2^36 = 1.46e-3: the band is 3 × 1.54e-3
  const settings = { window: 10, reset_after: 0 };
  const { instance } = outlier(settings);
  const input = [...series, good(370, 0.05), good(371, last / 2)];
  const out = values(instance.process(encodeSamples(input)));
  assert.deepEqual(out, new ReferenceFilter(rulesOf(settings)).run(input).map((s) => s.value));
  assert.deepEqual(out.slice(-2), [-last, last / 2], 'the 0.05 spike is dropped');
});

test('per-point settings: an entry overrides the top level for its point only', () => {
  const { instance } = outlier({ threshold: 3, points: { 'line.pressure': { method: 'none' }, 'valve.position': { action: 'suspect' } } });
  const series = [...steady(12, 0), ...steady(12, 1), ...steady(12, 2)].sort((a, b) => a.ts - b.ts || a.point - b.point);
  const spikes = [good(99000, 100, 0), good(99000, 100, 1), good(99000, 100, 2)];
  const out = decodeSamples(instance.process(encodeSamples([...series, ...spikes]))).slice(series.length);
  assert.deepEqual(out.map((s) => [s.point, s.value, s.quality]), [[1, 100, 0], [2, 100, 1]]);
});

test('text, bools, aggregates, bad or no-comm readings and non-finite values pass untouched and stay out of the windows', () => {
  const others: Sample[] = [
    { ts: 1, value: 'SN-42', point: 0, quality: 0 },
    { ts: 2, value: 1, point: 0, quality: 0, type: 1 },
    { ts: 3, value: 500, point: 0, quality: 0, aggregate: 3 },
    { ts: 4, value: 9999, point: 0, quality: 2 },
    { ts: 5, value: Number.NaN, point: 0, quality: 3 },
    { ts: 6, value: 500, point: 0, quality: 1 },
    { ts: 7, value: Number.NaN, point: 0, quality: 0 },
    { ts: 8, value: Number.POSITIVE_INFINITY, point: 0, quality: 0 },
    { ts: 9, value: 7, point: 17, quality: 0 },
  ];
  // Interleaved with a warm-up, then a spike: the spike is judged on the 20 ± 0.1 window alone.
  const mixed = [...steady(10).flatMap((s, i) => [s, others[i % others.length]!]), good(20000, 100), { ts: 20001, value: 'after', point: 0, quality: 0 }];
  const { instance } = outlier({ min_samples: 10 });
  const input = encodeSamples(mixed);
  const expected = decodeSamples(input).filter((s) => s.value !== 100);
  assert.deepEqual(decodeSamples(instance.process(input)), expected, 'the text heap survives the compaction');
  const passThrough = encodeSamples(others);
  assert.equal(outlier().instance.process(passThrough), passThrough);
});

test('a malformed batch (samples beyond its size) is refused as a whole', () => {
  const { instance } = outlier();
  const input = encodeSamples(steady(3));
  new DataView(input.buffer).setUint32(0, 5, true);
  assert.throws(() => instance.process(input), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_STATUS') && /BAD_INPUT/.test(err.message));
});

// ---------------------------------------------------------------- configure rejections

test('configure rejects what the schema cannot express, naming the setting', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ points: { 'boiler.tmp': { window: 5 } } }, /with\.points\.boiler\.tmp: no point of that name/],
    [{ window: 5 }, /with\.min_samples: must not exceed with\.window/],
    [{ points: { 'line.pressure': { min_samples: 30 } } }, /with\.points\.line\.pressure\.min_samples: must not exceed with\.window/],
    [{ points: { 'line.pressure': { window: 8 } } }, /with\.min_samples: must not exceed with\.points\.line\.pressure\.window/],
  ];
  for (const [settings, message] of cases) {
    assert.throws(() => outlier(settings), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && message.test(err.message), String(message));
  }
});

test('configure re-checks every value itself, for settings that did not come through the host', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ points: { 'boiler.temp': 3 } }, /with\.points\.boiler\.temp: expected an object/],
    [{ method: 'median' }, /with\.method: must be one of sigma hampel none/],
    [{ action: 'flag' }, /with\.action: must be one of drop suspect/],
    [{ window: 2000 }, /with\.window: must be a whole number 3\.\.1024/],
    [{ window: 20.5 }, /with\.window: must be a whole number 3\.\.1024/],
    [{ threshold: 0 }, /with\.threshold: must be above 0/],
    [{ min_samples: 1 }, /with\.min_samples: must be a whole number 2\.\.1024/],
    [{ min_deviation: -1 }, /with\.min_deviation: must be 0 or more/],
    [{ points: { 'valve.position': { reset_after: 'x' } } }, /with\.points\.valve\.position\.reset_after: must be a whole number 0\.\.65535/],
  ];
  for (const [settings, message] of cases) {
    assert.throws(() => outlier(settings, true), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && message.test(err.message), String(message));
  }
});

test('the manifest refuses out-of-range settings before the plugin sees them', () => {
  const findings = manifest.validateSettings({ window: 2000, threshold: 0, method: 'median', points: { 'boiler.temp': { window: 1 } } });
  assert.deepEqual(findings.map((f) => f.path.join('.')).sort(), ['method', 'points.boiler.temp.window', 'threshold', 'window']);
});

// ---------------------------------------------------------------- properties

const arbRule = fc.record({
  method: fc.constantFrom('sigma', 'hampel', 'none'),
  window: fc.integer({ min: 3, max: 40 }),
  threshold: fc.constantFrom(1.5, 2, 2.5, 3, 3.7),
  action: fc.constantFrom('drop', 'suspect'),
  min_deviation: fc.constantFrom(0, 0, 0.02, 0.3),
  reset_after: fc.integer({ min: 0, max: 6 }),
  warmup: fc.double({ min: 0, max: 1, noNaN: true }),
});
type ArbRule = typeof arbRule extends fc.Arbitrary<infer R> ? R : never;

function settingsOf(top: ArbRule, own: (Partial<ArbRule> & { keys: string[] })[]): Record<string, unknown> {
  const asSettings = (r: Partial<ArbRule>, keys: readonly string[]) => {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      if (key === 'min_samples' && r.window !== undefined && r.warmup !== undefined) out.min_samples = Math.max(2, Math.round(r.warmup * r.window));
      else if (key in r) out[key] = r[key as keyof ArbRule];
    }
    return out;
  };
  const settings = asSettings(top, RULE_KEYS);
  const entries: Record<string, unknown> = {};
  own.forEach((o, i) => {
    // An entry that changes the window also sets its min_samples, so the pair never contradicts.
    const keys = o.keys.includes('window') ? [...new Set([...o.keys, 'min_samples'])] : o.keys;
    if (keys.length > 0) entries[points[i + 1]!.name] = asSettings(o, keys);
  });
  return { ...settings, points: entries };
}

const arbEvent = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('noise' as const), point: fc.integer({ min: 0, max: 2 }), k: fc.integer({ min: -40, max: 40 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('repeat' as const), point: fc.integer({ min: 0, max: 2 }), times: fc.integer({ min: 1, max: 12 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('spike' as const), point: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: -5000, max: 5000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('shift' as const), point: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: -3000, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('other' as const), point: fc.integer({ min: 0, max: 2 }), which: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const) }) },
);
type Event = typeof arbEvent extends fc.Arbitrary<infer E> ? E : never;

/** Turns events into batches of samples: noise around a per-point level, repeats, spikes, level shifts. */
function batchesOf(events: readonly Event[]): Sample[][] {
  const step = 0.0137;
  const level = [20, -3.5, 1000];
  const last = [20, -3.5, 1000];
  const batches: Sample[][] = [[]];
  let ts = 1_700_000_000_000;
  const add = (s: Omit<Sample, 'ts'>) => batches.at(-1)!.push({ ts: (ts += 100), ...s });
  for (const e of events) {
    if (e.kind === 'cut') batches.push([]);
    else if (e.kind === 'shift') level[e.point] = level[e.point]! + e.size * step;
    else if (e.kind === 'repeat') for (let i = 0; i < e.times; i++) add({ value: last[e.point]!, point: e.point, quality: 0 });
    else if (e.kind === 'other') {
      const others: Omit<Sample, 'ts' | 'point'>[] = [
        { value: `t${e.which}`, quality: 0 },
        { value: e.which % 2, quality: 0, type: 1 },
        { value: 1e6, quality: 2 },
        { value: Number.NaN, quality: 3 },
        { value: 5e5, quality: 0, aggregate: 1 },
      ];
      add({ ...others[e.which]!, point: e.point });
    } else {
      const value = level[e.point]! + (e.kind === 'noise' ? e.k : e.size) * step;
      if (e.kind === 'noise') last[e.point] = value;
      add({ value, point: e.point, quality: 0 });
    }
  }
  return batches.filter((b) => b.length > 0);
}

/** A sample as decodeSamples returns it: type and aggregate spelt out. */
const normalize = (s: Sample): Sample => ({ ...s, type: s.type ?? (typeof s.value === 'string' ? 2 : 0), aggregate: s.aggregate ?? 0 });

test('property: the plugin filters exactly like the reference, batch by batch, counters included', () => {
  fc.assert(
    fc.property(
      arbRule,
      fc.tuple(
        fc.record({ keys: fc.subarray([...RULE_KEYS.filter((k) => k !== 'min_samples')]) }).chain((o) => arbRule.map((r) => ({ ...r, ...o }))),
        fc.record({ keys: fc.subarray([...RULE_KEYS.filter((k) => k !== 'min_samples')]) }).chain((o) => arbRule.map((r) => ({ ...r, ...o }))),
      ),
      fc.array(arbEvent, { minLength: 20, maxLength: 400, size: 'max' }),
      (top, own, events) => {
        const settings = settingsOf(top, own);
        const rules = rulesOf(settings);
        if (rules.some((r) => r.min_samples > r.window)) return true; // refused at configure; tested above
        const reference = new ReferenceFilter(rules);
        const batches = batchesOf(events);
        let expected: Sample[][];
        try {
          expected = batches.map((b) => reference.run(b));
        } catch (err) {
          if (err instanceof Ambiguous) return true;
          throw err;
        }
        const { instance } = outlier(settings);
        batches.forEach((batch, i) => {
          const input = encodeSamples(batch);
          const output = instance.process(input);
          const want = expected[i]!;
          if (want.length === batch.length && want.every((s, k) => s === batch[k])) assert.equal(output, input, `batch ${i} unchanged`);
          assert.deepEqual(decodeSamples(output), want.map(normalize), `batch ${i}`);
        });
        assert.deepEqual(instance.stats(), reference.counts);
        return true;
      },
    ),
    { numRuns: 300 },
  );
});

test('property: hampel over large windows agrees with sorting, whatever the order of arrival', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 3, max: 1024 }),
      fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 3000, size: 'max' }),
      (window, ks) => {
        const settings = { method: 'hampel', window, min_samples: Math.min(window, 3), threshold: 2, reset_after: 0 };
        const series = ks.map((k, i) => good(i, k * 0.25 + (k % 7 === 0 ? 500 : 0)));
        const reference = new ReferenceFilter(rulesOf(settings));
        const { instance } = outlier(settings);
        assert.deepEqual(decodeSamples(instance.process(encodeSamples(series))), reference.run(series).map(normalize));
      },
    ),
    { numRuns: 15 },
  );
});

test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  const instance = new PluginInstance(compiled);
  const { window: _, ...noWindow } = withDefaults({});
  assert.throws(
    () => instance.configure({ abi: 1, pipeline: 't', step: 2, plugin: 'outlier', with: noWindow, devices: [], points }),
    (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.window: missing/.test(err.message),
  );
});
