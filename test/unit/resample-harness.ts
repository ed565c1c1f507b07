/**
 * What the resample tests share: the built plugin configured the way the host does it (settings
 * checked against plugin.yaml, its defaults filled in), and samples in and out as plain objects.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PluginInstance } from '../../src/host/engine/plugin-instance.js';
import { decodeSamples, encodeSamples, type Sample } from '../../src/host/engine/sample-batch.js';
import { loadPluginManifest, type InstalledPlugin } from '../../src/host/config/index.js';
import { compileBuiltPlugin, REPO_ROOT } from '../support/plugins.js';

export const resamplePoints = [
  { id: 0, name: 'boiler.temp', unit: 'degC' },
  { id: 1, name: 'line.pressure', unit: 'bar' },
  { id: 2, name: 'serial', unit: '' },
];

/** ABI aggregate codes (docs/plugin-abi.md, sample `aggregate` byte). */
export const AGG = { mean: 1, min: 2, max: 3, first: 4, last: 5, count: 6, sum: 7 } as const;
export type AggregateName = keyof typeof AGG;

const compiled = compileBuiltPlugin('resample');

export const resampleManifest: InstalledPlugin = await (async () => {
  const loaded = await loadPluginManifest(join(REPO_ROOT, 'plugins', 'resample'));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.plugin;
})();

/** Epoch ms of a wall-clock time on 2024-01-15, UTC. */
export const at = (h: number, m: number, s: number, ms = 0): number => Date.UTC(2024, 0, 15, h, m, s, ms);

export const good = (ts: number, value: number, point = 0): Sample => ({ ts, value, point, quality: 0 });

export interface ResampleStep {
  instance: PluginInstance;
  encode(samples: readonly Sample[]): Uint8Array;
  process(samples: readonly Sample[]): Sample[];
  tick(now: number): Sample[];
  tickRaw(now: number): Uint8Array;
}

/** A configured instance; `settings` is `with:` as an operator writes it. */
export function startResample(settings: Record<string, unknown>): ResampleStep {
  const withSettings = structuredClone(settings);
  assert.deepEqual(resampleManifest.validateSettings(withSettings), [], 'settings the manifest accepts');
  const instance = new PluginInstance(compiled);
  instance.configure({
    abi: 1, pipeline: 't', step: 3, plugin: 'resample', with: withSettings, devices: [], points: resamplePoints,
  });
  return {
    instance,
    encode: encodeSamples,
    process: (samples) => decodeSamples(instance.process(encodeSamples(samples))),
    tick: (now) => decodeSamples(instance.tick(now)),
    tickRaw: (now) => instance.tick(now),
  };
}
