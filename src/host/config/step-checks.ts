/**
 * Checks of a pipeline's steps against the plugins they name: the plugin exists (saying where it was
 * looked for), its manifest is sound, the step's `with:` passes the manifest's schema (which also
 * fills in the plugin's defaults), and the kinds chain up: decoder, transforms, encoder.
 */
import type { StepDocument } from './pipeline-schema.js';
import type { PluginCatalog } from './plugin-catalog.js';
import type { InstalledPlugin } from './plugin-manifest.js';
import type { ConfigProblem } from './problem.js';
import type { SettingChecks } from './setting-checks.js';
import { formatSettingPath } from './setting-path.js';

/**
 * Returns the plugin of each step (undefined where it could not be found or is broken). Problems of a
 * broken manifest are added once per manifest file: `reportedManifests` remembers which were.
 */
export async function checkSteps(
  steps: readonly StepDocument[],
  catalog: PluginCatalog | undefined,
  checks: SettingChecks,
  problems: ConfigProblem[],
  reportedManifests: Set<string>,
  grant?: readonly string[],
): Promise<(InstalledPlugin | undefined)[]> {
  const plugins = await Promise.all(steps.map((step, i) => findStepPlugin(step, i, catalog, checks, problems, reportedManifests)));
  steps.forEach((step, i) => {
    const plugin = plugins[i];
    if (!plugin) return;
    // Capabilities: a plugin may import what its manifest lists, and its manifest may list only
    // what the gateway grants (plugins.grant); the module itself is held to its manifest at compile.
    const refused = grant === undefined ? [] : plugin.manifest.imports.filter((name) => !grant.includes(name));
    if (refused.length > 0) {
      checks.report(stepKey(step, i), 'WG_ERR_PLUGIN_NOT_GRANTED', {
        plugin: plugin.manifest.name, import: refused.map((name) => `wasmgate.${name}`).join(', '),
        detail: `the gateway grants ${grant!.length > 0 ? grant!.join(', ') : 'none'} (plugins.grant)`,
      });
    }
    for (const finding of plugin.validateSettings(step.with)) {
      checks.report(
        ['steps', i, 'with', ...finding.path],
        'WG_ERR_CONFIG_PLUGIN_SETTINGS',
        { plugin: plugin.manifest.name, setting: formatSettingPath(finding.path) || '(all)', detail: finding.detail },
        finding.anchor,
      );
    }
  });
  checkKinds(steps, plugins, checks);
  return plugins;
}

async function findStepPlugin(
  step: StepDocument,
  i: number,
  catalog: PluginCatalog | undefined,
  checks: SettingChecks,
  problems: ConfigProblem[],
  reportedManifests: Set<string>,
): Promise<InstalledPlugin | undefined> {
  // Both or neither given is reported by the pipeline checks; there is no plugin to look at then.
  if (!checks.clean(['steps', i]) || (step.plugin === undefined) === (step.path === undefined) || catalog === undefined) return undefined;
  let lookup;
  if (step.plugin !== undefined) {
    lookup = await catalog.find(step.plugin);
    if (lookup.status === 'missing') {
      checks.report(['steps', i, 'plugin'], 'WG_ERR_CONFIG_UNKNOWN_PLUGIN', { plugin: step.plugin, detail: `looked for ${lookup.looked.join(', ')}` });
    }
  } else {
    const wasmPath = checks.absolute(step.path as string);
    await checks.readableFile(['steps', i, 'path'], step.path as string, 'plugin module');
    lookup = await catalog.atPath(wasmPath);
    if (lookup.status === 'missing') {
      checks.report(['steps', i, 'path'], 'WG_ERR_CONFIG_UNKNOWN_PLUGIN', {
        plugin: step.path,
        detail: `no manifest next to the module: looked for ${lookup.looked.join(', ')}`,
      });
    }
  }
  if (lookup.status === 'invalid') {
    const file = lookup.problems[0]?.file ?? '';
    if (!reportedManifests.has(file)) {
      reportedManifests.add(file);
      problems.push(...lookup.problems);
    }
    return undefined;
  }
  return lookup.status === 'found' ? lookup.plugin : undefined;
}

/** Frames enter the first step and messages leave the last: decoder, then transforms, then encoder. */
function checkKinds(steps: readonly StepDocument[], plugins: readonly (InstalledPlugin | undefined)[], checks: SettingChecks): void {
  const last = steps.length - 1;
  plugins.forEach((plugin, i) => {
    if (!plugin) return;
    const kind = plugin.manifest.kind;
    const a = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);
    const expected = i === 0 ? 'decoder' : i === last ? 'encoder' : 'transform';
    if (last === 0) {
      checks.invalid(stepKey(steps[i] as StepDocument, i), `a pipeline needs at least a decoder step and an encoder step; "${plugin.manifest.name}" alone is ${a(kind)}`);
    } else if (kind !== expected) {
      const role = i === 0 ? 'the first step receives raw frames' : i === last ? 'the last step must produce messages' : 'a middle step passes samples on';
      checks.invalid(stepKey(steps[i] as StepDocument, i), `plugin "${plugin.manifest.name}" is ${a(kind)}, but ${role}, so it must be ${a(expected)}`);
    }
  });
}

function stepKey(step: StepDocument, i: number): (string | number)[] {
  return ['steps', i, step.plugin !== undefined ? 'plugin' : 'path'];
}
