/**
 * The control operations on plugin packages (docs/control.md): `plugin.install`, `plugin.rollback`
 * and `plugin.list`, registered with the others in gateway-control.ts. An install or a rollback goes
 * live through the daemon's reload (a pipeline whose module alone changed has the step swapped in its running worker; the others run on
 * untouched); one at a time, in the order asked, so that two never interleave their registry writes.
 */
import { basename } from 'node:path';
import { WgError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import { installPackage, rollbackPlugin, type InstallContext } from '../packages/package-install.js';
import { listPlugins } from '../packages/plugin-listing.js';
import { PluginRegistry } from '../packages/plugin-registry.js';
import { pipelinesRunning } from '../packages/registry-usage.js';
import { reloadFromFile } from '../reload/reload-from-file.js';
import { readParams } from './control-params.js';
import type { ControlHandlers } from './control-server.js';

export function pluginControl(gateway: Gateway, logger: Logger): ControlHandlers {
  const registry = new PluginRegistry(gateway.config.dataDir);
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
  const logged = async <T extends object>(event: 'plugin.installed' | 'plugin.rolled_back', about: { plugin: string; file?: string }, work: () => Promise<T>): Promise<T> => {
    const refusedEvent = event === 'plugin.installed' ? 'plugin.install_refused' : 'plugin.rollback_refused';
    try {
      const outcome = await oneAtATime(work);
      logger.info({ event, ...(outcome as Record<string, unknown>) }, event === 'plugin.installed' ? 'plugin package installed' : 'plugin rolled back');
      return outcome;
    } catch (err) {
      const named = (err as { context?: { plugin?: unknown } }).context?.plugin;
      const plugin = typeof named === 'string' ? named : about.plugin;
      logger.error({ event: refusedEvent, ...about, plugin, code: (err as { code?: string }).code, err }, (err as Error).message);
      throw err;
    }
  };
  return {
    'plugin.install': async (params) => {
      // `package`: the package itself, base64 (it fits a request line); else the daemon reads `file`.
      const p = readParams('plugin.install', params, { file: { type: 'string', required: true }, sha256: { type: 'string' }, package: { type: 'string' } });
      const source = p.package !== undefined ? { file: p.file, bytes: Buffer.from(p.package, 'base64') } : { file: p.file };
      return logged('plugin.installed', { plugin: basename(p.file), file: p.file }, () => installPackage(source, context, p.sha256));
    },
    'plugin.rollback': async (params) => {
      const p = readParams('plugin.rollback', params, { plugin: { type: 'string', required: true }, to: { type: 'string' } });
      return logged('plugin.rolled_back', { plugin: p.plugin }, () => rollbackPlugin(p.plugin, p.to, context));
    },
    'plugin.list': async (params) => {
      readParams('plugin.list', params, {});
      return listPlugins(gateway.config, registry);
    },
  };
}
