/**
 * A built-in plugin's `with:` as the host hands it over: checked against the plugin's manifest with
 * its defaults filled in. Tests use it so a plugin is exercised with what the gateway really sends.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadPluginManifest, type InstalledPlugin } from '../../src/host/config/index.js';
import { REPO_ROOT } from './plugins.js';

export interface ManifestDefaults {
  manifest: InstalledPlugin;
  withDefaults(settings: Record<string, unknown>): Record<string, unknown>;
}

export async function manifestDefaults(plugin: string): Promise<ManifestDefaults> {
  const loaded = await loadPluginManifest(join(REPO_ROOT, 'plugins', plugin));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const manifest = loaded.plugin;
  return {
    manifest,
    withDefaults(settings) {
      const copy = structuredClone(settings);
      assert.deepEqual(manifest.validateSettings(copy), []);
      return copy;
    },
  };
}
