/**
 * What `wasmgate plugin list` shows, from the daemon or offline: every plugin in the registry with its
 * active and kept versions, and what each step of each pipeline of the configuration runs (the
 * version, and whether it comes from the registry, a plugin directory or a path).
 */
import { sep } from 'node:path';
import type { ResolvedGateway } from '../config/resolved.js';
import type { PluginRegistry, RegistryVersion, RolledBackVersion } from './plugin-registry.js';

export interface PluginListing {
  /** The registry's index file. */
  readonly registry: string;
  readonly plugins: ReadonlyArray<{ readonly name: string; readonly active: RegistryVersion; readonly previous: readonly RegistryVersion[] }>;
  /** Per plugin, the versions this gateway rolled back for cause (an install of one needs --force). */
  readonly rolledBack: { readonly [name: string]: readonly RolledBackVersion[] };
  readonly steps: ReadonlyArray<{ readonly pipeline: string; readonly step: number; readonly plugin: string; readonly version: string; readonly from: 'registry' | 'plugin_dirs' }>;
}

export async function listPlugins(config: ResolvedGateway, registry: PluginRegistry): Promise<PluginListing> {
  const index = await registry.read();
  const stored = `${registry.dir}${sep}`;
  return {
    registry: registry.indexFile,
    plugins: Object.entries(index.plugins).sort(([a], [b]) => a.localeCompare(b)).map(([name, e]) => ({ name, active: e.active, previous: e.previous })),
    rolledBack: index.rolledBack ?? {},
    steps: config.pipelines.flatMap((p) => p.steps.map((s) => ({
      pipeline: p.name, step: s.index, plugin: s.plugin, version: s.manifest.version,
      from: s.wasmPath.startsWith(stored) ? 'registry' as const : 'plugin_dirs' as const,
    }))),
  };
}

/** The listing as `plugin list` prints it without --json. */
export function listingText(listing: PluginListing): string[] {
  const lines: string[] = [];
  if (listing.plugins.length === 0) lines.push(`registry ${listing.registry}: no plugin installed`);
  for (const p of listing.plugins) {
    const signed = (v: RegistryVersion) => (v.signedBy ? `signed by ${v.signedBy}` : 'unsigned');
    const forced = p.active.forcedOver ? `, forced over its rollback of ${p.active.forcedOver.at}` : '';
    lines.push(`${p.name} ${p.active.version} active (${signed(p.active)}, installed ${p.active.installedAt}, sha256 ${p.active.sha256.slice(0, 12)}${forced})`);
    for (const v of p.previous) lines.push(`  previous ${v.version} (${signed(v)}, installed ${v.installedAt})`);
  }
  for (const [name, list] of Object.entries(listing.rolledBack ?? {})) {
    for (const r of list) lines.push(`${name} ${r.version} rolled back for cause at ${r.at} (pipeline ${r.pipeline}: ${r.reason}); installing it again needs --force`);
  }
  for (const s of listing.steps) lines.push(`pipeline ${s.pipeline} step ${s.step}: ${s.plugin} ${s.version} from ${s.from === 'registry' ? 'the registry' : 'plugin_dirs'}`);
  return lines;
}
