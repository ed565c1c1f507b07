// scale: value × factor + offset per point, units passed on. Expected values by hand arithmetic.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples } from '../../src/host/engine/sample-batch.js';
import { isWgError } from '../../src/host/errors.js';
import { compileBuiltPlugin } from '../support/plugins.js';
import { manifestDefaults } from '../support/manifest-defaults.js';

const points = [
  { id: 0, name: 'boiler.temp', unit: 'raw' },
  { id: 1, name: 'line.pressure', unit: 'mbar' },
  { id: 2, name: 'serial', unit: '' },
];

/** `with` as the host hands it over: checked against the manifest, defaults filled in. */
const { withDefaults } = await manifestDefaults('scale');

/** `raw`: the settings exactly as given, unchecked (a document the host did not make). */
function scale(withSettings: Record<string, unknown>, raw = false) {
  const logs: string[] = [];
  const instance = new PluginInstance(compileBuiltPlugin('scale'), { onLog: (l) => logs.push(l.message) });
  instance.configure({ abi: 1, pipeline: 't', step: 1, plugin: 'scale', with: raw ? withSettings : withDefaults(withSettings), devices: [], points });
  return { instance, logs };
}

test('scale multiplies, adds the offset, and leaves unlisted points, text and bools alone', () => {
  const { instance } = scale({ points: { 'boiler.temp': { factor: 0.1, offset: -40, unit: '°C' } } });
  const input = encodeSamples([
    { ts: 1000, value: 655, point: 0, quality: 0 },
    { ts: 1000, value: 1013.25, point: 1, quality: 0 },
    { ts: 1000, value: 'SN-42', point: 2, quality: 0 },
    { ts: 2000, value: -1, point: 0, quality: 1 },
    { ts: 2000, value: 1, point: 0, quality: 0, type: 1 },
  ]);
  const out = decodeSamples(instance.process(input));
  assert.equal(out.length, 5);
  assert.equal(out[0]!.value, 655 * 0.1 - 40); // 25.5 (within an ulp, computed the same way in f64)
  assert.equal(out[1]!.value, 1013.25);
  assert.equal(out[2]!.value, 'SN-42');
  assert.equal(out[3]!.value, -0.1 - 40);
  assert.equal(out[3]!.quality, 1, 'quality untouched');
  assert.equal(out[4]!.value, 1, 'bool untouched');
  assert.deepEqual(out.map((s) => s.ts), [1000, 1000, 1000, 2000, 2000]);
});

test('scale reports the unit after scaling for listed points and "unchanged" for the rest', () => {
  const { instance } = scale({ points: { 'boiler.temp': { factor: 0.1, unit: '°C' } } });
  assert.deepEqual(instance.units(points.length), ['°C', '', '']);
});

test('scale with nothing to do says unchanged, so the host skips the copy', () => {
  const { instance } = scale({ points: {} });
  const input = encodeSamples([{ ts: 1, value: 3, point: 0, quality: 0 }]);
  assert.equal(instance.process(input), input);
});

test('scale rejects a point name that does not exist, naming it', () => {
  assert.throws(() => scale({ points: { 'boiler.tmp': { factor: 2 } } }, true), (err: unknown) => {
    assert.ok(isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE'));
    assert.match(err.message, /with\.points\.boiler\.tmp: no point of that name/);
    return true;
  });
});

test('settings numbers parse exactly: 0.1, 1e-3, 273.15 and -1.8e2', () => {
  const { instance } = scale({ points: {
    'boiler.temp': { factor: 0.1, offset: 273.15 },
    'line.pressure': { factor: 1e-3, offset: -1.8e2 },
  } });
  const out = decodeSamples(instance.process(encodeSamples([
    { ts: 0, value: 1, point: 0, quality: 0 },
    { ts: 0, value: 1, point: 1, quality: 0 },
  ])));
  assert.equal(out[0]!.value, 1 * 0.1 + 273.15);
  assert.equal(out[1]!.value, 1 * 0.001 - 180);
});

test('a settings document without the defaults the host fills in is refused, naming the setting', () => {
  // The defaults live in plugin.yaml only; a document made without the host must not run on guesses.
  assert.throws(() => scale({ points: { 'boiler.temp': { factor: 2, unit: 'x' } } }, true), (err: unknown) =>
    isWgError(err, 'WG_ERR_PLUGIN_CONFIGURE') && /with\.points\.boiler\.temp\.offset: missing/.test(err.message));
});

test('a unit label comes back as written, whatever JSON.stringify escaped in it', () => {
  // The settings document is JSON.stringify's: it escapes `"`, `\`, control characters and lone
  // surrogates (as \uXXXX); the plugin must hand back the label's own characters. A lone surrogate has
  // no UTF-8: it comes back as U+FFFD, as TextDecoder reads one.
  const label = 'a"b\\c\n\t\u0001 °C 😀 µ/s';
  const { instance } = scale({ points: { 'boiler.temp': { unit: label }, 'line.pressure': { unit: 'x\ud800y' }, serial: { unit: '' } } });
  assert.deepEqual(instance.units(points.length), [label, 'x\ufffdy', '']);
});
