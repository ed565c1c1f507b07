/**
 * A built-in plugin's `with:` as the gateway hands it over: checked against the plugin's manifest, its
 * defaults filled in. The plugins keep no defaults of their own (plugin.yaml is the one place), so a
 * bench that configures them without the host's config loader fills them in here.
 */
import { join } from 'node:path';
import { loadPluginManifest } from '../src/host/config/index.js';
import { BUILTIN_PLUGIN_DIR } from '../src/host/plugin-build/build.js';

export async function stepSettings(plugin: string, settings: Record<string, unknown>): Promise<Record<string, unknown>> {
  const loaded = await loadPluginManifest(join(BUILTIN_PLUGIN_DIR, plugin));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  const filled = structuredClone(settings);
  const findings = loaded.plugin.validateSettings(filled);
  if (findings.length > 0) throw new Error(`${plugin}: ${findings.map((f) => `${f.path.join('.')} ${f.detail}`).join('; ')}`);
  return filled;
}
