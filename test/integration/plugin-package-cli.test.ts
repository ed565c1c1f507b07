/**
 * The package commands as an operator runs them, with no daemon: keygen, pack, sign and verify on
 * real files (GNU tar looks inside the package), then install, list and rollback offline into the
 * data directory of a gateway file, which is where a pipeline's `plugin: scale` then resolves, ahead
 * of plugin_dirs. Also the grant: a gateway that grants no import refuses a step whose manifest
 * lists one, at the step's line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginListing } from '../../src/host/packages/plugin-listing.js';
import { gatewayYaml, onePointPipelineYaml, writeGatewayFixture, type GatewayFixture } from '../support/gateway-fixture.js';
import { REPO_ROOT } from '../support/plugins.js';
import { findTool, needs } from '../support/tools.js';
import { runWasmgate } from '../support/wasmgate-cli.js';

const tar = needs('tar', !!findTool('tar'));
let fixture: GatewayFixture;
const at = (name: string) => join(fixture.dir, name);

function scaledPipeline(): string {
  return onePointPipelineYaml(1).replace('  - plugin: modbus\n', '  - plugin: modbus\n  - plugin: scale\n    with: { points: { level: { factor: 2 } } }\n');
}

async function listing(): Promise<PluginListing> {
  const run = await runWasmgate(['plugin', 'list', '--config', fixture.gatewayFile, '--offline', '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as PluginListing;
}

before(async () => {
  // Nothing listens on the control socket: every command works offline.
  fixture = await writeGatewayFixture(`${gatewayYaml('mqtt://127.0.0.1:1', 'gw-cli')}plugins:\n  trusted_keys: [./vendor.pub]\n`, scaledPipeline());
  await cp(join(REPO_ROOT, 'plugins', 'scale'), at('src/scale'), { recursive: true });
  const manifest = at('src/scale/plugin.yaml');
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('version: 0.1.0', 'version: 0.2.0'));
});

after(() => fixture?.dispose());

test('keygen writes a private key only its owner reads and a public key; it never overwrites one', async () => {
  const run = await runWasmgate(['plugin', 'keygen', '--out', at('vendor')]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^key [0-9a-f]{16}: private .*vendor\.key .* public .*vendor\.pub/);
  assert.equal((await stat(at('vendor.key'))).mode & 0o777, 0o600);
  assert.match(await readFile(at('vendor.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
  const again = await runWasmgate(['plugin', 'keygen', '--out', at('vendor')]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /WG_ERR_PACKAGE_KEY/);
});

test('pack makes a package tar can list; verify refuses it unsigned and accepts it once signed', tar, async () => {
  const pack = await runWasmgate(['plugin', 'pack', at('src/scale'), '--out', at('scale.wgp')]);
  assert.equal(pack.code, 0, pack.stderr);
  assert.match(pack.stdout, /^packed scale 0\.2\.0 \(transform, \d+ bytes of module, sha256 [0-9a-f]{64}\)/);
  assert.equal(execFileSync('tar', ['tf', at('scale.wgp')], { encoding: 'utf8' }), 'manifest.yaml\nplugin.wasm\n');
  const unsigned = await runWasmgate(['plugin', 'verify', at('scale.wgp'), '--trusted-key', at('vendor.pub')]);
  assert.equal(unsigned.code, 1);
  assert.match(unsigned.stderr, /WG_ERR_PACKAGE_UNSIGNED/);

  const sign = await runWasmgate(['plugin', 'sign', at('scale.wgp'), '--key', at('vendor.key')]);
  assert.equal(sign.code, 0, sign.stderr);
  assert.equal(execFileSync('tar', ['tf', at('scale.wgp')], { encoding: 'utf8' }), 'manifest.yaml\nplugin.wasm\nsignature\n');
  const verify = await runWasmgate(['plugin', 'verify', at('scale.wgp'), '--config', fixture.gatewayFile]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /^scale 0\.2\.0: transform, abi 1, \d+ bytes, sha256 [0-9a-f]{64}, imports \[log\]\nsignature: valid, key [0-9a-f]{16} \(.*vendor\.pub\)\nok: an install would accept it\n$/);
});

test('install offline puts the version in the registry, where the step resolves ahead of plugin_dirs', async () => {
  assert.deepEqual((await listing()).steps.find((s) => s.plugin === 'scale'), { pipeline: 'plant', step: 1, plugin: 'scale', version: '0.1.0', from: 'plugin_dirs' });
  const run = await runWasmgate(['plugin', 'install', at('scale.wgp'), '--config', fixture.gatewayFile]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /no daemon answers on .*; working offline on .*data\/plugins/);
  assert.match(run.stdout, /^installed scale 0\.2\.0 \(signed by key [0-9a-f]{16}\); before: none in the registry\npipelines running it: plant\n$/);
  assert.deepEqual((await listing()).steps.find((s) => s.plugin === 'scale'), { pipeline: 'plant', step: 1, plugin: 'scale', version: '0.2.0', from: 'registry' });
  const validate = await runWasmgate(['validate', '--config', fixture.gatewayFile]);
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);
});

test('an install the configuration cannot take changes nothing; rollback with nothing kept goes back to plugin_dirs', async () => {
  const manifest = at('src/scale/plugin.yaml');
  await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('version: 0.2.0', 'version: 0.3.0').replace(/^ {4}points:$/m, '    pointz:'));
  assert.equal((await runWasmgate(['plugin', 'pack', at('src/scale'), '--out', at('bad.wgp'), '--key', at('vendor.key')])).code, 0);
  const bad = await runWasmgate(['plugin', 'install', at('bad.wgp'), '--config', fixture.gatewayFile, '--offline']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /pipeline\.yaml:\d+:\d+ steps\[1\]\.with\.points: /);
  assert.match(bad.stderr, /scale 0\.3\.0 did not go live, the previous version runs on: .*\[WG_ERR_PACKAGE_NOT_LIVE\]/);
  assert.deepEqual((await listing()).plugins.map((p) => [p.name, p.active.version]), [['scale', '0.2.0']]);

  const back = await runWasmgate(['plugin', 'rollback', 'scale', '--config', fixture.gatewayFile, '--offline']);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stdout, /^rolled scale back from 0\.2\.0 to the version in plugin_dirs/);
  const now = await listing();
  assert.deepEqual(now.plugins, []);
  assert.equal(now.steps.find((s) => s.plugin === 'scale')!.from, 'plugin_dirs');
  const none = await runWasmgate(['plugin', 'rollback', 'scale', '--config', fixture.gatewayFile, '--offline']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /plugin scale cannot be rolled back: the registry has no version of it .*\[WG_ERR_ROLLBACK_NONE\]/);
});

test('a gateway that grants no host import refuses a step whose manifest lists one, at the step', async () => {
  const strict = at('strict.yaml');
  await writeFile(strict, `${gatewayYaml('mqtt://127.0.0.1:1', 'gw-strict')}plugins:\n  grant: []\n`);
  await mkdir(at('data'), { recursive: true });
  const run = await runWasmgate(['validate', '--config', strict]);
  assert.equal(run.code, 1);
  // steps: is line 6 of the pipeline file; modbus (line 7), scale (8) and json (10, after scale's with:) each list imports: [log].
  for (const [line, plugin] of [[7, 'modbus'], [8, 'scale'], [10, 'json']] as const) {
    assert.match(run.stdout, new RegExp(`pipeline\\.yaml:${line}:\\d+ steps\\[\\d\\]\\.plugin: plugin ${plugin} needs host import wasmgate\\.log, which is not granted: the gateway grants none \\(plugins\\.grant\\) \\[WG_ERR_PLUGIN_NOT_GRANTED\\]`));
  }
});
