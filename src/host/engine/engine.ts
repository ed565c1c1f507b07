/**
 * The engine: the narrow interface behind which the WebAssembly runtime sits. The product ships V8's
 * built-in WebAssembly (see docs/plugin-abi.md and the brief for why not WasmEdge); anything else must
 * offer these two operations.
 */
import { WgError } from '../errors.js';
import { checkAbi, type AbiFacts } from './abi-check.js';
import { IMPORT_NAMESPACE } from './abi.js';
import { capModuleMemory, type MemoryLimits } from './memory-limit.js';

/** The cap on one plugin instance's linear memory unless the pipeline sets another (plugin_memory). */
export const DEFAULT_PLUGIN_MEMORY_BYTES = 16 * 1024 * 1024;

/** A module that passed the ABI check. Safe to send to a worker (WebAssembly.Module is cloneable). */
export interface CompiledPlugin {
  readonly name: string;
  readonly file: string;
  readonly module: WebAssembly.Module;
  readonly facts: AbiFacts;
  readonly size: number;
  /** The module's memory as the host runs it, capped (memory-limit.ts). */
  readonly memory: MemoryLimits | null;
}

export interface CompileOptions {
  /** Most linear memory one instance may grow to, bytes. */
  memoryLimitBytes?: number;
  /** The host functions the plugin's manifest lists; a module importing another is refused (abi-check.ts). */
  imports?: readonly string[];
}

/** The functions a plugin may import (namespace `wasmgate`). */
export interface HostFunctions {
  log(level: number, ptr: number, len: number): void;
  now(): number;
}

export interface Engine {
  compile(bytes: Uint8Array, name: string, file: string, manifestAbi?: number, options?: CompileOptions): CompiledPlugin;
  instantiate(plugin: CompiledPlugin, host: HostFunctions): WebAssembly.Exports;
}

export const v8Engine: Engine = {
  compile(bytes, name, file, manifestAbi, options = {}) {
    const capped = capModuleMemory(bytes, options.memoryLimitBytes ?? DEFAULT_PLUGIN_MEMORY_BYTES, name, file);
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(capped.bytes);
    } catch (err) {
      throw new WgError('WG_ERR_PLUGIN_COMPILE', { plugin: name, file, detail: (err as Error).message }, { cause: err });
    }
    const facts = checkAbi(module, name, file, manifestAbi, options.imports);
    return { name, file, module, facts, size: bytes.byteLength, memory: capped.limits };
  },

  instantiate(plugin, host) {
    try {
      const instance = new WebAssembly.Instance(plugin.module, { [IMPORT_NAMESPACE]: { log: host.log, now: host.now } });
      return instance.exports;
    } catch (err) {
      throw new WgError('WG_ERR_PLUGIN_INSTANTIATE', { plugin: plugin.name, file: plugin.file, detail: (err as Error).message }, { cause: err });
    }
  },
};
