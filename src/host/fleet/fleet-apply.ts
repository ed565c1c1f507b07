/**
 * What a fleet command does to the plugins, loaded at the first command (it reads manifests, with
 * yaml and ajv, like the control socket's package operations). An install and a rollback go through
 * the gateway's one instance of the plugin operations (control/plugin-ops.ts), so a package from the
 * fleet meets exactly the checks, the queue, the canary, the crash-loop watch and the log lines of
 * `wasmgate plugin install`; this adds only what a command names beyond a file: that the package is
 * the plugin and version the command says, and for a rollback which version it leaves.
 */
import { WgError } from '../errors.js';
import type { PluginOps } from '../control/plugin-control.js';
import { parsePackage } from '../packages/plugin-package.js';

export interface Applied {
  readonly outcome: 'applied' | 'unchanged';
  readonly reason?: string;
}

/** `bytes` has the sha256 the command names (checked by the agent before this runs). */
export async function applyInstall(id: string, plugin: string, version: string, bytes: Uint8Array, ops: PluginOps): Promise<Applied> {
  const file = `fleet command ${id}`;
  const manifest = parsePackage(bytes, file).manifest;
  if (manifest.name !== plugin || manifest.version !== version) {
    throw new WgError('WG_ERR_FLEET_MISMATCH', { id, plugin, version, actual: `${manifest.name} ${manifest.version}` });
  }
  const done = await ops.install({ file, bytes }, 'fleet');
  if (done.status === 'already-active') return { outcome: 'unchanged', reason: `${plugin} ${version} with these bytes is active already` };
  return { outcome: 'applied', reason: `${plugin} ${version} is live (before: ${done.previous ?? 'none in the registry'}); pipelines running it: ${done.pipelines.join(', ') || 'none'}` };
}

/**
 * Leaves `version` of `plugin` for the version active before it. When `version` is not the active
 * one when the rollback's turn comes (rolled back already, never installed here, or refused), nothing
 * changes: a rollback command never takes away a version it does not name.
 */
export async function applyRollback(plugin: string, version: string, ops: PluginOps): Promise<Applied> {
  const done = await ops.rollbackFrom(plugin, version, 'fleet');
  if (done === null) return { outcome: 'unchanged', reason: `${plugin} ${version} is not the active version` };
  return { outcome: 'applied', reason: `${plugin} rolled back from ${done.from} to ${done.to ?? 'the plugin directories\' version'}` };
}
