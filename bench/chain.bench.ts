/**
 * Chain throughput on one core: raw Modbus TCP response frames → modbus decode → scale (→ json), the
 * Wasm plugins against the same steps in plain TypeScript (bench/baseline/modbus-chain.ts), in one
 * run, on the same frame batch bytes. Targets: decode+scale >= 5 M samples/s, and the Wasm chain no
 * slower than plain TypeScript. Before timing, both paths' outputs are checked to agree.
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
import { decodeFrames, encodeJson, scaleSamples, type BaselinePoint, type BaselineSample, type BaselineType } from './baseline/modbus-chain.js';
import { emitResult, printMachine } from './machine.js';
import { modbusFrameBatch } from './modbus-frames.js';
import { throughput } from './throughput.js';
import { stepSettings } from './step-settings.js';

const FRAMES_PER_BATCH = 32;

function load(name: string): CompiledPlugin {
  const file = join(BUILTIN_PLUGIN_DIR, name, 'build', `${name}.wasm`);
  return v8Engine.compile(readFileSync(file), name, file);
}
const modbus = load('modbus');
const modbusWith = await stepSettings('modbus', {});
const scale = load('scale');
const json = load('json');

interface Scenario {
  type: BaselineType;
  registers: number;
  points: number;
}

async function setup(s: Scenario) {
  const points: BaselinePoint[] = Array.from({ length: s.points }, (_, i) => ({ name: `line1.sensor${i}`, unit: 'degC', register: i * s.registers, type: s.type, factor: 0.1, offset: 1 }));
  const context: ChainContext = {
    pipeline: 'bench',
    devices: [{ index: 0, name: 'plc', unit_id: 1 }],
    points: points.map((p, id) => ({ id, name: p.name, device: 0, function: 3, address: p.register, type: p.type, order: 'ABCD', unit: p.unit, scale: 1, offset: 0 })),
  };
  const scaleWith = await stepSettings('scale', { points: Object.fromEntries(points.map((p) => [p.name, { factor: p.factor, offset: p.offset }])) });
  const jsonWith = await stepSettings('json', { shape: 'sample', timestamp: 'epoch_ms', decimals: -1 });
  const protocol = new PluginInstance(modbus);
  protocol.configure(settingsDocument(context, 0, 'modbus', modbusWith));
  const { batch } = modbusFrameBatch(protocol, points, FRAMES_PER_BATCH, (f, i) => (s.type === 'float32' ? 20 + i * 0.25 + f : i * 7 - 300 + f));
  return { points, context, scaleWith, jsonWith, batch, samplesPerBatch: FRAMES_PER_BATCH * s.points };
}

printMachine();
for (const scenario of [{ type: 'int16', registers: 1, points: 125 }, { type: 'float32', registers: 2, points: 62 }] as Scenario[]) {
  const { points, context, scaleWith, jsonWith, batch, samplesPerBatch } = await setup(scenario);
  const label = `${scenario.type}, ${scenario.points} points per frame, ${FRAMES_PER_BATCH} frames per batch`;

  // Wasm: decode + scale, as the worker calls the plugins (a copy into each plugin's memory).
  const decoder = new PluginInstance(modbus);
  decoder.configure(settingsDocument(context, 0, 'modbus', modbusWith));
  const scaler = new PluginInstance(scale);
  scaler.configure(settingsDocument(context, 1, 'scale', scaleWith));
  // Wasm: the full chain, exactly as the worker runs it (StepChain, per-step counters and all).
  const chain = new StepChain(
    [{ plugin: modbus, kind: 'decoder', with: modbusWith }, { plugin: scale, kind: 'transform', with: scaleWith }, { plugin: json, kind: 'encoder', with: jsonWith }],
    context,
    { log: (level, message) => { if (level >= 40) console.error(message); } },
  );
  chain.configure();

  // Plain TypeScript: the same steps.
  const samples: BaselineSample[] = [];
  const strings: string[] = [];
  const pointsOfRequest = [points.map((_, i) => i)];

  // Both paths must agree before their speed means anything.
  const wasmMessages = [...readMessages(chain.process(batch, FRAMES_PER_BATCH)!)].map((m) => JSON.parse(Buffer.from(m.payload).toString()));
  const n = decodeFrames(batch, pointsOfRequest, points, samples);
  scaleSamples(samples, n, points);
  encodeJson(samples, n, points, strings);
  assert.equal(wasmMessages.length, n);
  assert.deepEqual(wasmMessages, strings.slice(0, n).map((s) => JSON.parse(s)));

  const wasmDecodeScale = throughput(samplesPerBatch, () => { scaler.process(decoder.process(batch)); });
  const tsDecodeScale = throughput(samplesPerBatch, () => { scaleSamples(samples, decodeFrames(batch, pointsOfRequest, points, samples), points); });
  const wasmChain = throughput(samplesPerBatch, () => { chain.process(batch, FRAMES_PER_BATCH); });
  const tsChain = throughput(samplesPerBatch, () => {
    const count = decodeFrames(batch, pointsOfRequest, points, samples);
    scaleSamples(samples, count, points);
    encodeJson(samples, count, points, strings);
  });
  emitResult(`decode+scale, Wasm (${label})`, wasmDecodeScale / 1e6, 'M samples/s', '>= 5 M samples/s');
  emitResult(`decode+scale, plain TypeScript (${label})`, tsDecodeScale / 1e6, 'M samples/s');
  emitResult(`decode+scale, Wasm / TypeScript (${scenario.type})`, wasmDecodeScale / tsDecodeScale, 'x', '>= 1');
  emitResult(`decode+scale+json, Wasm chain (${label})`, wasmChain / 1e6, 'M samples/s');
  emitResult(`decode+scale+json, plain TypeScript (${label})`, tsChain / 1e6, 'M samples/s');
  emitResult(`decode+scale+json, Wasm / TypeScript (${scenario.type})`, wasmChain / tsChain, 'x', '>= 1');
}
