/** Template of `wasmgate plugin new NAME --kind transform`: a per-point gain. */
export const transformSource = `// {{name}}: multiplies each good numeric sample by its point's \`gain\`. Written by
// \`wasmgate plugin new\` as a starting point: replace the logic, keep the exports.
import {
  input, setResult, sampleCount, sampleAt, value, setValue, point, type, quality,
  OK, BAD_SETTINGS, UNCHANGED, TYPE_NUMBER, GOOD,
} from "{{sdk}}";
import { PointSettings } from "{{sdk}}/point-settings";
export { wasmgate_abi_v1, wg_input, wg_output } from "{{sdk}}";

let gains = new StaticArray<f64>(0);
let anyGain = false;

export function wg_configure(size: i32): i32 {
  const settings = new PointSettings(size, "gain");
  if (!settings.read()) return BAD_SETTINGS;
  gains = new StaticArray<f64>(settings.count);
  for (let p = 0; p < settings.count; p++) {
    settings.select(p);
    const gain = settings.number(0, 1, true, ": must be a number above 0");
    if (isNaN(gain)) return BAD_SETTINGS;
    gains[p] = gain;
    if (gain != 1) anyGain = true;
  }
  return OK;
}

export function wg_process(size: i32): i32 {
  if (!anyGain) return UNCHANGED;
  const batch = input();
  const n = sampleCount(batch);
  const limit = <u32>gains.length;
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const p = point(rec);
    if (type(rec) != TYPE_NUMBER || quality(rec) != GOOD || p >= limit) continue;
    setValue(rec, value(rec) * unchecked(gains[p]));
  }
  setResult(batch); // worked in place: the output is the input region
  return size;
}
`;

export const transformManifest = `name: {{name}}
kind: transform
abi: 1
version: 0.1.0
imports: [log]
description: Multiplies each good numeric sample by its point's gain. (Describe your plugin here.)
with:
  type: object
  additionalProperties: false
  properties:
    gain:
      type: number
      exclusiveMinimum: 0
      description: Factor applied to every good numeric sample of every point.
      default: 1
      examples: [2]
    points:
      type: object
      description: Per-point overrides, keyed by point name.
      default: {}
      examples:
        - line.speed: { gain: 0.5 }
      additionalProperties:
        type: object
        additionalProperties: false
        properties:
          gain:
            type: number
            exclusiveMinimum: 0
            description: Factor for this point.
            default: 1
            examples: [0.5]
`;

export const transformTest = `// Tests of {{name}} with known vectors (expected values by hand arithmetic).
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadPlugin, encodeSamples, decodeSamples, Quality } from '{{harness}}';

const wasm = fileURLToPath(new URL('./build/{{name}}.wasm', import.meta.url));
const points = [{ name: 'line.speed' }, { name: 'line.temp' }];

test('{{name}} multiplies good numbers by their point gain', () => {
  const { instance } = loadPlugin(wasm, { with: { gain: 2, points: { 'line.temp': { gain: 0.5 } } }, points });
  const out = decodeSamples(instance.process(encodeSamples([
    { ts: 1000, value: 21, point: 0, quality: Quality.good },
    { ts: 1000, value: 21, point: 1, quality: Quality.good },
    { ts: 2000, value: 21, point: 0, quality: Quality.bad },
  ])));
  assert.deepEqual(out.map((s) => s.value), [42, 10.5, 21]);
  assert.deepEqual(out.map((s) => s.ts), [1000, 1000, 2000]);
});

test('{{name}} refuses a gain that is not above 0, naming the setting', () => {
  assert.throws(() => loadPlugin(wasm, { with: { points: { 'line.temp': { gain: -1 } } }, points }), /with\\.points\\.line\\.temp\\.gain/);
});
`;
