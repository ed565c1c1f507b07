/**
 * Problems in the gateway file: each expected position is counted from the lines written below
 * (line N is element N-1 of the array; columns count from 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function where(problems: readonly ConfigProblem[]): string[] {
  return problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);
}

async function problemsOf(ws: ConfigWorkspace, gateway: string[]): Promise<ConfigProblem[]> {
  await ws.write('p.yaml', pipelineLines());
  const result = await loadGatewayConfig(await ws.write('gw.yaml', gateway));
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.problems;
}

test('schema problems: every one reported at once, each at its setting', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, [
      'gateway:', // 1
      '  id: "demo gw"', // 2: bad name, value at col 7
      '  log: { level: loud, format: json }', // 3: level value at col 17
      '  dta_dir: ./x', // 4: unknown key at col 3
      `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 5
      'uplinks:', // 6
      '  cloud:', // 7
      '    mqtt:', // 8: url missing -> reported at the mqtt map, which starts at line 9, col 7
      '      qos: 2', // 9: qos value at col 12
      'pipelines: [ p.yaml ]', // 10
    ]);
    assert.deepEqual(where(problems), [
      'gw.yaml:2:7 gateway.id WG_ERR_CONFIG_INVALID',
      'gw.yaml:3:17 gateway.log.level WG_ERR_CONFIG_INVALID',
      'gw.yaml:4:3 gateway.dta_dir WG_ERR_CONFIG_INVALID',
      'gw.yaml:9:7 uplinks.cloud.mqtt.url WG_ERR_CONFIG_INVALID',
      'gw.yaml:9:12 uplinks.cloud.mqtt.qos WG_ERR_CONFIG_INVALID',
    ]);
    assert.match(problems[2]!.message, /unknown setting "dta_dir" \(did you mean "data_dir"\?\)/);
    assert.equal(problems[3]!.message, 'required setting is missing');
    assert.equal(problems[1]!.message, 'must be one of "trace", "debug", "info", "warn", "error" (got "loud")');
  } finally {
    await ws.remove();
  }
});

test('contradictions name both settings; files named by the config must be readable', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, [
      'gateway:', // 1
      '  id: gw1', // 2
      `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
      'uplinks:', // 4
      '  cloud:', // 5
      '    mqtt:', // 6
      '      url: mqtt://127.0.0.1:1883', // 7
      '      password: secret', // 8: no username, col 17
      '      password_file: ./pw', // 9: conflict at col 22
      '      reconnect: { min: 1m, max: 30s }', // 10: min value at col 25
      '      keepalive: 1500ms', // 11: not whole seconds, col 18
      '      tls: { cert: ./client.pem }', // 12: tls on mqtt:// at col 12; cert without key at col 20 + unreadable
      'pipelines: [ p.yaml ]', // 13
    ]);
    assert.deepEqual(where(problems), [
      'gw.yaml:8:17 uplinks.cloud.mqtt.password WG_ERR_CONFIG_CONFLICT',
      'gw.yaml:9:22 uplinks.cloud.mqtt.password_file WG_ERR_CONFIG_CONFLICT',
      'gw.yaml:10:25 uplinks.cloud.mqtt.reconnect.min WG_ERR_CONFIG_CONFLICT',
      'gw.yaml:11:18 uplinks.cloud.mqtt.keepalive WG_ERR_CONFIG_INVALID',
      'gw.yaml:12:12 uplinks.cloud.mqtt.tls WG_ERR_CONFIG_CONFLICT',
      'gw.yaml:12:20 uplinks.cloud.mqtt.tls.cert WG_ERR_CONFIG_CONFLICT',
      'gw.yaml:12:20 uplinks.cloud.mqtt.tls.cert WG_ERR_CONFIG_FILE_UNREADABLE',
    ]);
    assert.match(problems[0]!.message, /password needs username/);
    assert.match(problems[1]!.message, /password_file and password exclude each other.*uplinks\.cloud\.mqtt\.password \(line 8\)/);
    assert.match(problems[2]!.message, /min \(1m\) is longer than max \(30s\).*reconnect\.max \(line 10\)/);
    assert.match(problems[4]!.message, /mqtt:\/\/ is not encrypted.*uplinks\.cloud\.mqtt\.url \(line 7\)/);
    assert.match(problems[5]!.message, /cert needs key/);
    assert.match(problems[6]!.message, /client\.pem: no such file/);
  } finally {
    await ws.remove();
  }
});

test('a missing pipeline file and a missing plugin directory are reported at the line that names them', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, [
      'gateway:', // 1
      '  id: gw1', // 2
      '  plugin_dirs:', // 3
      '    - ./no-plugins-here', // 4: col 7
      'uplinks:', // 5
      '  cloud: { mqtt: { url: "mqtt://127.0.0.1:1883" } }', // 6
      'pipelines:', // 7
      '  - p.yaml', // 8
      '  - nowhere.yaml', // 9: col 5
    ]);
    // p.yaml is valid but its plugins cannot be found in the one (missing) directory.
    assert.deepEqual(where(problems), [
      'gw.yaml:4:7 gateway.plugin_dirs[0] WG_ERR_CONFIG_FILE_UNREADABLE',
      'gw.yaml:9:5 pipelines[1] WG_ERR_CONFIG_PIPELINE_MISSING',
      'p.yaml:11:13 steps[0].plugin WG_ERR_CONFIG_UNKNOWN_PLUGIN',
      'p.yaml:12:13 steps[1].plugin WG_ERR_CONFIG_UNKNOWN_PLUGIN',
      'p.yaml:13:13 steps[2].plugin WG_ERR_CONFIG_UNKNOWN_PLUGIN',
    ]);
    assert.equal(problems[1]!.message, `pipeline file ${ws.path('nowhere.yaml')} not found`);
    assert.equal(
      problems[2]!.message,
      `plugin "fixture-decoder" not found: looked for ${ws.path('no-plugins-here/fixture-decoder/plugin.yaml')}`,
    );
  } finally {
    await ws.remove();
  }
});

test('YAML syntax errors and unreadable files are problems, not exceptions', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const file = await ws.write('gw.yaml', [
      'gateway:', // 1
      '  id: gw1', // 2
      '  id: gw2', // 3: duplicate key, col 3
    ]);
    const result = await loadGatewayConfig(file);
    assert.equal(result.ok, false);
    if (!result.ok) assert.deepEqual(where(result.problems), ['gw.yaml:3:3  WG_ERR_CONFIG_SYNTAX']);

    const missing = await loadGatewayConfig(ws.path('absent.yaml'));
    assert.equal(missing.ok, false);
    if (!missing.ok) {
      assert.deepEqual(where(missing.problems), ['absent.yaml:1:1  WG_ERR_CONFIG_READ']);
      assert.equal(missing.problems[0]!.message, `cannot read config file ${ws.path('absent.yaml')}: no such file`);
    }

    await writeFile(ws.path('empty.yaml'), '');
    const empty = await loadGatewayConfig(ws.path('empty.yaml'));
    assert.equal(empty.ok, false);
    if (!empty.ok) assert.deepEqual(where(empty.problems), ['empty.yaml:1:1  WG_ERR_CONFIG_INVALID']);
  } finally {
    await ws.remove();
  }
});

test('an empty value is reported at its key, since it has no text of its own', async () => {
  const ws = await ConfigWorkspace.create();
  try {
    const problems = await problemsOf(ws, [
      'gateway:', // 1
      '  id:', // 2: empty, key at col 3
      `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
      'uplinks: { cloud: { mqtt: { url: "mqtt://127.0.0.1" } } }', // 4
      'pipelines: [ p.yaml ]', // 5
    ]);
    assert.deepEqual(where(problems), ['gw.yaml:2:3 gateway.id WG_ERR_CONFIG_INVALID']);
    assert.equal(problems[0]!.message, 'must be a string (got nothing)');
  } finally {
    await ws.remove();
  }
});
