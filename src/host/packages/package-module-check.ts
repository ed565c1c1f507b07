/**
 * What a package's module must be before it may be installed, all checked before any of it runs:
 * a module that passes the ABI check with the imports its manifest lists (engine/abi-check.ts; one
 * importing a host function its manifest does not list is refused, naming it), imports the gateway
 * grants (`plugins.grant`), and exports that fit the kind the manifest declares. The kind check is
 * what a module's exports can tell: the polling, framing and write groups belong to decoders,
 * `wg_units` to transforms, and `wg_tick` is not called on decoders (docs/plugin-abi.md). What they
 * cannot tell (a transform posing as an encoder) the pipeline's chain check catches at the reload.
 */
import { v8Engine, type CompiledPlugin } from '../engine/engine.js';
import { IMPORT_NAMESPACE, POLLING_EXPORTS, WRITE_EXPORTS } from '../engine/abi.js';
import { WgError } from '../errors.js';
import type { PluginPackage } from './plugin-package.js';

export function checkPackageModule(pkg: PluginPackage, grant: readonly string[]): CompiledPlugin {
  const { manifest, file } = pkg;
  const notGranted = manifest.imports.filter((i) => !grant.includes(i));
  if (notGranted.length > 0) {
    throw new WgError('WG_ERR_PLUGIN_NOT_GRANTED', {
      plugin: manifest.name, file, import: notGranted.map((i) => `${IMPORT_NAMESPACE}.${i}`).join(', '),
      detail: `the gateway grants ${grant.length > 0 ? grant.join(', ') : 'none'} (plugins.grant)`,
    });
  }
  const compiled = v8Engine.compile(pkg.module, manifest.name, file, manifest.abi, { imports: manifest.imports });
  const lies = kindLies(compiled, manifest.kind);
  if (lies.length > 0) throw new WgError('WG_ERR_PACKAGE_KIND', { plugin: manifest.name, file, kind: manifest.kind, detail: lies.join('; ') });
  return compiled;
}

/**
 * What the module's exports say against the kind declared, each naming the export. Read from the
 * export list itself, not from the engine's facts (which count wg_framing only next to the polling
 * group, so a lone wg_framing on a transform went unseen).
 */
function kindLies(compiled: CompiledPlugin, kind: string): string[] {
  const names = new Set(WebAssembly.Module.exports(compiled.module).map((e) => e.name));
  const has = (list: readonly string[]) => list.filter((n) => names.has(n));
  const lies: string[] = [];
  if (kind !== 'decoder') {
    const polling = has(POLLING_EXPORTS);
    if (polling.length > 0) lies.push(`it exports the polling group (${polling.join(', ')}), which only a decoder has`);
    const writes = has(WRITE_EXPORTS);
    if (writes.length > 0) lies.push(`it exports the write group (${writes.join(', ')}), which only a decoder has`);
    if (names.has('wg_framing')) lies.push('it exports wg_framing, which only a decoder has');
  }
  if (kind !== 'transform' && names.has('wg_units')) lies.push('it exports wg_units, which only a transform has');
  if (kind === 'decoder' && names.has('wg_tick')) lies.push('it exports wg_tick, which the host never calls on a decoder');
  if (kind === 'decoder' && names.has('wg_framing') && has(POLLING_EXPORTS).length === 0) {
    lies.push(`it exports wg_framing but lacks the polling group it belongs to (${POLLING_EXPORTS.join(', ')}), which a decoder with a framing rule must export`);
  }
  return lies;
}
