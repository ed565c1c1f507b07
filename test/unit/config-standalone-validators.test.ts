/**
 * The validators the build compiles (src/host/config/standalone-validators.ts) stand in for ajv's
 * run-time compilation of the same schemas: the build made one for each of the config area's own
 * schemas, each finds in a broken file exactly what a run-time compiled validator finds and fills in
 * the same defaults, and a schema the build did not see gets none (so it is compiled, never checked
 * by a validator of another schema). The reference is ajv compiling the schema in this process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { gatewaySchema } from '../../src/host/config/gateway-schema.js';
import { pipelineSchema } from '../../src/host/config/pipeline-schema.js';
import { manifestSchema } from '../../src/host/config/manifest-schema.js';
import { createAjv, describeSchemaErrors } from '../../src/host/config/schema-errors.js';
import { standaloneValidator } from '../../src/host/config/standalone-validators.js';
import { loadPluginManifest } from '../../src/host/config/plugin-manifest.js';
import { BUILTIN_PLUGIN_DIR, BUILTIN_PLUGINS } from '../../src/host/plugin-build/build.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const load = (file: string) => parse(readFileSync(`${root}${file}`, 'utf8')) as Record<string, unknown>;
const yamlFiles = (dir: string) => readdirSync(`${root}${dir}`).filter((f) => f.endsWith('.yaml')).map((f) => `${dir}/${f}`);

/** A copy of `doc` with `value` at `path` (undefined: the key removed). */
function edited(doc: Record<string, unknown>, path: (string | number)[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(doc);
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy;
}

test('the build compiled a validator for the gateway, pipeline and manifest schemas and each built-in plugin\'s settings', async () => {
  for (const schema of [gatewaySchema, pipelineSchema, manifestSchema]) assert.equal(typeof standaloneValidator(schema), 'function');
  for (const name of BUILTIN_PLUGINS) {
    const loaded = await loadPluginManifest(join(BUILTIN_PLUGIN_DIR, name));
    assert.ok(loaded.ok, name);
    assert.equal(typeof standaloneValidator(loaded.plugin.manifest.with), 'function', name);
  }
});

test('a schema the build did not see has no build validator: it is compiled at run time', () => {
  assert.equal(standaloneValidator({ ...gatewaySchema, description: 'changed since the build' }), undefined);
  assert.equal(standaloneValidator({ type: 'object' }), undefined);
});

test('the build validators find what run-time compiled ones find, and fill in the same defaults', async () => {
  const gateway = load('config/demo.yaml');
  const pipeline = load('pipelines/etl-example.yaml');
  const rtu = load('pipelines/meters-rtu.yaml');
  const manifest = load('plugins/scale/plugin.yaml');
  const si = await loadPluginManifest(join(BUILTIN_PLUGIN_DIR, 'si'));
  const json = await loadPluginManifest(join(BUILTIN_PLUGIN_DIR, 'json'));
  assert.ok(si.ok && json.ok);
  const cases: [object, Record<string, unknown>[]][] = [
    [gatewaySchema, [
      ...yamlFiles('config').map(load),
      edited(gateway, ['metrcs'], {}),
      edited(gateway, ['gateway', 'id'], 'no spaces allowed'),
      edited(gateway, ['gateway', 'log'], { level: 'loud', format: 3 }),
      edited(gateway, ['uplinks'], { 'bad name': { mqtt: { url: 'http://x' } }, two: { mqtt: { url: 'mqtt://x' }, coap: { url: 'coap://x' } }, none: {} }),
      edited(gateway, ['pipelines'], []),
      edited(gateway, ['metrics'], { listen: 9464 }),
      edited(gateway, ['control'], { socket: '' }),
      edited(gateway, ['gateway'], undefined),
    ]],
    [pipelineSchema, [
      ...yamlFiles('pipelines').map(load),
      edited(pipeline, ['pipeline', 'batch'], { deadline: 'soon', max_records: 0 }),
      edited(pipeline, ['pipeline', 'ring'], { ingress: '1MB', egress: -1 }),
      edited(pipeline, ['source'], {}),
      edited(pipeline, ['source', 'bacnet'], { devices: [] }),
      edited(pipeline, ['steps'], [{ plugin: 'Upper' }, { path: '' }, 'json']),
      edited(pipeline, ['publish'], { topic: '', qos: 2, retain: 'yes' }),
      edited(rtu, ['source', 'modbus_rtu', 'buses', 0, 'parity'], 'mark'),
      edited(rtu, ['source', 'modbus_rtu', 'buses', 0, 'devices', 0, 'unit_id'], 248),
      edited(rtu, ['profiles'], { 'bad name': { points: [] }, ok: { points: [{ name: 'p', function: 7, type: 'int8' }] } }),
    ]],
    [manifestSchema, [
      manifest,
      edited(manifest, ['kind'], 'sink'),
      edited(manifest, ['version'], 'one'),
      edited(manifest, ['with'], { type: 'array', additionalProperties: true, properties: { x: { type: 'number' } } }),
      edited(manifest, ['abi'], undefined),
    ]],
    // Step settings: empty (every default filled in), an unknown setting, values of the wrong type.
    [si.plugin.manifest.with, [{}, { no_such_setting: 1 }, Object.fromEntries(Object.keys(si.plugin.manifest.with.properties).map((k) => [k, [[]]]))]],
    [json.plugin.manifest.with, [{}, { shape: 'no such shape' }, Object.fromEntries(Object.keys(json.plugin.manifest.with.properties).map((k) => [k, [[]]]))]],
  ];
  const ajv = createAjv();
  let refused = 0;
  for (const [schema, docs] of cases) {
    const built = standaloneValidator(schema)!;
    const compiled = ajv.compile(schema);
    for (const doc of docs) {
      const a = structuredClone(doc);
      const b = structuredClone(doc);
      const verdict = built(a);
      assert.equal(verdict, compiled(b), JSON.stringify(doc));
      if (!verdict) refused++;
      assert.deepEqual(describeSchemaErrors(built.errors, a), describeSchemaErrors(compiled.errors, b), JSON.stringify(doc));
      assert.deepEqual(a, b, 'the same defaults filled in');
    }
  }
  assert.equal(refused, 25, 'every edited file is refused, every shipped one accepted');
});
