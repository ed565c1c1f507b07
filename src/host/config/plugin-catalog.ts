/**
 * The plugins a gateway can use: found by name in its plugin registry (installed packages, in the
 * data directory) and then its plugin directories, or by the path of a module.
 * An instance, not a module global, so that two gateways (or two tests) never see each other's plugins.
 * Each manifest is read and checked once per catalog.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Ajv } from 'ajv';
import { loadPluginManifest, loadPluginManifestFile, type InstalledPlugin, type ManifestResult } from './plugin-manifest.js';
import { makeProblem, type ConfigProblem } from './problem.js';
import { isWgError } from '../errors.js';
import type { PluginRegistry } from '../packages/plugin-registry.js';
import { createAjv } from './schema-errors.js';

export type PluginLookup =
  | { status: 'found'; plugin: InstalledPlugin }
  /** No manifest at any of the places looked at (absolute manifest paths, in lookup order). */
  | { status: 'missing'; looked: string[] }
  /** A manifest was found but is itself wrong; the problems are positioned in the manifest. */
  | { status: 'invalid'; problems: ConfigProblem[] };

/** Suffix of the manifest that sits next to a module named by path: `filter.wasm` → `filter.plugin.yaml`. */
export const MANIFEST_SUFFIX = '.plugin.yaml';

export class PluginCatalog {
  /** Absolute directories, searched in order; each holds one folder per plugin. */
  readonly dirs: readonly string[];
  readonly #ajv: Ajv;
  readonly #loaded = new Map<string, Promise<ManifestResult>>();
  readonly #registry: Pick<PluginRegistry, 'indexFile' | 'active' | 'read'> | undefined;

  /** `registry`: the gateway's plugin registry; its active versions come before the directories. */
  constructor(dirs: readonly string[], options: { ajv?: Ajv; registry?: Pick<PluginRegistry, 'indexFile' | 'active' | 'read'> } = {}) {
    this.dirs = Object.freeze([...dirs]);
    this.#ajv = options.ajv ?? createAjv();
    this.#registry = options.registry;
  }

  /**
   * The plugin called `name`: its active version in the registry, else the first
   * `<dir>/<name>/plugin.yaml` in directory order.
   */
  async find(name: string): Promise<PluginLookup> {
    const looked: string[] = [];
    const registry = this.#registry;
    if (registry) {
      // Named among the places looked at only when there is a registry: most gateways never install one.
      if (await isFile(registry.indexFile)) looked.push(`${registry.indexFile} (the plugin registry)`);
      let active;
      try {
        active = await registry.active(name);
      } catch (err) {
        if (!isWgError(err, 'WG_ERR_REGISTRY_DAMAGED')) throw err;
        const file = String(err.context.file ?? registry.indexFile);
        return { status: 'invalid', problems: [makeProblem({ file, line: 1, column: 1, path: '' }, 'WG_ERR_REGISTRY_DAMAGED', err.context)] };
      }
      if (active) {
        const { manifestFile, wasmPath } = active;
        return this.#lookup(manifestFile, () => loadPluginManifestFile(manifestFile, { name, wasmPath, ajv: this.#ajv, packaged: true }));
      }
    }
    for (const dir of this.dirs) {
      const folder = join(dir, name);
      const manifest = join(folder, 'plugin.yaml');
      looked.push(manifest);
      if (await isFile(manifest)) return this.#lookup(manifest, () => loadPluginManifest(folder, { ajv: this.#ajv }));
    }
    return { status: 'missing', looked };
  }

  /** The plugin whose module is `wasmPath` (absolute), declared by `<stem>.plugin.yaml` beside it. */
  async atPath(wasmPath: string): Promise<PluginLookup> {
    const stem = basename(wasmPath).replace(/\.wasm$/, '');
    const manifest = join(dirname(wasmPath), `${stem}${MANIFEST_SUFFIX}`);
    if (!(await isFile(manifest))) return { status: 'missing', looked: [manifest] };
    return this.#lookup(manifest, () => loadPluginManifestFile(manifest, { name: stem, wasmPath, ajv: this.#ajv }));
  }

  /**
   * Every plugin folder (one holding `plugin.yaml`) of every directory; where two directories hold the
   * same name, the first wins, as in `find`. Manifests that fail to load contribute their problems.
   */
  async list(): Promise<{ plugins: InstalledPlugin[]; problems: ConfigProblem[] }> {
    const plugins: InstalledPlugin[] = [];
    const problems: ConfigProblem[] = [];
    const seen = new Set<string>();
    const installed = this.#registry ? Object.keys((await this.#registry.read().catch(() => ({ plugins: {} }))).plugins).sort() : [];
    for (const name of installed) {
      seen.add(name);
      const lookup = await this.find(name);
      if (lookup.status === 'found') plugins.push(lookup.plugin);
      else if (lookup.status === 'invalid') problems.push(...lookup.problems);
    }
    for (const dir of this.dirs) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (!entry.isDirectory() || seen.has(entry.name) || !(await isFile(join(dir, entry.name, 'plugin.yaml')))) continue;
        seen.add(entry.name);
        const lookup = await this.find(entry.name);
        if (lookup.status === 'found') plugins.push(lookup.plugin);
        else if (lookup.status === 'invalid') problems.push(...lookup.problems);
      }
    }
    return { plugins, problems };
  }

  async #lookup(manifest: string, load: () => Promise<ManifestResult>): Promise<PluginLookup> {
    let pending = this.#loaded.get(manifest);
    if (!pending) {
      pending = load();
      this.#loaded.set(manifest, pending);
    }
    const result = await pending;
    return result.ok ? { status: 'found', plugin: result.plugin } : { status: 'invalid', problems: result.problems };
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
