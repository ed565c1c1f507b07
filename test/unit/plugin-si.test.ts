// si: unit conversion to SI or a named unit. Expected values come from plugin-si-reference.ts (exact
// rationals from the definitions, rounded once) or from hand arithmetic written next to each vector.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { builtPluginPath, compileBuiltPlugin, REPO_ROOT } from '../support/plugins.js';
import { ALL_UNITS, QUANTITIES, convert, dec, div, mul, nearest, rat, ratOf, tolerance, type UnitDef } from './plugin-si-reference.js';

interface PointDoc {
  name: string;
  unit: string;
  type?: string;
}

const plugin = compileBuiltPlugin('si');

function si(points: PointDoc[], withSettings: Record<string, unknown> = {}) {
  const logs: { level: number; message: string }[] = [];
  const instance = new PluginInstance(plugin, { onLog: (l) => logs.push(l) });
  instance.configure({
    abi: 1, pipeline: 't', step: 1, plugin: 'si', with: withSettings, devices: [],
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
  assert.throws(() => si(points, withSettings), (err: unknown) => {
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
  const k2c = si([{ name: 'a', unit: 'K' }], { to: 'degC' }).instance;
  assert.deepEqual(run(k2c, [373.15]), [100]);
  // 0 °F = 459.67 × 5/9 K = 255.3722… K; 212 °F = 373.15 K, each within an ulp or two of one multiply-add.
  const f2k = si([{ name: 'a', unit: '°F' }, { name: 'b', unit: 'F' }]).instance;
  const [zero, boiling] = run(f2k, [0, 212]);
  assert.ok(Math.abs(zero! - 4596.7 / 18) < 1e-12, String(zero));
  assert.ok(Math.abs(boiling! - 373.15) < 1e-12, String(boiling));
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
  const psi = nearest(mul(dec('14.5'), div(mul(dec('0.45359237'), dec('9.80665')), mul(dec('0.0254'), dec('0.0254')))));
  assert.ok(Math.abs(p! - psi) <= 2e-11, `${p} vs ${psi}`);
  assert.ok(Math.abs(p! - 99973.98075094123) <= 2e-11);
  assert.equal(q, 6); // 100 L/min = 0.1 m³/min = 6 m³/h
  assert.equal(g, 3.785411784); // 1 gal/min = 231 in³/min = 3.785411784 L/min
  assert.equal(e, 9e6); // 2.5 kWh × 3.6e6 J/kWh
  assert.equal(f, 25); // 1500 rev/min / 60 s/min
  assert.ok(Math.abs(v! - 96.56064) < 1e-12); // 60 mi/h × 1.609344 km/mi
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
    assert.ok(Math.abs(out[i]! - expected) <= tolerance(x, e.def, e.siUnit), `${x} ${e.spelling} → ${out[i]} ${e.siUnit.canonical}, expected ${expected}`);
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
    assert.ok(Math.abs(returned[i]! - expected) <= tolerance(x, e.siUnit, e.def), `${x} ${e.siUnit.canonical} → ${returned[i]} ${e.spelling}, expected ${expected}`);
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

test('every pair of units of a quantity agrees with the exact reference', () => {
  const pairs = QUANTITIES.flatMap((q) => q.units.flatMap((from) => q.units.map((to) => ({ from, to }))));
  const { instance } = si(pairs.map((p, i) => ({ name: `p${i}`, unit: p.from.canonical })), {
    points: Object.fromEntries(pairs.map((p, i) => [`p${i}`, { to: p.to.canonical }])),
  });
  fc.assert(fc.property(normalDouble(1e6), (x) => {
    run(instance, pairs.map(() => x)).forEach((y, i) => {
      const { from, to } = pairs[i]!;
      assert.ok(Math.abs(y - convert(x, from, to)) <= tolerance(x, from, to), `${x} ${from.canonical} → ${to.canonical}: ${y}`);
    });
  }), { numRuns: 200 });
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
    abi: 1, pipeline: 't', step: 1, plugin: 'si', with: {}, devices: [],
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

test('the module stays within the 8 KiB size budget', () => {
  assert.ok(statSync(builtPluginPath('si')).size <= 8192, `${statSync(builtPluginPath('si')).size} bytes`);
});
