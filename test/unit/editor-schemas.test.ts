/**
 * The editor schemas (src/host/config/editor-schemas.ts, published in schemas/): the committed files
 * are what the code generates, the shipped configuration files validate against them, and a file the
 * loader refuses is refused by them too, including a plugin's `with:` settings. The validator is
 * Debian's python3-jsonschema, not the ajv the loader uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EDITOR_SCHEMA_FILES, editorSchemaText, type EditorSchemaName } from '../../src/host/config/editor-schemas.js';
import { needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const VALIDATE = `${root}test/support/jsonschema_validate.py`;
const gate = needs('python3-jsonschema', spawnSync('/usr/bin/python3', ['-c', 'import jsonschema'], { stdio: 'ignore' }).status === 0);

function validate(name: EditorSchemaName, documents: Record<string, unknown>): Record<string, string[]> {
  const schema = JSON.parse(readFileSync(`${root}schemas/${EDITOR_SCHEMA_FILES[name]}`, 'utf8')) as unknown;
  const run = spawnSync('/usr/bin/python3', [VALIDATE], { input: JSON.stringify({ schema, documents }), encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Record<string, string[]>;
}

const yamlFiles = (dir: string) => readdirSync(`${root}${dir}`).filter((f) => f.endsWith('.yaml')).map((f) => `${dir}/${f}`);
const load = (file: string) => parse(readFileSync(`${root}${file}`, 'utf8')) as unknown;

/**
 * Where two texts first differ, with a few lines of each: a stale schema is tens of kilobytes, and the
 * full diff node:assert prints for two such strings made the test runner spin and never end.
 */
function firstDifference(committed: string, generated: string): string | undefined {
  if (committed === generated) return undefined;
  const a = committed.split('\n');
  const b = generated.split('\n');
  let line = 0;
  while (line < a.length && line < b.length && a[line] === b[line]) line++;
  const excerpt = (lines: string[]) => lines.slice(line, line + 4).join('\n');
  return `first difference at line ${line + 1}\ncommitted:\n${excerpt(a)}\ngenerated:\n${excerpt(b)}`;
}

test('the committed schemas are what the code generates (run `wasmgate schema --write schemas` after a change)', async () => {
  for (const name of Object.keys(EDITOR_SCHEMA_FILES) as EditorSchemaName[]) {
    const difference = firstDifference(readFileSync(`${root}schemas/${EDITOR_SCHEMA_FILES[name]}`, 'utf8'), await editorSchemaText(name));
    assert.equal(difference, undefined, `schemas/${EDITOR_SCHEMA_FILES[name]} is stale: ${difference}`);
  }
});

test('every shipped gateway and pipeline file validates against its schema', gate, () => {
  const gateways = Object.fromEntries(yamlFiles('config').map((f) => [f, load(f)]));
  const pipelines = Object.fromEntries(yamlFiles('pipelines').map((f) => [f, load(f)]));
  assert.ok(Object.keys(gateways).length >= 3 && Object.keys(pipelines).length >= 3);
  for (const [file, errors] of Object.entries({ ...validate('gateway', gateways), ...validate('pipeline', pipelines) })) {
    assert.deepEqual(errors, [], file);
  }
});

test('what the loader refuses, the schemas refuse: an unknown key, a bad duration, a plugin setting the manifest does not know', gate, () => {
  const pipeline = load('pipelines/etl-example.yaml') as { steps: Array<{ plugin?: string; with?: Record<string, unknown> }>; pipeline: Record<string, unknown> };
  const badWith = structuredClone(pipeline);
  const si = badWith.steps.find((s) => s.plugin === 'si');
  assert.ok(si, 'the example pipeline has an si step');
  si.with = { ...si.with, no_such_setting: 1 };
  const badDuration = structuredClone(pipeline);
  badDuration.pipeline.batch = { deadline: 'soon' };
  const result = validate('pipeline', { badWith, badDuration });
  assert.ok(result.badWith!.some((e) => /no_such_setting/.test(e)), JSON.stringify(result.badWith));
  assert.ok(result.badDuration!.some((e) => /^pipeline\/batch\/deadline: /.test(e)), JSON.stringify(result.badDuration));
  const gateway = load('config/demo.yaml') as Record<string, unknown>;
  const gatewayErrors = validate('gateway', { unknown: { ...gateway, metrcs: {} }, listen: { ...gateway, metrics: { listen: 9464 } } });
  assert.ok(gatewayErrors.unknown!.some((e) => /metrcs/.test(e)), JSON.stringify(gatewayErrors.unknown));
  assert.ok(gatewayErrors.listen!.some((e) => /^metrics\/listen: /.test(e)), JSON.stringify(gatewayErrors.listen));
});

test('wasmgate schema pipeline prints the published schema', async () => {
  const run = await runWasmgate(['schema', 'pipeline']);
  assert.equal(run.code, 0, run.stderr);
  const difference = firstDifference(readFileSync(`${root}schemas/pipeline.schema.json`, 'utf8'), `${run.stdout.trimEnd()}\n`);
  assert.equal(difference, undefined, `wasmgate schema pipeline prints another schema: ${difference}`);
  const usage = await runWasmgate(['schema']);
  assert.equal(usage.code, 2);
});
