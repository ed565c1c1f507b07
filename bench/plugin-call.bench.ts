/**
 * Host → plugin call cost and plugin instantiation time (targets: <= 20 ns per call, <= 0.25 ms per
 * instantiate). The call measured is a real ABI export (wg_output, which returns a pointer) called
 * through the instance's exports, as the chain calls its plugins; the loop's own cost is measured
 * with a plain JS function of the same shape and reported next to it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { v8Engine } from '../src/host/engine/engine.js';
import { PluginInstance } from '../src/host/engine/plugin-instance.js';
import { BUILTIN_PLUGIN_DIR } from '../src/host/plugin-build/build.js';
import { emitResult, printMachine } from './machine.js';

function bestOf(runs: number, fn: () => number): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) best = Math.min(best, fn());
  return best;
}

function nsPerCall(fn: () => number, calls: number): number {
  const start = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < calls; i++) sink += fn();
  const ns = Number(process.hrtime.bigint() - start);
  if (sink === 0.5) console.log('');
  return ns / calls;
}

printMachine();
const file = join(BUILTIN_PLUGIN_DIR, 'scale', 'build', 'scale.wasm');
const bytes = readFileSync(file);
const compiled = v8Engine.compile(bytes, 'scale', file);
const instance = v8Engine.instantiate(compiled, { log: () => {}, now: () => Date.now() });
const wgOutput = instance.wg_output as () => number;
let counter = 0;
const jsFunction = () => counter++ & 1;

const CALLS = 20_000_000;
nsPerCall(wgOutput, CALLS); // warm up and let V8 tier up the call site
const call = bestOf(5, () => nsPerCall(wgOutput, CALLS));
const loop = bestOf(5, () => nsPerCall(jsFunction, CALLS));
emitResult('host → plugin call (wg_output)', call, 'ns/call', '<= 20 ns');
emitResult('same loop calling a plain JS function', loop, 'ns/call');

const settings = { abi: 1, pipeline: 'bench', step: 0, plugin: 'scale', with: { points: {} }, devices: [], points: [{ id: 0, name: 'p', unit: '' }] };
const INSTANCES = 2000;
const instantiate = bestOf(5, () => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < INSTANCES; i++) new PluginInstance(compiled);
  return Number(process.hrtime.bigint() - start) / INSTANCES / 1e6;
});
emitResult('plugin instantiate (scale, compiled module)', instantiate, 'ms', '<= 0.25 ms');
const configured = bestOf(5, () => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < INSTANCES; i++) new PluginInstance(compiled).configure(settings);
  return Number(process.hrtime.bigint() - start) / INSTANCES / 1e6;
});
emitResult('plugin instantiate + configure (scale)', configured, 'ms');
const compile = bestOf(5, () => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) v8Engine.compile(bytes, 'scale', file);
  return Number(process.hrtime.bigint() - start) / 200 / 1e6;
});
emitResult('plugin compile + ABI check (scale, once per load)', compile, 'ms');
