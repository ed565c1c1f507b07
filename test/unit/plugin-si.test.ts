// si: unit conversion to SI or a named unit. Expected values come from plugin-si-reference.ts (exact
// rationals from the definitions, rounded once) or from hand arithmetic written next to each vector.
// si promises the correctly rounded result, the double nearest to the exact conversion of the double it
// is given, so every comparison is an equality; the one allowed miss is spelt out where it is tested.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { compileBuiltPlugin, REPO_ROOT } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';
import { ALL_UNITS, QUANTITIES, convert, coefficients, dec, distanceToTie, div, mul, nearTie, nearest, rat, ratOf, type UnitDef } from './plugin-si-reference.js';

interface PointDoc {
  name: string;
  unit: string;
  type?: string;
}

const plugin = compileBuiltPlugin('si');
/** `with` as the host hands it over: checked against the manifest, defaults filled in. */
const { withDefaults } = await manifestDefaults('si');

/** `raw`: the settings as given over the manifest's defaults, unchecked (a document the host did not make). */
function si(points: PointDoc[], withSettings: Record<string, unknown> = {}, raw = false) {
  const logs: { level: number; message: string }[] = [];
  const instance = new PluginInstance(plugin, { onLog: (l) => logs.push(l) });
  instance.configure({
    abi: 1, pipeline: 't', step: 1, plugin: 'si', with: raw ? { ...withDefaults({}), ...withSettings } : withDefaults(withSettings), devices: [],
    points: points.map((p, id) => ({ id, device: 0, type: 'float32', ...p })),
  });
  return { instance, logs, units: () => instance.units(points.length) };
}

/** Runs one value per point (point i gets values[i]) through the instance; returns the values out. */
function run(instance: PluginInstance, values: number[]): number[] {
  const input = encodeSamples(values.map((value, point) => ({ ts: 1000, value, point, quality: 0 })));
  return decodeSamples(instance.process(input)).map((s) => s.value as number);
}

function rejects(points: PointDoc[], withSettings: Record<string, unknown>, message: RegExp): void {
  assert.throws(() => si(points, withSettings, true), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE'), String(err));
    assert.match(err.message, message);
    return true;
  });
}

/** Doubles within ±max, zero or normal: subnormal results carry an absolute, not a relative, error. */
const normalDouble = (max: number) => fc.double({ min: -max, max, noNaN: true }).filter((x) => x === 0 || Math.abs(x) >= 1e-290);

const unit = (spelling: string): UnitDef => {
  const found = ALL_UNITS.find(({ unit: u }) => u.canonical === spelling);
  assert.ok(found, spelling);
  return found.unit;
};

test('temperature known points are exact: −40 °C = −40 °F, 100 °C = 212 °F, 0 °C = 273.15 K', () => {
  const c2f = si([{ name: 'a', unit: 'degC' }, { name: 'b', unit: 'degC' }, { name: 'c', unit: 'degC' }], { to: 'degF' }).instance;
  assert.deepEqual(run(c2f, [-40, 100, 0]), [-40, 212, 32]);
  const f2c = si([{ name: 'a', unit: 'degF' }, { name: 'b', unit: 'degF' }, { name: 'c', unit: 'degF' }], { to: 'degC' }).instance;
  assert.deepEqual(run(f2c, [-40, 212, 32]), [-40, 100, 0]);
  const c2k = si([{ name: 'a', unit: '°C' }, { name: 'b', unit: 'celsius' }]).instance;
  assert.deepEqual(run(c2k, [0, 100]), [273.15, 373.15]);
  // The double 373.15 is 373.149999999999977262632…, so the exact answer is 99.999999999999977262632… °C,
  // 1.6 ulp below 100: its nearest double is 99.99999999999997, not 100. (The first si gave 100 here
  // only because it subtracted the rounded 273.15, the same double, which cancelled the input's error.)
  const k2c = si([{ name: 'a', unit: 'K' }], { to: 'degC' }).instance;
  assert.deepEqual(run(k2c, [373.15]), [99.99999999999997]);
  // 0 °F = 459.67 × 5/9 K = 255.37222… K, nearest double 255.37222222222223; 212 °F = 373.15 K exactly.
  const f2k = si([{ name: 'a', unit: '°F' }, { name: 'b', unit: 'F' }]).instance;
  assert.deepEqual(run(f2k, [0, 212]), [255.37222222222223, 373.15]);
});

// Regression: si computed x × fl(a) + fl(b), which put the values of the ETL example an ulp off: 57 %
// gave 0.5700000000000001 and 98.6 °F gave 310.15000000000003 K.
test('57 % is 0.57 and 98.6 °F is 310.15 K, to the last digit', () => {
  const { instance } = si([{ name: 'r', unit: '%' }, { name: 't', unit: 'degF' }]);
  // 57/100 is nearest 0.57. The double 98.6 is 98.599999999999994315658…; (x + 459.67) × 5/9 of it is
  // 310.149999999999996842…, whose nearest double is the one nearest 310.15 (310.149999999999977263…).
  assert.deepEqual(run(instance, [57, 98.6]), [0.57, 310.15]);
});

test('pressure, flow, energy, frequency and speed vectors from the definitions', () => {
  const { instance, units } = si([
    { name: 'p', unit: 'psi' },
    { name: 'q', unit: 'l/min' },
    { name: 'g', unit: 'gpm' },
    { name: 'e', unit: 'kWh' },
    { name: 'f', unit: 'rpm' },
    { name: 'v', unit: 'mph' },
    { name: 'r', unit: '%' },
  ], { points: { q: { to: 'm3/h' }, g: { to: 'L/min' }, v: { to: 'km/h' } } });
  const [p, q, g, e, f, v, r] = run(instance, [14.5, 100, 1, 2.5, 1500, 60, 50]);
  // 14.5 psi = 14.5 × 0.45359237 kg × 9.80665 m/s² / (0.0254 m)² = 99973.98075094123… Pa
  assert.equal(p, nearest(mul(dec('14.5'), div(mul(dec('0.45359237'), dec('9.80665')), mul(dec('0.0254'), dec('0.0254'))))));
  assert.equal(p, 99973.98075094123);
  assert.equal(q, 6); // 100 L/min = 0.1 m³/min = 6 m³/h
  assert.equal(g, 3.785411784); // 1 gal/min = 231 in³/min = 3.785411784 L/min
  assert.equal(e, 9e6); // 2.5 kWh × 3.6e6 J/kWh
  assert.equal(f, 25); // 1500 rev/min / 60 s/min
  assert.equal(v, 96.56064); // 60 mi/h × 1.609344 km/mi, exactly 96.56064 km/h
  assert.equal(r, 0.5); // 50 % as a ratio
  assert.deepEqual(units(), ['Pa', 'm3/h', 'l/min', 'J', 'Hz', 'km/h', 'ratio']);
  const kwh = si([{ name: 'e', unit: 'kWh' }]).instance;
  assert.deepEqual(run(kwh, [1]), [3.6e6]);
});

test('every unit and alias converts to SI and back as the definitions say', () => {
  const entries = ALL_UNITS.flatMap(({ quantity, unit: def }) =>
    [def.canonical, ...def.aliases].map((spelling) => ({ spelling, def, siUnit: quantity.units[0]! })));
  const x = 12.375; // exact in binary, so the reference rounds once from an exact input
  const toSi = si(entries.map((e, i) => ({ name: `p${i}`, unit: e.spelling })));
  const out = run(toSi.instance, entries.map(() => x));
  const labels = toSi.units();
  entries.forEach((e, i) => {
    const expected = convert(x, e.def, e.siUnit);
    assert.equal(out[i], expected, `${x} ${e.spelling} → ${e.siUnit.canonical}`);
    assert.equal(labels![i], e.spelling === e.siUnit.canonical ? '' : e.siUnit.canonical, e.spelling);
  });
  // Back: each point declares the SI unit and asks for the unit by that spelling.
  const back = si(entries.map((e, i) => ({ name: `p${i}`, unit: e.siUnit.canonical })), {
    points: Object.fromEntries(entries.map((e, i) => [`p${i}`, { to: e.spelling }])),
  });
  const returned = run(back.instance, entries.map(() => x));
  const backLabels = back.units();
  entries.forEach((e, i) => {
    const expected = convert(x, e.siUnit, e.def);
    assert.equal(returned[i], expected, `${x} ${e.siUnit.canonical} → ${e.spelling}`);
    assert.equal(backLabels![i], e.def === e.siUnit ? '' : e.def.canonical, e.spelling);
  });
});

test('the manifest documents the same units, spellings and SI units the reference holds', () => {
  const manifest = parse(readFileSync(join(REPO_ROOT, 'plugins', 'si', 'plugin.yaml'), 'utf8')) as { description: string };
  const lines = manifest.description.split('\n');
  const table = lines.slice(lines.findIndex((l) => l.startsWith('Units per quantity')) + 1).filter((l) => l.trim() !== '');
  const documented = table.map((line) => {
    const [, name, list] = /^\s+([a-z ]+): (.*)$/.exec(line) ?? [];
    return {
      name,
      units: list!.split('; ').map((entry) => {
        const [, canonical, aliases] = /^(\S+)(?: \((.*)\))?$/.exec(entry) ?? [];
        return { canonical, aliases: aliases ? aliases.split(', ') : [] };
      }),
    };
  });
  assert.deepEqual(documented, QUANTITIES.map((q) => ({ name: q.name, units: q.units.map((d) => ({ canonical: d.canonical, aliases: d.aliases })) })));
});

test('round trip x → unit → back stays within 1e-12 of x (relative; offsets count in the scale)', () => {
  const pairs = ALL_UNITS.map(({ quantity, unit: def }) => ({ def, siUnit: quantity.units[0]! }));
  const there = si(pairs.map((p, i) => ({ name: `p${i}`, unit: p.siUnit.canonical })), {
    points: Object.fromEntries(pairs.map((p, i) => [`p${i}`, { to: p.def.canonical }])),
  }).instance;
  const back = si(pairs.map((p, i) => ({ name: `p${i}`, unit: p.def.canonical }))).instance;
  fc.assert(fc.property(normalDouble(1e9), (x) => {
    const once = run(there, pairs.map(() => x));
    const twice = run(back, once);
    twice.forEach((y, i) => {
      const offset = Math.abs(nearest(pairs[i]!.def.offset));
      assert.ok(Math.abs(y - x) <= 1e-12 * (Math.abs(x) + offset), `${x} via ${pairs[i]!.def.canonical}: ${y}`);
    });
  }), { numRuns: 300 });
});

/**
 * Doubles where si's result is promised correctly rounded: zero and 2^−900 ≤ |x| ≤ 2^950 (no partial
 * product underflows, none overflows), half of them spread over every exponent, half readings as
 * registers give them (integers, tenths, hundredths: 98.6, 57, −40).
 */
const reading = fc.oneof(
  fc.double({ min: -(2 ** 950), max: 2 ** 950, noNaN: true }).filter((x) => x === 0 || Math.abs(x) >= 2 ** -900),
  fc.tuple(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.constantFrom(1, 10, 100)).map(([n, d]) => n / d),
);

test('every pair of units of a quantity gives the correctly rounded exact conversion', (t) => {
  const pairs = QUANTITIES.flatMap((q) => q.units.flatMap((from) => q.units.map((to) => ({ from, to }))));
  const { instance } = si(pairs.map((p, i) => ({ name: `p${i}`, unit: p.from.canonical })), {
    points: Object.fromEntries(pairs.map((p, i) => [`p${i}`, { to: p.to.canonical }])),
  });
  let checked = 0;
  const nearTieMisses = new Map<string, number>(); // unit pair → least |x| missed
  fc.assert(fc.property(reading, (x) => {
    run(instance, pairs.map(() => x)).forEach((y, i) => {
      const { from, to } = pairs[i]!;
      checked++;
      // An exact zero keeps the sign of x under a pure factor (−0 × a = −0), and is +0 when an offset
      // cancels (IEEE 754 6.3: an exact sum of zero is +0 when rounding to nearest).
      const expected = coefficients(from, to).b[0] === 0n && x === 0 ? x : convert(x, from, to);
      if (Object.is(y, expected)) return;
      // The one allowed miss (plugins/si/conversion.ts): the exact value within 2^−100 × (|a·x| + |b|)
      // of a point halfway between two doubles.
      assert.ok(nearTie(x, from, to), `${x} ${from.canonical} → ${to.canonical}: ${y}, the correctly rounded value is ${expected}`);
      const key = `${from.canonical} → ${to.canonical}`;
      nearTieMisses.set(key, Math.min(nearTieMisses.get(key) ?? Infinity, Math.abs(x)));
    });
  }), { numRuns: 300 });
  const misses = [...nearTieMisses].map(([pair, least]) => `${pair} from |x| = ${least}`).join(', ') || 'none';
  t.diagnostic(`${checked} conversions over ${pairs.length} unit pairs; missed within 2^-100 of a tie: ${misses}`);
});

test('infinities, NaN and signed zeros go through every conversion as IEEE arithmetic has them', () => {
  const pairs = QUANTITIES.flatMap((q) => q.units.flatMap((from) => q.units.map((to) => ({ from, to }))));
  const { instance } = si(pairs.map((p, i) => ({ name: `p${i}`, unit: p.from.canonical })), {
    points: Object.fromEntries(pairs.map((p, i) => [`p${i}`, { to: p.to.canonical }])),
  });
  for (const x of [Infinity, -Infinity, Number.NaN, 0, -0]) {
    run(instance, pairs.map(() => x)).forEach((y, i) => {
      const { from, to } = pairs[i]!;
      // a > 0: an infinity keeps its sign, whatever the offset; ±0 under a pure factor keeps its sign.
      const b = coefficients(from, to).b;
      const expected = !Number.isFinite(x) || b[0] === 0n ? x : convert(x, from, to);
      assert.ok(Object.is(y, expected), `${x} ${from.canonical} → ${to.canonical}: ${y}, expected ${expected}`);
    });
  }
});

test('the reference rounds rationals to doubles as the JavaScript number parser does', () => {
  // Number('<digits>e<k>') is the correctly rounded value of a decimal of up to 20 significant digits
  // (ECMA-262, StringToNumber and RoundMVResult), an implementation independent of nearest().
  const decimal = (digits: bigint, k: number) => (k >= 0 ? rat(digits * 10n ** BigInt(k)) : rat(digits, 10n ** BigInt(-k)));
  fc.assert(fc.property(fc.bigInt({ min: -(10n ** 20n - 1n), max: 10n ** 20n - 1n }), fc.integer({ min: -345, max: 300 }), (digits, k) => {
    assert.ok(Object.is(nearest(decimal(digits, k)), digits === 0n ? 0 : Number(`${digits}e${k}`)), `${digits}e${k}`);
  }), { numRuns: 2000 });
  // Ties go to the even significand: 2^53 + 1 lies halfway between 2^53 and 2^53 + 2, 2^53 + 3 between
  // 2^53 + 2 and 2^53 + 4; 2^−1075 between 0 and the least subnormal, 3 × 2^−1075 between it and the next.
  assert.equal(nearest(rat(2n ** 53n + 1n)), 2 ** 53);
  assert.equal(nearest(rat(2n ** 53n + 3n)), 2 ** 53 + 4);
  assert.equal(nearest(rat(1n, 2n ** 1075n)), 0);
  assert.equal(nearest(rat(3n, 2n ** 1075n)), 2 * 5e-324);
  // Halfway between the largest double (odd significand) and 2^1024 rounds to 2^1024, infinity; just
  // under halfway does not.
  assert.equal(nearest(rat(2n ** 1024n - 2n ** 970n)), Infinity);
  assert.equal(nearest(rat(-(2n ** 1024n - 2n ** 970n - 1n))), -Number.MAX_VALUE);
  // A tie is at distance 0; a double is half an ulp from the ties around it.
  assert.deepEqual(distanceToTie(rat(2n ** 53n + 1n)), rat(0n));
  assert.deepEqual(distanceToTie(ratOf(1.5)), rat(1n, 2n ** 53n));
});

test('an unknown unit is rejected, naming the setting, the point and the unit', () => {
  rejects([{ name: 'boiler.temp', unit: 'degX' }], {}, /with\.to: point "boiler\.temp" has unit "degX", which si does not know/);
  rejects([{ name: 'boiler.temp', unit: 'degC' }], { to: 'kPaa' }, /with\.to: unknown unit "kPaa" for point "boiler\.temp"/);
  rejects([{ name: 'boiler.temp', unit: 'degC' }], { points: { 'boiler.temp': { to: 'degR' } } },
    /with\.points\.boiler\.temp\.to: unknown unit "degR" for point "boiler\.temp"/);
  // A misspelt with.to is wrong even when no point has a unit to convert.
  rejects([{ name: 'serial', unit: '' }], { to: 'kpa' }, /with\.to: unknown unit "kpa"/);
  // Spellings are case-sensitive: MW is a megawatt, mW is not a unit si knows.
  rejects([{ name: 'p', unit: 'mW' }], {}, /unit "mW"/);
  // A point without a unit cannot be converted when its own `to` asks for it.
  rejects([{ name: 'p', unit: '' }], { points: { p: { to: 'kPa' } } }, /with\.points\.p\.to: point "p" has unit ""/);
});

test('a conversion between quantities is rejected: bar → kW', () => {
  rejects([{ name: 'line.pressure', unit: 'bar' }], { points: { 'line.pressure': { to: 'kW' } } },
    /with\.points\.line\.pressure\.to: cannot convert point "line\.pressure" from bar \(pressure\) to kW \(power\)/);
  rejects([{ name: 'a', unit: 'bar' }, { name: 'b', unit: 'degC' }], { to: 'kPa' },
    /with\.to: cannot convert point "b" from degC \(temperature\) to kPa \(pressure\)/);
});

test('every problem is logged before configure fails; the last one is in the error', () => {
  const logs: { level: number; message: string }[] = [];
  const instance = new PluginInstance(plugin, { onLog: (l) => logs.push(l) });
  assert.throws(() => instance.configure({
    abi: 1, pipeline: 't', step: 1, plugin: 'si', with: withDefaults({}), devices: [],
    points: [{ id: 0, name: 'a', unit: 'furlong' }, { id: 1, name: 'b', unit: 'Pa' }, { id: 2, name: 'c', unit: 'cubit' }],
  }), /point "c" has unit "cubit"/);
  assert.deepEqual(logs.filter((l) => l.level === 50).map((l) => /unit "(\w+)"/.exec(l.message)?.[1]), ['furlong', 'cubit']);
});

test('on_unknown: pass leaves such points unchanged, converts the rest, and warns', () => {
  const points = [{ name: 'a', unit: 'degX' }, { name: 'b', unit: 'bar' }, { name: 'c', unit: 'degC' }];
  const { instance, logs, units } = si(points, { on_unknown: 'pass', points: { b: { to: 'kW' } } });
  assert.deepEqual(run(instance, [7, 2, 25]), [7, 2, 298.15]);
  assert.deepEqual(units(), ['', '', 'K']);
  const warnings = logs.filter((l) => l.level === 40).map((l) => l.message);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /with\.to: point "a" has unit "degX", which si does not know; point left unchanged \(with\.on_unknown: pass\)/);
  assert.match(warnings[1]!, /with\.points\.b\.to: cannot convert point "b" from bar \(pressure\) to kW \(power\)/);
  // An unknown target under pass leaves every point that would use it unchanged.
  const unknownTarget = si([{ name: 'a', unit: 'degC' }], { to: 'kelvins', on_unknown: 'pass' });
  assert.deepEqual(unknownTarget.units(), ['']);
  const input = encodeSamples([{ ts: 1, value: 3, point: 0, quality: 0 }]);
  assert.equal(unknownTarget.instance.process(input), input);
});

test('with.points naming no point, or without a `to`, is rejected whatever on_unknown says', () => {
  rejects([{ name: 'a', unit: 'bar' }], { on_unknown: 'pass', points: { 'boiler.tmp': { to: 'kPa' } } }, /with\.points\.boiler\.tmp: no point of that name/);
  rejects([{ name: 'a', unit: 'bar' }], { points: { a: {} } }, /with\.points\.a\.to: expected "si" or a unit/);
  rejects([{ name: 'a', unit: 'bar' }], { on_unknown: 'ignore' }, /with\.on_unknown: expected "reject" or "pass"/);
});

test('points without a unit, bool and string points are left alone', () => {
  const { instance, units } = si([
    { name: 'count', unit: '' },
    { name: 'alarm', unit: '%', type: 'bool' },
    { name: 'serial', unit: 'm', type: 'string' },
    { name: 'level', unit: 'cm' },
  ]);
  assert.deepEqual(run(instance, [5, 1, 3, 150]), [5, 1, 3, 1.5]);
  assert.deepEqual(units(), ['', '', '', 'm']);
});

test('wg_units reports canonical spellings, and "" where the label does not change', () => {
  const { units } = si([
    { name: 'a', unit: '°C' },
    { name: 'b', unit: 'K' },
    { name: 'c', unit: 'kelvin' },
    { name: 'd', unit: 'L/min' },
    { name: 'e', unit: 'm³/h' },
    { name: 'f', unit: '℉' },
    { name: 'g', unit: 'degC' },
  ], { points: { e: { to: 'm³/h' }, f: { to: '°C' }, g: { to: 'degC' } } });
  assert.deepEqual(units(), ['K', '', 'K', 'm3/s', 'm3/h', 'degC', '']);
});

test('nothing to convert: the step reports its input unchanged', () => {
  const { instance, units } = si([{ name: 'a', unit: 'K' }, { name: 'b', unit: 'kelvin' }, { name: 'c', unit: '' }]);
  const input = encodeSamples([{ ts: 1, value: 3, point: 0, quality: 0 }, { ts: 1, value: 4, point: 1, quality: 0 }]);
  assert.equal(instance.process(input), input, 'same bytes handed on');
  assert.deepEqual(units(), ['', 'K', '']);
});

test('text, bools, bad and no-comm samples pass untouched; suspect is converted; order is kept', () => {
  const { instance } = si([{ name: 'p', unit: 'kPa' }, { name: 's', unit: 'kPa' }]);
  const samples: Sample[] = [
    { ts: 1, value: 2, point: 0, quality: 0 },
    { ts: 2, value: 'SN-42', point: 1, quality: 0 },
    { ts: 3, value: 1, point: 0, quality: 0, type: 1 },
    { ts: 4, value: Number.NaN, point: 0, quality: 2 },
    { ts: 5, value: 9, point: 0, quality: 3 },
    { ts: 6, value: 3, point: 0, quality: 1 },
    { ts: 7, value: 4, point: 7, quality: 0 },
  ];
  const out = decodeSamples(instance.process(encodeSamples(samples)));
  assert.deepEqual(out.map((s) => [s.ts, s.value, s.point, s.quality, s.type]), [
    [1, 2000, 0, 0, 0],
    [2, 'SN-42', 1, 0, 2],
    [3, 1, 0, 0, 1],
    [4, Number.NaN, 0, 2, 0],
    [5, 9, 0, 3, 0],
    [6, 3000, 0, 1, 0],
    [7, 4, 7, 0, 0], // a point id outside the settings document is not touched
  ]);
});

test('aggregates: mean, min, max, first, last convert; count never; sum only by the factor', () => {
  const { instance } = si([{ name: 'p', unit: 'kPa' }, { name: 't', unit: 'degC' }]);
  const aggregates = [1, 2, 3, 4, 5, 6, 7];
  const samples: Sample[] = aggregates.flatMap((aggregate) => [
    { ts: aggregate, value: 2, point: 0, quality: 0, aggregate },
    { ts: aggregate, value: 10, point: 1, quality: 0, aggregate },
  ]);
  const out = decodeSamples(instance.process(encodeSamples(samples))).map((s) => s.value);
  assert.deepEqual(out, [
    2000, 283.15, // mean
    2000, 283.15, // min
    2000, 283.15, // max
    2000, 283.15, // first
    2000, 283.15, // last
    2, 10, // count
    2000, 10, // sum: 2 kPa of sum is 2000 Pa; a sum of degC cannot take the +273.15 per sample
  ]);
});

test('a batch whose count overruns its bytes is refused as bad input', () => {
  const { instance } = si([{ name: 'p', unit: 'kPa' }]);
  const input = encodeSamples([{ ts: 1, value: 2, point: 0, quality: 0 }]);
  new DataView(input.buffer).setUint32(0, 1000, true);
  assert.throws(() => instance.process(input), (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_STATUS'));
});

test('exactness helpers of the reference agree with plain arithmetic where that is exact', () => {
  assert.equal(nearest(rat(1n, 3n)), 1 / 3);
  assert.equal(nearest(ratOf(0.1)), 0.1);
  assert.equal(nearest(div(ratOf(6894.757293168362), rat(1n))), 6894.757293168362);
  assert.equal(convert(100, unit('degC'), unit('degF')), 212);
});


test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  const instance = new PluginInstance(plugin);
  assert.throws(
    () => instance.configure({ abi: 1, pipeline: 't', step: 1, plugin: 'si', with: { on_unknown: 'reject' }, devices: [], points: [] }),
    (err: unknown) => isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.to: missing/.test(err.message),
  );
});
