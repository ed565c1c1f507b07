/**
 * Steps against their plugins: lookup, manifest problems, `with:` settings checked against the
 * manifest schema, and the decoder → transforms → encoder chain. Positions are counted from the lines
 * written below (line N is element N-1; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, gatewayLines } from './config-workspace.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

/** Lines 1-9 of a pipeline; steps follow from line 10. */
const HEAD = [
  'pipeline:', // 1
  '  name: p1', // 2
  'source:', // 3
  '  modbus_tcp:', // 4
  '    devices:', // 5
  '      - name: plc1', // 6
  '        host: 127.0.0.1', // 7
  '        points: [ { name: boiler.temp, function: 3, address: 0, type: int16 } ]', // 8
  'steps:', // 9
];
const PUBLISH = ['publish:', '  uplink: cloud'];

async function load(ws: ConfigWorkspace, pipeline: string[], gateway = gatewayLines()) {
  await ws.write('p.yaml', pipeline);
  return loadGatewayConfig(await ws.write('gw.yaml', gateway));
}

test('step settings are checked against the manifest schema, at the key or value concerned', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const result = await load(ws, [
      ...HEAD,
      '  - plugin: fixture-decoder', // 10
      '  - plugin: fixture-transform', // 11
      '    with:', // 12
      '      factor: "ten"', // 13: value col 15
      '      mode: round', // 14: value col 13
      '      points: { boiler.temp: { unit: 7, colour: red } }', // 15: unit value col 38, colour key col 41
      '      gain: 2', // 16: unknown key col 7
      '  - plugin: fixture-encoder', // 17
      ...PUBLISH,
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(where(result.problems), [
      'p.yaml:13:15 steps[1].with.factor WG_ERR_CONFIG_PLUGIN_SETTINGS',
      'p.yaml:14:13 steps[1].with.mode WG_ERR_CONFIG_PLUGIN_SETTINGS',
      'p.yaml:15:38 steps[1].with.points["boiler.temp"].unit WG_ERR_CONFIG_PLUGIN_SETTINGS',
      'p.yaml:15:41 steps[1].with.points["boiler.temp"].colour WG_ERR_CONFIG_PLUGIN_SETTINGS',
      'p.yaml:16:7 steps[1].with.gain WG_ERR_CONFIG_PLUGIN_SETTINGS',
    ]);
    const messages = result.problems.map((p) => p.message);
    assert.equal(messages[0], 'plugin "fixture-transform" setting factor: must be a number (got "ten")');
    assert.equal(messages[1], 'plugin "fixture-transform" setting mode: must be one of "linear", "clamp" (got "round")');
    assert.equal(messages[4], 'plugin "fixture-transform" setting gain: unknown setting "gain"; known: factor, mode, points');
  } finally {
    await ws.remove();
  }
});

test('steps chain decoder, transforms, encoder; an unknown plugin says where it was looked for', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const result = await load(ws, [
      ...HEAD,
      '  - plugin: fixture-transform', // 10: col 13, must be a decoder
      '  - plugin: fixture-decoder', // 11: must be a transform
      '  - plugin: fixture-scale', // 12: not found
      '  - plugin: fixture-transform', // 13: must be an encoder
      ...PUBLISH,
    ]);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(where(result.problems), [
      'p.yaml:10:13 steps[0].plugin WG_ERR_CONFIG_INVALID',
      'p.yaml:11:13 steps[1].plugin WG_ERR_CONFIG_INVALID',
      'p.yaml:12:13 steps[2].plugin WG_ERR_CONFIG_UNKNOWN_PLUGIN',
      'p.yaml:13:13 steps[3].plugin WG_ERR_CONFIG_INVALID',
    ]);
    const messages = result.problems.map((p) => p.message);
    assert.equal(messages[0], 'plugin "fixture-transform" is a transform, but the first step receives raw frames, so it must be a decoder');
    assert.equal(messages[2], `plugin "fixture-scale" not found: looked for ${FIXTURE_PLUGINS}/fixture-scale/plugin.yaml`);
    assert.equal(messages[3], 'plugin "fixture-transform" is a transform, but the last step must produce messages, so it must be an encoder');
  } finally {
    await ws.remove();
  }
});

test('a step given by path uses <name>.plugin.yaml next to the module', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('own/tagger.plugin.yaml', [
      'name: tagger',
      'kind: transform',
      'abi: 1',
      'version: 1.0.0',
      'description: Adds a tag.',
      'with:',
      '  type: object',
      '  additionalProperties: false',
      '  properties:',
      '    tag: { type: string, description: The tag., default: none, examples: [boiler] }',
    ]);
    await writeFile(ws.path('own/tagger.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
    const pipeline = [
      ...HEAD,
      '  - plugin: fixture-decoder', // 10
      '  - path: own/tagger.wasm', // 11
      '  - path: own/absent.wasm', // 12: value col 11; neither module nor manifest
      '  - plugin: fixture-encoder', // 13
      ...PUBLISH,
    ];
    const result = await load(ws, pipeline);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(where(result.problems), [
      'p.yaml:12:11 steps[2].path WG_ERR_CONFIG_FILE_UNREADABLE',
      'p.yaml:12:11 steps[2].path WG_ERR_CONFIG_UNKNOWN_PLUGIN',
    ]);
    assert.equal(result.problems[1]!.message, `plugin "own/absent.wasm" not found: no manifest next to the module: looked for ${ws.path('own/absent.plugin.yaml')}`);

    const fixed = await load(ws, pipeline.filter((line) => !line.includes('absent')));
    assert.equal(fixed.ok, true);
    if (!fixed.ok) return;
    const step = fixed.config.pipelines[0]!.steps[1]!;
    assert.equal(step.plugin, 'tagger');
    assert.equal(step.wasmPath, ws.path('own/tagger.wasm'));
    assert.equal(step.manifest.file, ws.path('own/tagger.plugin.yaml'));
    assert.deepEqual(step.with, { tag: 'none' });
  } finally {
    await ws.remove();
  }
});

test('a broken manifest is reported once, in the manifest, even when several steps use it', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('plugins/bad/plugin.yaml', [
      'name: bad', // 1
      'kind: filter', // 2: value col 7
      'abi: 1', // 3
      'version: 1.0.0', // 4
      'description: Broken on purpose.', // 5
      'with:', // 6
      '  type: object', // 7
      '  additionalProperties: false', // 8
      '  properties:', // 9
      '    window:', // 10: no default, no examples -> reported at the property map, line 11 col 7
      '      type: integer', // 11
      '      description: Samples per window.', // 12
    ]);
    const gateway = gatewayLines().map((line) => (line.startsWith('  plugin_dirs') ? `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)}, plugins ]` : line));
    const result = await load(
      ws,
      [...HEAD, '  - plugin: fixture-decoder', '  - plugin: bad', '  - plugin: bad', '  - plugin: fixture-encoder', ...PUBLISH],
      gateway,
    );
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(where(result.problems), [
      'plugin.yaml:2:7 kind WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:11:7 with.properties.window.default WG_ERR_PLUGIN_MANIFEST',
      'plugin.yaml:11:7 with.properties.window.examples WG_ERR_PLUGIN_MANIFEST',
    ]);
    assert.equal(
      result.problems[0]!.message,
      `plugin manifest ${ws.path('plugins/bad/plugin.yaml')} is invalid: must be one of "decoder", "transform", "encoder" (got "filter")`,
    );
  } finally {
    await ws.remove();
  }
});

test("a step's settings are completed with the manifest's defaults, at every depth", async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const result = await load(ws, [
      ...HEAD,
      '  - plugin: fixture-decoder',
      '  - plugin: fixture-transform',
      '    with: { mode: clamp, points: { boiler.temp: {} } }',
      '  - plugin: fixture-transform',
      '  - plugin: fixture-encoder',
      ...PUBLISH,
    ]);
    if (!result.ok) assert.fail(result.problems.map((p) => p.message).join('\n'));
    const steps = result.config.pipelines[0]!.steps;
    // Defaults from test/fixtures/plugins/config/fixture-transform/plugin.yaml: factor 1, mode linear, unit "".
    assert.deepEqual(steps[1]!.with, { mode: 'clamp', points: { 'boiler.temp': { unit: '' } }, factor: 1 });
    assert.deepEqual(steps[2]!.with, { factor: 1, mode: 'linear', points: {} });
    assert.notEqual(steps[2]!.with.points, steps[1]!.with.points);
  } finally {
    await ws.remove();
  }
});
