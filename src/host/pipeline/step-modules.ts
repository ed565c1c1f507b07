/** Compiles (and ABI-checks) the module of every step of a configured pipeline. */
import { readFile } from 'node:fs/promises';
import type { ResolvedPipeline } from '../config/resolved.js';
import { v8Engine, type CompiledPlugin } from '../engine/engine.js';
import { WgError } from '../errors.js';

export async function compileStep(name: string, file: string, abi: number, memoryLimitBytes?: number, imports?: readonly string[]): Promise<CompiledPlugin> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new WgError('WG_ERR_CONFIG_UNKNOWN_PLUGIN', { plugin: name, file, detail: `cannot read ${file} (was the plugin built? run: wasmgate plugin build)` }, { cause: err });
  }
  return v8Engine.compile(bytes, name, file, abi, { ...(memoryLimitBytes === undefined ? {} : { memoryLimitBytes }), ...(imports === undefined ? {} : { imports }) });
}

export function compileSteps(pipeline: ResolvedPipeline): Promise<CompiledPlugin[]> {
  return Promise.all(pipeline.steps.map((s) => compileStep(s.plugin, s.wasmPath, s.manifest.abi, pipeline.pluginMemoryBytes, s.manifest.imports)));
}
