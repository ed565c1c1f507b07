/**
 * The full ETL chain on one core: raw Modbus TCP frames → modbus → si (degC → K) → outlier (rolling
 * 3-sigma, window 20) → resample (1 s buckets: mean, min, max, count) → json (one message per point per
 * bucket), against the same steps in plain TypeScript, in one run, on the same frames. Target:
 * >= 5 M input samples/s and no slower than TypeScript. Frames are 100 ms apart and move forward in
 * time on every run, so buckets keep closing as they would live. Both paths' outputs are compared first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v8Engine, type CompiledPlugin } from '../src/host/engine/engine.js';
import { PluginInstance } from '../src/host/engine/plugin-instance.js';
import { readMessages } from '../src/host/engine/message-batch.js';
import { StepChain, type ChainContext } from '../src/host/pipeline/chain.js';
import { settingsDocument } from '../src/host/pipeline/settings-document.js';
import { BUILTIN_PLUGIN_DIR } from '../src/host/plugin-build/build.js';
import { decodeFrames, type BaselinePoint, type BaselineSample } from './baseline/modbus-chain.js';
import { convert, encodeBuckets, Resampler, SigmaFilter, type Bucket } from './baseline/etl-chain.js';
import { emitResult, printMachine } from './machine.js';
import { advance, modbusFrameBatch } from './modbus-frames.js';
import { throughput } from './throughput.js';
import { stepSettings } from './step-settings.js';

const FRAMES = 32;
const POINTS = 125;
const STEP_MS = 100;
const BUCKET_MS = 1000;

function load(name: string): CompiledPlugin {
  const file = join(BUILTIN_PLUGIN_DIR, name, 'build', `${name}.wasm`);
  return v8Engine.compile(readFileSync(file), name, file);
}

printMachine();
const points: BaselinePoint[] = Array.from({ length: POINTS }, (_, i) => ({ name: `line1.temp${i}`, unit: 'degC', register: i, type: 'int16', factor: 0.1, offset: 0 }));
const context: ChainContext = {
  pipeline: 'bench',
  devices: [{ index: 0, name: 'plc', unit_id: 1 }],
  points: points.map((p, id) => ({ id, name: p.name, device: 0, function: 3, address: p.register, type: 'int16', order: 'ABCD', unit: 'degC', scale: 0.1, offset: 0 })),
};
const steps = {
  si: await stepSettings('si', { to: 'si' }),
  outlier: await stepSettings('outlier', { method: 'sigma', window: 20, threshold: 3, min_samples: 10 }),
  resample: await stepSettings('resample', { bucket: BUCKET_MS, grace: 0, aggregates: ['mean', 'min', 'max', 'count'] }),
  json: await stepSettings('json', { shape: 'bucket', timestamp: 'epoch_ms', decimals: -1 }),
};
const modbusWith = await stepSettings('modbus', {});
const protocol = new PluginInstance(load('modbus'));
protocol.configure(settingsDocument(context, 0, 'modbus', modbusWith));
// 20.0 .. 21.2 °C in a pattern with no outliers, so both filters keep everything.
const frames = modbusFrameBatch(protocol, points, FRAMES, (f, i) => 200 + ((f * 7 + i) % 13), 1_700_000_000_000, STEP_MS);
// Each path moves its own copy of the frames forward in time.
const tsFrames = { batch: frames.batch.slice(), tsOffsets: frames.tsOffsets };

const chain = new StepChain(
  [
    { plugin: load('modbus'), kind: 'decoder', with: modbusWith },
    { plugin: load('si'), kind: 'transform', with: steps.si },
    { plugin: load('outlier'), kind: 'transform', with: steps.outlier },
    { plugin: load('resample'), kind: 'transform', with: steps.resample },
    { plugin: load('json'), kind: 'encoder', with: steps.json },
  ],
  context,
  { log: (level, message) => { if (level >= 40) console.error(message); } },
);
chain.configure();

const samples: BaselineSample[] = [];
const buckets: Bucket[] = [];
const strings: string[] = [];
const pointsOfRequest = [points.map((_, i) => i)];
const a = new Float64Array(POINTS).fill(1);
const b = new Float64Array(POINTS).fill(273.15);
const units = points.map(() => 'K');
const sigma = new SigmaFilter(POINTS, 20, 3, 10);
const resampler = new Resampler(POINTS, BUCKET_MS);

let wasmShift = 0;
let tsShift = 0;
function wasmRun(): Uint8Array | null {
  advance(frames, wasmShift);
  wasmShift = FRAMES * STEP_MS;
  return chain.process(frames.batch, FRAMES);
}
function tsRun(): number {
  advance(tsFrames, tsShift);
  tsShift = FRAMES * STEP_MS;
  let n = decodeFrames(tsFrames.batch, pointsOfRequest, points, samples);
  for (let i = 0; i < n; i++) samples[i]!.value = samples[i]!.value * 0.1; // the point's scale, as the modbus plugin applies it
  convert(samples, n, a, b);
  n = sigma.filter(samples, n);
  const closed = resampler.add(samples, n, buckets);
  return encodeBuckets(buckets, closed, points, units, strings);
}

// Both paths, from the same frames, must say the same before their speed means anything.
const key = (o: Record<string, number | string>) => `${o.point}@${o.ts}`;
const wasmOut = new Map<string, Record<string, number | string>>();
const tsOut = new Map<string, Record<string, number | string>>();
for (let run = 0; run < 5; run++) {
  for (const m of readMessages(wasmRun() ?? new Uint8Array(0))) {
    const o = JSON.parse(Buffer.from(m.payload).toString());
    wasmOut.set(key(o), o);
  }
  const n = tsRun();
  for (let i = 0; i < n; i++) {
    const o = JSON.parse(strings[i]!);
    tsOut.set(key(o), o);
  }
}
assert.ok(wasmOut.size > 0 && wasmOut.size === tsOut.size, `same buckets: wasm ${wasmOut.size}, ts ${tsOut.size}`);
for (const [k, t] of tsOut) {
  const w = wasmOut.get(k)!;
  assert.ok(w, `bucket ${k} from both`);
  for (const f of ['count', 'unit'] as const) assert.equal(w[f], t[f], `${k} ${f}`);
  // The si plugin rounds each conversion correctly; the baseline's plain x·a + b can be 1 ulp off.
  for (const f of ['min', 'max'] as const) assert.ok(Math.abs((w[f] as number) - (t[f] as number)) <= 2 ** -52 * Math.abs(t[f] as number), `${k} ${f}`);
  assert.ok(Math.abs((w.mean as number) - (t.mean as number)) <= 1e-12 * Math.abs(t.mean as number), `${k} mean`);
}

const inputSamples = FRAMES * POINTS;
const wasm = throughput(inputSamples, () => { wasmRun(); });
const ts = throughput(inputSamples, () => { tsRun(); });
emitResult(`ETL chain modbus→si→outlier→resample→json, Wasm (${POINTS} int16 points × ${FRAMES} frames per batch)`, wasm / 1e6, 'M input samples/s', '>= 5 M input samples/s');
emitResult('ETL chain, same steps in plain TypeScript', ts / 1e6, 'M input samples/s');
emitResult('ETL chain, Wasm / TypeScript', wasm / ts, 'x', '>= 1');
