/**
 * Plugin manifests: every manifest shipped under plugins/ (and the test fixtures) declares each `with`
 * property fully, and the manifest loader reports each kind of manifest mistake at its position.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { loadPluginManifest, PluginCatalog, type ConfigProblem } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, REPO_ROOT } from './config-workspace.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

async function manifestDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  return entries.filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'plugin.yaml'))).map((e) => join(root, e.name));
}

test('every manifest in plugins/ and in the fixtures declares type, description, default and examples per setting', async () => {
  const dirs = [...(await manifestDirs(join(REPO_ROOT, 'plugins'))), ...(await manifestDirs(FIXTURE_PLUGINS))];
  assert.ok(dirs.length >= 3, 'at least the three fixture manifests');
  for (const dir of dirs) {
    // Read with the plain parser, independently of the loader under test.
    const manifest = parse(await readFile(join(dir, 'plugin.yaml'), 'utf8')) as { with?: { properties?: Record<string, Record<string, unknown>> } };
    for (const [key, property] of Object.entries(manifest.with?.properties ?? {})) {
      for (const required of ['type', 'description', 'default', 'examples']) {
        assert.ok(property[required] !== undefined, `${dir}/plugin.yaml: with.properties.${key} has no ${required}`);
      }
      assert.ok(Array.isArray(property.examples) && property.examples.length > 0, `${dir}: with.properties.${key}.examples is empty`);
    }
    const loaded = await loadPluginManifest(dir);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`).join('\n'));
  }
});

test('the catalog lists plugins of every directory; the first directory wins a name', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('extra/fixture-encoder/plugin.yaml', ['name: fixture-encoder', 'kind: encoder', 'abi: 1', 'version: 9.9.9', 'description: Shadowed.']);
    await ws.write('extra/solo/plugin.yaml', ['name: solo', 'kind: transform', 'abi: 1.1', 'version: 0.0.1', 'description: Only here.']);
    const catalog = new PluginCatalog([FIXTURE_PLUGINS, ws.path('extra')]);
    const { plugins, problems } = await catalog.list();
    assert.deepEqual(problems, []);
    assert.deepEqual(
      plugins.map((p) => [p.manifest.name, p.manifest.version]),
      [
        ['fixture-decoder', '0.1.0'],
        ['fixture-encoder', '0.1.0'],
        ['fixture-transform', '0.1.0'],
        ['solo', '0.0.1'],
      ],
    );
    const found = await catalog.find('solo');
    assert.equal(found.status, 'found');
    if (found.status === 'found') {
      assert.equal(found.plugin.manifest.abi, 1.1);
      assert.equal(found.plugin.wasmPath, ws.path('extra/solo/build/solo.wasm'));
    }
    assert.deepEqual(await catalog.find('nothing'), {
      status: 'missing',
      looked: [join(FIXTURE_PLUGINS, 'nothing/plugin.yaml'), ws.path('extra/nothing/plugin.yaml')],
    });
  } finally {
    await ws.remove();
  }
});

test('manifest mistakes are each reported at their position', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('plugins/smooth/plugin.yaml', [
      'name: smoothing', // 1: not the folder name, value col 7
      'kind: transform', // 2
      'abi: 2', // 3: ABI this host does not speak, col 6
      'version: "1.0"', // 4: not x.y.z, col 10
      'description: Moving average.', // 5
      'with:', // 6
      '  type: object', // 7
      '  additionalProperties: false', // 8
      '  properties:', // 9
      '    window:', // 10
      '      type: integer', // 11: property map starts here, col 7
      '      minimum: 1', // 12
      '      description: Samples per window.', // 13
      '      default: 0', // 14: default below minimum, col 16
      '      examples: [4, "eight"]', // 15: second example not an integer, col 21
      '    per_point:', // 16
      '      type: object', // 17: nested object with properties but no additionalProperties, col 7
      '      description: Per point overrides.', // 18
      '      default: {}', // 19
      '      examples: [{}]', // 20
      '      properties:', // 21
      '        alpha: { type: number }', // 22: nested property without description, col 16
    ]);
    const result = await loadPluginManifest(ws.path('plugins/smooth'));
    assert.equal(result.ok, false);
    if (result.ok) return;
    // The version fails the schema; the other mistakes are still found, each at its own place.
    assert.deepEqual(where(result.problems), [
      'plugin.yaml:1:7 name WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:3:6 abi WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:4:10 version WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:17:7 with.properties.per_point WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:22:16 with.properties.per_point.properties.alpha WG_ERR_PLUGIN_MANIFEST',
    ]);
    assert.match(result.problems[0]!.message, /name "smoothing" must be "smooth"/);
    assert.match(result.problems[1]!.message, /ABI 2 is not spoken by this host \(ABI 1\)/);
    assert.match(result.problems[3]!.message, /no additionalProperties/);
    assert.match(result.problems[4]!.message, /property "alpha" needs "description"/);
    assert.equal(result.problems[2]!.message, `plugin manifest ${ws.path('plugins/smooth/plugin.yaml')} is invalid: must be a version such as 1.0.0 or 0.2.1-rc.1 (got "1.0")`);

    // Once the manifest's shape is right, its declared values are checked against their own schemas.
    await ws.write('plugins/smooth/plugin.yaml', [
      'name: smooth', // 1
      'kind: transform', // 2
      'abi: 1', // 3
      'version: 1.0.0', // 4
      'description: Moving average.', // 5
      'with:', // 6
      '  type: object', // 7
      '  additionalProperties: false', // 8
      '  properties:', // 9
      '    window:', // 10
      '      type: integer', // 11
      '      minimum: 1', // 12
      '      description: Samples per window.', // 13
      '      default: 0', // 14: value col 16
      '      examples: [4, "eight"]', // 15: second example col 21
      '    mode: { type: string, enm: [a, b], description: x, default: a, examples: [b] }', // 16: misspelt keyword, key col 27
    ]);
    const third = await loadPluginManifest(ws.path('plugins/smooth'));
    assert.equal(third.ok, false);
    if (third.ok) return;
    // ajv's strict mode refuses the unknown keyword "enm" when compiling the settings schema.
    assert.deepEqual(where(third.problems), ['plugin.yaml:16:27 with.properties.mode.enm WG_ERR_PLUGIN_MANIFEST']);
    assert.match(third.problems[0]!.message, /not a valid schema: .*enm/);

    const fourth = [
      ...(await readFile(ws.path('plugins/smooth/plugin.yaml'), 'utf8')).split('\n').slice(0, 15),
      '    mode: { type: string, enum: [a, b], description: x, default: a, examples: [b] }', // 16
    ];
    await ws.write('plugins/smooth/plugin.yaml', fourth);
    const fifth = await loadPluginManifest(ws.path('plugins/smooth'));
    assert.equal(fifth.ok, false);
    if (fifth.ok) return;
    assert.deepEqual(where(fifth.problems), [
      'plugin.yaml:7:3 with WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:14:16 with.properties.window.default WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:15:21 with.properties.window.examples[1] WG_ERR_PLUGIN_MANIFEST',
    ]);
    assert.match(fifth.problems.find((p) => p.path === 'with.properties.window.default')!.message, /must be >= 1 \(got 0\)/);
    assert.match(fifth.problems.find((p) => p.path === 'with')!.message, /a step that gives no settings must be valid/);
  } finally {
    await ws.remove();
  }
});
