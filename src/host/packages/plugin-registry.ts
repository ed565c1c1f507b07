/**
 * The plugin registry in the gateway's data directory (docs/plugins.md, "The registry"): for every
 * installed plugin, the active version and the versions that were active before it (the last
 * KEEP_PREVIOUS), and which pipelines ran each. Pipelines whose steps name a plugin (`plugin: NAME`)
 * run its active version, ahead of the plugin directories (config.md, "Resolution").
 *
 *   <data_dir>/plugins/registry.json                      the index: the one file that says what is active
 *   <data_dir>/plugins/<name>/<version>-<sha12>/           one stored version: manifest.yaml, plugin.wasm[, signature]
 *
 * A power cut at any moment leaves the old state or the new one: a version's files are written into a
 * fresh directory, fsynced and renamed into place before the index names them, and the index is
 * replaced by durable-file.ts (write, fsync, rename, fsync of the directory). Stored versions the
 * index no longer names are removed only once the change is settled: after the install or rollback
 * went live (`recordPipelines`) or was undone (`restore`), never while `restore` may still need them.
 *
 * The index also keeps the versions the gateway rolled back for cause (`rolledBack`), which an install
 * refuses unless forced. A change (install, rollback) holds the registry's lock (`exclusive`,
 * registry-lock.ts) from its read of the index to its last write.
 *
 * The seam for what runs (`active`): which module and manifest step `plugin: NAME` resolves to.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WgError } from '../errors.js';
import { syncDirectory, writeAndSync, writeFileDurably, type StepHook } from './durable-file.js';
import { encodeSignature, sha256Hex } from './package-signature.js';
import { MEMBER, type PluginPackage } from './plugin-package.js';
import { withRegistryLock, type LockOptions } from './registry-lock.js';
import { INDEX_FILE, REGISTRY_DIR } from './registry-layout.js';

/** Versions kept besides the active one, for `wasmgate plugin rollback`. */
export const KEEP_PREVIOUS = 2;
/** Versions rolled back for cause remembered per plugin. */
export const KEEP_ROLLED_BACK = 10;
export { REGISTRY_DIR, INDEX_FILE };
const FORMAT = 1;

export interface RegistryVersion {
  readonly version: string;
  readonly sha256: string;
  /** The stored version's directory, under the plugin's. */
  readonly dir: string;
  /** Key id of the signature it was installed with; null: unsigned. */
  readonly signedBy: string | null;
  /** Wall time of the install, ISO 8601. */
  readonly installedAt: string;
  /** The pipelines that ran it when it went live (recorded after the reload that applied it). */
  readonly pipelines: readonly string[];
  /** Installed with --force although the gateway had rolled it back for cause: that rollback. */
  readonly forcedOver?: RolledBackVersion;
}

export interface RegistryPlugin {
  readonly active: RegistryVersion;
  /** The versions active before it, the most recent first. */
  readonly previous: readonly RegistryVersion[];
}

/**
 * A version the gateway itself rolled back for cause (the crash-loop guard): an install of that version
 * again is refused (WG_ERR_PACKAGE_ROLLED_BACK) unless the operator forces it.
 */
export interface RolledBackVersion {
  readonly version: string;
  readonly sha256: string;
  /** Wall time of the rollback, ISO 8601. */
  readonly at: string;
  readonly reason: string;
  /** The pipeline whose crash-loop guard rolled it back. */
  readonly pipeline: string;
}

export interface RegistryIndex {
  readonly format: typeof FORMAT;
  readonly plugins: { readonly [name: string]: RegistryPlugin };
  /**
   * Per plugin, the versions rolled back for cause, the most recent first (at most KEEP_ROLLED_BACK).
   * Kept apart from `plugins`, so that it outlives a rollback that takes the plugin out of the registry.
   * Absent in an index written before it existed (same format: a reader that does not know it ignores it).
   */
  readonly rolledBack?: { readonly [name: string]: readonly RolledBackVersion[] };
}

/** What step `plugin: NAME` runs when the registry has NAME. */
export interface ActiveModule {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly manifestFile: string;
  readonly wasmPath: string;
}

/**
 * Stages a test may stop the process at, in order: `store-written` (the version's directory in
 * place, the index not yet written), `index-written` (the new index fsynced beside the old one),
 * `index-renamed` (renamed over it, the directory not yet fsynced), `committed`.
 */
export type RegistryFaultHook = (stage: string) => void | Promise<void>;

const EMPTY: RegistryIndex = { format: FORMAT, plugins: {} };
const SAFE_DIR = /^[0-9A-Za-z][0-9A-Za-z.+-]*$/;

export class PluginRegistry {
  /** `<data_dir>/plugins`. */
  readonly dir: string;
  readonly indexFile: string;
  readonly #faults: RegistryFaultHook | undefined;
  readonly #lock: LockOptions;

  constructor(dataDir: string, options: { faults?: RegistryFaultHook; lock?: LockOptions } = {}) {
    this.dir = join(dataDir, REGISTRY_DIR);
    this.indexFile = join(this.dir, INDEX_FILE);
    this.#faults = options.faults;
    this.#lock = options.lock ?? {};
  }

  /**
   * Runs `work` (an install or a rollback: reads, checks, writes, the reload) holding the registry's
   * lock (registry-lock.ts), so that another process changing the registry waits for it.
   */
  exclusive<T>(what: string, work: () => Promise<T>): Promise<T> {
    return withRegistryLock(this.dir, what, work, this.#lock);
  }

  /** The index; an empty one when nothing was ever installed. A damaged index is WG_ERR_REGISTRY_DAMAGED. */
  async read(): Promise<RegistryIndex> {
    let text: string;
    try {
      text = await readFile(this.indexFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY;
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: this.indexFile, detail: (err as Error).message }, { cause: err });
    }
    let index: unknown;
    try {
      index = JSON.parse(text);
    } catch (err) {
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: this.indexFile, detail: `not JSON: ${(err as Error).message}` }, { cause: err });
    }
    const wrong = shapeProblem(index);
    if (wrong) throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: this.indexFile, detail: wrong });
    return index as RegistryIndex;
  }

  /**
   * The active version of `name`, its stored module checked against the sha256 it was installed
   * with; undefined when the registry does not have the plugin.
   */
  async active(name: string): Promise<ActiveModule | undefined> {
    const entry = (await this.read()).plugins[name];
    if (!entry) return undefined;
    const at = join(this.dir, name, entry.active.dir);
    const wasmPath = join(at, MEMBER.module);
    const bytes = await readFile(wasmPath).catch((err: Error) => {
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: wasmPath, detail: `the active version ${entry.active.version} of ${name} cannot be read: ${err.message}` }, { cause: err });
    });
    if (sha256Hex(bytes) !== entry.active.sha256) {
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: wasmPath, detail: `the stored module of ${name} ${entry.active.version} no longer has the sha256 it was installed with` });
    }
    return { name, version: entry.active.version, sha256: entry.active.sha256, manifestFile: join(at, MEMBER.manifest), wasmPath };
  }

  /** Stores `pkg` and makes it the active version; returns the index as it was, to restore on failure. */
  async install(pkg: PluginPackage, signedBy: string | null, now: Date = new Date()): Promise<RegistryIndex> {
    const before = await this.read();
    const { name, version, sha256 } = pkg.manifest;
    const dir = await this.#store(pkg);
    await this.#fault('store-written');
    const old = before.plugins[name];
    // Installing a version rolled back for cause (forced: package-install.ts refuses it otherwise)
    // moves the record of that rollback onto the version, where `plugin list` shows it.
    const forcedOver = before.rolledBack?.[name]?.find((r) => r.version === version);
    const entry: RegistryVersion = { version, sha256, dir, signedBy, installedAt: now.toISOString(), pipelines: [], ...(forcedOver ? { forcedOver } : {}) };
    const previous = old ? [old.active, ...old.previous].filter((v) => v.version !== version).slice(0, KEEP_PREVIOUS) : [];
    const rolledBack = withRolledBack(before.rolledBack, name, (list) => list.filter((r) => r.version !== version));
    await this.#commit({ format: FORMAT, plugins: { ...before.plugins, [name]: { active: entry, previous } }, ...rolledBack }, false);
    return before;
  }

  /**
   * The version `rollback(name, to)` would make active: a kept one, or null (the plugin leaves the
   * registry); throws WG_ERR_ROLLBACK_NONE when there is none to go to.
   */
  rollbackTarget(index: RegistryIndex, name: string, to?: string): RegistryVersion | null {
    const entry = index.plugins[name];
    if (!entry) throw new WgError('WG_ERR_ROLLBACK_NONE', { plugin: name, detail: 'the registry has no version of it (nothing was installed)' });
    if (to === undefined) return entry.previous[0] ?? null;
    const target = entry.previous.find((v) => v.version === to);
    if (!target) {
      const kept = entry.previous.map((v) => v.version);
      throw new WgError('WG_ERR_ROLLBACK_NONE', { plugin: name, detail: `version ${to} is not kept (active ${entry.active.version}; kept ${kept.length > 0 ? kept.join(', ') : 'none'})` });
    }
    return target;
  }

  /** A stored version's files as they were installed: what its signature is checked against again. */
  async storedFiles(name: string, version: RegistryVersion): Promise<{ dir: string; manifestBytes: Uint8Array; module: Uint8Array; signature: Uint8Array | undefined }> {
    const dir = join(this.dir, name, version.dir);
    const read = (member: string) => readFile(join(dir, member)).catch((err: Error) => {
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: join(dir, member), detail: `the stored version ${version.version} of ${name} cannot be read: ${err.message}` }, { cause: err });
    });
    const signature = await readFile(join(dir, MEMBER.signature)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw new WgError('WG_ERR_REGISTRY_DAMAGED', { file: join(dir, MEMBER.signature), detail: err.message }, { cause: err });
    });
    return { dir, manifestBytes: await read(MEMBER.manifest), module: await read(MEMBER.module), signature };
  }

  /**
   * Makes an earlier version active again: `to`, or the one active before the current one. The
   * version rolled back from is dropped. With no earlier version kept, the plugin leaves the registry
   * and its steps resolve in the plugin directories again. Returns the index as it was.
   */
  async rollback(name: string, to?: string, cause?: { reason: string; pipeline: string; at?: Date }): Promise<{ before: RegistryIndex; from: string; to: string | null }> {
    const before = await this.read();
    const target = this.rollbackTarget(before, name, to);
    const entry = before.plugins[name]!;
    const plugins = { ...before.plugins };
    if (target) plugins[name] = { active: target, previous: entry.previous.slice(entry.previous.indexOf(target) + 1) };
    else delete plugins[name];
    const { version, sha256 } = entry.active;
    const record = cause ? { version, sha256, at: (cause.at ?? new Date()).toISOString(), reason: cause.reason, pipeline: cause.pipeline } : undefined;
    const rolledBack = record ? withRolledBack(before.rolledBack, name, (list) => [record, ...list.filter((r) => r.version !== version)].slice(0, KEEP_ROLLED_BACK)) : pick(before);
    await this.#commit({ format: FORMAT, plugins, ...rolledBack }, false);
    return { before, from: entry.active.version, to: target?.version ?? null };
  }

  /**
   * Records which pipelines run the active version of `name` (after the reload that applied it), and
   * removes the stored versions the registry no longer names.
   */
  async recordPipelines(name: string, pipelines: readonly string[]): Promise<void> {
    const index = await this.read();
    const entry = index.plugins[name];
    if (!entry || JSON.stringify(entry.active.pipelines) === JSON.stringify(pipelines)) return this.#prune(index);
    await this.#commit({ format: FORMAT, plugins: { ...index.plugins, [name]: { ...entry, active: { ...entry.active, pipelines: [...pipelines] } } }, ...pick(index) });
  }

  /** Writes back an index `install` or `rollback` returned: the state before them. */
  async restore(index: RegistryIndex): Promise<void> {
    await this.#commit(index);
  }

  /** The version's directory, written whole before it gets its name; one already there is reused. */
  async #store(pkg: PluginPackage): Promise<string> {
    const { name, version, sha256 } = pkg.manifest;
    const dir = `${version}-${sha256.slice(0, 12)}`;
    const parent = join(this.dir, name);
    const final = join(parent, dir);
    await mkdir(parent, { recursive: true });
    const existing = await readFile(join(final, MEMBER.module)).catch(() => undefined);
    if (existing && sha256Hex(existing) === sha256) return dir;
    const fresh = join(parent, `.${dir}.${process.pid}.new`);
    await rm(fresh, { recursive: true, force: true });
    await mkdir(fresh);
    await writeAndSync(join(fresh, MEMBER.manifest), pkg.manifestBytes);
    await writeAndSync(join(fresh, MEMBER.module), pkg.module);
    if (pkg.signature) await writeAndSync(join(fresh, MEMBER.signature), encodeSignature(pkg.signature));
    await syncDirectory(fresh);
    // A directory of that name whose module is not this one (damaged) is replaced.
    await rm(final, { recursive: true, force: true });
    await rename(fresh, final);
    await syncDirectory(parent);
    await syncDirectory(this.dir);
    return dir;
  }

  /** `prune`: remove what `index` no longer names, once it is on disk. */
  async #commit(index: RegistryIndex, prune = true): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const step: StepHook = (s) => this.#fault(`index-${s}`);
    await writeFileDurably(this.indexFile, `${JSON.stringify(index, null, 2)}\n`, step);
    await this.#fault('committed');
    if (prune) await this.#prune(index);
  }

  /** Removes stored versions (and leftovers of an interrupted store) that `index` does not name. */
  async #prune(index: RegistryIndex): Promise<void> {
    const names = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const plugin of names) {
      // The fresh index of a write that was cut off (durable-file.ts) is never read: remove it.
      if (plugin.isFile() && /^\..*\.new$/.test(plugin.name)) await rm(join(this.dir, plugin.name), { force: true });
      if (!plugin.isDirectory()) continue;
      const entry = index.plugins[plugin.name];
      const keep = new Set(entry ? [entry.active.dir, ...entry.previous.map((v) => v.dir)] : []);
      const parent = join(this.dir, plugin.name);
      for (const version of await readdir(parent).catch(() => [])) {
        if (!keep.has(version)) await rm(join(parent, version), { recursive: true, force: true });
      }
      if (keep.size === 0 && (await stat(parent).then((s) => s.isDirectory(), () => false))) await rm(parent, { recursive: true, force: true });
    }
  }

  async #fault(stage: string): Promise<void> {
    await this.#faults?.(stage);
  }
}

/** What is wrong with a parsed index, or undefined. Names are checked too: they become paths. */
function shapeProblem(index: unknown): string | undefined {
  if (!isObject(index) || index.format !== FORMAT || !isObject(index.plugins)) return `not a registry index of format ${FORMAT}`;
  for (const [name, entry] of Object.entries(index.plugins)) {
    if (!/^[a-z][a-z0-9_-]*$/.test(name)) return `plugin name ${JSON.stringify(name)} is not one`;
    if (!isObject(entry) || !Array.isArray(entry.previous)) return `plugin ${name} has no active version and previous list`;
    for (const v of [entry.active, ...entry.previous]) {
      if (!isObject(v) || typeof v.version !== 'string' || typeof v.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.sha256)
        || typeof v.dir !== 'string' || !SAFE_DIR.test(v.dir) || !Array.isArray(v.pipelines)) return `plugin ${name} has a version entry that is not one`;
    }
  }
  if (index.rolledBack !== undefined) {
    if (!isObject(index.rolledBack)) return 'rolledBack is not a map of plugin names';
    for (const [name, list] of Object.entries(index.rolledBack)) {
      if (!Array.isArray(list) || !list.every((r) => isObject(r) && typeof r.version === 'string' && typeof r.reason === 'string')) return `rolledBack of ${name} is not a list of versions`;
    }
  }
  return undefined;
}

/** The index's `rolledBack` with `name`'s list changed by `change` (an empty list leaves it out). */
function withRolledBack(current: RegistryIndex['rolledBack'], name: string, change: (list: readonly RolledBackVersion[]) => RolledBackVersion[]): Pick<RegistryIndex, 'rolledBack'> {
  const all = { ...(current ?? {}) };
  const list = change(all[name] ?? []);
  if (list.length > 0) all[name] = list;
  else delete all[name];
  return Object.keys(all).length > 0 ? { rolledBack: all } : {};
}

/** An index's `rolledBack`, carried over unchanged by a write that does not touch it. */
function pick(index: RegistryIndex): Pick<RegistryIndex, 'rolledBack'> {
  return index.rolledBack ? { rolledBack: index.rolledBack } : {};
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
