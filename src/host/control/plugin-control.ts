/**
 * The operations on plugin packages (docs/control.md): `plugin.install`, `plugin.rollback` and
 * `plugin.list` on the control socket, and the same install for the drop-in directory
 * (packages/drop-in.ts) and the registry's record of a crash-loop rollback (packages/registry-guard.ts).
 * One instance per gateway (plugin-ops.ts): an install or a rollback goes live through the daemon's
 * reload (a pipeline whose module alone changed has the step swapped in its running worker; the others
 * run on untouched), one at a time, in the order asked, so that two never interleave their registry
 * writes; the registry's lock keeps an offline install beside the daemon out too.
 */
import { basename, dirname } from 'node:path';
import { WgError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import { installPackage, rollbackPlugin, type InstallContext, type InstallOutcome, type PackageSource, type RollbackOutcome } from '../packages/package-install.js';
import { listPlugins } from '../packages/plugin-listing.js';
import { PluginRegistry } from '../packages/plugin-registry.js';
import { pipelinesRunning } from '../packages/registry-usage.js';
import { isRegistryPath } from '../packages/registry-layout.js';
import type { StepRollback } from '../pipeline/pipeline-assembly.js';
import { reloadFromFile } from '../reload/reload-from-file.js';
import { readParams } from './control-params.js';
import type { ControlHandlers } from './control-server.js';

export interface PluginOps {
  readonly handlers: ControlHandlers;
  /** An install as `plugin.install` makes it (same queue, checks and log lines); `via` names the way in. */
  install(source: PackageSource & { bytes: Uint8Array }, via: string): Promise<InstallOutcome>;
  /**
   * The crash-loop guard rolled a step back from a registry version: the registry is made to say what
   * runs (the other pipelines running that version go back too), and the version is recorded as rolled
   * back for cause, so that installing it again needs --force.
   */
  rolledBackForCause(rollback: StepRollback): Promise<void>;
  /**
   * A rollback from `version` only: when it is not the active version of `plugin` by the time the
   * rollback's turn comes (rolled back already, by the crash-loop guard say), nothing changes and the
   * result is null. The fleet's rollback commands name the version they leave (docs/fleet.md).
   */
  rollbackFrom(plugin: string, version: string, via: string): Promise<RollbackOutcome | null>;
}

export function pluginControl(gateway: Gateway, logger: Logger): PluginOps {
  const registry = new PluginRegistry(gateway.config.dataDir, {
    lock: { onWait: (holder, file) => logger.warn({ event: 'plugin.registry_locked', file, holder }, `the plugin registry is locked by process ${holder.pid} (${holder.what}); waiting`) },
  });
  const context: InstallContext = {
    registry,
    get settings() {
      return gateway.config.plugins;
    },
    goLive: async (name) => {
      const outcome = await reloadFromFile(gateway, logger);
      // A swap refused (its canary trapped, its configure failed) left the old version live in that
      // pipeline: the install did not go live there, and the registry is put back.
      if (outcome.failed.length > 0) {
        const problems = outcome.failed.map((f) => `pipeline ${f.pipeline}: ${f.code}: ${f.message}`);
        throw new WgError('WG_ERR_PACKAGE_SWAP_REFUSED', { plugin: name, detail: problems.join('; '), problems });
      }
      return pipelinesRunning(gateway.config, registry, name);
    },
  };
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  // `work` resolving null did nothing, and is not logged.
  const logged = async <T extends object | null>(event: 'plugin.installed' | 'plugin.rolled_back', about: { plugin: string; file?: string; via?: string; cause?: string }, work: () => Promise<T>): Promise<T> => {
    const refusedEvent = event === 'plugin.installed' ? 'plugin.install_refused' : 'plugin.rollback_refused';
    try {
      const outcome = await oneAtATime(work);
      if (outcome !== null) logger.info({ event, ...(outcome as Record<string, unknown>), ...(about.via ? { via: about.via } : {}), ...(about.cause ? { cause: about.cause } : {}) }, event === 'plugin.installed' ? 'plugin package installed' : 'plugin rolled back');
      return outcome;
    } catch (err) {
      const named = (err as { context?: { plugin?: unknown } }).context?.plugin;
      const plugin = typeof named === 'string' ? named : about.plugin;
      logger.error({ event: refusedEvent, ...about, plugin, code: (err as { code?: string }).code, err }, (err as Error).message);
      throw err;
    }
  };
  return {
    handlers: {
      'plugin.install': async (params) => {
        // `package`: the package itself, base64 (it fits a request line); else the daemon reads `file`.
        const p = readParams('plugin.install', params, { file: { type: 'string', required: true }, sha256: { type: 'string' }, package: { type: 'string' }, force: { type: 'boolean' } });
        const source = p.package !== undefined ? { file: p.file, bytes: Buffer.from(p.package, 'base64') } : { file: p.file };
        return logged('plugin.installed', { plugin: basename(p.file), file: p.file }, () => installPackage(source, context, p.sha256, { force: p.force === true }));
      },
      'plugin.rollback': async (params) => {
        const p = readParams('plugin.rollback', params, { plugin: { type: 'string', required: true }, to: { type: 'string' } });
        return logged('plugin.rolled_back', { plugin: p.plugin }, () => rollbackPlugin(p.plugin, p.to, context));
      },
      'plugin.list': async (params) => {
        readParams('plugin.list', params, {});
        return listPlugins(gateway.config, registry);
      },
    },
    install: (source, via) => logged('plugin.installed', { plugin: basename(source.file), file: source.file, via }, () => installPackage(source, context)),
    // Read in its turn of the queue: an earlier rollback (the guard's) may have moved it already.
    rollbackFrom: (plugin, version, via) => logged('plugin.rolled_back', { plugin, via }, async () => (
      (await registry.read()).plugins[plugin]?.active.version === version ? rollbackPlugin(plugin, undefined, context) : null
    )),
    rolledBackForCause: async (rollback) => {
      const { from, to } = rollback;
      if (!isRegistryPath(gateway.config.dataDir, from.wasmPath)) return;
      const index = await registry.read();
      const active = index.plugins[from.plugin]?.active;
      // The version the step ran must be the registry's active one (its directory is `<version>-<sha12>`).
      if (!active || basename(dirname(from.wasmPath)) !== active.dir) return;
      const back = isRegistryPath(gateway.config.dataDir, to.wasmPath) ? to.manifest.version : undefined;
      const cause = { reason: rollback.reason, pipeline: rollback.pipeline, from: { version: active.version, sha256: active.sha256 } };
      await logged('plugin.rolled_back', { plugin: from.plugin, cause: 'crash-loop' }, () => rollbackPlugin(from.plugin, back, context, cause));
    },
  };
}
