/**
 * The JSON Schemas of the gateway and pipeline files as an editor takes them (yaml-language-server,
 * VS Code's YAML extension): the very schemas the loader validates with (gateway-schema.ts,
 * pipeline-schema.ts, each kind's fragment), with `$schema`, `$id` and a title, and, for the built-in
 * plugins, each step's `with:` settings from the plugin's manifest, so an editor completes and checks
 * them too. Published in the repository's `schemas/` (a test fails when they are stale) and printed
 * by `wasmgate schema`. What the schema cannot say (a `publish.uplink` that must name an uplink, unique
 * names, readable files) only `wasmgate validate` checks.
 */
import { join } from 'node:path';
import { gatewaySchema } from './gateway-schema.js';
import { pipelineSchema } from './pipeline-schema.js';
import { loadPluginManifest } from './plugin-manifest.js';
import { WgError } from '../errors.js';
import { ruleIncludeSchema, ruleSchema } from '../rules/rule-schema.js';
import { BUILTIN_PLUGIN_DIR, BUILTIN_PLUGINS } from '../plugin-build/build.js';

export const EDITOR_SCHEMA_FILES = { gateway: 'gateway.schema.json', pipeline: 'pipeline.schema.json' } as const;
export type EditorSchemaName = keyof typeof EDITOR_SCHEMA_FILES;

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** Every built-in plugin's step, `with:` checked by its manifest's schema. */
async function builtinSteps(): Promise<Record<string, unknown>[]> {
  const steps: Record<string, unknown>[] = [];
  for (const name of BUILTIN_PLUGINS) {
    const loaded = await loadPluginManifest(join(BUILTIN_PLUGIN_DIR, name));
    if (!loaded.ok) throw new WgError('WG_ERR_PLUGIN_MANIFEST', { file: name, detail: loaded.problems.map((p) => p.message).join('; ') });
    const { manifest } = loaded.plugin;
    steps.push({
      if: { required: ['plugin'], properties: { plugin: { const: manifest.name } } },
      then: { properties: { with: { ...manifest.with, description: `${manifest.name} ${manifest.version}: ${manifest.description}` } } },
    });
  }
  return steps;
}

export async function editorSchema(name: EditorSchemaName): Promise<Record<string, unknown>> {
  const head = { $schema: DRAFT };
  if (name === 'gateway') return { ...head, title: 'wasmgate gateway file', ...gatewaySchema };
  const steps = pipelineSchema.properties.steps as { items: Record<string, unknown> };
  return {
    ...head,
    title: 'wasmgate pipeline file',
    ...pipelineSchema,
    properties: {
      ...pipelineSchema.properties,
      steps: { ...steps, items: { ...steps.items, allOf: await builtinSteps() } },
      // The loader checks each rule on its own (rule-checks.ts); an editor takes either shape.
      rules: { ...pipelineSchema.properties.rules, items: { anyOf: [ruleIncludeSchema, ruleSchema] } },
    },
  };
}

/** The text of a schema file: two-space JSON and a newline, as committed. */
export async function editorSchemaText(name: EditorSchemaName): Promise<string> {
  return `${JSON.stringify(await editorSchema(name), null, 2)}\n`;
}
