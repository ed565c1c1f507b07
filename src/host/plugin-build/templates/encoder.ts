/** Template of `wasmgate plugin new NAME --kind encoder`: one CSV line per sample. */
export const encoderSource = `// {{name}}: one message per sample, a CSV line "point,ts,value,quality" with the value to 3 decimals.
// Written by \`wasmgate plugin new\` as a starting point: replace the format, keep the exports.
import {
  input, sampleCount, sampleAt, ts, value, point, quality, type, MessageWriter, readSettings,
  OK, BAD_SETTINGS, TYPE_TEXT,
} from "{{sdk}}";
export { wasmgate_abi_v1, wg_input, wg_output } from "{{sdk}}";

const out = new MessageWriter();
let names = new Array<ArrayBuffer>(0);
const QUALITY: StaticArray<string> = ["good", "suspect", "bad", "no-comm"];

export function wg_configure(size: i32): i32 {
  const settings = readSettings(size);
  if (settings === null) return BAD_SETTINGS;
  names = new Array<ArrayBuffer>(settings.pointCount);
  for (let i = 0; i < settings.pointCount; i++) names[i] = String.UTF8.encode(settings.pointName(i));
  return OK;
}

/** Whole number, in decimal. */
function digits(n: u64): void {
  if (n >= 10) digits(n / 10);
  out.byte(<u8>(0x30 + <i32>(n % 10)));
}

/** A value with 3 decimals; nothing for NaN (a reading that was not taken). */
function fixed3(v: f64): void {
  if (!isFinite(v)) return;
  if (v < 0) out.byte(0x2d);
  const scaled = <u64>Math.round(Math.abs(v) * 1000);
  digits(scaled / 1000);
  out.byte(0x2e);
  const frac = <i32>(scaled % 1000);
  out.byte(<u8>(0x30 + frac / 100));
  out.byte(<u8>(0x30 + (frac / 10) % 10));
  out.byte(<u8>(0x30 + frac % 10));
}

export function wg_process(size: i32): i32 {
  const batch = input();
  const n = sampleCount(batch);
  out.begin(n * 48);
  for (let i = 0; i < n; i++) {
    const rec = sampleAt(batch, i);
    const p = point(rec);
    if (type(rec) == TYPE_TEXT || p >= <u32>names.length) continue; // this format carries numbers only
    const name = names[p];
    out.open(p);
    out.bytes(changetype<usize>(name), name.byteLength);
    out.byte(0x2c);
    digits(<u64>ts(rec));
    out.byte(0x2c);
    fixed3(value(rec));
    out.byte(0x2c);
    out.ascii(quality(rec) < 4 ? QUALITY[quality(rec)] : "unknown");
    out.close();
  }
  return out.finish();
}
`;

export const encoderManifest = `name: {{name}}
kind: encoder
abi: 1
version: 0.1.0
imports: [log]
description: One message per sample, a CSV line "point,ts,value,quality", value to 3 decimals. (Describe your plugin here.)
with:
  type: object
  additionalProperties: false
  properties: {}
`;

export const encoderTest = `// Tests of {{name}} with known vectors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadPlugin, encodeSamples, readMessages, Quality } from '{{harness}}';

const wasm = fileURLToPath(new URL('./build/{{name}}.wasm', import.meta.url));

test('{{name}} writes one CSV line per sample', () => {
  const { instance } = loadPlugin(wasm, { points: [{ name: 'boiler.temp' }, { name: 'line.speed' }] });
  const batch = instance.process(encodeSamples([
    { ts: 1700000000000, value: 21.5, point: 0, quality: Quality.good },
    { ts: 1700000000001, value: -0.0004, point: 1, quality: Quality.suspect },
    { ts: 1700000000002, value: NaN, point: 1, quality: Quality.noComm },
  ]));
  const lines = [...readMessages(batch)].map((m) => [m.point, Buffer.from(m.payload).toString()]);
  assert.deepEqual(lines, [
    [0, 'boiler.temp,1700000000000,21.500,good'],
    [1, 'line.speed,1700000000001,-0.000,suspect'],
    [1, 'line.speed,1700000000002,,no-comm'],
  ]);
});
`;
