/**
 * The plugin operations of a running gateway (plugin-control.ts), one instance per gateway whoever
 * asks first: the control socket, the drop-in directory, the crash-loop guard. Loaded at their first
 * use: they read manifests with yaml and ajv, which the daemon otherwise never loads (its
 * configuration is read in a thread of its own).
 */
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import type { PluginOps } from './plugin-control.js';
import { isRegistryPath } from '../packages/registry-layout.js';

const loaded = new WeakMap<Gateway, Promise<PluginOps>>();

export function pluginOps(gateway: Gateway, logger: Logger): Promise<PluginOps> {
  let ops = loaded.get(gateway);
  if (!ops) {
    ops = import('./plugin-control.js').then((m) => m.pluginControl(gateway, logger));
    loaded.set(gateway, ops);
  }
  return ops;
}

/**
 * Has the registry follow the crash-loop guard: a step rolled back from a version stored in the
 * registry has the registry rolled back too, and that version recorded as rolled back for cause
 * (plugin-control.ts, `rolledBackForCause`). Steps from plugin_dirs or a path leave the registry alone,
 * without loading the package modules.
 */
export function followCrashLoopRollbacks(gateway: Gateway, logger: Logger): void {
  gateway.onStepRolledBack((rollback) => {
    if (!isRegistryPath(gateway.config.dataDir, rollback.from.wasmPath)) return;
    void pluginOps(gateway, logger).then((ops) => ops.rolledBackForCause(rollback)).catch(() => {
      // Logged by the operation (plugin.rollback_refused); the worker runs the previous version either way.
    });
  });
}
