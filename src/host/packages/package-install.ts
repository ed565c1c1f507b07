/**
 * Installing a package and rolling a plugin back (docs/plugins.md), the same in the daemon (over the
 * control socket) and offline (into the data directory): every check before anything is written
 * (package-verify.ts), then the registry's commit, then `goLive`, which applies the new state: in
 * the daemon a reload (a pipeline whose module alone changed has the step swapped in its running worker, one with other changes restarts; the others run on untouched),
 * offline the checks `wasmgate validate` makes. When `goLive` fails, the registry is put back as it
 * was and the previous version is what runs (WG_ERR_PACKAGE_NOT_LIVE). From the read of the index to
 * the last write, the registry's lock is held (registry-lock.ts): the daemon and an offline install
 * beside it never interleave.
 */
import { WgError } from '../errors.js';
import { compareVersions } from './plugin-version.js';
import { parsePackage, readPackageFile, type PluginPackage } from './plugin-package.js';
import type { PluginRegistry, RegistryIndex, RegistryVersion, RolledBackVersion } from './plugin-registry.js';
import { checkTrust } from './package-trust.js';
import { decodeSignature, statementOf } from './package-signature.js';
import { verifyPackage, type PackageVerdict } from './package-verify.js';
import type { ResolvedPluginSettings } from './package-settings.js';

export interface InstallContext {
  readonly registry: PluginRegistry;
  readonly settings: ResolvedPluginSettings;
  /**
   * Applies the registry's new state; returns the pipelines that now run the plugin. Throws to refuse
   * it (the registry is restored).
   */
  goLive(plugin: string): Promise<readonly string[]>;
}

export interface InstallOutcome {
  readonly plugin: string;
  readonly version: string;
  /** The version active before; null: none in the registry (the plugin directories' one, if any). */
  readonly previous: string | null;
  /** `installed`, or `already-active` (the same bytes were active: nothing changed). */
  readonly status: 'installed' | 'already-active';
  readonly signedBy: string | null;
  readonly trusted: boolean;
  readonly pipelines: readonly string[];
  /** Installed with --force over this gateway's rollback of that version for cause. */
  readonly forcedOver?: RolledBackVersion;
}

export interface RollbackOutcome {
  readonly plugin: string;
  readonly from: string;
  /** null: no earlier version was kept; the plugin directories' version runs again. */
  readonly to: string | null;
  readonly pipelines: readonly string[];
}

/**
 * Where the package comes from: a file the installing process reads, or the bytes themselves (the
 * CLI sends a small package over the control socket, since the daemon's sandbox may not see the
 * operator's files), named by `file` in messages.
 */
export type PackageSource = { file: string; bytes?: Uint8Array };

export interface InstallOptions {
  /**
   * Install a version this gateway rolled back for cause (the crash-loop guard), which is refused
   * otherwise (WG_ERR_PACKAGE_ROLLED_BACK); every other check still applies. Recorded on the version
   * in the registry (`forcedOver`).
   */
  readonly force?: boolean;
}

/** `expectSha256`: the package file's sha256 as the asking client read it; another file is refused. */
export async function installPackage(source: PackageSource, context: InstallContext, expectSha256?: string, options: InstallOptions = {}): Promise<InstallOutcome> {
  const { file } = source;
  const pkg = source.bytes ? parsePackage(source.bytes, file) : await readPackageFile(file);
  if (expectSha256 !== undefined && pkg.fileSha256 !== expectSha256) {
    throw new WgError('WG_ERR_PACKAGE_READ', { file, detail: `the file changed between the command reading it (sha256 ${expectSha256}) and the daemon reading it (${pkg.fileSha256})` });
  }
  const verdict: PackageVerdict = verifyPackage(pkg, context.settings);
  return context.registry.exclusive('plugin install', () => installVerified(pkg, verdict, context, options));
}

async function installVerified(pkg: PluginPackage, verdict: PackageVerdict, context: InstallContext, options: InstallOptions): Promise<InstallOutcome> {
  const { file } = pkg;
  const { name, version, sha256 } = pkg.manifest;
  const index = await context.registry.read();
  const active = index.plugins[name]?.active;
  const base = { plugin: name, version, previous: active?.version ?? null, signedBy: verdict.signedBy, trusted: verdict.trusted };
  const rolledBack = index.rolledBack?.[name]?.find((r) => r.version === version);
  if (rolledBack && !options.force) {
    throw new WgError('WG_ERR_PACKAGE_ROLLED_BACK', { file, plugin: name, version, detail: `pipeline ${rolledBack.pipeline}, ${rolledBack.at}: ${rolledBack.reason}` });
  }
  if (active) {
    const order = compareVersions(version, active.version);
    // No downgrade by replay: an older package, however validly signed, goes live only by rollback.
    if (order < 0) throw new WgError('WG_ERR_PACKAGE_DOWNGRADE', { file, plugin: name, version, active: active.version });
    if (order === 0 && active.sha256 === sha256) return { ...base, status: 'already-active', pipelines: active.pipelines };
    if (order === 0) throw new WgError('WG_ERR_PACKAGE_VERSION_REUSED', { file, plugin: name, version, detail: `the active one has sha256 ${active.sha256}, this one ${sha256}` });
  }
  const before = await registryWrite(context.registry, () => context.registry.install(pkg, verdict.signedBy));
  const pipelines = await live(context, name, version, before);
  return { ...base, status: 'installed', pipelines, ...(rolledBack ? { forcedOver: rolledBack } : {}) };
}

/**
 * Makes an earlier version active again. The version gone back to is checked against the trust
 * settings as they are now, as an install of its package would be: a key removed from trusted_keys
 * since it was installed (or require_signed turned on) stops a rollback to a version only that key
 * signed (WG_ERR_ROLLBACK_UNTRUSTED). Going back to the plugin directories needs no signature.
 *
 * `cause`: the gateway's own rollback (the crash-loop guard), which the worker has already made: the
 * registry is made to say what runs, and the version rolled back from is recorded as rolled back for
 * cause; only while it is still the active one (`from`), so that a guard firing late never undoes an
 * install made since.
 */
export async function rollbackPlugin(name: string, to: string | undefined, context: InstallContext, cause?: { reason: string; pipeline: string; from: { version: string; sha256: string } }): Promise<RollbackOutcome> {
  return context.registry.exclusive('plugin rollback', async () => {
    const index = await context.registry.read();
    const target = context.registry.rollbackTarget(index, name, to);
    const active = index.plugins[name]!.active;
    if (cause && (active.version !== cause.from.version || active.sha256 !== cause.from.sha256)) {
      throw new WgError('WG_ERR_ROLLBACK_NONE', { plugin: name, detail: `the crash-loop guard rolled back ${cause.from.version}, but the registry's active version is ${active.version} now` });
    }
    // The guard's rollback is not judged: the worker runs that version already, and the registry says so.
    if (target && !cause) await checkStoredTrust(context, name, target);
    const done = await registryWrite(context.registry, () => context.registry.rollback(name, to, cause));
    const pipelines = await live(context, name, done.to ?? '(the plugin directories)', done.before);
    return { plugin: name, from: done.from, to: done.to, pipelines };
  });
}

async function checkStoredTrust(context: InstallContext, name: string, target: RegistryVersion): Promise<void> {
  const stored = await context.registry.storedFiles(name, target);
  const signature = stored.signature ? decodeSignature(stored.signature, stored.dir) : null;
  const pkg = { file: stored.dir, manifest: { name }, signature, statement: statementOf(stored.manifestBytes, stored.module) };
  try {
    checkTrust(pkg, context.settings);
  } catch (err) {
    throw new WgError('WG_ERR_ROLLBACK_UNTRUSTED', { plugin: name, version: target.version, file: stored.dir, detail: (err as Error).message, refusedWith: (err as { code?: string }).code }, { cause: err });
  }
}

async function live(context: InstallContext, name: string, version: string, before: RegistryIndex): Promise<readonly string[]> {
  let pipelines: readonly string[];
  try {
    pipelines = await context.goLive(name);
  } catch (err) {
    await registryWrite(context.registry, () => context.registry.restore(before));
    const problems = (err as { context?: { problems?: unknown } }).context?.problems;
    throw new WgError('WG_ERR_PACKAGE_NOT_LIVE', { plugin: name, version, detail: (err as Error).message, ...(Array.isArray(problems) ? { problems } : {}) }, { cause: err });
  }
  await registryWrite(context.registry, () => context.registry.recordPipelines(name, pipelines));
  return pipelines;
}

/** A registry write that fails on the file system (a full or read-only disk) says which file. */
async function registryWrite<T>(registry: PluginRegistry, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof WgError) throw err;
    throw new WgError('WG_ERR_REGISTRY_WRITE', { file: registry.indexFile, detail: (err as Error).message }, { cause: err });
  }
}
