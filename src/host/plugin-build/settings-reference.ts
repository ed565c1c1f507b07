/**
 * The settings reference of the built-in plugins (docs/plugin-settings.md), generated from their
 * manifests, which are the single declaration of each plugin's settings. A test regenerates it and
 * fails when the committed file differs: `wasmgate plugin docs` rewrites it.
 */
import { loadPluginManifest } from '../config/index.js';
import type { PluginManifest } from '../config/plugin-manifest.js';
import { WgError } from '../errors.js';
import { BUILTIN_PLUGIN_DIR, BUILTIN_PLUGINS } from './build.js';
import { join } from 'node:path';

type Schema = {
  type?: string | string[];
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
};

interface Row {
  path: string;
  schema: Schema;
}

function rows(schema: Schema, prefix: string): Row[] {
  const out: Row[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    out.push({ path, schema: child });
    if (child.properties) out.push(...rows(child, path));
    if (typeof child.additionalProperties === 'object') {
      const entry = child.additionalProperties;
      out.push(...rows(entry, `${path}.<${name === 'points' ? 'point name' : 'name'}>`));
    }
  }
  return out;
}

function code(value: unknown): string {
  return value === undefined ? '' : `\`${JSON.stringify(value)}\``;
}

function typeOf(s: Schema): string {
  const base = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type ?? 'any';
  const items = s.items?.enum ? ` of ${s.items.enum.map((e) => code(e)).join(', ')}` : s.items?.type ? ` of ${String(s.items.type)}` : '';
  const choices = s.enum ? `: ${s.enum.map((e) => code(e)).join(', ')}` : '';
  const range = [
    s.minimum !== undefined ? `≥ ${s.minimum}` : s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : '',
    s.maximum !== undefined ? `≤ ${s.maximum}` : '',
  ].filter(Boolean).join(', ');
  return `${base}${items}${choices}${range ? ` (${range})` : ''}`;
}

function cell(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
}

export function renderManifest(m: PluginManifest): string {
  const lines = [`## ${m.name}`, '', `*${m.kind}*, ABI ${m.abi}, version ${m.version}`, '', m.description.trim(), ''];
  const table = rows(m.with as Schema, '');
  if (table.length === 0) {
    lines.push('No settings.', '');
    return lines.join('\n');
  }
  lines.push('| setting | type | default | example | description |', '|---|---|---|---|---|');
  for (const { path, schema } of table) {
    lines.push(`| \`${path}\` | ${cell(typeOf(schema))} | ${cell(code(schema.default))} | ${cell(code(schema.examples?.[0]))} | ${cell(schema.description ?? '')} |`);
  }
  lines.push('');
  return lines.join('\n');
}

export async function renderSettingsReference(root: string = BUILTIN_PLUGIN_DIR): Promise<string> {
  const parts = [
    '# Plugin settings reference',
    '',
    '<!-- Generated from plugins/*/plugin.yaml by `wasmgate plugin docs`; a test fails when it is stale. -->',
    '',
    'Each step of a pipeline names a plugin and gives its settings under `with:`. The gateway checks them',
    'against the plugin\'s manifest before the plugin runs (unknown keys are errors) and fills in the',
    'defaults below. Where a plugin takes `points`, its top-level settings apply to every point and',
    '`points.<point name>` overrides them for one point.',
    '',
  ];
  for (const dir of BUILTIN_PLUGINS.map((name) => join(root, name))) {
    const loaded = await loadPluginManifest(dir);
    if (!loaded.ok) throw new WgError('WG_ERR_PLUGIN_MANIFEST', { file: dir, detail: loaded.problems.map((p) => p.message).join('; ') });
    parts.push(renderManifest(loaded.plugin.manifest));
  }
  return `${parts.join('\n').trimEnd()}\n`;
}
