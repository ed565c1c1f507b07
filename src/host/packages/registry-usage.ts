/** Which pipelines of a configuration run a plugin's version from the registry (and which version). */
import { sep } from 'node:path';
import type { ResolvedGateway } from '../config/resolved.js';
import type { PluginRegistry } from './plugin-registry.js';

/** The pipelines whose steps run `name` from the registry, in the configuration's order. */
export function pipelinesRunning(config: ResolvedGateway, registry: Pick<PluginRegistry, 'dir'>, name: string): string[] {
  const stored = `${registry.dir}${sep}${name}${sep}`;
  return config.pipelines.filter((p) => p.steps.some((s) => s.plugin === name && s.wasmPath.startsWith(stored))).map((p) => p.name);
}
