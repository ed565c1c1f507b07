/**
 * `${NAME}` in setting values (issue 11: secrets and site settings from the environment). Positions
 * are counted from the lines written below (line N is element N-1; columns from 1). The environment
 * is the loader's own process.env, set per test under names no other test uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { loadGatewayConfig, type ConfigProblem, type LoadResult } from '../../src/host/config/index.js';
import { ConfigWorkspace, FIXTURE_PLUGINS, pipelineLines } from './config-workspace.js';

function withEnv(vars: Record<string, string | undefined>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

function gateway(id: string, mqttLines: string[]): string[] {
  return [
    'gateway:', // 1
    `  id: ${id}`, // 2
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`, // 3
    'uplinks:', // 4
    '  cloud:', // 5
    '    mqtt:', // 6
    ...mqttLines, // 7 …
    'pipelines: [ p.yaml ]',
  ];
}

async function load(gatewayFile: string[], pipeline: string[] = pipelineLines()): Promise<LoadResult> {
  const ws = await ConfigWorkspace.create();
  try {
    await ws.write('p.yaml', pipeline);
    return await loadGatewayConfig(await ws.write('gw.yaml', gatewayFile));
  } finally {
    await ws.remove();
  }
}

const where = (problems: readonly ConfigProblem[]) => problems.map((p) => `${basename(p.file)}:${p.line}:${p.column} ${p.path} ${p.code}`);

test('a whole value, text inside a value and a fallback come from the environment', async (t) => {
  t.after(withEnv({ WGT_ENV_ID: 'line-3', WGT_ENV_HOST: 'broker.example', WGT_ENV_PW: 'pw', WGT_ENV_UNSET: undefined, WGT_ENV_EMPTY: '' }));
  const result = await load(gateway('${WGT_ENV_ID}', [
    '      url: mqtt://${WGT_ENV_HOST}:${WGT_ENV_UNSET:-1884}', // 7
    '      username: u-${WGT_ENV_EMPTY:-default}', // 8
    '      password: ${WGT_ENV_PW}', // 9
  ]));
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  assert.equal(result.config.id, 'line-3');
  const mqtt = result.config.uplinks[0]! as { url: string; username: string | null; password: string | null };
  assert.equal(mqtt.url, 'mqtt://broker.example:1884');
  assert.equal(mqtt.username, 'u-default', 'an empty variable takes the fallback');
  assert.equal(mqtt.password, 'pw');
});

test('an unquoted whole reference takes its YAML type; quoted, it stays a string (and the error names the variable, not the value)', async (t) => {
  t.after(withEnv({ WGT_ENV_PORT: '1502' }));
  const pipeline = pipelineLines();
  pipeline.splice(7, 0, '        port: ${WGT_ENV_PORT}');
  const typed = await load(gateway('gw1', ['      url: mqtt://127.0.0.1:1883']), pipeline);
  assert.ok(typed.ok, JSON.stringify(!typed.ok && typed.problems));
  const link = typed.config.pipelines[0]!.source.links[0]! as { port: number };
  assert.equal(link.port, 1502);

  pipeline[7] = '        port: "${WGT_ENV_PORT}"'; // line 8, value at column 15
  const quoted = await load(gateway('gw1', ['      url: mqtt://127.0.0.1:1883']), pipeline);
  assert.equal(quoted.ok, false);
  const problems = quoted.ok ? [] : quoted.problems;
  assert.deepEqual(where(problems), ['p.yaml:8:15 source.modbus_tcp.devices[0].port WG_ERR_CONFIG_INVALID']);
  assert.match(problems[0]!.message, /got the value of \$\{WGT_ENV_PORT\}/);
  assert.doesNotMatch(problems[0]!.message, /1502/);
});

test('an unset or empty variable without a fallback, and a malformed reference, are refused at their settings', async (t) => {
  t.after(withEnv({ WGT_ENV_MISSING: undefined, WGT_ENV_BLANK: '' }));
  const result = await load(gateway('gw1', [
    '      url: mqtt://127.0.0.1:1883', // 7
    '      username: ${WGT_ENV_MISSING}', // 8: value at col 17
    '      password: ${WGT_ENV_BLANK}', // 9
    '      client_id: ${1X}', // 10: value at col 18
  ]));
  assert.equal(result.ok, false);
  const problems = result.ok ? [] : result.problems;
  assert.deepEqual(where(problems), [
    'gw.yaml:8:17 uplinks.cloud.mqtt.username WG_ERR_CONFIG_ENV',
    'gw.yaml:9:17 uplinks.cloud.mqtt.password WG_ERR_CONFIG_ENV',
    'gw.yaml:10:18 uplinks.cloud.mqtt.client_id WG_ERR_CONFIG_ENV',
  ]);
  assert.equal(problems[0]!.message, 'environment reference: environment variable WGT_ENV_MISSING is not set');
  assert.equal(problems[1]!.message, 'environment reference: environment variable WGT_ENV_BLANK is empty');
  assert.match(problems[2]!.message, /\$\{1X\} is not a reference to an environment variable/);
});

test('a value from the environment is data: YAML syntax in it adds nothing, $${ is a literal, keys are not replaced', async (t) => {
  const hostile = 'p: w # not a comment\nqos: 0\n{x: 1}';
  t.after(withEnv({ WGT_ENV_HOSTILE: hostile, WGT_ENV_KEY: 'qos' }));
  const ok = await load(gateway('gw1', [
    '      url: mqtt://127.0.0.1:1883',
    '      qos: 1',
    '      username: $${WGT_ENV_HOSTILE}',
    '      password: ${WGT_ENV_HOSTILE}',
  ]));
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
  const mqtt = ok.config.uplinks[0]! as { username: string | null; password: string | null; qos: number };
  assert.equal(mqtt.password, hostile, 'one string, as the variable holds it');
  assert.equal(mqtt.qos, 1, 'the qos line inside the variable set nothing');
  assert.equal(mqtt.username, '${WGT_ENV_HOSTILE}');

  const key = await load(gateway('gw1', ['      url: mqtt://127.0.0.1:1883', '      ${WGT_ENV_KEY}: 0']));
  assert.equal(key.ok, false);
  assert.match(key.ok ? '' : key.problems[0]!.message, /unknown setting "\$\{WGT_ENV_KEY\}"/);
});

test('a problem never quotes what the environment gave: not through an alias, not inside a URL, a path or a topic', async (t) => {
  const secret = 'Zq9 s/e#c"ret';
  t.after(withEnv({ WGT_ENV_SECRET: secret }));
  const noSecret = (result: LoadResult, what: string) => {
    assert.equal(result.ok, false, what);
    const messages = result.ok ? [] : result.problems.map((p) => p.message);
    assert.equal(messages.length, 1, `${what}: ${messages.join('\n')}`);
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), 'Zq9']) {
      assert.ok(!messages[0]!.includes(form), `${what}: the value is quoted: ${messages[0]}`);
    }
    assert.match(messages[0]!, /\$\{WGT_ENV_SECRET\}/, `${what}: the reference is named instead`);
  };
  // An alias of the password as the gateway id: the id's check sees the password's text.
  noSecret(await load([
    'uplinks:',
    '  cloud:',
    '    mqtt:',
    '      url: mqtt://127.0.0.1:1883',
    '      username: u',
    '      password: &pw ${WGT_ENV_SECRET}',
    'gateway:',
    '  id: *pw',
    `  plugin_dirs: [ ${JSON.stringify(FIXTURE_PLUGINS)} ]`,
    'pipelines: [ p.yaml ]',
  ]), 'alias');
  // The password inside the URL, which the URL check quotes.
  noSecret(await load(gateway('gw1', ['      url: mqtt://u:${WGT_ENV_SECRET}@127.0.0.1:1883'])), 'url');
  // A status topic with a placeholder from the environment, which the topic check quotes.
  noSecret(await load(gateway('gw1', ['      url: mqtt://127.0.0.1:1883', '      status: { topic: "a/{${WGT_ENV_SECRET}}" }'])), 'topic');
  // A pipeline file's path, which the missing file's problem names.
  const listed = gateway('gw1', ['      url: mqtt://127.0.0.1:1883']);
  listed[listed.length - 1] = 'pipelines: [ "p-${WGT_ENV_SECRET}.yaml" ]';
  noSecret(await load(listed), 'pipeline path');
});

test('a hint does not quote what the environment gave either', async (t) => {
  t.after(withEnv({ WGT_ENV_METRICS_HOST: '10.20.30.40' }));
  const file = gateway('gw1', ['      url: mqtt://127.0.0.1:1883']);
  file.push('metrics: { listen: "${WGT_ENV_METRICS_HOST}:9464" }');
  const result = await load(file);
  assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
  const said = result.hints.map((h) => h.message);
  assert.equal(said.length, 1, said.join('\n'));
  assert.ok(!said[0]!.includes('10.20.30.40'), said[0]);
  assert.match(said[0]!, /\$\{WGT_ENV_METRICS_HOST\}/);
});
