/**
 * The plugin author's test harness, published as `wasmgate/plugin-harness`: load a built plugin the way
 * the gateway does (ABI check, instance, configure), and build or read the batches it exchanges.
 * Tests of the built-in plugins and of plugins made with `wasmgate plugin new` use it.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { v8Engine } from './engine.js';
import { PluginInstance, type PluginLogLine } from './plugin-instance.js';

export { PluginInstance } from './plugin-instance.js';
export { encodeSamples, decodeSamples, type Sample } from './sample-batch.js';
export { encodeFrameBatch, type FrameContext } from './frame-record.js';
export { readMessages, type Message } from './message-batch.js';
export { Quality, SampleType, FrameStatus } from './abi.js';

export interface PointDeclaration {
  name: string;
  unit?: string;
  [key: string]: unknown;
}

export interface LoadedPlugin {
  instance: PluginInstance;
  /** Every line the plugin logged, in order. */
  logs: PluginLogLine[];
}

/**
 * Compiles, checks and instantiates the plugin at `wasmPath`, then configures it with a settings
 * document built from `settings` (the step's `with:`), `points` and `devices`. Throws the gateway's
 * own errors (WG_ERR_PLUGIN_ABI, WG_ERR_PLUGIN_CONFIGURE...) when the plugin would not load.
 */
export function loadPlugin(wasmPath: string, options: { with?: unknown; points?: PointDeclaration[]; devices?: unknown[]; pipeline?: string } = {}): LoadedPlugin {
  const name = basename(wasmPath, '.wasm');
  const compiled = v8Engine.compile(readFileSync(wasmPath), name, wasmPath);
  const logs: PluginLogLine[] = [];
  const instance = new PluginInstance(compiled, { onLog: (line) => logs.push(line) });
  instance.configure({
    abi: 1,
    pipeline: options.pipeline ?? 'test',
    step: 0,
    plugin: name,
    with: options.with ?? {},
    devices: (options.devices ?? []).map((d, index) => ({ index, ...(d as object) })),
    points: (options.points ?? []).map((p, id) => ({ id, unit: '', device: 0, ...p })),
  });
  return { instance, logs };
}
